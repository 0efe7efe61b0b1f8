"""Class names of a model's layers, for the harnesses that check an architecture, and the learner's own layer
classes, so that Keras finds them when it clones a layer (e.g. the backward copy made by Bidirectional)."""

GENERIC = ("Layer", "Model", "Sequential", "Functional")   # bases of a learner's own layer or model


def layer_name(layer):
    """The Keras layer a layer is: its class's name, or for a learner's subclass of a Keras layer (``class
    ReviewLSTM(keras.layers.LSTM)``) that layer's name ("LSTM"); a layer written from ``keras.layers.Layer`` keeps
    its own name ("AttentionLayer")."""
    for cls in type(layer).__mro__:
        if cls.__module__.split(".")[0] == "keras":
            return type(layer).__name__ if cls.__name__ in GENERIC else cls.__name__
    return type(layer).__name__


def layer_names(model):
    """The layer_name of every layer, looking inside wrappers (Bidirectional, TimeDistributed) and nested models."""
    names = []

    def visit(layer):
        names.append(layer_name(layer))
        for attr in ("forward_layer", "backward_layer", "layer"):
            inner = getattr(layer, attr, None)
            if inner is not None and inner is not layer and hasattr(inner, "weights"):
                visit(inner)
        for sub in getattr(layer, "layers", []) or []:
            visit(sub)
    for layer in model.layers:
        visit(layer)
    return names


def learner_classes(ns):
    """The Keras layer classes the solution cells define, by name (for keras.saving.custom_object_scope)."""
    import keras

    return {name: obj for name, obj in ns.items()
            if isinstance(obj, type) and issubclass(obj, keras.layers.Layer)
            and obj.__module__.split(".")[0] != "keras"}
