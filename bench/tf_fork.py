"""Is forking safe after importing TensorFlow? What the grader's fork server (autograder.sandbox.ForkServer) relies
on, measured: a parent imports and configures TensorFlow as the sandbox does (single-threaded, seeded,
deterministic ops), then forks children that each build, train, predict, save and reload a stacked LSTM like
ex2's. Their predictions are compared with those of a fresh process doing the same, and their seconds are split
into build, first epoch (tracing included), later epochs, predict and save / reload / predict.

    flock /tmp/course-cpu.lock .venv/bin/python bench/tf_fork.py        # about 2 minutes on 2 cores

"cold": the parent only imports and configures TensorFlow (what the fork server does). "warm": the parent also
trains a tiny model first (its thread pools are running when it forks). Writes bench/results/tf_fork.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "tf_fork.json"
SEED = 52_017
CHILD_TIMEOUT_S = 60.0


def configure():
    """TensorFlow as sandbox_child.configure_tensorflow sets it up; seconds taken and threads afterwards."""
    os.environ.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow",
                      OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    started = time.perf_counter()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    return time.perf_counter() - started


def threads() -> list[str]:
    return sorted(Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task"))


def model():
    import keras
    from keras import layers

    m = keras.Sequential([keras.Input((40,), dtype="int32"), layers.Embedding(1000, 32, mask_zero=True),
                          layers.LSTM(32, return_sequences=True), layers.LSTM(32),
                          layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def work(folder: str) -> dict:
    """Build, train 3 epochs, predict, save, reload, predict: the prediction's hash and the seconds of each step."""
    import random

    import keras
    import numpy as np

    random.seed(SEED)
    np.random.seed(SEED)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 1000, size=(1500, 40))
    y = (x[:, :5].sum(1) > 2500).astype("float32")
    seconds, marks = {}, []
    t = time.perf_counter()
    m = model()
    seconds["build"] = time.perf_counter() - t
    t = time.perf_counter()
    m.fit(x, y, epochs=3, batch_size=32, verbose=0, shuffle=True,
          callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: marks.append(time.perf_counter()))])
    seconds["epoch_1"], seconds["epoch_2"], seconds["epoch_3"] = marks[0] - t, marks[1] - marks[0], marks[2] - marks[1]
    t = time.perf_counter()
    p = m.predict(x[:500], verbose=0, batch_size=256)
    seconds["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    path = os.path.join(folder, f"m{os.getpid()}.keras")
    m.save(path)
    p2 = keras.models.load_model(path).predict(x[:500], verbose=0, batch_size=256)
    seconds["save_reload_predict"] = time.perf_counter() - t
    os.remove(path)
    return {"hash": hashlib.sha256(p.tobytes()).hexdigest()[:16], "reload_equal": bool((p == p2).all()),
            "seconds": {k: round(v, 2) for k, v in seconds.items()}}


def forked(folder: str) -> dict:
    """``work`` in a forked child; "hung" if it gives no answer within CHILD_TIMEOUT_S (then it is killed)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.write(w, json.dumps(work(folder)).encode())
        finally:
            os._exit(0)
    os.close(w)
    data, deadline = b"", time.monotonic() + CHILD_TIMEOUT_S
    while time.monotonic() < deadline and select.select([r], [], [], deadline - time.monotonic())[0]:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        data += chunk
    os.close(r)
    if not data:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"hung": f"no answer within {CHILD_TIMEOUT_S:g} s (killed)"}


def one_mode(mode: str, forks: int, folder: str) -> dict:
    out = {"import_and_configure_s": round(configure(), 2)}
    if mode == "fresh":
        return {**out, **work(folder)}
    if mode == "warm":
        import numpy as np

        m = model()
        m.fit(np.ones((4, 40), "int32"), np.ones(4), epochs=1, verbose=0)
    out["threads_at_fork"] = threads()
    out["children"] = [forked(folder) for _ in range(forks)]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["fresh", "cold", "warm"], help="one mode in this process (internal)")
    p.add_argument("--forks", type=int, default=4, help="children forked in the cold mode")
    args = p.parse_args()
    folder = str(RESULTS.parent)
    if args.mode:
        print(json.dumps(one_mode(args.mode, args.forks if args.mode == "cold" else 1, folder)))
        return 0
    results = {}
    for mode in ("fresh", "cold", "warm"):     # each in a process of its own
        proc = subprocess.run([sys.executable, __file__, "--mode", mode, "--forks", str(args.forks)],
                              capture_output=True, text=True)
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    fresh = results["fresh"]["hash"]
    results["cold_children_equal_to_fresh"] = all(c.get("hash") == fresh for c in results["cold"]["children"])
    results["warm_children_hung"] = sum("hung" in c for c in results["warm"]["children"])
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
