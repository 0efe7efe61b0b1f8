"""The sandboxed child: runs one submission's solution cells and calls one function on given inputs.

This file is copied into the sandbox's private working folder and run there by ``python -I child.py``
with an unprivileged user, resource limits, no network and a scrubbed environment. It must not import
anything from the course repository (the repository is not visible inside the sandbox).

Protocol (no pickle anywhere):
  input   job.json    {"preamble": str, "cells": [{"id", "source"}], "function": str, "harness": str|null,
                       "cases": [payload, ...], "tensorflow": bool, "seed": int}
  output  result.json {"cell_errors": [...], "missing": bool, "cases": [{"ok": value} | {"error": {...}}],
                       "seconds": float}
Values are encoded as plain JSON: arrays as {"__ndarray__": dtype, "shape": [...], "data": [...]},
tuples as {"__tuple__": [...]}, dicts as {"__dict__": {...}}; anything else as {"__unsupported__": type name}.
Nothing here is trusted by the grader: the parent re-checks every value it reads back.
"""
import json
import os
import sys
import time
import traceback

RESULT = "result.json"
MAX_ELEMENTS = 5_000_000


def encode(value, depth=0):
    """Plain-JSON encoding of a returned value; exact types only (no subclasses)."""
    import numpy as np

    if depth > 20:
        return {"__unsupported__": "nesting too deep"}
    t = type(value)
    if value is None or t is bool or t is str or t is int or t is float:
        return value
    if t is np.ndarray:
        if value.dtype.kind not in "biuf" or value.size > MAX_ELEMENTS:
            return {"__unsupported__": f"numpy.ndarray of dtype {value.dtype} and size {value.size}"}
        return {"__ndarray__": value.dtype.str, "shape": list(value.shape), "data": value.ravel().tolist()}
    if isinstance(value, np.generic) and t.__module__ == "numpy" and value.dtype.kind in "biuf":
        return {"__npscalar__": value.dtype.str, "value": value.item()}
    if t is tuple:
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if t is list:
        return {"__list__": [encode(v, depth + 1) for v in value]}
    if t is dict:
        if not all(type(k) is str for k in value):
            return {"__unsupported__": "dict with non-string keys"}
        return {"__dict__": {k: encode(v, depth + 1) for k, v in value.items()}}
    return {"__unsupported__": f"{t.__module__}.{t.__qualname__}"}


def decode(obj):
    """Inverse of the parent's input encoding (inputs are made by the trusted parent)."""
    import numpy as np

    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            return np.array(obj["data"], dtype=np.dtype(obj["__ndarray__"])).reshape(obj["shape"])
        if "__tuple__" in obj:
            return tuple(decode(v) for v in obj["__tuple__"])
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def describe(exc):
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(tb):
        if frame.filename.startswith("<cell "):
            where = f"{frame.filename[1:-1]}, line {frame.lineno}"
            break
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"SystemExit({exc.code!r}) was raised: the submission tried to exit"
    return {"type": type(exc).__name__, "message": message[:2000], "where": where}


def configure_tensorflow(seed):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def main():
    started = time.perf_counter()
    os.chdir(os.path.dirname(os.path.abspath(__file__)))   # the private folder (chroot starts at "/")
    with open("job.json", encoding="utf-8") as f:
        job = json.load(f)
    os.remove("job.json")
    out = {"cell_errors": [], "missing": False, "cases": []}
    if job.get("tensorflow"):
        configure_tensorflow(int(job.get("seed", 0)))
    import random

    import numpy as np

    random.seed(job.get("seed", 0))
    np.random.seed(job.get("seed", 0))

    ns = {"__name__": "__submission__", "__builtins__": __builtins__}
    exec(compile(job.get("preamble", ""), "<preamble>", "exec"), ns)
    for cell in job["cells"]:
        try:
            exec(compile(cell["source"], f"<cell {cell['id']}>", "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit etc. must not end the run
            if isinstance(exc, KeyboardInterrupt):
                raise
            out["cell_errors"].append({"cell": cell["id"], **describe(exc)})

    name = job["function"]
    harness = job.get("harness")
    run = None
    required = job.get("requires") or (None if harness else name)
    if required and not callable(ns.get(required)):
        out["missing"] = True
    elif harness:
        hns = {"__name__": "__harness__"}
        exec(compile(harness, "<harness>", "exec"), hns)
        run = hns["run"]
    if not out["missing"]:
        for payload in job["cases"]:
            try:
                if run is not None:
                    value = run(ns, decode(payload))
                else:
                    value = ns[name](**decode(payload["args"]))
                out["cases"].append({"ok": encode(value)})
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                out["cases"].append({"error": describe(exc)})
    out["seconds"] = time.perf_counter() - started
    text = json.dumps(out)
    fd = os.open(RESULT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
