"""ex5: build the learner's attention classifier, train it for the payload's budget, predict the hidden test
sequences in the same process. (Its model holds the learner's own AttentionLayer, so it cannot be rebuilt from
Keras' own layers in a fresh sandbox as ex2's and ex3's models are; the layer's math is checked on its own against
reference outputs.) Sent after layer_names.py."""
import numpy as np


def run(ns, payload):
    import keras
    with keras.saving.custom_object_scope(learner_classes(ns)):  # noqa: F821 - from layer_names.py
        model = call(ns[payload["function"]], payload["function"], payload["args"])  # noqa: F821 - the child's call
    if not isinstance(model, keras.Model):
        return {"error": "returned " + type(model).__name__ + ", not a keras Model"}
    if not getattr(model, "compiled", False):
        return {"error": "the model is not compiled (call model.compile(...) before returning it)"}
    model.fit(payload["x_train"], payload["y_train"], epochs=payload["epochs"], batch_size=payload["batch_size"],
              verbose=0, shuffle=True)
    probs = np.asarray(model.predict(payload["x_test"], verbose=0, batch_size=256))
    named = {str(layer.name): type(layer).__name__ for layer in model.layers}       # what model.get_layer(name) finds
    return {"layers": layer_names(model), "named": named, "probs": probs.astype(np.float32),  # noqa: F821
            "shape": list(probs.shape)}
