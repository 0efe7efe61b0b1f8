"""A learner's saved Keras model read in the trusted process: the ``config.json`` of its ``.keras`` file, and the
layer graph that config describes.

Nothing here imports Keras or runs a learner's code: the architecture a verdict rests on (which layers lie on a
path from the model's inputs to its outputs, in which order) is read from the saved file's JSON, and
:func:`refusal` decides whether the model may be rebuilt, from Keras' own classes only, in a fresh sandbox that
runs none of the learner's code (see ``harnesses/predict_saved.py``).
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

MAX_CONFIG_BYTES = 2**20
MAX_LAYERS = 500
RECURRENT = ("SimpleRNN", "LSTM", "GRU", "RNN")
WRAPPERS = ("Bidirectional", "TimeDistributed")
MODELS = ("Sequential", "Functional", "Model")


class Refused(ValueError):
    """The saved model cannot be graded; the message says why and what to change."""


def read_config(data: bytes) -> str:
    """The ``config.json`` text of a ``.keras`` file's bytes (a zip archive); Refused when it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise Refused(f"the saved model's config.json is larger than {MAX_CONFIG_BYTES} bytes")
            text = archive.read(info).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError, EOFError):
        raise Refused("the saved file is not a Keras model archive (.keras, written by model.save)") from None
    return text


@dataclass
class Graph:
    """Layers (by a unique id) with their Keras class (a wrapper as ``Bidirectional(LSTM)``) and the edges of the
    data flow; ``inputs``/``outputs``: the ids the model's inputs enter and its outputs leave."""
    kinds: dict[str, str] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def on_path(self) -> list[str]:
        """The layers on some path from an input to an output, in a topological order (unused layers left out)."""
        after = _reach(self.inputs, self.edges)
        before = _reach(self.outputs, {(b, a) for a, b in self.edges})
        keep = after & before
        return [n for n in _topological(self.kinds, self.edges) if n in keep]

    def longest_chain(self, counts) -> int:
        """The most layers for which ``counts(kind)`` is true along any one input-to-output path."""
        keep = set(self.on_path())
        best: dict[str, int] = {}
        for node in _topological(self.kinds, self.edges):
            if node not in keep:
                continue
            prev = [best[a] for a, b in self.edges if b == node and a in best]
            best[node] = max(prev, default=0) + int(bool(counts(self.kinds[node])))
        return max((best[n] for n in self.outputs if n in best), default=0)


def _reach(start, edges) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        node = todo.pop()
        for a, b in edges:
            if a == node and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def _topological(kinds: dict[str, str], edges) -> list[str]:
    order, seen = [], set()

    def visit(node, depth=0):
        if node in seen or depth > len(kinds):
            return
        seen.add(node)
        for a, b in sorted(edges):
            if b == node:
                visit(a, depth + 1)
        order.append(node)
    for node in kinds:
        visit(node)
    return order


def parse(text: str) -> dict:
    try:
        config = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise Refused("the saved model's config.json is not valid JSON") from None
    if not isinstance(config, dict):
        raise Refused("the saved model's config.json does not describe a model")
    return config


def refusal(text: str) -> str | None:
    """Why the saved model cannot be rebuilt from Keras' own layers (None when it can)."""
    try:
        graph(parse(text))
    except Refused as exc:
        return str(exc)
    return None


def graph(config: dict) -> Graph:
    """The layer graph of a saved model's config (a ``Sequential`` or functional model, nested ones included).
    Refused for a class that is not Keras' own (a learner's subclass, a ``Lambda``)."""
    g = Graph()
    _add_model(config, "", g, depth=0)
    return g


def _kind(obj: dict) -> str:
    """The Keras class of a serialised layer; Refused unless it is one of Keras' own, unchanged."""
    if not isinstance(obj, dict) or not isinstance(obj.get("class_name"), str):
        raise Refused("the saved model's config.json has a layer without a class")
    cls, module = obj["class_name"], obj.get("module")
    name = (obj.get("config") or {}).get("name", "?") if isinstance(obj.get("config"), dict) else "?"
    if obj.get("registered_name") not in (None, cls) or not isinstance(module, str) or module.split(".")[0] != "keras":
        raise Refused(f"layer {name!r} is of class {cls}, defined in the notebook, not by Keras. The grader rebuilds "
                      "the trained model from Keras' own layers only (so that none of the submission's code makes "
                      f"its predictions): use the Keras layer {cls} derives from, e.g. keras.layers.LSTM(...), "
                      "with your settings as its arguments")
    if cls == "Lambda":
        raise Refused(f"layer {name!r} is a Lambda layer: its code is the submission's, so the grader cannot "
                      "rebuild it from Keras' own layers; use built-in layers instead")
    cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    if cls in WRAPPERS:
        if cfg.get("backward_layer") is not None:
            _kind(cfg["backward_layer"])
        return f"{cls}({_kind(cfg.get('layer'))})"
    return cls


