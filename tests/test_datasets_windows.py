"""sine_wave, create_dataset, chronological_split and Standardizer (course_utils.datasets)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.datasets import Standardizer, chronological_split, create_dataset, load_weather, sine_wave


def original_create_dataset(data, window_size):
    """The original course material's loop, kept here as the reference."""
    X, y = [], []
    for i in range(len(data) - window_size):
        X.append(data[i:(i + window_size)])
        y.append(data[i + window_size])
    return np.array(X), np.array(y)


def test_sine_wave():
    s = sine_wave(n_points=200, period=50)
    assert s.dtype == np.float32 and s.shape == (200,)
    np.testing.assert_allclose(s[[0, 25, 50]], [0, 0, 0], atol=1e-5)
    assert s[12] == pytest.approx(np.sin(2 * np.pi * 12 / 50), abs=1e-6)
    assert 0.99 < s.max() <= 1.0 and -1.0 <= s.min() < -0.99
    noisy1, noisy2 = sine_wave(noise=0.1, seed=1), sine_wave(noise=0.1, seed=1)
    np.testing.assert_array_equal(noisy1, noisy2)
    assert not np.array_equal(noisy1, sine_wave(noise=0.1, seed=2))
    assert 0.05 < np.std(noisy1 - sine_wave()) < 0.15


@pytest.mark.parametrize("window", [1, 3, 10])
def test_create_dataset_matches_the_original(window):
    data = np.arange(25, dtype=np.float32) ** 1.5
    X, y = create_dataset(data, window)
    X_ref, y_ref = original_create_dataset(data, window)
    assert X.shape == (25 - window, window, 1) and y.shape == (25 - window,)
    np.testing.assert_array_equal(X[..., 0], X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert X.dtype == y.dtype == np.float32
    for i in range(len(y)):  # X[i] = data[i:i+w], y[i] = data[i+w]
        np.testing.assert_array_equal(X[i, :, 0], data[i:i + window])
        assert y[i] == data[i + window]


def test_create_dataset_multivariate_and_pandas():
    frame = pd.DataFrame({"a": np.arange(10.0), "b": -np.arange(10.0)})
    X, y = create_dataset(frame, 4)
    assert X.shape == (6, 4, 2) and y.shape == (6, 2)
    np.testing.assert_array_equal(X[2], frame.to_numpy()[2:6])
    np.testing.assert_array_equal(y[2], frame.to_numpy()[6])
    Xs, ys = create_dataset(frame["a"], 4)
    assert Xs.shape == (6, 4, 1) and ys[0] == 4.0
    with pytest.raises(ValueError, match="window_size"):
        create_dataset(np.arange(5), 5)
    with pytest.raises(ValueError, match="window_size"):
        create_dataset(np.arange(5), 0)


def test_chronological_split_numpy():
    series = np.arange(100)
    train, val, test = chronological_split(series, val_fraction=0.15, test_fraction=0.15)
    assert (len(train), len(val), len(test)) == (70, 15, 15)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), series)  # in order, nothing lost
    assert train.max() < val.min() and val.max() < test.min()
    train, val, test = chronological_split(series, val_fraction=0, test_fraction=0.2)
    assert (len(train), len(val), len(test)) == (80, 0, 20)
    with pytest.raises(ValueError):
        chronological_split(series, 0.5, 0.5)
    with pytest.raises(ValueError, match="too short"):
        chronological_split(np.arange(3), 0.1, 0.1)


def test_chronological_split_pandas_keeps_the_dates():
    weather = load_weather()
    train, val, test = chronological_split(weather)
    assert len(train) + len(val) + len(test) == len(weather)
    assert train.index.max() < val.index.min() and val.index.max() < test.index.min()
    assert isinstance(test, pd.DataFrame) and test.index[-1] == weather.index[-1]
    s_train, _, s_test = chronological_split(weather["temp_max"])
    assert isinstance(s_train, pd.Series) and s_test.index.equals(test.index)


def test_windows_per_split_do_not_leak():
    """Windows cut inside each part never contain a value of a later part."""
    series = np.arange(200, dtype=np.float64)  # each value is its own time stamp
    train, val, test = chronological_split(series)
    window = 12
    X_train, y_train = create_dataset(train, window)
    X_val, y_val = create_dataset(val, window)
    X_test, _ = create_dataset(test, window)
    assert X_train.max() < val.min() and y_train.max() < val.min()
    assert X_val.min() >= val.min() and y_val.max() < test.min()
    assert X_test.min() >= test.min()


def test_standardizer_uses_train_statistics_only():
    train, test = np.array([1.0, 2.0, 3.0, 4.0]), np.array([100.0, 200.0])
    scaler = Standardizer().fit(train)
    assert scaler.mean_ == pytest.approx(2.5) and scaler.std_ == pytest.approx(np.std(train))
    np.testing.assert_allclose(scaler.transform(test), (test - 2.5) / np.std(train))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)
    z = scaler.transform(train)
    assert z.mean() == pytest.approx(0) and z.std() == pytest.approx(1)
    # windows (n, w, 1) of a 1-D series broadcast
    X, _ = create_dataset(test.astype(np.float32), 1)
    assert scaler.transform(X).shape == X.shape and scaler.transform(X).dtype == np.float32


def test_standardizer_dataframe_columnwise():
    frame = pd.DataFrame({"t": [10.0, 20.0, 30.0, 40.0], "w": [1.0, 1.0, 1.0, 1.0]},
                         index=pd.date_range("2020-01-01", periods=4))
    train, later = frame.iloc[:2], frame.iloc[2:]
    scaler = Standardizer().fit(train)
    out = scaler.transform(later)
    assert isinstance(out, pd.DataFrame) and out.index.equals(later.index) and list(out.columns) == ["t", "w"]
    np.testing.assert_allclose(out["t"], [(30 - 15) / 5, (40 - 15) / 5])  # train mean 15, std 5
    np.testing.assert_allclose(out["w"], [0.0, 0.0])  # constant column: std treated as 1
    pd.testing.assert_frame_equal(scaler.inverse_transform(out), later)
    # one column of a frame-fitted scaler, e.g. predictions of "t" only
    np.testing.assert_allclose(scaler.inverse_transform(np.array([0.0, 1.0]), column="t"), [15.0, 20.0])
    series = scaler.transform(later["t"], column="t")
    assert isinstance(series, pd.Series) and series.name == "t"
    with pytest.raises(RuntimeError):
        Standardizer().transform(train)
