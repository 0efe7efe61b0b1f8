"""ex5, stage 2, in a FRESH sandbox (same solution cells, nothing of stage 1 but the saved file): load and
predict. Reloading in the process that saved would let a submission patch keras.models.load_model to hand back
the model it still holds in memory, and pass without a working get_config/from_config."""
import os
import numpy as np


def run(ns, payload):
    import keras
    cls = ns["AttentionLayer"]
    path = os.path.join(os.getcwd(), payload["file"])
    if not os.path.isfile(path):
        return {"error": "the model saved with model.save(...) was not found"}
    loaded = keras.models.load_model(path, custom_objects={"AttentionLayer": cls})
    after = loaded.predict(np.asarray(payload["x"], dtype=np.float32), verbose=0)
    return {"after": np.asarray(after[0], dtype=np.float32), "after_weights": np.asarray(after[1], dtype=np.float32)}
