"""Tests for course_utils.forecasting on hand-made series."""
import numpy as np
import pytest

from course_utils.forecasting import (climatology, directional_accuracy, error_by_horizon, fit_linear,
                                      learning_curve, make_windows, mae, moving_average, persistence, r2_score,
                                      recursive_forecast, rmse, split_windows, windows_before)


def test_make_windows_layout():
    s = np.arange(10, dtype=np.float32)
    X, Y, t = make_windows(s, window=3, horizon=2)
    assert X.shape == (6, 3, 1) and Y.shape == (6, 2)
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(Y[0], [3, 4])
    np.testing.assert_array_equal(X[-1, :, 0], [5, 6, 7])
    np.testing.assert_array_equal(Y[-1], [8, 9])
    np.testing.assert_array_equal(t, np.arange(3, 9))
    X, Y, t = make_windows(s, window=10)
    assert len(X) == len(Y) == len(t) == 0


def test_make_windows_matches_create_dataset_when_available():
    datasets = pytest.importorskip("course_utils.datasets")
    if not hasattr(datasets, "create_dataset"):
        pytest.skip("create_dataset not there yet")
    s = np.sin(np.arange(50) / 3).astype(np.float32)
    X1, y1 = datasets.create_dataset(s, 7)
    X2, Y2, _ = make_windows(s, window=7)
    np.testing.assert_allclose(X1.reshape(X2.shape), X2)
    np.testing.assert_allclose(np.asarray(y1).reshape(-1), Y2[:, 0])


def test_multifeature_windows_take_target_column():
    f = np.c_[np.arange(8), 100 + np.arange(8)].astype(np.float32)
    X, Y, _ = make_windows(f, f[:, 1], window=2)
    np.testing.assert_array_equal(X[0], [[0, 100], [1, 101]])
    assert Y[0, 0] == 102


def test_no_window_crosses_a_split_boundary():
    n, w, h = 100, 7, 3
    s = np.arange(n, dtype=np.float32)       # the value IS its index, so windows reveal where they come from
    bounds = [0, 70, 85, 100]
    parts = split_windows(s, window=w, horizon=h, bounds=bounds)
    for (a, b), (X, Y, t) in zip(zip(bounds[:-1], bounds[1:]), parts):
        assert len(X) == (b - a) - w - h + 1
        assert X.min() >= a and Y.max() < b                      # inputs and targets inside the segment
        np.testing.assert_array_equal(Y[:, 0], t)                 # t indexes the whole series
    # every target of the test segment is in the test segment and never seen as a training input
    train_vals = set(parts[0][0].ravel().tolist()) | set(parts[0][1].ravel().tolist())
    assert train_vals.isdisjoint(parts[2][1].ravel().tolist())
    with pytest.raises(ValueError):
        split_windows(s, window=w, bounds=[0, 80, 60, 100])


def test_windows_before_equal_make_windows_and_check_their_range():
    f = np.c_[np.arange(12), 100 + np.arange(12)]
    X, _, t = make_windows(f, window=4)
    np.testing.assert_array_equal(windows_before(f, t, 4), X)
    np.testing.assert_array_equal(windows_before(f, t, 2), X[:, -2:])     # shorter windows, same target days
    for bad_t, window in ([3], 4), ([13], 4), ([5], 0):
        with pytest.raises(ValueError, match="target index"):
            windows_before(f, bad_t, window)


def test_window_that_would_cross_is_detected_by_the_check():
    """Negative control: windows made over the whole series DO cross the boundary at 70."""
    s = np.arange(100, dtype=np.float32)
    X, Y, _ = make_windows(s, window=7)
    crosses = (X[:, 0, 0] < 70) & (Y[:, 0] >= 70)
    assert crosses.any()


