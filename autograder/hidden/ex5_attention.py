"""Hidden checks for ex5_attention: reference outputs for set weights (with and without a mask), a save/load round
trip (saved in one sandbox, reloaded in a fresh one), and accuracy of the attention classifier after a fixed budget on hidden synthetic reviews."""
from __future__ import annotations

import numpy as np

from autograder.hidden import _harness
from autograder.hidden._synthetic import sentiment_data
from autograder.spec import KERAS_LIMITS, Mismatch, Task, compare, dec, float_array, result_dict

ASSIGNMENT = "ex5_attention"
SEED = 50_505
VOCAB, LENGTH, N_TRAIN, N_TEST, EPOCHS, BATCH = 1000, 40, 1500, 500, 3, 32
PASS_ACCURACY = 0.75

LAYER_HARNESS = r'''
import numpy as np

def run(ns, payload):
    cls = ns["AttentionLayer"]
    layer = cls(units=payload["units"])
    x = np.asarray(payload["x"], dtype=np.float32)
    layer(x)
    layer.set_weights([np.asarray(w, dtype=np.float32) for w in payload["weights"]])
    mask = payload.get("mask")
    out = layer(x, mask=None if mask is None else np.asarray(mask, dtype=bool))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"error": "call must return (context, weights)"}
    return (np.asarray(out[0]).astype(np.float32), np.asarray(out[1]).astype(np.float32))
'''

MODEL_FILE = "attention_roundtrip.keras"

# stage 1: get_config/from_config on a fresh layer, outputs for set weights, then model.save(...)
SAVE_HARNESS = r'''
import os
import numpy as np

def run(ns, payload):
    import keras
    cls = ns["AttentionLayer"]
    layer = cls(units=payload["units"])
    config = layer.get_config()
    if "units" not in config:
        return {"error": "get_config() must include 'units'"}
    clone = cls.from_config(config)
    x = np.asarray(payload["x"], dtype=np.float32)
    inputs = keras.Input(shape=x.shape[1:])
    context, weights = layer(inputs)
    model = keras.Model(inputs, [context, weights])
    layer.set_weights([np.asarray(w, dtype=np.float32) for w in payload["weights"]])
    before = model.predict(x, verbose=0)
    model.save(os.path.join(os.getcwd(), "attention_roundtrip.keras"))
    clone(x)
    return {"before": np.asarray(before[0], dtype=np.float32),
            "clone_weights": [list(np.shape(w)) for w in clone.get_weights()]}
'''

# stage 2, in a FRESH sandbox (same solution cells, nothing of stage 1 but the saved file): load and predict.
# Reloading in the process that saved would let a submission patch keras.models.load_model to hand back the
# model it still holds in memory, and pass without a working get_config/from_config.
RELOAD_HARNESS = r'''
import os
import numpy as np

def run(ns, payload):
    import keras
    cls = ns["AttentionLayer"]
    path = os.path.join(os.getcwd(), "attention_roundtrip.keras")
    if not os.path.isfile(path):
        return {"error": "the model saved with model.save(...) was not found"}
    loaded = keras.models.load_model(path, custom_objects={"AttentionLayer": cls})
    after = loaded.predict(np.asarray(payload["x"], dtype=np.float32), verbose=0)
    return {"after": np.asarray(after[0], dtype=np.float32), "after_weights": np.asarray(after[1], dtype=np.float32)}
'''


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
        got = dec(raw)
        if got.kind == "dict":
            result_dict(raw, ())
        if mask is not None and got.kind == "tuple" and len(got.value) == 2 and got.value[1].kind == "ndarray" \
                and got.value[1].value.shape == mask.shape + (1,):
            # checked before the values, so a layer that ignores the mask is told so rather than "values differ"
            if np.any(np.abs(got.value[1].value[..., 0][~mask]) > 1e-6):
                raise Mismatch(f"hidden case {i}: masked (padding) steps must get zero weight; "
                               "use the mask in call()")
        compare(dec(ref), got, f"AttentionLayer (hidden case {i})", 1e-4, 1e-5)
    return f"{len(results)} hidden cases, with and without masks"


def cases_save(rng):
    x = rng.normal(size=(3, 6, 4)).astype(np.float32)
    return [{"units": 5, "x": x, "weights": _weights(rng, 4, 5)}], None


def judge_save(results, refs, _secret):
    out = result_dict(results[0], ("before", "after"))
    before = float_array(out["before"], "context before saving", (3, 4))
    after = float_array(out["after"], "context after loading", (3, 4))
    expected = dec(refs[0]).value
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
    out = result_dict(results[0], ("layers", "probs"))
    if "AttentionLayer" not in [str(n) for n in out["layers"]]:
        raise Mismatch(f"the model must use your AttentionLayer (layers: {', '.join(map(str, out['layers']))})")
    probs = float_array(out["probs"], "predictions", (N_TEST, 1))
    if probs.min() < 0 or probs.max() > 1:
        raise Mismatch("the output is not a probability; end with Dense(1, activation='sigmoid')")
    acc = float(np.mean((probs[:, 0] > 0.5) == secret["y_test"]))
    if acc < PASS_ACCURACY:
        raise Mismatch(f"accuracy {acc:.3f} on the hidden reviews after {EPOCHS} epochs is below {PASS_ACCURACY}")
    return f"accuracy {acc:.3f} after {EPOCHS} epochs on hidden data"


TASKS = [
    Task("AttentionLayer", "attention_layer", "test_attention_layer", cases_layer, judge=judge_layer,
         harness=LAYER_HARNESS, tensorflow=True, limits=KERAS_LIMITS, description="attention outputs and masking",
         notes={"requires": "AttentionLayer"}),
    Task("AttentionLayer serialisation", "attention_layer", "test_attention_serialization", cases_save,
         judge=judge_save, harness=SAVE_HARNESS, reload_harness=RELOAD_HARNESS, carry=(MODEL_FILE,),
         tensorflow=True, limits=KERAS_LIMITS,
         description="get_config and save/load", notes={"requires": "AttentionLayer"}),
    Task("build_attention_model", "build_attention_model", "test_build_attention_model", cases_model,
         judge=judge_model, harness=_harness.TRAIN_BINARY, tensorflow=True, use_reference=False, limits=KERAS_LIMITS,
         description="attention classifier", notes={"requires": "build_attention_model"}),
]
