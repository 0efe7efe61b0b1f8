"""The verification cells of chapters 1-4 really can fail.

Each chapter notebook defines its from-scratch implementations in code cells whose first line is
``# IMPLEMENTATION`` and its verifications (against Keras, tf.GradientTape or finite differences) in cells whose
first line is ``# CHECK``. These tests take exactly that code out of the notebook JSON, run the checks on the
notebook's own functions (they must pass), then perturb one implementation at a time -- a swapped gate, a dropped
bias, a wrong sign, the other GRU convention, an off-by-one in BPTT -- and assert that the check then fails.
The perturbations are edits of the notebook's source text, so a test breaks loudly if the notebook changes and a
perturbation no longer applies.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebook_code(name: str) -> str:
    """The notebook's IMPLEMENTATION and CHECK cells, in notebook order, as one source text."""
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    picked = [s for s in sources if s.startswith(("# IMPLEMENTATION", "# CHECK"))]
    assert any(s.startswith("# IMPLEMENTATION") for s in picked), f"{name}: no # IMPLEMENTATION cell"
    assert any(s.startswith("# CHECK") for s in picked), f"{name}: no # CHECK cell"
    # A custom Keras class can be registered only once per process; the checks do not need the registration.
    code = "\n\n".join(picked).replace('@keras.saving.register_keras_serializable(package="course")\n', "")
    return code


def load(name: str, replacements: tuple[tuple[str, str], ...] = ()) -> dict:
    """Execute the notebook's implementation and check code, optionally with text replacements applied."""
    import keras
    import tensorflow as tf

    from course_utils import assert_close

    code = notebook_code(name)
    for old, new in replacements:
        assert old in code, f"perturbation target not found in {name}: {old!r}"
        code = code.replace(old, new)
    namespace = {"np": np, "keras": keras, "tf": tf, "assert_close": assert_close}
    exec(compile(code, f"<{name} implementation cells>", "exec"), namespace)
    return namespace


# ----------------------------------------------------------------------------------------------- chapter 1
CH1 = "01_rnn_fundamentals.ipynb"


