"""ex5: train the learner's attention classifier as train_binary.py does, then predict the hidden test sequences in
the same process. (Its model holds the learner's own AttentionLayer, so it cannot be rebuilt from Keras' own layers
in a fresh sandbox as ex2's and ex3's models are; the layer's math is checked on its own against reference
outputs.) Sent after layer_names.py and train_binary.py, whose ``run`` this one replaces."""
import numpy as np


def run(ns, payload):
    model = trained_model(ns, payload)  # noqa: F821 - from train_binary.py
    if isinstance(model, dict):
        return model
    probs = np.asarray(model.predict(payload["x_test"], verbose=0, batch_size=256))
    named = {str(layer.name): type(layer).__name__ for layer in model.layers}       # what model.get_layer(name) finds
    return {"layers": layer_names(model), "named": named, "probs": probs.astype(np.float32),  # noqa: F821
            "shape": list(probs.shape)}
