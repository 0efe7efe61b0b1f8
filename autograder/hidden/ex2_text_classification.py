"""Hidden checks for ex2_text_classification: architecture, output shape and accuracy after a fixed budget.

The hidden data is a synthetic sentiment task (see ``_synthetic.sentiment_data`` for why not a sample of IMDB).
Budget: 1,500 training sequences of length 40 over a 1,000-word vocabulary, 3 epochs, batch 32, single-threaded;
the reference solutions reach about 0.98 accuracy on the 500 hidden test sequences, the pass mark is 0.75.

What the verdict rests on: the learner's code builds, compiles and trains the model and saves it; the trusted
process reads the architecture from the saved config (autograder.saved_model: the layers on the path from the
input to the output); the test sequences go only to a fresh sandbox that rebuilds the saved model from Keras' own
layers and runs none of the learner's code, so the accuracy is the trained weights' own.
"""
from __future__ import annotations

import numpy as np

from autograder import saved_model
from autograder.harnesses import source
from autograder.hidden._synthetic import sentiment_data
from autograder.compare import Mismatch, float_array, result_dict
from autograder.task import KERAS_LIMITS, Task

ASSIGNMENT = "ex2_text_classification"
SEED = 52_017
VOCAB, LENGTH, N_TRAIN, N_TEST, EPOCHS, BATCH = 1000, 40, 1500, 500, 3, 32
PASS_ACCURACY = 0.75
TRAIN_BINARY = source("layer_names", "train_binary")
PREDICT_SAVED = source("predict_saved")
SAVED = "model.keras"
PREDICT_BATCHES = (50, 100, 125, 250)        # the rebuild stage's batch size, drawn with the hidden data


def _cases(function):
    def make(rng):
        x, y = sentiment_data(rng, N_TRAIN, VOCAB, LENGTH)
        xt, yt = sentiment_data(rng, N_TEST, VOCAB, LENGTH)
        payload = {"function": function, "args": {"vocab_size": VOCAB, "sequence_length": LENGTH},
                   "x_train": x, "y_train": y, "x_test": xt, "epochs": EPOCHS, "batch_size": BATCH,
                   "file": SAVED, "predict_batch": int(rng.choice(PREDICT_BATCHES))}
        return [payload], {"y_test": yt}
    return make


def _judge(requirement):
    def judge(results, _refs, secret):
        out = result_dict(results[0], ("saved_config", "pred"))
        try:
            requirement(saved_model.graph(saved_model.parse(out["saved_config"])))
        except saved_model.Refused as exc:
            raise Mismatch(str(exc)) from None
        probs = float_array(out["pred"], "predictions", (N_TEST, 1))
        if probs.min() < 0 or probs.max() > 1:
            raise Mismatch("the output is not a probability (values outside [0, 1]); end with a sigmoid Dense(1)")
        acc = float(np.mean((probs[:, 0] > 0.5) == secret["y_test"]))
        if acc < PASS_ACCURACY:
            raise Mismatch(f"accuracy {acc:.3f} on the hidden reviews after {EPOCHS} epochs is below "
                           f"{PASS_ACCURACY}")
        return f"accuracy {acc:.3f} after {EPOCHS} epochs on hidden data"
    return judge


def _stacked(graph):
    n = graph.longest_chain(lambda kind: saved_model.is_layer(kind, "LSTM"))
    if n < 2:
        raise Mismatch(f"a stacked LSTM needs two LSTM layers one after the other on the path from the input to "
                       f"the output; found {n} (path: {saved_model.describe(graph)})")


def _bidirectional(graph):
    if not any(graph.kinds[n] == "Bidirectional(LSTM)" for n in graph.on_path()):
        raise Mismatch("expected a Bidirectional wrapper around an LSTM on the path from the input to the output "
                       f"(path: {saved_model.describe(graph)})")


REBUILD = {"reload_harness": PREDICT_SAVED, "carry": (SAVED,), "rebuild": True, "rebuild_only": ("x_test",)}

TASKS = [
    Task("build_stacked_lstm", "build_stacked_lstm", "test_build_stacked_lstm", _cases("build_stacked_lstm"),
         judge=_judge(_stacked), harness=TRAIN_BINARY, requires="build_stacked_lstm", tensorflow=True,
         use_reference=False, limits=KERAS_LIMITS, **REBUILD),
    Task("build_bidirectional_lstm", "build_bidirectional_lstm", "test_build_bidirectional_lstm",
         _cases("build_bidirectional_lstm"), judge=_judge(_bidirectional), harness=TRAIN_BINARY,
         requires="build_bidirectional_lstm", tensorflow=True, use_reference=False, limits=KERAS_LIMITS, **REBUILD),
]
