"""ex5, stage 1: get_config/from_config on a fresh layer, outputs for set weights, then model.save to
payload["file"] (carried into a fresh sandbox for ex5_reload.py)."""
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
    model.save(os.path.join(os.getcwd(), payload["file"]))
    clone(x)
    return {"before": np.asarray(before[0], dtype=np.float32),
            "clone_weights": [list(np.shape(w)) for w in clone.get_weights()]}
