"""What a hidden check is, and the trusted comparison of what a sandbox returned.

Each ``autograder/hidden/<assignment>.py`` defines ``ASSIGNMENT``, ``SEED`` and ``TASKS``
(a list of :class:`Task`). A task grades one exercise function: it makes hidden inputs (seeded, in the
trusted parent), the sandbox calls the learner's function on them, and ``judge`` decides in the parent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograder.sandbox import Limits

NUMERIC_LIMITS = Limits(cpu_s=20, wall_s=40, memory_mb=1024)
KERAS_LIMITS = Limits(cpu_s=240, wall_s=300, memory_mb=4096)


class Mismatch(Exception):
    """A returned value differs from the expected one; the message says how."""


@dataclass
class Task:
    function: str                       # the exercise function (reported by this name)
    solution_cell: str                  # grade_id of the solution cell that defines it
    test_cell: str                      # grade_id of the autograded test cell whose points it earns
    make_cases: Callable[[np.random.Generator], tuple[list[dict], Any]]   # -> (payloads for the child, secret)
    judge: Callable[[list[Any], list[Any] | None, Any], None] | None = None  # raises Mismatch; None: reference
    harness: str | None = None          # code run in the child defining run(ns, payload); None: call function
    # optional second stage, in a FRESH sandbox with the same cells: ``reload_harness`` defines run(ns, payload)
    # like ``harness`` and finds the files named in ``carry`` (written by the first stage) in its working folder;
    # the two stages' result dicts are merged per case (an error in either stage wins), e.g. save, then reload
    reload_harness: str | None = None
    carry: tuple[str, ...] = ()
    # optional light preamble used instead of the notebook's setup cell (e.g. "import numpy as np" for numpy-only
    # functions of an exercise whose setup imports Keras); on a NameError for a name only the full setup defines,
    # the function is rerun with the full setup, so using the setup's imports is never penalised
    preamble: str | None = None
    tensorflow: bool = False
    use_reference: bool = True          # compare with the reference solution's outputs
    limits: Limits = NUMERIC_LIMITS
    rtol: float = 1e-4
    atol: float = 1e-5
    description: str = ""
    notes: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# encoding of inputs (parent -> child) and strict decoding of outputs (child -> parent)

def enc(value):
    """Encode inputs made by the parent (numpy arrays, tuples, dicts, scalars)."""
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.dtype.str, "shape": list(value.shape), "data": value.ravel().tolist()}
    if isinstance(value, tuple):
        return {"__tuple__": [enc(v) for v in value]}
    if isinstance(value, dict):
        return {k: enc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [enc(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


_ALLOWED_DTYPES = {np.dtype(t).str for t in ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                                             "uint8", "uint16", "uint32", "uint64", "bool")}


class Decoded:
    """A value returned by the sandbox, with its exact Python/numpy type recorded."""

    __slots__ = ("kind", "value", "dtype", "type_name")

    def __init__(self, kind, value, dtype=None, type_name=""):
        self.kind, self.value, self.dtype, self.type_name = kind, value, dtype, type_name

    def __repr__(self):
        return f"Decoded({self.kind}, {self.type_name})"


def dec(obj, depth: int = 0) -> Decoded:
    """Strictly decode one untrusted value; malformed input raises Mismatch."""
    if depth > 20:
        raise Mismatch("the returned value is nested too deeply")
    if obj is None:
        return Decoded("none", None, type_name="NoneType")
    if type(obj) in (bool, int, float, str):
        return Decoded(type(obj).__name__, obj, type_name=type(obj).__name__)
    if isinstance(obj, list):
        raise Mismatch("malformed result")
    if not isinstance(obj, dict) or len(obj) == 0:
        raise Mismatch("malformed result")
    if "__ndarray__" in obj:
        dtype = obj["__ndarray__"]
        if dtype not in _ALLOWED_DTYPES:
            raise Mismatch(f"unsupported dtype {dtype!r}")
        shape = obj.get("shape")
        data = obj.get("data")
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape) and isinstance(data, list)):
            raise Mismatch("malformed array in the result")
        if math.prod(shape) != len(data):
            raise Mismatch("malformed array in the result (size)")
        try:
            arr = np.array(data, dtype=np.dtype(dtype)).reshape(shape)
        except (TypeError, ValueError, OverflowError) as exc:
            raise Mismatch(f"malformed array in the result ({exc})") from None
        return Decoded("ndarray", arr, arr.dtype, "numpy.ndarray")
    if "__npscalar__" in obj:
        dtype = obj["__npscalar__"]
        if dtype not in _ALLOWED_DTYPES:
            raise Mismatch(f"unsupported dtype {dtype!r}")
        try:
            val = np.dtype(dtype).type(obj.get("value"))
        except (TypeError, ValueError, OverflowError):
            raise Mismatch("malformed scalar in the result") from None
        return Decoded("npscalar", val, val.dtype, f"numpy.{val.dtype.name}")
    if "__tuple__" in obj:
        return Decoded("tuple", [dec(v, depth + 1) for v in obj["__tuple__"]], type_name="tuple")
    if "__list__" in obj:
        return Decoded("list", [dec(v, depth + 1) for v in obj["__list__"]], type_name="list")
    if "__dict__" in obj:
        d = obj["__dict__"]
        if not isinstance(d, dict):
            raise Mismatch("malformed result")
        return Decoded("dict", {str(k): dec(v, depth + 1) for k, v in d.items()}, type_name="dict")
    if "__unsupported__" in obj:
        return Decoded("unsupported", None, type_name=str(obj["__unsupported__"])[:200])
    raise Mismatch("malformed result")


def compare(expected: Decoded, got: Decoded, where: str, rtol: float, atol: float) -> None:
    """Exact type, dtype and shape; then |got - expected| <= atol + rtol * |expected| in float64."""
    if got.kind == "unsupported":
        raise Mismatch(f"{where}: returned an object of type {got.type_name}; expected {expected.type_name}")
    if expected.kind != got.kind:
        raise Mismatch(f"{where}: returned {got.type_name}; expected {expected.type_name}")
    if expected.kind in ("tuple", "list"):
        if len(expected.value) != len(got.value):
            raise Mismatch(f"{where}: returned a {got.kind} of {len(got.value)} items; expected {len(expected.value)}")
        for i, (e, g) in enumerate(zip(expected.value, got.value)):
            compare(e, g, f"{where}[{i}]", rtol, atol)
        return
    if expected.kind == "dict":
        if set(expected.value) != set(got.value):
            missing = sorted(set(expected.value) - set(got.value))
            extra = sorted(set(got.value) - set(expected.value))
            raise Mismatch(f"{where}: keys differ (missing {missing}, unexpected {extra})")
        for k in expected.value:
            compare(expected.value[k], got.value[k], f"{where}[{k!r}]", rtol, atol)
        return
    if expected.kind in ("ndarray", "npscalar"):
        if expected.dtype != got.dtype:
            raise Mismatch(f"{where}: dtype {got.dtype}; expected {expected.dtype}")
        e = np.asarray(expected.value)
        g = np.asarray(got.value)
        if e.shape != g.shape:
            raise Mismatch(f"{where}: shape {g.shape}; expected {e.shape}")
        _close(e, g, where, rtol, atol)
        return
    if expected.kind == "float":
        _close(np.asarray(expected.value), np.asarray(got.value), where, rtol, atol)
        return
    if expected.value != got.value:
        raise Mismatch(f"{where}: returned {got.value!r}; expected {expected.value!r}")


def _close(e: np.ndarray, g: np.ndarray, where: str, rtol: float, atol: float) -> None:
    if e.dtype.kind not in "fc" and g.dtype.kind not in "fc":
        if not np.array_equal(e, g):
            bad = int(np.sum(e != g))
            raise Mismatch(f"{where}: {bad} of {e.size} values differ")
        return
    e64, g64 = e.astype(np.float64), g.astype(np.float64)
    if not np.all(np.isfinite(g64)):
        raise Mismatch(f"{where}: {int(np.sum(~np.isfinite(g64)))} non-finite values")
    err = np.abs(g64 - e64)
    allowed = atol + rtol * np.abs(e64)
    bad = err > allowed
    if bad.any():
        raise Mismatch(f"{where}: {int(bad.sum())} of {e.size} values differ beyond rtol={rtol:g}, atol={atol:g} "
                       f"(max abs error {float(err.max()):.3g})")


def reference_judge(task: Task, results: list, references: list) -> None:
    """Default judge: every case equals the reference solution's output within the task's tolerances."""
    if len(results) != len(references):
        raise Mismatch(f"expected {len(references)} results, got {len(results)}")
    for i, (got, exp) in enumerate(zip(results, references)):
        compare(dec(exp), dec(got), f"{task.function} (hidden case {i + 1})", task.rtol, task.atol)


def plain(d: Decoded):
    """A decoded value as plain Python / numpy (for judges of structured results such as dicts of arrays)."""
    if d.kind in ("tuple", "list"):
        return [plain(v) for v in d.value]
    if d.kind == "dict":
        return {k: plain(v) for k, v in d.value.items()}
    if d.kind == "unsupported":
        raise Mismatch(f"returned an object of type {d.type_name}")
    return d.value


def result_dict(raw, keys: tuple[str, ...]) -> dict:
    """Decode a harness result that must be a dict; a harness-reported problem becomes the mismatch reason."""
    d = dec(raw)
    if d.kind != "dict":
        raise Mismatch("malformed result")
    out = plain(d)
    if "error" in out:
        raise Mismatch(str(out["error"])[:300])
    missing = [k for k in keys if k not in out]
    if missing:
        raise Mismatch(f"malformed result (missing {missing})")
    return out


def float_array(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise Mismatch(f"{name}: not a float array")
    if value.shape != shape:
        raise Mismatch(f"{name}: shape {value.shape}; expected {shape}")
    if not np.all(np.isfinite(value)):
        raise Mismatch(f"{name}: non-finite values")
    return value
