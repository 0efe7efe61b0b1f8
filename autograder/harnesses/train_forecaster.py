"""Build the learner's forecaster twice (for 3 features, the probe, and for the payload's features), train the
second for the payload's budget, save both; the hidden test windows are not in this stage's payload: a fresh
sandbox rebuilds the saved models from Keras' own layers and predicts (predict_saved.py). Sent after
layer_names.py."""
import os


def run(ns, payload):
    import keras
    fn = ns[payload["function"]]
    probe = fn(payload["window_size"], 3)
    model = fn(payload["window_size"], payload["n_features"])
    for m in (probe, model):
        if not isinstance(m, keras.Model):
            return {"error": "returned " + type(m).__name__ + ", not a keras Model"}
    if not getattr(model, "compiled", False):
        return {"error": "the model is not compiled (call model.compile(...) before returning it)"}
    model.fit(payload["x_train"], payload["y_train"], epochs=payload["epochs"], batch_size=payload["batch_size"],
              verbose=0, shuffle=True)
    model.save(os.path.join(os.getcwd(), payload["file"]))
    probe.save(os.path.join(os.getcwd(), payload["probe_file"]))
    return {"saved": payload["file"]}
