"""The rebuild stage, in a FRESH sandbox that runs none of the learner's code (no solution cell, no setup cell):
rebuild the trained model from the saved .keras file with Keras' own classes only (safe mode; the trusted process
has already refused any other class, see autograder.saved_model) and predict the hidden inputs, which no stage
running learner code receives. With ``probe_file``: also the output shape of that model on zeros of
``probe_input_shape``."""
import os
import numpy as np


def _load(name):
    import keras
    return keras.saving.load_model(os.path.join(os.getcwd(), name), compile=False, safe_mode=True)


def run(ns, payload):
    pred = _load(payload["file"]).predict(payload["x_test"], verbose=0, batch_size=payload["predict_batch"])
    out = {"pred": np.asarray(pred).astype(np.float32), "shape": list(np.shape(pred))}
    if "probe_file" in payload:
        zeros = np.zeros(payload["probe_input_shape"], np.float32)
        out["probe_shape"] = list(np.shape(_load(payload["probe_file"]).predict(zeros, verbose=0)))
    return out
