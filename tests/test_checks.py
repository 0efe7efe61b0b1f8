"""course_utils.checks.assert_close: prints a verdict, fails loudly and readably."""
import numpy as np
import pytest

from course_utils import assert_close


def test_passes_and_reports_the_error(capsys):
    ref = np.linspace(-1, 1, 12).reshape(3, 4)
    err = assert_close("h_t", ref + 1e-9, ref, rtol=1e-7, atol=1e-8)
    out = capsys.readouterr().out
    assert "h_t: max abs error" in out and "PASS" in out
    assert err == pytest.approx(1e-9, rel=1e-3)


def test_fails_with_location_and_values():
    ref = np.zeros((2, 3))
    ours = ref.copy()
    ours[1, 2] = 0.5
    with pytest.raises(AssertionError, match=r"FAILED at 1 of 6 entries; worst at index \(1, 2\)"):
        assert_close("y_t", ours, ref)


def test_shape_mismatch_is_reported():
    with pytest.raises(AssertionError, match="shape"):
        assert_close("W", np.zeros((2, 3)), np.zeros((3, 2)))


def test_nan_never_passes():
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close("loss", np.array([np.nan]), np.array([0.0]), atol=1e9)


def test_accepts_tensors():
    import tensorflow as tf

    assert assert_close("t", tf.constant([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0


def test_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="expected numbers"):
        assert_close("s", np.array(["a"]), np.array([1.0]))