def _add_model(obj: dict, prefix: str, g: Graph, depth: int) -> tuple[list[str], list[str]]:
    """Adds a model's layers to ``g``; returns the ids its inputs enter and its outputs leave."""
    if depth > 8:
        raise Refused("the saved model nests models more than 8 deep")
    cls = _kind(obj)
    cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    layers = cfg.get("layers")
    if cls not in MODELS or not isinstance(layers, list) or not layers:
        raise Refused(f"the saved file holds a {cls}, not a model with layers")
    if cls == "Sequential":
        ids = []
        for i, layer in enumerate(layers):
            ids.append(_add_layer(layer, f"{prefix}{i}:", g, depth))
        for (_, outs), (ins, _) in zip(ids, ids[1:]):
            g.edges.update((a, b) for a in outs for b in ins)
        ins, outs = ids[0][0], ids[-1][1]
    else:
        by_name = {}
        for layer in layers:
            if not isinstance(layer, dict) or not isinstance(layer.get("name"), str):
                raise Refused("the saved model's config.json has a layer without a name")
            by_name[layer["name"]] = _add_layer(layer, f"{prefix}{layer['name']}:", g, depth)
        for layer in layers:
            targets = by_name[layer["name"]][0]
            for source in _sources(layer.get("inbound_nodes"), 0):
                if source not in by_name:
                    raise Refused(f"layer {layer['name']!r} reads from {source!r}, which the model does not have")
                g.edges.update((a, b) for a in by_name[source][1] for b in targets)
        ins = [n for name in _refs(cfg.get("input_layers")) for n in by_name.get(name, ([], []))[0]]
        outs = [n for name in _refs(cfg.get("output_layers")) for n in by_name.get(name, ([], []))[1]]
    if depth == 0:
        g.inputs, g.outputs = ins, outs
    return ins, outs


def _refs(value, depth: int = 0) -> list[str]:
    """The layer names of ``input_layers`` / ``output_layers``: one ``[name, node, tensor]`` or a nest of them."""
    if depth > 32 or not isinstance(value, (list, dict)):
        return []
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value[0]]
    items = value.values() if isinstance(value, dict) else value
    return [name for v in items for name in _refs(v, depth + 1)]


def _sources(value, depth: int) -> set[str]:
    """The names of the layers whose tensors a functional layer's ``inbound_nodes`` read."""
    if depth > 32:
        raise Refused("the saved model's config.json nests its layer inputs too deep")
    found: set[str] = set()
    if isinstance(value, dict):
        history = (value.get("config") or {}).get("keras_history") if value.get("class_name") == "__keras_tensor__" \
            and isinstance(value.get("config"), dict) else None
        if isinstance(history, list) and history and isinstance(history[0], str):
            found.add(history[0])
        for v in value.values():
            found |= _sources(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            found |= _sources(v, depth + 1)
    return found


def _add_layer(layer: dict, uid: str, g: Graph, depth: int) -> tuple[list[str], list[str]]:
    kind = _kind(layer)
    if kind in MODELS:
        return _add_model(layer, uid, g, depth + 1)
    if len(g.kinds) >= MAX_LAYERS:
        raise Refused(f"the saved model has more than {MAX_LAYERS} layers")
    g.kinds[uid] = kind
    return [uid], [uid]


def is_layer(kind: str, cls: str) -> bool:
    """Whether a graph node of ``kind`` is a ``cls`` layer, alone or inside a wrapper (``Bidirectional(LSTM)``)."""
    return kind == cls or kind.endswith(f"({cls})")


def is_recurrent(kind: str) -> bool:
    """A recurrent layer, alone or inside a wrapper."""
    return any(is_layer(kind, r) for r in RECURRENT)


def describe(g: Graph) -> str:
    """The layers on the path, for a reason: ``InputLayer -> Embedding -> LSTM -> Dense``."""
    return " -> ".join(g.kinds[n] for n in g.on_path())
