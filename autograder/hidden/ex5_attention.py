"""Hidden checks for ex5_attention: reference outputs for set weights (with and without a mask), a save/load round
trip (saved in one sandbox by harnesses/ex5_save.py, reloaded in a fresh one by harnesses/ex5_reload.py), and
accuracy of the attention classifier (whose AttentionLayer must be named `attention`) after a fixed budget on hidden
synthetic reviews."""
from __future__ import annotations

import numpy as np

from autograder.compare import Mismatch, compare, float_array, result_dict
from autograder.harnesses import source
from autograder.hidden._synthetic import sentiment_data
from autograder.protocol import decode_checked
from autograder.task import KERAS_LIMITS, Task

ASSIGNMENT = "ex5_attention"
SEED = 50_505
VOCAB, LENGTH, N_TRAIN, N_TEST, EPOCHS, BATCH = 1000, 40, 1500, 500, 3, 32
PASS_ACCURACY = 0.75

MODEL_FILE = "attention_roundtrip.keras"      # saved by the first stage, reloaded by the second (payload "file")


def _weights(rng, d, units):
    return [(rng.normal(size=(d, units)) * 0.5).astype(np.float32), (rng.normal(size=units) * 0.1).astype(np.float32),
            (rng.normal(size=(units, 1)) * 0.5).astype(np.float32)]


def cases_layer(rng):
    out = []
    for b, t, d, units, masked in [(2, 5, 3, 4, False), (3, 7, 6, 5, True), (1, 1, 2, 3, False), (4, 6, 4, 8, True)]:
        x = rng.normal(size=(b, t, d)).astype(np.float32)
        mask = None
        if masked:
            lengths = rng.integers(1, t + 1, size=b)
            mask = (np.arange(t)[None, :] < lengths[:, None])
        out.append({"units": units, "x": x, "weights": _weights(rng, d, units), "mask": mask})
    return out, [c["mask"] for c in out]


def judge_layer(results, refs, masks):
    for i, (raw, ref, mask) in enumerate(zip(results, refs, masks), 1):
        got = decode_checked(raw)
        if got.kind == "dict":
            result_dict(raw, ())
        if mask is not None and got.kind == "tuple" and len(got.value) == 2 and got.value[1].kind == "ndarray" \
                and got.value[1].value.shape == mask.shape + (1,):
            # checked before the values, so a layer that ignores the mask is told so rather than "values differ"
            if np.any(np.abs(got.value[1].value[..., 0][~mask]) > 1e-6):
                raise Mismatch(f"hidden case {i}: masked (padding) steps must get zero weight; "
                               "use the mask in call()")
        compare(decode_checked(ref), got, f"AttentionLayer (hidden case {i})", 1e-4, 1e-5)
    return f"{len(results)} hidden cases, with and without masks"


def cases_save(rng):
    x = rng.normal(size=(3, 6, 4)).astype(np.float32)
    return [{"units": 5, "x": x, "weights": _weights(rng, 4, 5), "file": MODEL_FILE}], None


def judge_save(results, refs, _secret):
    out = result_dict(results[0], ("before", "after"))
    before = float_array(out["before"], "context before saving", (3, 4))
    after = float_array(out["after"], "context after loading", (3, 4))
    expected = decode_checked(refs[0]).value
    exp_before = expected["before"].value
    if np.max(np.abs(before - exp_before)) > 1e-4:
        raise Mismatch("the model's context differs from the reference for the given weights")
    if np.max(np.abs(after - before)) > 1e-6:
        raise Mismatch("the model reloaded in a fresh process gives different outputs "
                       "(are the weights and the config saved?)")
    if out.get("clone_weights") != [[4, 5], [5], [5, 1]]:
        raise Mismatch(f"from_config(get_config()) builds weights of shapes {out.get('clone_weights')}; "
                       "expected [(4, 5), (5,), (5, 1)]")
    return "get_config/from_config and .keras save/load round trip"


def cases_model(rng):
    x, y = sentiment_data(rng, N_TRAIN, VOCAB, LENGTH)
    xt, yt = sentiment_data(rng, N_TEST, VOCAB, LENGTH)
    payload = {"function": "build_attention_model", "args": {"vocab_size": VOCAB, "sequence_length": LENGTH},
               "x_train": x, "y_train": y, "x_test": xt, "epochs": EPOCHS, "batch_size": BATCH}
    return [payload], {"y_test": yt}


def judge_model(results, _refs, secret):
    out = result_dict(results[0], ("layers", "named", "probs"))
    if "AttentionLayer" not in [str(n) for n in out["layers"]]:
        raise Mismatch(f"the model must use your AttentionLayer (layers: {', '.join(map(str, out['layers']))})")
    named = out["named"]
    if not isinstance(named, dict):
        raise Mismatch("malformed result (no layer names)")
    if "attention" not in named:
        raise Mismatch(f"no layer of your model is named 'attention' (its layers: {', '.join(map(str, named))}); "
                       "create your AttentionLayer with name=\"attention\": section 3 reads the weights with "
                       "model.get_layer(\"attention\")")
    if named["attention"] != "AttentionLayer":
        raise Mismatch(f"the layer named 'attention' is a {named['attention']}, not your AttentionLayer; "
                       "give that name to the AttentionLayer")
    probs = float_array(out["probs"], "predictions", (N_TEST, 1))
    if probs.min() < 0 or probs.max() > 1:
        raise Mismatch("the output is not a probability; end with Dense(1, activation='sigmoid')")
    acc = float(np.mean((probs[:, 0] > 0.5) == secret["y_test"]))
    if acc < PASS_ACCURACY:
        raise Mismatch(f"accuracy {acc:.3f} on the hidden reviews after {EPOCHS} epochs is below {PASS_ACCURACY}")
    return f"accuracy {acc:.3f} after {EPOCHS} epochs on hidden data"


TASKS = [
    Task("AttentionLayer", "attention_layer", "test_attention_layer", cases_layer, judge=judge_layer,
         harness=source("ex5_layer"), requires="AttentionLayer", tensorflow=True, limits=KERAS_LIMITS),
    Task("AttentionLayer serialisation", "attention_layer", "test_attention_serialization", cases_save,
         judge=judge_save, harness=source("ex5_save"), reload_harness=source("ex5_reload"), carry=(MODEL_FILE,),
         requires="AttentionLayer", tensorflow=True, limits=KERAS_LIMITS),
    Task("build_attention_model", "build_attention_model", "test_build_attention_model", cases_model,
         judge=judge_model, harness=source("layer_names", "train_binary", "train_attention_classifier"),
         requires="build_attention_model", tensorflow=True, use_reference=False, limits=KERAS_LIMITS),
]