def check_ch1(ns, dtype="float64"):
    tol = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6)}[dtype]
    return ns["check_rnn_against_keras"](ns["rnn_forward"], dtype, *tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ch1_forward_pass_matches_keras(dtype):
    error = check_ch1(load(CH1), dtype)
    assert error < (1e-5 if dtype == "float32" else 1e-12)


CH1_PERTURBATIONS = {
    "bias dropped": ("h_prev @ W_hh + b_h)", "h_prev @ W_hh)"),
    "W_hh transposed": ("h_prev @ W_hh + b_h", "h_prev @ W_hh.T + b_h"),
    "no tanh": ("return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)", "return x_t @ W_xh + h_prev @ W_hh + b_h"),
    "output bias dropped": ("y_t = h_t @ W_hy + b_y", "y_t = h_t @ W_hy"),
    "state not carried": ("h_t = rnn_step(x[:, t, :], h_t,", "h_t = rnn_step(x[:, t, :], 0 * h_t,"),
}


@pytest.mark.parametrize("perturbation", sorted(CH1_PERTURBATIONS))
def test_ch1_check_fails_on_wrong_forward_pass(perturbation):
    ns = load(CH1, (CH1_PERTURBATIONS[perturbation],))
    with pytest.raises(AssertionError):
        check_ch1(ns)


# ----------------------------------------------------------------------------------------------- chapter 2
CH2 = "02_bptt.ipynb"


def test_ch2_bptt_matches_finite_differences_and_gradient_tape():
    ns = load(CH2)
    rel = ns["check_gradients_numerically"](ns["rnn_forward"], ns["mse_loss"], ns["rnn_backward"])
    assert max(rel.values()) < 1e-7
    assert ns["check_gradients_against_keras"](ns["rnn_forward"], ns["mse_loss"], ns["rnn_backward"]) < 1e-10


CH2_PERTURBATIONS = {
    "off-by-one: h_t instead of h_{t-1} in dL/dW_hh": ('grads["W_hh"] += h_prev.T @ da',
                                                       'grads["W_hh"] += h[:, t].T @ da'),
    "gradient from the future dropped": ("dh[:, t] = dy[:, t] @ W_hy.T + da_next @ W_hh.T",
                                         "dh[:, t] = dy[:, t] @ W_hy.T"),
    "wrong tanh derivative": ("(1.0 - h[:, t] ** 2)", "(1.0 - h[:, t])"),
    "wrong sign of the bias gradient": ('grads["b_h"] += da.sum(axis=0)', 'grads["b_h"] -= da.sum(axis=0)'),
    "W_hh not transposed going back": ("da_next @ W_hh.T", "da_next @ W_hh"),
}


@pytest.mark.parametrize("perturbation", sorted(CH2_PERTURBATIONS))
@pytest.mark.parametrize("check", ["check_gradients_numerically", "check_gradients_against_keras"])
def test_ch2_checks_fail_on_wrong_bptt(perturbation, check):
    ns = load(CH2, (CH2_PERTURBATIONS[perturbation],))
    with pytest.raises(AssertionError):
        ns[check](ns["rnn_forward"], ns["mse_loss"], ns["rnn_backward"])


# ----------------------------------------------------------------------------------------------- chapter 3
CH3 = "03_lstm_gru.ipynb"


def check_ch3(ns):
    """All three verifications of chapter 3 in float64."""
    tol = (1e-10, 1e-12)
    errors = [ns["check_lstm_against_keras"](ns["lstm_forward"], ns["lstm_params_from_keras"], "float64", *tol),
              ns["check_gru_against_keras"](ns["gru_step"], ns["gru_params_from_keras"], False, "float64", *tol),
              ns["check_gru_against_keras"](ns["gru_reset_after_step"], ns["gru_reset_after_params_from_keras"],
                                            True, "float64", *tol)]
    return max(errors)


def test_ch3_lstm_and_gru_match_keras():
    assert check_ch3(load(CH3)) < 1e-12


CH3_PERTURBATIONS = {
    "LSTM gates i and f swapped": ('("i", "f", "C", "o")', '("f", "i", "C", "o")'),
    "LSTM forget-gate bias dropped": ('f = sigmoid(hx @ p["W_f"] + p["b_f"])', 'f = sigmoid(hx @ p["W_f"])'),
    "LSTM [x, h] instead of [h, x]": ("[recurrent_kernel[:, block], kernel[:, block]], axis=0)\n        p[f\"b_{name}\"] = bias[block]",
                                      "[kernel[:, block], recurrent_kernel[:, block]], axis=0)\n        p[f\"b_{name}\"] = bias[block]"),
    "LSTM output without tanh": ("h = o * np.tanh(c)", "h = o * c"),
    "GRU: Keras z used without the sign flip": ('sign = -1.0 if name == "z" else 1.0', "sign = 1.0"),
    "GRU: Keras's update rule with the course's z": ("    return (1.0 - z) * h_prev + z * h_tilde\n\n\ndef gru_forward",
                                                     "    return z * h_prev + (1.0 - z) * h_tilde\n\n\ndef gru_forward"),
    "GRU reset_after: reset before the product": ('r * (h_prev @ p["W_hh"] + p["b_hh"])',
                                                  '(r * h_prev) @ p["W_hh"] + p["b_hh"]'),
    "GRU reset_after: recurrent bias dropped": ('"b_r": b_x[r] + b_h[r]', '"b_r": b_x[r]'),
}


@pytest.mark.parametrize("perturbation", sorted(CH3_PERTURBATIONS))
def test_ch3_check_fails_on_wrong_cell(perturbation):
    ns = load(CH3, (CH3_PERTURBATIONS[perturbation],))
    with pytest.raises(AssertionError):
        check_ch3(ns)


# ----------------------------------------------------------------------------------------------- chapter 4
CH4 = "04_keras_recurrent_layers.ipynb"


def test_ch4_custom_cell_matches_simple_rnn():
    ns = load(CH4)
    assert ns["check_cell_against_simple_rnn"](ns["MinimalRNNCell"], "float64", rtol=1e-10, atol=1e-12) < 1e-12


CH4_PERTURBATIONS = {
    "bias dropped": ("keras.ops.matmul(h_prev, self.W_hh) + self.b_h)", "keras.ops.matmul(h_prev, self.W_hh))"),
    "W_hh transposed": ("keras.ops.matmul(h_prev, self.W_hh)", "keras.ops.matmul(h_prev, keras.ops.transpose(self.W_hh))"),
    "relu instead of tanh": ("h = keras.ops.tanh(", "h = keras.ops.relu("),
}


@pytest.mark.parametrize("perturbation", sorted(CH4_PERTURBATIONS))
def test_ch4_check_fails_on_wrong_cell(perturbation):
    ns = load(CH4, (CH4_PERTURBATIONS[perturbation],))
    with pytest.raises(AssertionError):
        ns["check_cell_against_simple_rnn"](ns["MinimalRNNCell"], "float64", rtol=1e-10, atol=1e-12)
