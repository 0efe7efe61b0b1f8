"""Forecasting helpers for chapter 6: windows that respect splits, naive baselines, a linear model,
recursive and direct multi-step forecasts, and metrics in the series' own units.

Conventions (the same as ``course_utils.datasets.create_dataset``): a window of length ``w`` ending just
before time ``t`` is ``features[t - w : t]`` and its targets are ``target[t : t + horizon]``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "make_windows", "split_windows", "windows_before", "persistence", "moving_average", "climatology", "fit_linear",
    "recursive_forecast", "learning_curve", "mae", "rmse", "error_by_horizon", "directional_accuracy", "r2_score",
]


def make_windows(features, target=None, window: int = 20, horizon: int = 1):
    """Sliding windows over ONE contiguous segment.

    ``features``: array ``(n,)`` or ``(n, F)``; ``target``: ``(n,)`` (default: ``features`` if 1-D, else its
    column 0). Returns ``X (m, window, F)``, ``Y (m, horizon)`` and ``t (m,)`` where ``X[i] = features[i:i+w]``,
    ``Y[i] = target[i+w : i+w+horizon]`` and ``t[i] = i + w`` is the index of the first target.
    ``m = n - window - horizon + 1``; a segment too short for one window gives empty arrays.
    """
    feats = np.asarray(features, dtype=np.float32)
    if feats.ndim == 1:
        feats = feats[:, None]
    if feats.ndim != 2:
        raise ValueError(f"features must be 1-D or 2-D, got shape {feats.shape}")
    tgt = feats[:, 0] if target is None else np.asarray(target, dtype=np.float32).reshape(-1)
    if len(tgt) != len(feats):
        raise ValueError(f"features ({len(feats)}) and target ({len(tgt)}) differ in length")
    if window < 1 or horizon < 1:
        raise ValueError("window and horizon must be >= 1")
    m = len(feats) - window - horizon + 1
    if m <= 0:
        return (np.zeros((0, window, feats.shape[1]), np.float32), np.zeros((0, horizon), np.float32),
                np.zeros(0, np.int64))
    starts = np.arange(m)
    X = feats[starts[:, None] + np.arange(window)]
    Y = tgt[starts[:, None] + window + np.arange(horizon)]
    return X, Y, starts + window


def split_windows(features, target=None, *, window: int, horizon: int = 1, bounds):
    """Windows for each split separately, so no window crosses a split boundary.

    ``bounds``: the split boundaries as indices ``[0, n_train, n_train + n_val, n]`` (any number of
    segments). Returns one ``(X, Y, t)`` per segment, with ``t`` as indices into the WHOLE series.
    """
    feats = np.asarray(features)
    tgt = None if target is None else np.asarray(target)
    bounds = list(bounds)
    if bounds != sorted(bounds) or bounds[0] < 0 or bounds[-1] > len(feats):
        raise ValueError(f"bounds must be increasing indices within [0, {len(feats)}], got {bounds}")
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        X, Y, t = make_windows(feats[a:b], None if tgt is None else tgt[a:b], window, horizon)
        out.append((X, Y, t + a))
    return out


def windows_before(features, t, window: int) -> np.ndarray:
    """The ``window`` rows just before each target index: ``features[t_i - window : t_i]``, shape ``(m, window, F)``.

    With the ``t`` that ``split_windows`` returns, models with different window lengths are scored on the same days.
    """
    feats = np.asarray(features, dtype=np.float32)
    feats = feats[:, None] if feats.ndim == 1 else feats
    t = np.asarray(t, dtype=np.int64).reshape(-1)
    if window < 1 or (len(t) and (t.min() < window or t.max() > len(feats))):
        raise ValueError(f"every target index must lie in [window, {len(feats)}] = [{window}, {len(feats)}]; "
                         f"use a shorter window or later targets")
    return feats[t[:, None] - window + np.arange(window)]


# ---------------------------------------------------------------- baselines (all on windows of the target)
def persistence(history, horizon: int = 1) -> np.ndarray:
    """Tomorrow = today: the last value of each window, repeated for every step ahead. ``(m, horizon)``."""
    h = _target_history(history)
    return np.repeat(h[:, -1:], horizon, axis=1)


def moving_average(history, k: int = 7, horizon: int = 1) -> np.ndarray:
    """The mean of the last ``k`` values of each window, for every step ahead. ``(m, horizon)``."""
    h = _target_history(history)
    if not 1 <= k <= h.shape[1]:
        raise ValueError(f"k must be between 1 and the window length {h.shape[1]}, got {k}")
    return np.repeat(h[:, -k:].mean(axis=1, keepdims=True), horizon, axis=1)


def climatology(day_of_year_train, values_train, day_of_year_query, smooth_days: int = 15) -> np.ndarray:
    """Seasonal naive baseline: the training-period mean for the same day of year (+-``smooth_days``)."""
    doy = np.asarray(day_of_year_train)
    vals = np.asarray(values_train, dtype=np.float64)
    query = np.asarray(day_of_year_query)
    out = np.empty(query.shape, dtype=np.float64)
    for i, d in enumerate(query.reshape(-1)):
        dist = np.abs(doy - d)
        dist = np.minimum(dist, 366 - dist)          # circular distance across the new year
        out.reshape(-1)[i] = vals[dist <= smooth_days].mean()
    return out


def fit_linear(X, Y, l2: float = 1e-3) -> Callable[[np.ndarray], np.ndarray]:
    """Ridge regression of ``Y (m, h)`` on the flattened windows ``X (m, w, F)``; returns ``predict(X)``."""
    A = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    A = np.c_[A, np.ones(len(A))]
    Yv = np.asarray(Y, dtype=np.float64).reshape(len(A), -1)
    reg = l2 * np.eye(A.shape[1])
    reg[-1, -1] = 0.0                                   # do not shrink the intercept
    coef = np.linalg.solve(A.T @ A + reg, A.T @ Yv)

    def predict(Xq):
        Aq = np.asarray(Xq, dtype=np.float64).reshape(len(Xq), -1)
        return np.c_[Aq, np.ones(len(Aq))] @ coef

    predict.coef = coef
    return predict


def _target_history(history) -> np.ndarray:
    h = np.asarray(history, dtype=np.float64)
    if h.ndim == 3:
        h = h[..., 0]
    if h.ndim != 2:
        raise ValueError(f"history must be (m, window) or (m, window, F) with the target in column 0, got {h.shape}")
    return h


# ---------------------------------------------------------------- multi-step
def recursive_forecast(predict_one: Callable[[np.ndarray], np.ndarray], X, horizon: int,
                       known_future=None, target_col: int = 0) -> np.ndarray:
    """Forecast ``horizon`` steps by feeding each one-step prediction back into the window.

    ``predict_one(X (m, w, F)) -> (m,)`` or ``(m, 1)``. Columns other than ``target_col`` must be known in
    advance (e.g. day-of-year sin/cos): pass them as ``known_future (m, horizon, F)``; the target column of
    ``known_future`` is ignored. With one feature no ``known_future`` is needed. Returns ``(m, horizon)``.
    """
    window = np.array(X, dtype=np.float32, copy=True)
    m, _, F = window.shape
    if F > 1 and known_future is None:
        raise ValueError("with several features, give known_future (m, horizon, F) for the non-target columns")
    preds = np.empty((m, horizon), dtype=np.float64)
    for k in range(horizon):
        p = np.asarray(predict_one(window), dtype=np.float64).reshape(m, -1)[:, 0]
        preds[:, k] = p
        new_row = (np.zeros((m, F), np.float32) if known_future is None
                   else np.array(known_future[:, k, :], dtype=np.float32, copy=True))
        new_row[:, target_col] = p
        window = np.concatenate([window[:, 1:], new_row[:, None, :]], axis=1)
    return preds


# ---------------------------------------------------------------- how much would more data help?
def learning_curve(fit_and_score: Callable[[np.ndarray, np.ndarray], float], X, Y, sizes) -> np.ndarray:
    """``fit_and_score(X[-n:], Y[-n:])`` for each ``n`` in ``sizes``, as an array.

    Each model is trained on the ``n`` most recent training windows (those nearest the validation period, so every
    size is scored on the same validation days against a training period that ends at the same date);
    ``fit_and_score`` trains a fresh model and returns its validation score.
    """
    sizes = [int(n) for n in sizes]
    if not sizes or min(sizes) < 1 or max(sizes) > len(X):
        raise ValueError(f"sizes must lie between 1 and the number of training windows {len(X)}, got {sizes}")
    if len(X) != len(Y):
        raise ValueError(f"X ({len(X)}) and Y ({len(Y)}) differ in length")
    return np.array([float(fit_and_score(X[-n:], Y[-n:])) for n in sizes])


# ---------------------------------------------------------------- metrics (use original units)
def mae(y_true, y_pred) -> float:
    return float(np.mean(np.abs(np.asarray(y_true, np.float64) - np.asarray(y_pred, np.float64))))


def rmse(y_true, y_pred) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_true, np.float64) - np.asarray(y_pred, np.float64)) ** 2)))


def error_by_horizon(y_true, y_pred, metric: Callable = None) -> np.ndarray:
    """``metric`` (default MAE) for each step ahead: columns of ``(m, horizon)`` arrays."""
    metric = metric or mae
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if yt.shape != yp.shape:
        raise ValueError(f"shapes differ: {yt.shape} vs {yp.shape}")
    return np.array([metric(yt[:, k], yp[:, k]) for k in range(yt.shape[1])])


def directional_accuracy(true_change, pred_change) -> float:
    """Share of days where the predicted change has the sign of the actual change (days with no change skipped)."""
    t, p = np.asarray(true_change).reshape(-1), np.asarray(pred_change).reshape(-1)
    keep = t != 0
    return float(np.mean(np.sign(t[keep]) == np.sign(p[keep])))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination: 1 - SSE / SST (0 = as good as predicting the mean, < 0 = worse)."""
    yt, yp = np.asarray(y_true, np.float64).reshape(-1), np.asarray(y_pred, np.float64).reshape(-1)
    return float(1 - np.sum((yt - yp) ** 2) / np.sum((yt - yt.mean()) ** 2))
