"""Hidden checks for ex1_rnn_cells: seeded float32 inputs, compared with the reference solution's outputs."""
from __future__ import annotations

import numpy as np

from autograder.task import Task

ASSIGNMENT = "ex1_rnn_cells"
SEED = 61_201
F32 = np.float32


def _normal(rng, shape, scale=0.6):
    return (rng.normal(size=shape) * scale).astype(F32)


# (batch, T, d, units, out): small, odd sizes so that transposed weights or wrong axes cannot pass by accident
SHAPES = [(1, 1, 2, 3, 1), (3, 5, 4, 6, 2), (2, 7, 3, 5, 4), (4, 3, 5, 2, 3)]


def cases_rnn_step(rng):
    out = []
    for b, _, d, u, _ in SHAPES:
        out.append({"args": {"x_t": _normal(rng, (b, d)), "h_prev": _normal(rng, (b, u)),
                             "W_xh": _normal(rng, (d, u)), "W_hh": _normal(rng, (u, u)), "b_h": _normal(rng, (u,))}})
    return out, None


def _rnn_params(rng, b, T, d, u, o):
    return {"X": _normal(rng, (b, T, d)), "h0": _normal(rng, (b, u)), "W_xh": _normal(rng, (d, u)),
            "W_hh": _normal(rng, (u, u), 0.4), "b_h": _normal(rng, (u,)), "W_hy": _normal(rng, (u, o)),
            "b_y": _normal(rng, (o,))}


def cases_rnn_forward(rng):
    return [{"args": _rnn_params(rng, *s)} for s in SHAPES], None


def cases_lstm_step(rng):
    out = []
    for b, _, d, u, _ in SHAPES:
        args = {"x_t": _normal(rng, (b, d)), "h_prev": _normal(rng, (b, u)), "c_prev": _normal(rng, (b, u))}
        for k in ("W_f", "W_i", "W_C", "W_o"):
            args[k] = _normal(rng, (u + d, u))
        for k in ("b_f", "b_i", "b_C", "b_o"):
            args[k] = _normal(rng, (u,))
        out.append({"args": args})
    return out, None


def cases_gru_step(rng):
    out = []
    for b, _, d, u, _ in SHAPES:
        args = {"x_t": _normal(rng, (b, d)), "h_prev": _normal(rng, (b, u))}
        for k in ("W_z", "W_r", "W"):
            args[k] = _normal(rng, (u + d, u))
        for k in ("b_z", "b_r", "b"):
            args[k] = _normal(rng, (u,))
        out.append({"args": args})
    return out, None


def cases_rnn_bptt(rng):
    out = []
    for b, T, d, u, o in SHAPES:
        args = _rnn_params(rng, b, T, d, u, o)
        args["targets"] = _normal(rng, (b, T, o))
        out.append({"args": args})
    return out, None


TASKS = [
    Task("rnn_step", "rnn_step", "test_rnn_step", cases_rnn_step),
    Task("rnn_forward", "rnn_forward", "test_rnn_forward", cases_rnn_forward),
    Task("lstm_step", "lstm_step", "test_lstm_step", cases_lstm_step),
    Task("gru_step", "gru_step", "test_gru_step", cases_gru_step),
    Task("rnn_bptt", "rnn_bptt", "test_rnn_bptt", cases_rnn_bptt, rtol=2e-4, atol=2e-5),
]
