"""Paired tests for comparing two models on the same test set (one test set, one pair of predictions each).

Two accuracies measured on the same reviews are not independent: the standard error of one accuracy overstates
the noise of their difference. McNemar's test looks only at the examples where the two models disagree; the
paired bootstrap resamples examples (keeping each example's two errors together) for a difference of mean errors.
:func:`compare` (``cfg.compare`` in a notebook) runs the right one and states one of three verdicts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["McNemar", "mcnemar", "PairedBootstrap", "paired_bootstrap", "Verdict", "compare"]


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test on paired correct/incorrect outcomes."""

    only_a: int     # examples model A gets right and model B gets wrong
    only_b: int     # examples model B gets right and model A gets wrong
    p_value: float  # two-sided exact binomial p-value of only_a vs only_b under "equally accurate"

    def __str__(self) -> str:
        return f"McNemar: only A right {self.only_a}, only B right {self.only_b}, p = {self.p_value:.3g}"


def mcnemar(correct_a, correct_b) -> McNemar:
    """McNemar's exact test of "A and B are equally accurate" from two boolean arrays over the same examples."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"correct_a and correct_b must be 1-D and of one length, got {a.shape} and {b.shape}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return McNemar(0, 0, 1.0)
    log_terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)
                 for i in range(k + 1)]
    top = max(log_terms)
    tail = math.exp(top) * sum(math.exp(t - top) for t in log_terms)
    return McNemar(only_a, only_b, min(1.0, 2.0 * tail))


@dataclass(frozen=True)
class PairedBootstrap:
    """A paired bootstrap of mean(errors_a) - mean(errors_b)."""

    difference: float  # mean(errors_a) - mean(errors_b) on the test set itself
    low: float         # 2.5 % quantile of the bootstrap differences
    high: float        # 97.5 % quantile
    p_value: float     # two-sided: how often the resampled difference falls on the other side of zero, doubled
    n_resamples: int   # so the smallest p it can resolve is 2 / n_resamples

    def __str__(self) -> str:
        return (f"paired bootstrap: difference {self.difference:+.4g}, 95 % interval [{self.low:+.4g}, "
                f"{self.high:+.4g}], p = {self.p_value:.3g}")


def paired_bootstrap(errors_a, errors_b, *, n_resamples: int = 2_000, seed: int = 0,
                     block: int = 1) -> PairedBootstrap:
    """Paired bootstrap of the difference of mean errors (e.g. absolute errors of two forecasters on one test set).

    ``block > 1`` resamples contiguous blocks of that many examples (a moving-block bootstrap), for time series whose
    errors are correlated from one day to the next.
    """
    a, b = np.asarray(errors_a, dtype=np.float64), np.asarray(errors_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"errors_a and errors_b must be 1-D, of one length >= 2, got {a.shape} and {b.shape}")
    d = a - b
    n, block = len(d), max(1, min(int(block), len(d)))
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - block + 1, size=(n_resamples, math.ceil(n / block)))
    idx = (starts[:, :, None] + np.arange(block)).reshape(n_resamples, -1)[:, :n]
    means = d[idx].mean(axis=1)
    observed = float(d.mean())
    other_side = np.mean(means <= 0) if observed > 0 else np.mean(means >= 0)
    return PairedBootstrap(observed, float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975)),
                           float(min(1.0, 2 * other_side)), n_resamples)


@dataclass(frozen=True)
class Verdict:
    """The verdict of a paired test between two models on the same examples (see :func:`compare`)."""

    name_a: str
    name_b: str
    kind: str          # "accuracy" (higher is better) or "mae" (lower is better)
    split: str         # which examples, e.g. "validation" or "test"
    n: int             # number of paired examples
    score_a: float     # accuracy or MAE of model A
    score_b: float
    low: float         # 95 % interval of score_a - score_b
    high: float
    p_value: float
    test: str          # the test's name, e.g. "McNemar exact"
    alpha: float = 0.05
    p_floor: float = 0.0   # the smallest p the test can resolve: a p of 0 is printed as "p < p_floor"
    disagree: int | None = None  # accuracy: examples where exactly one of the two models is right

    @property
    def winner(self) -> str | None:
        """The better model's name, or None when the test shows no difference at level ``alpha``."""
        if self.p_value >= self.alpha:
            return None
        a_higher = self.score_a > self.score_b
        return self.name_a if a_higher == (self.kind == "accuracy") else self.name_b

    @property
    def text(self) -> str:
        """One of: "A is better than B", "B is better than A", "no difference shown"."""
        if self.winner is None:
            return "no difference shown"
        loser = self.name_b if self.winner == self.name_a else self.name_a
        return f"{self.winner} is better than {loser}"

    @property
    def p_text(self) -> str:
        """``p = 0.0214``; ``p < 0.001`` where the test cannot resolve a smaller p (it underflowed, or no resample
        fell on the other side of zero)."""
        if self.p_value <= 0.0:
            return f"p < {self.p_floor:.2g}"
        return f"p = {self.p_value:.3g}"

    def __str__(self) -> str:
        if self.disagree == 0:
            spread = "right on exactly the same examples, so no interval"
        else:
            spread = f"95 % interval {self.low:+.4f} to {self.high:+.4f}"
        return (f"VERDICT on {self.split} ({self.kind}, {self.n:,d} paired examples): {self.name_a} vs {self.name_b}: "
                f"{self.text}  [{self.name_a} {self.score_a:.4f}, {self.name_b} {self.score_b:.4f}, "
                f"difference {self.score_a - self.score_b:+.4f}, {spread}, {self.test} {self.p_text}]")


