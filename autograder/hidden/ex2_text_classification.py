"""Hidden checks for ex2_text_classification: architecture, output shape and accuracy after a fixed budget.

The hidden data is a synthetic sentiment task (see ``_synthetic.sentiment_data`` for why not a sample of IMDB).
Budget: 1,500 training sequences of length 40 over a 1,000-word vocabulary, 3 epochs, batch 32, single-threaded;
the reference solutions reach about 0.98 accuracy on the 500 hidden test sequences, the pass mark is 0.75.
"""
from __future__ import annotations

import numpy as np

from autograder.harnesses import source
from autograder.hidden._synthetic import sentiment_data
from autograder.compare import Mismatch, float_array, result_dict
from autograder.task import KERAS_LIMITS, Task

ASSIGNMENT = "ex2_text_classification"
SEED = 52_017
VOCAB, LENGTH, N_TRAIN, N_TEST, EPOCHS, BATCH = 1000, 40, 1500, 500, 3, 32
PASS_ACCURACY = 0.75
TRAIN_BINARY = source("layer_names", "train_binary")


def _cases(function):
    def make(rng):
        x, y = sentiment_data(rng, N_TRAIN, VOCAB, LENGTH)
        xt, yt = sentiment_data(rng, N_TEST, VOCAB, LENGTH)
        payload = {"function": function, "args": {"vocab_size": VOCAB, "sequence_length": LENGTH},
                   "x_train": x, "y_train": y, "x_test": xt, "epochs": EPOCHS, "batch_size": BATCH}
        return [payload], {"y_test": yt}
    return make


def _judge(requirement):
    def judge(results, _refs, secret):
        out = result_dict(results[0], ("layers", "probs"))
        layers = [str(n) for n in out["layers"]]
        requirement(layers)
        probs = float_array(out["probs"], "predictions", (N_TEST, 1))
        if probs.min() < 0 or probs.max() > 1:
            raise Mismatch("the output is not a probability (values outside [0, 1]); end with a sigmoid Dense(1)")
        acc = float(np.mean((probs[:, 0] > 0.5) == secret["y_test"]))
        if acc < PASS_ACCURACY:
            raise Mismatch(f"accuracy {acc:.3f} on the hidden reviews after {EPOCHS} epochs is below "
                           f"{PASS_ACCURACY}")
        return f"accuracy {acc:.3f} after {EPOCHS} epochs on hidden data"
    return judge


def _stacked(layers):
    n = sum(name == "LSTM" for name in layers)
    if n < 2:
        raise Mismatch(f"a stacked LSTM needs at least two LSTM layers; found {n} (layers: {', '.join(layers)})")


def _bidirectional(layers):
    if "Bidirectional" not in layers or "LSTM" not in layers:
        raise Mismatch(f"expected a Bidirectional wrapper around an LSTM (layers: {', '.join(layers)})")


TASKS = [
    Task("build_stacked_lstm", "build_stacked_lstm", "test_build_stacked_lstm", _cases("build_stacked_lstm"),
         judge=_judge(_stacked), harness=TRAIN_BINARY, requires="build_stacked_lstm", tensorflow=True,
         use_reference=False, limits=KERAS_LIMITS),
    Task("build_bidirectional_lstm", "build_bidirectional_lstm", "test_build_bidirectional_lstm",
         _cases("build_bidirectional_lstm"), judge=_judge(_bidirectional), harness=TRAIN_BINARY,
         requires="build_bidirectional_lstm", tensorflow=True, use_reference=False, limits=KERAS_LIMITS),
]
