"""The trusted comparison of what a sandbox returned: exact type, dtype and shape, then tolerances.

Judges (``Task.judge``) raise :class:`Mismatch` with a reason a learner can act on; a malformed value raises
``autograder.protocol.ProtocolError``, which the grader reports the same way.
"""
from __future__ import annotations

import numpy as np

from autograder.protocol import Decoded, decode_checked


class Mismatch(Exception):
    """A returned value differs from the expected one; the message says how."""


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


def reference_judge(task, results: list, references: list) -> None:
    """Default judge: every case equals the reference solution's output within the task's tolerances."""
    if len(results) != len(references):
        raise Mismatch(f"expected {len(references)} results, got {len(results)}")
    for i, (got, exp) in enumerate(zip(results, references)):
        compare(decode_checked(exp), decode_checked(got), f"{task.function} (hidden case {i + 1})", task.rtol, task.atol)


def result_dict(raw, keys: tuple[str, ...]) -> dict:
    """Decode a harness result that must be a dict; a harness-reported problem becomes the mismatch reason."""
    d = decode_checked(raw)
    if d.kind != "dict":
        raise Mismatch("malformed result")
    out = d.plain()
    if "error" in out:
        raise Mismatch(str(out["error"])[:300])
    missing = [k for k in keys if k not in out]
    if missing:
        raise Mismatch(f"malformed result (missing {missing})")
    return out


def float_array(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a finite float array of exactly ``shape``."""
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise Mismatch(f"{name}: not a float array")
    if value.shape != shape:
        raise Mismatch(f"{name}: shape {value.shape}; expected {shape}")
    if not np.all(np.isfinite(value)):
        raise Mismatch(f"{name}: non-finite values")
    return value
