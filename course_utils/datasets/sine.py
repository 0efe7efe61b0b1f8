"""A generated sine wave, the simplest series to forecast."""
from __future__ import annotations

import numpy as np


def sine_wave(n_points: int = 1000, period: float = 50, noise: float = 0.0, seed: int = 42) -> np.ndarray:
    """``sin(2*pi*t/period) + noise * N(0, 1)`` for ``t = 0 .. n_points-1``, as float32."""
    t = np.arange(n_points)
    series = np.sin(2 * np.pi * t / period)
    if noise:
        series = series + noise * np.random.default_rng(seed).standard_normal(n_points)
    return series.astype(np.float32)
