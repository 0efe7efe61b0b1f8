"""ex5: the learner's AttentionLayer with set weights, with or without a mask: (context, weights)."""
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
