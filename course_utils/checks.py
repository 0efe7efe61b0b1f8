"""Checks a chapter prints: numeric comparison against a reference (assert_close) and computed claims (claim)."""
from __future__ import annotations

import numpy as np


def _as_array(name: str, value) -> np.ndarray:
    if hasattr(value, "numpy"):  # tf.Tensor, keras Variable
        value = value.numpy()
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name}: expected numbers, got an array of dtype {array.dtype}")
    return array


def assert_close(name: str, ours, reference, rtol: float = 1e-5, atol: float = 1e-6) -> float:
    """Check ``ours`` against ``reference`` elementwise; print the errors and a pass line.

    Passes when ``|ours - reference| <= atol + rtol * |reference|`` everywhere (numpy's ``allclose`` rule).
    The relative error is taken over the nonzero reference entries.
    Returns the maximum absolute error; raises ``AssertionError`` with a readable report otherwise.
    """
    a = _as_array(f"{name} (ours)", ours).astype(np.float64)
    b = _as_array(f"{name} (reference)", reference).astype(np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shape {a.shape} (ours) differs from {b.shape} (reference)")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise AssertionError(f"{name}: non-finite values (ours: {np.sum(~np.isfinite(a))}, "
                             f"reference: {np.sum(~np.isfinite(b))})")
    abs_err = np.abs(a - b)
    max_abs = float(abs_err.max(initial=0.0))
    nonzero = b != 0
    max_rel = float((abs_err[nonzero] / np.abs(b[nonzero])).max(initial=0.0))
    allowed = atol + rtol * np.abs(b)
    bad = abs_err > allowed
    report = f"{name}: max abs error {max_abs:.3e}, max rel error {max_rel:.3e} (rtol={rtol:g}, atol={atol:g})"
    if bad.any():
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(abs_err - allowed), a.shape))
        raise AssertionError(
            f"{report}\n  FAILED at {int(bad.sum())} of {a.size} entries; worst at index {worst}: "
            f"ours {a[worst]:.8g} vs reference {b[worst]:.8g}"
        )
    print(f"{report}  -> PASS")
    return max_abs


class ClaimError(AssertionError):
    """A conclusion the chapter draws from its measurements does not hold for the numbers of this run."""


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def claim(text: str, holds, *, enforce: bool, **values) -> bool:
    """Print a conclusion drawn from measurements, with the numbers behind it, and whether it holds.

    ``holds`` is the condition computed from the measured ``values`` (shown as ``name=value``). With
    ``enforce=True`` (full mode, through ``cfg.claim``) a claim that does not hold raises :class:`ClaimError`,
    so ``make course`` stops instead of storing prose that its own numbers contradict; with ``enforce=False``
    (quick mode: less data, other numbers) the verdict is printed and the run goes on.
    """
    holds = bool(holds)
    numbers = ", ".join(f"{name} = {_fmt(value)}" for name, value in values.items())
    line = f"{text}  [{numbers}]" if numbers else text
    if holds:
        print(f"CLAIM HOLDS: {line}")
    elif enforce:
        raise ClaimError(f"claim does not hold: {line}")
    else:
        print(f"CLAIM DOES NOT HOLD on this quick-mode run (checked in full mode): {line}")
    return holds
