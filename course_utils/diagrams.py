"""Diagrams drawn by code, in the chapters' symbols: the LSTM and GRU cells (chapter 3), the BPTT graph (chapter 2)
and what padding and a mask do to a batch (chapter 4). Each function returns a matplotlib Figure; every label a
chapter's prose names is a text artist in it, so tests can find it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["draw_lstm_cell", "draw_gru_cell", "draw_bptt_graph", "draw_masking"]

_GATE = {"fc": "#fde9c9", "ec": "#b57a14"}      # sigmoid / tanh layers
_STATE = {"fc": "#cfe0f5", "ec": "#2f5f9e"}     # states
_INPUT = {"fc": "#d8ecd2", "ec": "#4d8a3d"}     # inputs
_LOSS = {"fc": "#f7dcc8", "ec": "#b3642b"}      # outputs and losses
_GRAD = "#c0392b"                                # gradient paths


def _canvas(width: float, height: float, scale: float = 0.9):
    fig, ax = plt.subplots(figsize=(scale * width, scale * height))
    fig.subplots_adjust(left=0, right=1, top=1, bottom=0)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, x, y, text, style, w=1.0, h=0.55, fontsize=13):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.1",
                                fc=style["fc"], ec=style["ec"], lw=1.5))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _op(ax, x, y, symbol, r=0.22):
    """An element-wise operation: a small circle with ⊙, + or 1−."""
    ax.add_patch(Circle((x, y), r, fc="white", ec="0.2", lw=1.4))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=13 if len(symbol) == 1 else 9)


def _arrow(ax, start, end, colour="0.25", label=None, label_at=(0.0, 0.12), rad=0.0, lw=1.4, fontsize=11):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13, lw=lw, color=colour,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))
    if label:
        ax.text((start[0] + end[0]) / 2 + label_at[0], (start[1] + end[1]) / 2 + label_at[1], label,
                ha="center", va="bottom", fontsize=fontsize, color=colour)


def _path(ax, points, colour="0.25", lw=1.4):
    """A polyline whose last segment ends in an arrow head."""
    xs, ys = zip(*points)
    ax.plot(xs[:-1], ys[:-1], color=colour, lw=lw, solid_capstyle="round")
    _arrow(ax, points[-2], points[-1], colour=colour, lw=lw)


def draw_lstm_cell() -> Figure:
    """One LSTM step: the cell-state path C_{t-1} -> ⊙ f_t -> + i_t ⊙ C̃_t -> C_t along the top, the four layers
    reading [h_{t-1}, x_t] below, and h_t = o_t ⊙ tanh(C_t) on the right."""
    fig, ax = _canvas(11.5, 6.2)
    top, mid, low = 5.0, 3.0, 1.55
    _box(ax, 0.75, top, r"$C_{t-1}$", _STATE)
    _box(ax, 0.75, low, r"$h_{t-1}$", _STATE)
    _box(ax, 2.6, 0.4, r"$x_t$", _INPUT, w=0.8)
    _box(ax, 10.7, top, r"$C_t$", _STATE)
    _box(ax, 10.7, low, r"$h_t$", _STATE)
    # the shared input [h_{t-1}, x_t] runs along a bus under the four layers
    bus_y = low
    _path(ax, [(1.25, bus_y), (7.6, bus_y)], colour="0.45")
    _path(ax, [(2.6, 0.68), (2.6, bus_y - 0.02)], colour="0.45")
    ax.text(4.1, bus_y - 0.32, r"$[h_{t-1}, x_t]$ (every layer reads it)", ha="center", va="top", fontsize=10,
            color="0.35")
    layers = [(3.2, r"$\sigma$", r"$f_t$"), (4.6, r"$\sigma$", r"$i_t$"), (6.0, "tanh", r"$\tilde C_t$"),
              (7.6, r"$\sigma$", r"$o_t$")]
    for x, fn, name in layers:
        _box(ax, x, mid, fn, _GATE, w=0.9)
        _arrow(ax, (x, bus_y), (x, mid - 0.28))
        ax.text(x + 0.5, mid + 0.3, name, ha="left", va="bottom", fontsize=13)
    # the cell-state path
    _op(ax, 3.2, top, "⊙")
    _op(ax, 5.3, top, "+")
    _op(ax, 5.3, 4.0, "⊙")
    _arrow(ax, (1.25, top), (2.98, top), colour="#2f5f9e", lw=2.2)
    _arrow(ax, (3.42, top), (5.08, top), colour="#2f5f9e", lw=2.2)
    _arrow(ax, (5.52, top), (10.2, top), colour="#2f5f9e", lw=2.2)
    _arrow(ax, (3.2, mid + 0.28), (3.2, top - 0.22))
    _path(ax, [(4.6, mid + 0.28), (4.6, 4.0), (5.08, 4.0)])
    _path(ax, [(6.0, mid + 0.28), (6.0, 4.0), (5.52, 4.0)])
    _arrow(ax, (5.3, 4.22), (5.3, top - 0.22))
    ax.text(7.2, top + 0.32, r"$C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t$", ha="center", va="bottom",
            fontsize=12, color="#2f5f9e")
    # the output: h_t = o_t ⊙ tanh(C_t)
    _box(ax, 9.0, 4.0, "tanh", _GATE, w=0.9)
    _op(ax, 9.0, mid, "⊙")
    _path(ax, [(9.0, top), (9.0, 4.28)], colour="#2f5f9e")
    _arrow(ax, (9.0, 3.72), (9.0, mid + 0.22))
    _arrow(ax, (8.05, mid), (8.78, mid))
    _path(ax, [(9.0, mid - 0.22), (9.0, low), (10.2, low)])
    ax.text(10.4, low + 0.5, r"$h_t = o_t \odot \tanh(C_t)$", ha="center", va="bottom", fontsize=11)
    ax.text(4.0, 0.35, r"gates $\sigma(\cdot) \in (0, 1)$ scale element-wise ($\odot$);"
            r" the cell path has no weight matrix", ha="left", va="center", fontsize=10, color="0.35")
    return fig


def draw_gru_cell() -> Figure:
    """One GRU step in chapter 3's convention: z_t is the fraction of the state replaced,
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, and the reset gate r_t acts on h_{t-1} before the candidate."""
    fig, ax = _canvas(11.0, 5.8)
    top, mid, low, z_line, h_line = 4.9, 2.5, 1.1, 4.05, 3.6
    _box(ax, 0.75, top, r"$h_{t-1}$", _STATE)
    _box(ax, 1.9, 0.3, r"$x_t$", _INPUT, w=0.8)
    _box(ax, 10.3, top, r"$h_t$", _STATE)
    # the gates read [h_{t-1}, x_t] from a bus
    _path(ax, [(0.75, top - 0.28), (0.75, low), (4.4, low)], colour="0.45")
    _path(ax, [(1.9, 0.58), (1.9, low - 0.02)], colour="0.45")
    ax.text(3.3, low - 0.3, r"$[h_{t-1}, x_t]$", ha="center", va="top", fontsize=10, color="0.35")
    for x, name in ((2.4, r"$z_t$"), (4.4, r"$r_t$")):
        _box(ax, x, mid, r"$\sigma$", _GATE, w=0.8)
        _arrow(ax, (x, low), (x, mid - 0.28))
        ax.text(x + 0.45, mid + 0.3, name, ha="left", va="bottom", fontsize=13)
    # update: keep (1 − z_t) of the old state ...
    _op(ax, 2.4, top, "⊙")
    _op(ax, 2.4, 4.45, "1−")
    _arrow(ax, (2.4, mid + 0.28), (2.4, 4.23))
    _arrow(ax, (2.4, 4.67), (2.4, top - 0.22))
    # ... and replace z_t of it by the candidate
    _op(ax, 8.6, 3.9, "⊙")
    _path(ax, [(2.4, z_line), (8.3, z_line), (8.42, 4.02)])
    ax.text(5.2, z_line + 0.05, r"$z_t$", ha="center", va="bottom", fontsize=11)
    _op(ax, 8.6, top, "+")
    _arrow(ax, (1.25, top), (2.18, top), colour="#2f5f9e", lw=2.2)
    _arrow(ax, (2.62, top), (8.38, top), colour="#2f5f9e", lw=2.2)
    _arrow(ax, (8.82, top), (9.8, top), colour="#2f5f9e", lw=2.2)
    _arrow(ax, (8.6, 4.12), (8.6, top - 0.22))
    ax.text(5.5, top + 0.3, r"$h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$", ha="center", va="bottom",
            fontsize=12, color="#2f5f9e")
    # the reset gate scales h_{t-1} before the candidate reads it
    _op(ax, 6.0, mid, "⊙")
    _arrow(ax, (4.8, mid), (5.78, mid))
    ax.plot([0.75, 2.3], [h_line, h_line], color="0.45", lw=1.4)      # h_{t-1}, hopping over the z_t line
    _path(ax, [(2.5, h_line), (6.0, h_line), (6.0, mid + 0.22)], colour="0.45")
    ax.text(4.2, h_line + 0.05, r"$h_{t-1}$", ha="center", va="bottom", fontsize=10, color="0.35")
    _box(ax, 7.4, mid, "tanh", _GATE, w=0.9)
    _arrow(ax, (6.22, mid), (6.95, mid))
    _path(ax, [(1.9, low), (1.9, 0.75), (7.4, 0.75), (7.4, mid - 0.28)], colour=_INPUT["ec"])
    ax.text(6.7, 0.78, r"$x_t$", ha="center", va="bottom", fontsize=10, color=_INPUT["ec"])
    _path(ax, [(7.85, mid), (8.6, mid), (8.6, 3.68)])
    ax.text(8.7, mid + 0.35, r"$\tilde h_t$", ha="left", va="center", fontsize=13)
    ax.text(7.6, 1.55, r"$\tilde h_t = \tanh([r_t \odot h_{t-1}, x_t]\, W + b)$", ha="left", va="center",
            fontsize=10)
    return fig


def draw_bptt_graph(steps: int = 4) -> Figure:
    """The unrolled computational graph of a simple RNN with its losses, and the gradient paths that reach W_hh:
    every step's loss L_t flows back through h_t, h_{t-1}, ..., and W_hh collects a term at every step."""
    if not 2 <= steps <= 6:
        raise ValueError("steps must be between 2 and 6 to fit on the page")
    gap = 2.2
    width = 1.6 + gap * steps + 1.0
    fig, ax = _canvas(width, 7.3, scale=0.8)
    rows = {"x": 1.5, "a": 2.9, "h": 4.2, "y": 5.4, "L": 6.6}
    _box(ax, 0.8, rows["h"], r"$h_0$", _STATE, w=0.8)
    previous = (1.2, rows["h"])
    for t in range(1, steps + 1):
        cx = 0.8 + gap * t
        _box(ax, cx, rows["x"], rf"$x_{t}$", _INPUT, w=0.8)
        _box(ax, cx, rows["a"], rf"$a_{t}$", _GATE, w=0.8)
        _box(ax, cx, rows["h"], rf"$h_{t}$", _STATE, w=0.8)
        _box(ax, cx, rows["y"], rf"$y_{t}$", _LOSS, w=0.8)
        _box(ax, cx, rows["L"], rf"$L_{t}$", _LOSS, w=0.8)
        _arrow(ax, (cx, rows["x"] + 0.28), (cx, rows["a"] - 0.28))
        _arrow(ax, (cx, rows["a"] + 0.28), (cx, rows["h"] - 0.28), label="tanh", label_at=(0.3, -0.12),
               fontsize=9)
        _arrow(ax, (cx, rows["h"] + 0.28), (cx, rows["y"] - 0.28))
        _arrow(ax, (cx, rows["y"] + 0.28), (cx, rows["L"] - 0.28))
        # h_{t-1} -> a_t through W_hh: the forward edge, and the gradient running back along it
        _arrow(ax, previous, (cx - 0.4, rows["a"] + 0.1), label=r"$W_{hh}$", label_at=(-0.1, 0.05))
        _arrow(ax, (cx - 0.45, rows["h"] + 0.12), (previous[0] + 0.02, previous[1] + 0.12), colour=_GRAD,
               rad=-0.25, lw=1.8)
        _arrow(ax, (cx + 0.25, rows["L"] - 0.28), (cx + 0.25, rows["h"] + 0.28), colour=_GRAD, rad=0.0, lw=1.8)
        previous = (cx + 0.4, rows["h"])
    ax.text(0.3, 0.15, r"black: forward, $a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h$.  red: $\partial L/\partial h_t$ "
            r"collects $\delta y_t W_{hy}^\top$ from its own loss and $\delta a_{t+1} W_{hh}^\top$ from the future;"
            "\n" r"$\partial L/\partial W_{hh} = \sum_t h_{t-1}^\top \delta a_t$: one term per step, each reaching "
            r"back through every earlier step", ha="left", va="bottom", fontsize=9.5, color="0.25")
    return fig


