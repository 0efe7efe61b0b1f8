"""Class names of a model's layers, for the harnesses that check an architecture."""


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
