"""The wire protocol between the grader and a sandboxed child, written once: what goes in, what comes back, and
how values travel (plain JSON, no pickle).

  job.json     Job        {"function", "cells": [{"id", "source"}], "cases": [value, ...], "preamble", "harness",
                           "requires", "tensorflow", "seed"}
  result.json  RunResult  {"cell_errors": [{"cell", "type", "message", "where"}], "missing": bool,
                           "cases": [{"ok": value} | {"error": {"type", "message", "where"}}], "seconds": float}
  progress.txt            "cells" while the preamble and cells run, then "case N" while case N runs: where a run
                          that was killed (time, memory) had got to

The function is called with the case's ``args`` positionally, in the order the parent wrote them (the released
notebook's parameter order): a learner may name the parameters differently or take ``*args``. A call whose
arguments do not fit the function's own signature fails, before the call, with a :data:`SIGNATURE_ERROR` that says
so; a harness may call the learner's functions through the same ``call``, a global of its namespace.

A value is JSON with markers for what JSON lacks: arrays {"__ndarray__": dtype, "shape": [...], "data": [...]},
numpy scalars {"__npscalar__": dtype, "value": x}, tuples {"__tuple__": [...]}, lists {"__list__": [...]}, dicts
{"__dict__": {...}}; anything else comes back as {"__unsupported__": type name}. Exact types only (no subclasses).

The child cannot import the repository: the sandbox copies this file next to it and the child executes it as
source, so it imports nothing but the standard library and numpy. The parent never trusts what comes back:
:meth:`RunResult.from_text` and :func:`decode_checked` reject anything malformed with a :class:`ProtocolError`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

MAX_ELEMENTS = 5_000_000     # the largest array a child sends back
MAX_DEPTH = 20               # nesting of tuples, lists and dicts in one value
ALLOWED_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                  "uint8", "uint16", "uint32", "uint64", "bool")


PROGRESS_FILE = "progress.txt"
SIGNATURE_ERROR = "SignatureMismatch"


class ProtocolError(ValueError):
    """What came back from a sandbox is malformed; the message says how (it becomes the function's reason)."""


# ---------------------------------------------------------------------------------------------------------
# the job (parent -> child, trusted) and the result (child -> parent, untrusted)

@dataclass
class Cell:
    id: str
    source: str


@dataclass
class Job:
    """One sandbox run: execute ``preamble`` and ``cells``, then call ``function`` (or ``harness``'s ``run``) on
    every case. ``requires`` names what must be callable after the cells (default: ``function`` when there is no
    harness)."""

    function: str
    cells: list[Cell]
    cases: list                     # encoded values (see encode)
    preamble: str = ""
    harness: str | None = None
    requires: str | None = None
    tensorflow: bool = False
    seed: int = 0

    @property
    def required_name(self) -> str | None:
        return self.requires or (None if self.harness else self.function)

    def to_json(self) -> dict:
        return {"function": self.function, "cells": [{"id": c.id, "source": c.source} for c in self.cells],
                "cases": self.cases, "preamble": self.preamble, "harness": self.harness,
                "requires": self.requires, "tensorflow": self.tensorflow, "seed": self.seed}

    @classmethod
    def from_json(cls, obj: dict) -> Job:
        return cls(**{**obj, "cells": [Cell(**c) for c in obj["cells"]]})


@dataclass
class CaseError:
    type: str
    message: str
    where: str = ""
    after_reload: bool = False      # set by the grader when a second, fresh sandbox raised it; never on the wire


@dataclass
class CellError:
    cell: str
    type: str
    message: str
    where: str = ""


@dataclass
class CaseResult:
    """One case: the encoded returned value, or the error it raised."""

    ok: object = None
    error: CaseError | None = None

    @property
    def returned(self) -> bool:
        """The call returned a value (still to be judged) rather than raising."""
        return self.error is None


@dataclass
class RunResult:
    cell_errors: list[CellError] = field(default_factory=list)
    missing: bool = False           # the required name was not callable after the cells ran
    cases: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        cases = [{"ok": c.ok} if c.error is None else
                 {"error": {"type": c.error.type, "message": c.error.message, "where": c.error.where}}
                 for c in self.cases]
        return {"cell_errors": [vars(e).copy() for e in self.cell_errors], "missing": self.missing,
                "cases": cases, "seconds": self.seconds}

    @classmethod
    def from_text(cls, text: str) -> RunResult:
        """Strictly parse a child's result.json."""
        try:
            obj = json.loads(text)
        except RecursionError:
            raise ProtocolError("unreadable result (nested too deeply)") from None
        except ValueError as exc:
            raise ProtocolError(f"unreadable result ({exc})") from None
        return cls.from_json(obj)

    @classmethod
    def from_json(cls, obj) -> RunResult:
        if not isinstance(obj, dict):
            raise ProtocolError("unreadable result (not an object)")
        cell_errors, cases = obj.get("cell_errors"), obj.get("cases")
        missing, seconds = obj.get("missing"), obj.get("seconds", 0.0)
        if not isinstance(cell_errors, list) or not isinstance(cases, list) or type(missing) is not bool:
            raise ProtocolError("malformed result")
        if type(seconds) not in (int, float) or not math.isfinite(seconds):
            raise ProtocolError("malformed result (seconds)")
        errors = []
        for e in cell_errors:
            fields = _strings(e, ("cell", "type", "message"), ("where",))
            errors.append(CellError(**fields))
        return cls(errors, missing, [_case(c) for c in cases], float(seconds))


def _strings(obj, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    if not isinstance(obj, dict) or not all(k in obj for k in required) or set(obj) - {*required, *optional}:
        raise ProtocolError("malformed result")
    if not all(type(v) is str for v in obj.values()):
        raise ProtocolError("malformed result (not text)")
    return dict(obj)


def _case(obj) -> CaseResult:
    if not isinstance(obj, dict) or len(obj) != 1 or not ({"ok", "error"} & set(obj)):
        raise ProtocolError("malformed result")
    if "ok" in obj:
        return CaseResult(ok=obj["ok"])
    return CaseResult(error=CaseError(**_strings(obj["error"], ("type", "message"), ("where",))))


def progress_note(text: str | None) -> str:
    """Where a killed run had got to, from the child's progress file, as words for the learner ("" if unknown)."""
    text = (text or "").strip()
    if text == "cells":
        return "while the solution cells ran (code at the top level of a cell), before any function was called"
    if text.startswith("case ") and text[5:].isdigit():
        return f"in hidden case {int(text[5:])}"
    return ""


# ---------------------------------------------------------------------------------------------------------
# values

def encode(value, depth: int = 0, strict: bool = False):
    """Plain-JSON encoding of ``value``; exact types only. ``strict`` (the parent's inputs): raise TypeError on
    what cannot be encoded instead of sending it as unsupported."""
    import numpy as np

    def unsupported(what: str):
        if strict:
            raise TypeError(f"cannot send {what} to the sandbox")
        return {"__unsupported__": what}

    if depth > MAX_DEPTH:
        return unsupported("nesting too deep")
    t = type(value)
    if value is None or t in (bool, str, int, float):
        return value
    if t is np.ndarray:
        if value.dtype.kind not in "biuf" or value.size > MAX_ELEMENTS:
            return unsupported(f"numpy.ndarray of dtype {value.dtype} and size {value.size}")
        return {"__ndarray__": value.dtype.str, "shape": list(value.shape), "data": value.ravel().tolist()}
    if isinstance(value, np.generic) and t.__module__ == "numpy" and value.dtype.kind in "biuf":
        return {"__npscalar__": value.dtype.str, "value": value.item()}
    if t in (tuple, list):
        return {f"__{t.__name__}__": [encode(v, depth + 1, strict) for v in value]}
    if t is dict:
        if not all(type(k) is str for k in value):
            return unsupported("dict with non-string keys")
        return {"__dict__": {k: encode(v, depth + 1, strict) for k, v in value.items()}}
    return unsupported(f"{t.__module__}.{t.__qualname__}")


def encode_input(value):
    """An input made by the parent (arrays, tuples, lists, dicts, scalars), for a child to decode."""
    return encode(value, strict=True)


def decode(obj):
    """Child side: the inputs the parent encoded, back as Python / numpy values (trusted: the parent made them)."""
    import numpy as np

    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            return np.array(obj["data"], dtype=np.dtype(obj["__ndarray__"])).reshape(obj["shape"])
        if "__npscalar__" in obj:
            return np.dtype(obj["__npscalar__"]).type(obj["value"])
        if "__tuple__" in obj:
            return tuple(decode(v) for v in obj["__tuple__"])
        if "__list__" in obj:
            return [decode(v) for v in obj["__list__"]]
        return {k: decode(v) for k, v in obj["__dict__"].items()}
    return obj


class Decoded:
    """A value returned by a sandbox, strictly decoded, with its exact Python / numpy type recorded."""

    __slots__ = ("kind", "value", "dtype", "type_name")

    def __init__(self, kind, value, dtype=None, type_name=""):
        self.kind, self.value, self.dtype, self.type_name = kind, value, dtype, type_name

    def __repr__(self):
        return f"Decoded({self.kind}, {self.type_name})"

    def plain(self):
        """As plain Python / numpy (tuples and lists as lists); an unsupported object raises ProtocolError."""
        if self.kind in ("tuple", "list"):
            return [v.plain() for v in self.value]
        if self.kind == "dict":
            return {k: v.plain() for k, v in self.value.items()}
        if self.kind == "unsupported":
            raise ProtocolError(f"returned an object of type {self.type_name}")
        return self.value


def _dtype(name):
    import numpy as np

    allowed = {np.dtype(t).str for t in ALLOWED_DTYPES}
    if type(name) is not str or name not in allowed:
        raise ProtocolError(f"unsupported dtype {str(name)[:40]!r}")
    return np.dtype(name)


def _items(obj, marker: str) -> list:
    items = obj[marker]
    if len(obj) != 1 or not isinstance(items, list):
        raise ProtocolError("malformed result")
    return items


def decode_checked(obj, depth: int = 0) -> Decoded:
    """Parent side: strictly decode one untrusted value; anything malformed raises ProtocolError."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise ProtocolError("the returned value is nested too deeply")
    if obj is None:
        return Decoded("none", None, type_name="NoneType")
    if type(obj) in (bool, int, float, str):
        return Decoded(type(obj).__name__, obj, type_name=type(obj).__name__)
    if not isinstance(obj, dict) or len(obj) == 0:
        raise ProtocolError("malformed result")
    if "__ndarray__" in obj:
        dtype, shape, data = _dtype(obj["__ndarray__"]), obj.get("shape"), obj.get("data")
        if set(obj) != {"__ndarray__", "shape", "data"} or not isinstance(shape, list) or not isinstance(data, list) \
                or not all(type(s) is int and s >= 0 for s in shape):
            raise ProtocolError("malformed array in the result")
        if math.prod(shape) != len(data):
            raise ProtocolError("malformed array in the result (size)")
        if not all(type(x) in (bool, int, float) for x in data):
            raise ProtocolError("malformed array in the result (an element is not a number)")
        try:
            arr = np.array(data, dtype=dtype).reshape(shape)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ProtocolError(f"malformed array in the result ({exc})") from None
        return Decoded("ndarray", arr, arr.dtype, "numpy.ndarray")
    if "__npscalar__" in obj:
        dtype, value = _dtype(obj["__npscalar__"]), obj.get("value")
        if set(obj) != {"__npscalar__", "value"} or type(value) not in (bool, int, float):
            raise ProtocolError("malformed scalar in the result")
        try:
            val = dtype.type(value)
        except (TypeError, ValueError, OverflowError):
            raise ProtocolError("malformed scalar in the result") from None
        return Decoded("npscalar", val, val.dtype, f"numpy.{val.dtype.name}")
    for kind in ("tuple", "list"):
        if f"__{kind}__" in obj:
            return Decoded(kind, [decode_checked(v, depth + 1) for v in _items(obj, f"__{kind}__")], type_name=kind)
    if "__dict__" in obj:
        d = obj["__dict__"]
        if len(obj) != 1 or not isinstance(d, dict):
            raise ProtocolError("malformed result")
        return Decoded("dict", {str(k): decode_checked(v, depth + 1) for k, v in d.items()}, type_name="dict")
    if "__unsupported__" in obj:
        return Decoded("unsupported", None, type_name=str(obj["__unsupported__"])[:200])
    raise ProtocolError("malformed result")


def dict_fields(value) -> dict | None:
    """The fields of an encoded dict (still encoded), or None when ``value`` is not one."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("__dict__"), dict):
        return value["__dict__"]
    return None


def encode_dict(fields: dict) -> dict:
    """An encoded dict from already encoded fields."""
    return {"__dict__": fields}
