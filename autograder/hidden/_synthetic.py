"""Hidden training data for the Keras exercises, made in the grading process from a seed.

Why synthetic and not a sample of IMDB: the verdict must be identical on every machine and must not depend on an
80 MB download being present (CI and instructors without the mirror get the same scores), and the data must be
unknown to learners. The task keeps what matters for the exercise: integer token sequences (0 = padding, post
padded like ``TextVectorization``), variable lengths, a sentiment decided by a few polar words scattered among
many neutral ones, and labels that need the whole sequence (the sign of a count), so a model that ignores order or
reads only the first steps does not pass.
"""
from __future__ import annotations

import numpy as np


def sentiment_data(rng: np.random.Generator, n: int, vocab_size: int, sequence_length: int,
                   n_polar: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of ids in [2, vocab_size) padded with 0 at the end; label 1 when positive words dominate."""
    positive = np.arange(2, 2 + n_polar)
    negative = np.arange(2 + n_polar, 2 + 2 * n_polar)
    neutral_low = 2 + 2 * n_polar
    x = np.zeros((n, sequence_length), dtype=np.int64)
    y = rng.integers(0, 2, size=n).astype(np.int64)
    for i in range(n):
        length = int(rng.integers(sequence_length // 3, sequence_length + 1))
        tokens = rng.integers(neutral_low, vocab_size, size=length)
        n_major = int(rng.integers(3, 6))
        n_minor = int(rng.integers(0, n_major - 1))
        major, minor = (positive, negative) if y[i] == 1 else (negative, positive)
        slots = rng.choice(length, size=n_major + n_minor, replace=False)
        tokens[slots[:n_major]] = rng.choice(major, size=n_major)
        tokens[slots[n_major:]] = rng.choice(minor, size=n_minor)
        x[i, :length] = tokens
    return x, y


def sine_series(rng: np.random.Generator, n: int, period: float = 17.0, noise: float = 0.05) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    phase = rng.uniform(0, 2 * np.pi)
    s = np.sin(2 * np.pi * t / period + phase) + 0.5 * np.sin(2 * np.pi * t / (period * 2.7) + 1.3 * phase)
    s = s + rng.normal(scale=noise, size=n)
    s = (s - s.mean()) / s.std()
    return s.astype(np.float32)