def _per_example(name: str, values, n: int | None = None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 0 or (n is not None and len(array) != n):
        raise ValueError(f"{name} must hold one entry per example ({n} examples), got shape {array.shape}")
    return array


def compare(name_a: str, pred_a, name_b: str, pred_b, y=None, *, kind: str = "accuracy", split: str = "test",
            alpha: float = 0.05, block: int = 1, seed: int = 0) -> Verdict:
    """Compare two models on the same examples with a paired test; returns a :class:`Verdict`.

    ``kind="accuracy"``: ``pred_a``/``pred_b`` are predicted labels (an example counts as right when every entry
    equals ``y``'s: whole sequences for exact match), or, with ``y=None``, boolean arrays of right/wrong per
    example. McNemar's exact test; the interval is the paired normal interval of the accuracy difference.
    ``kind="mae"``: predictions (or, with ``y=None``, absolute errors) per example; a paired bootstrap of the
    difference of mean absolute errors, over blocks of ``block`` consecutive examples for a time series.
    """
    if kind not in ("accuracy", "mae"):
        raise ValueError(f"kind must be 'accuracy' or 'mae', got {kind!r}")
    a, b = _per_example(name_a, pred_a), _per_example(name_b, pred_b, len(np.asarray(pred_a)))
    if y is not None:
        y = _per_example("y", y, len(a))
        if a.shape != y.shape or b.shape != y.shape:
            raise ValueError(f"predictions {a.shape}, {b.shape} and targets {y.shape} must have one shape")
    axes = tuple(range(1, a.ndim))
    if kind == "accuracy":
        right_a = (a == y).all(axis=axes) if y is not None else a.astype(bool)
        right_b = (b == y).all(axis=axes) if y is not None else b.astype(bool)
        test = mcnemar(right_a, right_b)
        n = len(right_a)
        diff = (test.only_a - test.only_b) / n
        se = math.sqrt(max(test.only_a + test.only_b - (test.only_a - test.only_b) ** 2 / n, 0.0)) / n
        return Verdict(name_a, name_b, kind, split, n, float(right_a.mean()), float(right_b.mean()),
                       diff - 1.96 * se, diff + 1.96 * se, test.p_value, "McNemar exact", alpha,
                       p_floor=1e-300, disagree=test.only_a + test.only_b)
    err_a = np.abs(a - y) if y is not None else np.abs(a)
    err_b = np.abs(b - y) if y is not None else np.abs(b)
    err_a, err_b = err_a.mean(axis=axes), err_b.mean(axis=axes)
    boot = paired_bootstrap(err_a, err_b, block=block, seed=seed)
    name = f"paired bootstrap{f' (blocks of {block})' if block > 1 else ''}"
    return Verdict(name_a, name_b, kind, split, len(err_a), float(err_a.mean()), float(err_b.mean()),
                   boot.low, boot.high, boot.p_value, name, alpha, p_floor=2 / boot.n_resamples)
