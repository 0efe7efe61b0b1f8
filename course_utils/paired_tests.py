"""Paired tests for comparing two models on the same test set (one test set, one pair of predictions each).

Two accuracies measured on the same reviews are not independent: the standard error of one accuracy overstates
the noise of their difference. McNemar's test looks only at the examples where the two models disagree; the
paired bootstrap resamples examples (keeping each example's two errors together) for a difference of mean errors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["McNemar", "mcnemar", "PairedBootstrap", "paired_bootstrap"]


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
                           float(min(1.0, 2 * other_side)))