def draw_masking(lengths=(5, 3, 4), max_len: int = 6) -> Figure:
    """A padded batch (0 = padding at the end), its mask, and what the mask does: an RNN skips the masked steps and
    copies its state forward, so the final state is the state after the last real token."""
    lengths = [int(n) for n in lengths]
    if not lengths or min(lengths) < 1 or max(lengths) > max_len:
        raise ValueError(f"every length must be between 1 and max_len = {max_len}")
    rng = np.random.default_rng(3)
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.75 * len(lengths) + 1.9), layout="constrained")
    for ax, title in zip(axes, ("padded ids (0 = padding) and the mask", "states: masked steps copy the state")):
        ax.set_xlim(-0.6, max_len - 0.4)
        ax.set_ylim(len(lengths) - 0.5, -0.9)
        ax.set_xticks(range(max_len), [f"t={t + 1}" for t in range(max_len)])
        ax.set_yticks(range(len(lengths)), [f"review {b + 1}" for b in range(len(lengths))])
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(title, fontsize=11)
    for b, n in enumerate(lengths):
        ids = list(rng.integers(2, 99, size=n)) + [0] * (max_len - n)
        for t, token in enumerate(ids):
            real = t < n
            axes[0].add_patch(FancyBboxPatch((t - 0.42, b - 0.32), 0.84, 0.64, boxstyle="round,pad=0",
                                             fc=_INPUT["fc"] if real else "0.92", ec=_INPUT["ec"] if real else "0.7"))
            axes[0].text(t, b - 0.05, str(token), ha="center", va="center", fontsize=11)
            axes[0].text(t, b + 0.22, "True" if real else "False", ha="center", va="center", fontsize=7,
                         color="0.3")
            state = rf"$h_{{{t + 1}}}$" if real else rf"$h_{{{n}}}$"
            axes[1].add_patch(FancyBboxPatch((t - 0.42, b - 0.32), 0.84, 0.64, boxstyle="round,pad=0",
                                             fc=_STATE["fc"] if real else "white", ec=_STATE["ec"],
                                             ls="-" if real else "--"))
            axes[1].text(t, b, state, ha="center", va="center", fontsize=11, color="black" if real else "0.45")
        axes[1].annotate("final state", xy=(max_len - 1 + 0.42, b), xytext=(max_len - 0.3, b), fontsize=8,
                         va="center", arrowprops={"arrowstyle": "-|>", "color": _GRAD}, color=_GRAD,
                         annotation_clip=False)
    axes[0].text(-0.6, -0.75, "mask = ids != 0  (what Embedding(mask_zero=True) passes on)", fontsize=9,
                 color="0.3")
    axes[1].text(-0.6, -0.75, r"without a mask the padding steps would update $h_t$ with the id 0's embedding",
                 fontsize=9, color="0.3")
    return fig
