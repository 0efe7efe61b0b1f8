"""Turning a time series into supervised (window -> next value) examples, without leaking the future.

The recipe used throughout the course:

1. split the series chronologically: ``train, val, test = chronological_split(series)``;
2. fit a :class:`Standardizer` on ``train`` only and apply it to all three parts;
3. make windows inside each part separately: ``X_train, y_train = create_dataset(train, window_size)``.

Because windows are cut per part, no training window ever contains a validation or test value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def create_dataset(data, window_size: int):
    """Sliding windows: ``X[i] = data[i:i+window_size]`` and ``y[i] = data[i+window_size]``.

    The same as the Keras 2 version of this course's loop (chapter 6 explains the windows)::

        for i in range(len(data) - window_size):
            X.append(data[i:(i + window_size)]); y.append(data[i + window_size])

    For 1-D data ``X`` has shape ``(n - window_size, window_size, 1)`` (the ``(batch, time, features)``
    layout a Keras RNN expects) and ``y`` has shape ``(n - window_size,)``. For 2-D data
    ``(n, features)`` they are ``(n - window_size, window_size, features)`` and ``(n - window_size, features)``.
    """
    values = data.to_numpy() if isinstance(data, (pd.Series, pd.DataFrame)) else np.asarray(data)
    window_size = int(window_size)
    if values.ndim not in (1, 2):
        raise ValueError(f"data must be 1-D (a series) or 2-D (time, features), got shape {values.shape}")
    if not 1 <= window_size < len(values):
        raise ValueError(f"window_size must be between 1 and len(data) - 1 = {len(values) - 1}, got {window_size}")
    n = len(values) - window_size
    X = np.stack([values[i:i + window_size] for i in range(n)])
    y = values[window_size:]
    if values.ndim == 1:
        X = X[..., np.newaxis]
    return X, y.copy()


def chronological_split(series, val_fraction: float = 0.15, test_fraction: float = 0.15):
    """Split a series (numpy array, Series or DataFrame) in time order into ``train, val, test``.

    The last ``test_fraction`` of the rows is the test part, the ``val_fraction`` before it the
    validation part, the rest (the oldest rows) the training part. Nothing is shuffled.
    """
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction and test_fraction must be >= 0 and sum to less than 1")
    n = len(series)
    n_test = int(round(n * test_fraction))
    n_val = int(round(n * val_fraction))
    n_train = n - n_val - n_test
    if n_train < 1 or (val_fraction and n_val < 1) or (test_fraction and n_test < 1):
        raise ValueError(f"a series of {n} points is too short for these fractions")
    rows = series.iloc if isinstance(series, (pd.Series, pd.DataFrame)) else series
    return rows[:n_train], rows[n_train:n_train + n_val], rows[n_train + n_val:]


class Standardizer:
    """``(x - mean) / std`` with mean and std learned from the training data only.

    Works column-wise on DataFrames and 2-D arrays (one mean/std per column) and with one mean/std
    on 1-D data; arrays of windows ``(..., features)`` broadcast over the last axis. Use
    ``column=`` to transform or undo one column of a DataFrame-fitted scaler (e.g. predictions
    of ``temp_max`` only).
    """

    def __init__(self):
        self.mean_ = self.std_ = self.columns_ = None

    def fit(self, train) -> "Standardizer":
        values = np.asarray(train, dtype=np.float64)
        self.columns_ = list(train.columns) if isinstance(train, pd.DataFrame) else None
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)  # a constant column stays constant instead of dividing by 0
        return self

    def _stats(self, column):
        if self.mean_ is None:
            raise RuntimeError("call fit(train) before transform / inverse_transform")
        if column is None:
            return self.mean_, self.std_
        if self.columns_ is None:
            raise ValueError("column= needs a Standardizer fitted on a DataFrame")
        i = self.columns_.index(column)
        return self.mean_[i], self.std_[i]

    def _apply(self, x, fn, column):
        mean, std = self._stats(column)
        if isinstance(x, pd.DataFrame) and column is None and self.columns_ is not None:
            x = x[self.columns_]  # same column order as in fit
        if isinstance(x, (pd.Series, pd.DataFrame)):
            out = fn(x.to_numpy(dtype=np.float64), mean, std)
            return x.__class__(out, index=x.index, **({"columns": x.columns} if x.ndim == 2 else {"name": x.name}))
        x = np.asarray(x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return fn(x.astype(np.float64), mean, std).astype(dtype)

    def transform(self, x, column=None):
        """Standardise ``x`` with the training mean and std (same type and dtype back)."""
        return self._apply(x, lambda v, m, s: (v - m) / s, column)

    def inverse_transform(self, x, column=None):
        """Undo :meth:`transform`: back to the original units."""
        return self._apply(x, lambda v, m, s: v * s + m, column)
