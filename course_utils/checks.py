"""Checks a chapter prints: numeric comparison against a reference (assert_close) and computed claims (claim)."""
from __future__ import annotations

import re

import numpy as np

from course_utils.paired_tests import Verdict

# Words that rank two models; a claim using them must carry the paired test's verdict (see claim()).
COMPARATIVE = re.compile(r"\b(better|beats?|beaten|worse|outperforms?|at least as|more accurate|less accurate|"
                         r"lower (?:validation |test )?(?:MAE|error)|higher (?:validation |test )?accuracy)\b",
                         re.IGNORECASE)
# "The test shows no difference" (every verdict must have no winner) and a negated ranking ("does not beat",
# "not more accurate": the verdicts are required, the condition is the claim's own).
NO_DIFFERENCE = re.compile(r"\bno difference\b|\b(?:does not|do not|cannot) separate\b|\btie[sd]?\b", re.IGNORECASE)
NEGATED = re.compile(r"\b(?:not|never|no|neither|nor)\b[^.;]{0,25}?\b(?:better|beats?|worse|more accurate|"
                     r"less accurate|at least as)\b", re.IGNORECASE)


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
    if isinstance(value, Verdict):
        return f"{value.text} ({value.p_text})"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def claim(text: str, holds, *, enforce: bool, **values) -> bool:
    """Print a conclusion drawn from measurements, with the numbers behind it, and whether it holds.

    ``holds`` is the condition computed from the measured ``values`` (shown as ``name=value``). With
    ``enforce=True`` (full mode, through ``cfg.claim``) a claim that does not hold raises :class:`ClaimError`,
    so ``make course`` stops instead of storing prose that its own numbers contradict; with ``enforce=False``
    (quick mode: less data, other numbers) the verdict is printed and the run goes on.

    A claim that ranks models ("better", "beats", "worse", "at least as", "more accurate", ...) must pass the
    paired test's :class:`~course_utils.paired_tests.Verdict` of each pair among ``values``; it then also needs
    those verdicts to agree with its wording: a winner in every verdict for a stated difference, "no difference
    shown" in every verdict for a claim that says the test does not separate them (a negated ranking, "does not
    beat", is left to ``holds``). Without a verdict such a
    claim raises :class:`ClaimError` in every mode (it is a defect of the chapter, not of one run's numbers).
    """
    verdicts = [v for v in values.values() if isinstance(v, Verdict)]
    if COMPARATIVE.search(text) and not verdicts:
        raise ClaimError(f"claim ranks models without a paired test: {text!r}; pass the verdict of "
                         "cfg.compare(...) for each pair among its values")
    if verdicts and NO_DIFFERENCE.search(text):
        holds = bool(holds) and all(v.winner is None for v in verdicts)
    elif verdicts and COMPARATIVE.search(text) and not NEGATED.search(text):
        holds = bool(holds) and all(v.winner is not None for v in verdicts)
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
