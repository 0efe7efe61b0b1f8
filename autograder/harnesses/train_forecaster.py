"""Build the learner's forecaster (probed with 3 features first), train it for the payload's budget, predict the
hidden test windows. Sent after layer_names.py."""
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
    return {"layers": layer_names(model), "pred": pred.astype(np.float32), "shape": list(pred.shape),  # noqa: F821
            "probe_shape": probe_shape}