def test_persistence_and_moving_average():
    hist = np.array([[1.0, 2, 3, 4], [4, 4, 4, 8]])
    np.testing.assert_array_equal(persistence(hist), [[4], [8]])
    np.testing.assert_array_equal(persistence(hist[..., None], horizon=3), [[4, 4, 4], [8, 8, 8]])
    np.testing.assert_array_equal(moving_average(hist, k=2), [[3.5], [6]])
    np.testing.assert_array_equal(moving_average(hist, k=4, horizon=2), [[2.5, 2.5], [5, 5]])
    with pytest.raises(ValueError):
        moving_average(hist, k=5)


def test_persistence_is_exact_on_a_constant_and_lags_a_ramp():
    const = np.full(30, 5.0)
    X, Y, _ = make_windows(const, window=4)
    assert mae(Y, persistence(X)) == 0
    ramp = np.arange(30.0)
    X, Y, _ = make_windows(ramp, window=4, horizon=3)
    np.testing.assert_allclose(error_by_horizon(Y, persistence(X, horizon=3)), [1, 2, 3])


def test_climatology_is_circular_and_uses_train_only():
    doy = np.arange(1, 366)
    vals = np.where(doy < 10, 10.0, 0.0)     # warm only in the first days of the year
    got = climatology(doy, vals, [1, 363, 180], smooth_days=5)
    assert got[0] > 0 and got[1] > 0 and got[2] == 0           # day 363 sees days 1-2 across the new year


def test_linear_recovers_an_ar_process():
    rng = np.random.default_rng(0)
    s = np.zeros(3000)
    for i in range(2, len(s)):
        s[i] = 0.6 * s[i - 1] - 0.3 * s[i - 2] + rng.normal(scale=0.1)
    X, Y, _ = make_windows(s, window=2)
    model = fit_linear(X, Y, l2=0.0)
    np.testing.assert_allclose(model.coef[:2, 0], [-0.3, 0.6], atol=0.05)
    assert mae(Y, model(X)) < mae(Y, persistence(X))


def test_recursive_forecast_on_a_ramp_is_exact_and_direct_agrees():
    ramp = np.arange(40.0)
    X, Y, _ = make_windows(ramp, window=3, horizon=4)
    step = lambda W: W[:, -1, 0] + 1.0      # a perfect one-step model of a ramp
    np.testing.assert_allclose(recursive_forecast(step, X, 4), Y)


def test_recursive_forecast_uses_known_future_covariates():
    m, w, h = 5, 3, 4
    X = np.zeros((m, w, 2), np.float32)
    known = np.ones((m, h, 2), np.float32) * 7      # covariate column 1 is 7 in the future
    step = lambda W: W[:, -1, 1]                     # predicts the last covariate value
    out = recursive_forecast(step, X, h, known_future=known)
    np.testing.assert_allclose(out[:, 0], 0)         # first step sees the past covariate (0)
    np.testing.assert_allclose(out[:, 1:], 7)        # later steps see the known future covariate
    with pytest.raises(ValueError, match="known_future"):
        recursive_forecast(step, X, h)


def test_learning_curve_trains_on_the_most_recent_windows():
    X, Y, _ = make_windows(np.arange(20.0), window=2)
    seen = []
    scores = learning_curve(lambda Xa, Ya: seen.append((Xa[0, 0, 0], Ya[-1, 0])) or len(Xa), X, Y, [3, 18])
    np.testing.assert_array_equal(scores, [3, 18])
    assert seen == [(15.0, 19.0), (0.0, 19.0)]       # both end at the last training window
    for bad in ([], [0], [19]):
        with pytest.raises(ValueError, match="sizes"):
            learning_curve(lambda Xa, Ya: 0.0, X, Y, bad)


def test_metrics():
    y, p = np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 8])
    assert mae(y, p) == 1.0 and rmse(y, p) == 2.0
    assert r2_score(y, y) == 1.0 and r2_score(y, np.full(4, y.mean())) == 0.0
    assert directional_accuracy([1, -1, 2, 0], [3, 1, 0.5, 9]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        error_by_horizon(np.zeros((3, 2)), np.zeros((3, 1)))
