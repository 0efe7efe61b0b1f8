"""Hidden checks for ex3_time_series: exact windowing and splitting, the persistence baseline, and a recurrent
forecaster that must beat persistence on a hidden series after a fixed budget (4 epochs, batch 32, single-threaded).

The forecaster's verdict rests on the saved models: the learner's code builds, trains and saves them; the trusted
process reads the architecture from the saved config (a recurrent layer on the path from the input to the output);
the test windows, in an order drawn with the hidden series, go only to a fresh sandbox that rebuilds the saved
models from Keras' own layers and runs none of the learner's code."""
from __future__ import annotations

import numpy as np

from autograder import saved_model
from autograder.harnesses import source
from autograder.hidden._synthetic import sine_series
from autograder.compare import Mismatch, float_array, result_dict
from autograder.protocol import decode_checked
from autograder.task import KERAS_IMPORT_LIMITS, KERAS_LIMITS, Task

ASSIGNMENT = "ex3_time_series"
SEED = 33_003
WINDOW, N_SERIES, N_TRAIN_WINDOWS, EPOCHS, BATCH = 24, 1200, 900, 4, 32
# the numpy functions run without the setup cell's `import keras` (seconds of CPU and ~2.5 GB of address space);
# one that uses keras/layers anyway is rerun with the full setup, under KERAS_IMPORT_LIMITS (see Task.preamble)
NUMPY_PREAMBLE = "import numpy as np\n"
SAVED, PROBE = "model.keras", "probe.keras"
PREDICT_BATCHES = (50, 64, 100, 128)        # the rebuild stage's batch size, drawn with the hidden series


def cases_create_dataset(rng):
    out = []
    for n, w, dtype in [(30, 5, np.float32), (12, 1, np.float32), (50, 12, np.float64), (9, 8, np.float32)]:
        out.append({"args": {"data": rng.normal(size=n).astype(dtype), "window_size": w}})
    return out, None


def cases_split(rng):
    out = []
    for n, v, t in [(100, 0.15, 0.15), (37, 0.2, 0.1), (10, 0.0, 0.3), (64, 0.25, 0.25)]:
        out.append({"args": {"series": rng.normal(size=n).astype(np.float32), "val_fraction": v,
                             "test_fraction": t}})
    return out, None


def cases_persistence(rng):
    series = [rng.normal(size=n).astype(np.float32).cumsum().astype(np.float32) for n in (2, 50, 333)]
    expected = [float(np.mean(np.abs(np.diff(s.astype(np.float64))))) for s in series]
    return [{"args": {"series": s}} for s in series], expected


def judge_persistence(results, _refs, expected):
    for i, (raw, exp) in enumerate(zip(results, expected), 1):
        got = decode_checked(raw)
        if got.kind not in ("float", "npscalar") or (got.kind == "npscalar" and got.dtype.kind != "f"):
            raise Mismatch(f"hidden case {i}: returned {got.type_name}; expected a float")
        value = float(got.value)
        if not np.isfinite(value) or abs(value - exp) > 1e-6 + 1e-5 * abs(exp):
            raise Mismatch(f"hidden case {i}: returned {value:.6g}; expected {exp:.6g}")
    return f"{len(expected)} hidden series"


def cases_forecaster(rng):
    s = sine_series(rng, N_SERIES)
    X = np.stack([s[i:i + WINDOW] for i in range(N_SERIES - WINDOW)])[..., None].astype(np.float32)
    y = s[WINDOW:].astype(np.float32)
    xtr, ytr = X[:N_TRAIN_WINDOWS], y[:N_TRAIN_WINDOWS, None]
    order = rng.permutation(len(X) - N_TRAIN_WINDOWS)    # test windows shuffled: no batch holds its neighbours
    xte, yte = X[N_TRAIN_WINDOWS:][order], y[N_TRAIN_WINDOWS:][order]
    payload = {"function": "build_forecaster", "window_size": WINDOW, "n_features": 1, "x_train": xtr,
               "y_train": ytr, "x_test": xte, "epochs": EPOCHS, "batch_size": BATCH, "file": SAVED,
               "probe_file": PROBE, "probe_input_shape": [2, WINDOW, 3],
               "predict_batch": int(rng.choice(PREDICT_BATCHES))}
    persistence = float(np.mean(np.abs(xte[:, -1, 0].astype(np.float64) - yte)))
    return [payload], {"y_test": yte, "persistence_mae": persistence}


def judge_forecaster(results, _refs, secret):
    out = result_dict(results[0], ("saved_config", "pred", "probe_shape"))
    try:
        graph = saved_model.graph(saved_model.parse(out["saved_config"]))
    except saved_model.Refused as exc:
        raise Mismatch(str(exc)) from None
    if not graph.longest_chain(saved_model.is_recurrent):
        raise Mismatch("the forecaster has no recurrent layer (SimpleRNN, LSTM or GRU) on the path from the input "
                       f"to the output (path: {saved_model.describe(graph)})")
    if list(out["probe_shape"]) != [2, 1]:
        raise Mismatch(f"build_forecaster(window_size, 3) maps (2, window, 3) to {out['probe_shape']}; "
                       "expected (2, 1): use keras.Input(shape=(window_size, n_features))")
    y = secret["y_test"]
    pred = float_array(out["pred"], "predictions", (len(y), 1))
    mae = float(np.mean(np.abs(pred[:, 0].astype(np.float64) - y)))
    base = secret["persistence_mae"]
    if not mae < base:
        raise Mismatch(f"MAE {mae:.4f} on the hidden series after {EPOCHS} epochs does not beat persistence "
                       f"({base:.4f})")
    return f"MAE {mae:.4f} vs persistence {base:.4f} after {EPOCHS} epochs"


TASKS = [
    Task("create_dataset", "create_dataset", "test_create_dataset", cases_create_dataset, rtol=0, atol=0,
         preamble=NUMPY_PREAMBLE, setup_limits=KERAS_IMPORT_LIMITS),
    Task("chronological_split", "chronological_split", "test_chronological_split", cases_split, rtol=0, atol=0,
         preamble=NUMPY_PREAMBLE, setup_limits=KERAS_IMPORT_LIMITS),
    Task("persistence_mae", "persistence_mae", "test_persistence_mae", cases_persistence, judge=judge_persistence,
         use_reference=False, preamble=NUMPY_PREAMBLE, setup_limits=KERAS_IMPORT_LIMITS),
    Task("build_forecaster", "build_forecaster", "test_build_forecaster", cases_forecaster, judge=judge_forecaster,
         harness=source("train_forecaster"), requires="build_forecaster", tensorflow=True,
         use_reference=False, limits=KERAS_LIMITS, reload_harness=source("predict_saved"), carry=(SAVED, PROBE),
         rebuild=True, rebuild_only=("x_test",)),
]
