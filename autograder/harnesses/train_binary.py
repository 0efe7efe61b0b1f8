"""Build the learner's binary classifier, train it for the payload's budget and save it to payload["file"]; the
hidden test sequences are not in this stage's payload: a fresh sandbox rebuilds the saved model from Keras' own
layers and predicts them (predict_saved.py). Sent after layer_names.py."""
import os


def trained_model(ns, payload):
    """The learner's model, compiled and trained for the payload's budget; or a dict saying what is wrong."""
    import keras
    with keras.saving.custom_object_scope(learner_classes(ns)):  # noqa: F821 - from layer_names.py
        model = call(ns[payload["function"]], payload["function"], payload["args"])  # noqa: F821 - the child's call
    if not isinstance(model, keras.Model):
        return {"error": "returned " + type(model).__name__ + ", not a keras Model"}
    if not getattr(model, "compiled", False):
        return {"error": "the model is not compiled (call model.compile(...) before returning it)"}
    model.fit(payload["x_train"], payload["y_train"], epochs=payload["epochs"], batch_size=payload["batch_size"],
              verbose=0, shuffle=True)
    return model


def run(ns, payload):
    model = trained_model(ns, payload)
    if isinstance(model, dict):
        return model
    model.save(os.path.join(os.getcwd(), payload["file"]))
    return {"saved": payload["file"]}
