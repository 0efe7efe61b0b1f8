"""Code run inside the sandbox by the Keras exercises' hidden checks (sent as text; not secret).

Each string defines ``run(ns, payload)``: ``ns`` is the namespace after the submission's solution cells, ``payload``
the hidden inputs. It returns plain values only; labels and thresholds stay in the parent.
"""

LAYER_NAMES = r'''
def layer_names(model):
    """Class names of every layer, looking inside wrappers (Bidirectional, TimeDistributed) and nested models."""
    names = []
    def visit(layer):
        names.append(type(layer).__name__)
        for attr in ("forward_layer", "backward_layer", "layer"):
            inner = getattr(layer, attr, None)
            if inner is not None and inner is not layer and hasattr(inner, "weights"):
                visit(inner)
        for sub in getattr(layer, "layers", []) or []:
            visit(sub)
    for layer in model.layers:
        visit(layer)
    return names
'''

TRAIN_BINARY = LAYER_NAMES + r'''
import numpy as np

def run(ns, payload):
    import keras
    model = ns[payload["function"]](**payload["args"])
    if not isinstance(model, keras.Model):
        return {"error": "returned " + type(model).__name__ + ", not a keras Model"}
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        return {"error": "the model is not compiled (call model.compile(...) before returning it)"}
    model.fit(payload["x_train"], payload["y_train"], epochs=payload["epochs"], batch_size=payload["batch_size"],
              verbose=0, shuffle=True)
    probs = np.asarray(model.predict(payload["x_test"], verbose=0, batch_size=256))
    return {"layers": layer_names(model), "probs": probs.astype(np.float32), "shape": list(probs.shape)}
'''

TRAIN_FORECASTER = LAYER_NAMES + r'''
import numpy as np

def run(ns, payload):
    import keras
    fn = ns[payload["function"]]
    probe = fn(payload["window_size"], 3)
    if not isinstance(probe, keras.Model):
        return {"error": "returned " + type(probe).__name__ + ", not a keras Model"}
    probe_shape = list(np.asarray(probe.predict(np.zeros((2, payload["window_size"], 3), np.float32),
                                                verbose=0)).shape)
    model = fn(payload["window_size"], payload["n_features"])
    if getattr(model, "optimizer", None) is None:
        return {"error": "the model is not compiled (call model.compile(...) before returning it)"}
    model.fit(payload["x_train"], payload["y_train"], epochs=payload["epochs"], batch_size=payload["batch_size"],
              verbose=0, shuffle=True)
    pred = np.asarray(model.predict(payload["x_test"], verbose=0, batch_size=256))
    return {"layers": layer_names(model), "pred": pred.astype(np.float32), "shape": list(pred.shape),
            "probe_shape": probe_shape}
'''
