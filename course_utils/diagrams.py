"""Diagrams drawn by code, in the chapters' symbols: the LSTM and GRU cells (chapter 3), the BPTT graph (chapter 2),
what padding and a mask do to a batch (chapter 4), a bidirectional layer and its merge modes, and attention weights
pooling the LSTM outputs into a context vector (chapter 8). Each function returns a matplotlib Figure; every label a
chapter's prose names is a text artist in it, so tests can find it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["draw_lstm_cell", "draw_gru_cell", "draw_bptt_graph", "draw_masking", "draw_bidirectional",
           "draw_attention_context"]

_GATE = {"fc": "#fde9c9", "ec": "#b57a14"}      # sigmoid / tanh layers
_STATE = {"fc": "#cfe0f5", "ec": "#2f5f9e"}     # states
_INPUT = {"fc": "#d8ecd2", "ec": "#4d8a3d"}     # inputs
_LOSS = {"fc": "#f7dcc8", "ec": "#b3642b"}      # outputs and losses
_BACK = {"fc": "#e6dcf2", "ec": "#6a4c9c"}      # the backward direction of a bidirectional layer
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
            "\n" r"$\partial L/\partial W_{hh} = \sum_t h_{t-1}^\top \delta a_t$: one term per step, and $\delta a_t$ "
            r"collects the losses $L_t, \dots, L_T$ of that step and every later one", ha="left", va="bottom",
            fontsize=9.5, color="0.25")
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


_MERGES = {   # merge_mode -> (chapter 8's formula, output size, the cells of the output: "f", "b" or "m" (merged))
    "concat": (r"$[\overrightarrow{h};\overleftarrow{h}]$", "$2n$", "fb"),
    "sum": (r"$\overrightarrow{h}+\overleftarrow{h}$", "$n$", "m"),
    "mul": (r"$\overrightarrow{h}\odot\overleftarrow{h}$", "$n$", "m"),
    "ave": (r"$(\overrightarrow{h}+\overleftarrow{h})/2$", "$n$", "m"),
}


def _cells(ax, x, y, colours, size=0.3, gid=None):
    """A vector drawn as a row of small squares, one per unit, left edge at x."""
    for k, style in enumerate(colours):
        patch = FancyBboxPatch((x + k * size, y - size / 2), size, size, boxstyle="square,pad=0", fc=style["fc"],
                               ec=style["ec"], lw=1.0)
        if gid:
            patch.set_gid(gid)
        ax.add_patch(patch)


def _step(t: int, steps: int) -> str:
    return "T" if t == steps else str(t)


def draw_bidirectional(merge_modes=("concat", "sum", "mul", "ave"), steps: int = 4, units: int = 4) -> Figure:
    """``Bidirectional(LSTM(n))`` unrolled: a forward LSTM reads x_1 ... x_T left to right (states →h_t), a second,
    independent one reads right to left (states ←h_t), and at every step ``merge_mode`` combines the two states. The
    final states it merges by default are →h_T and ←h_1. On the right, each merge mode's output at one step, drawn
    with one square per unit: ``concat`` gives 2n, ``sum``, ``mul`` and ``ave`` give n."""
    merge_modes = list(merge_modes)
    unknown = [m for m in merge_modes if m not in _MERGES]
    if unknown or not merge_modes:
        raise ValueError(f"merge_modes must be a non-empty selection of {list(_MERGES)}; got {merge_modes}")
    if not 2 <= steps <= 6:
        raise ValueError("steps must be between 2 and 6 to fit on the page")
    if not 1 <= units <= 6:
        raise ValueError("units must be between 1 and 6 (one square per unit) to fit on the page")
    gap, first = 1.75, 2.45
    right = first + gap * (steps - 1) + 1.1                  # where the merge-mode panel starts
    cell = 0.3
    vec_dx = 2.1                                             # the output squares, right of the formulas
    width = right + 0.2 + vec_dx + 2 * units * cell + 0.8
    fig, ax = _canvas(width, 6.9, scale=0.8)
    rows = {"x": 0.7, "f": 2.15, "b": 3.6, "m": 5.0}
    back_ec, merged = _BACK["ec"], "0.45"
    columns = [first + gap * (t - 1) for t in range(1, steps + 1)]
    for t, cx in enumerate(columns, start=1):
        s = _step(t, steps)
        _box(ax, cx, rows["x"], rf"$x_{s}$", _INPUT, w=0.8)
        _box(ax, cx, rows["f"], rf"$\overrightarrow{{h}}_{s}$", _STATE, w=0.9)
        _box(ax, cx, rows["b"], rf"$\overleftarrow{{h}}_{s}$", _BACK, w=0.9)
        _box(ax, cx, rows["m"], "merge", _LOSS, w=0.9, fontsize=10)
        # x_t feeds both directions: straight up into the forward LSTM, round its right side into the backward one
        _arrow(ax, (cx, rows["x"] + 0.28), (cx, rows["f"] - 0.28), colour=_INPUT["ec"])
        _path(ax, [(cx, 1.25), (cx + 0.62, 1.25), (cx + 0.62, rows["b"] - 0.52), (cx + 0.2, rows["b"] - 0.52),
                   (cx + 0.2, rows["b"] - 0.28)], colour=_INPUT["ec"], lw=1.1)
        # both states at step t go up into that step's merge
        _path(ax, [(cx - 0.25, rows["f"] + 0.28), (cx - 0.25, rows["f"] + 0.5), (cx - 0.62, rows["f"] + 0.5),
                   (cx - 0.62, rows["m"] - 0.5), (cx - 0.25, rows["m"] - 0.5), (cx - 0.25, rows["m"] - 0.28)],
              colour=_STATE["ec"], lw=1.1)
        _arrow(ax, (cx + 0.2, rows["b"] + 0.28), (cx + 0.2, rows["m"] - 0.28), colour=back_ec, lw=1.1)
        _arrow(ax, (cx, rows["m"] + 0.28), (cx, rows["m"] + 0.62), colour=merged, lw=1.1)
    for a, b in zip(columns, columns[1:]):          # the forward LSTM runs left to right, the backward right to left
        _arrow(ax, (a + 0.45, rows["f"]), (b - 0.45, rows["f"]), colour=_STATE["ec"], lw=2.2)
        _arrow(ax, (b - 0.45, rows["b"]), (a + 0.45, rows["b"]), colour=back_ec, lw=2.2)
    for y, colour, text in ((rows["f"], _STATE["ec"], "forward\nLSTM\nreads →"),
                            (rows["b"], back_ec, "backward\nLSTM\nreads ←")):
        ax.text(0.15, y, text, ha="left", va="center", fontsize=9.5, color=colour, linespacing=1.1)
    ax.text(0.15, rows["x"], "input", ha="left", va="center", fontsize=9.5, color=_INPUT["ec"])
    # the final states: what Bidirectional(LSTM(n)) merges without return_sequences
    for cx, y in ((columns[-1], rows["f"]), (columns[0], rows["b"])):
        ax.add_patch(FancyBboxPatch((cx - 0.54, y - 0.36), 1.08, 0.72, boxstyle="round,pad=0,rounding_size=0.12",
                                    fc="none", ec=_GRAD, lw=1.6, ls="--"))
    ax.text(0.15, 6.55, r"Bidirectional(LSTM(n)) over $x_1 \dots x_T$: with return_sequences=True the two states of "
            "every step are merged; without it, only the final states", ha="left", va="center", fontsize=10)
    ax.text(0.15, 6.15, r"$\overrightarrow{h}_T$ and $\overleftarrow{h}_1$ (red, dashed), each of which has read the "
            "whole sequence", ha="left", va="center", fontsize=10, color=_GRAD)
    # the merge modes at one step t, one square per unit
    x0 = right + 0.2
    ax.plot([right - 0.35, right - 0.35], [0.3, 5.0], color="0.8", lw=1)
    ax.text(x0, 5.0, f"merge_mode, at one step (n = {units} units)", ha="left", va="center", fontsize=10)
    vec_x = x0 + vec_dx
    ax.text(x0, 4.45, r"$\overrightarrow{h}_t$", ha="left", va="center", fontsize=12)
    _cells(ax, x0 + 0.55, 4.45, [_STATE] * units, cell)
    ax.text(x0 + 0.75 + units * cell, 4.45, r"$\overleftarrow{h}_t$", ha="left", va="center", fontsize=12)
    _cells(ax, x0 + 1.3 + units * cell, 4.45, [_BACK] * units, cell)
    styles = {"f": [_STATE] * units, "b": [_BACK] * units, "m": [_LOSS] * units}
    y = 3.7
    for mode in merge_modes:
        formula, size, parts = _MERGES[mode]
        ax.text(x0, y + 0.05, f'"{mode}"', ha="left", va="bottom", fontsize=10, family="monospace")
        ax.text(x0, y - 0.05, formula, ha="left", va="top", fontsize=11)
        colours = [style for part in parts for style in styles[part]]
        _cells(ax, vec_x, y, colours, cell, gid=f"merge_{mode}")
        ax.text(vec_x + len(colours) * cell + 0.15, y, size, ha="left", va="center", fontsize=11)
        y -= 0.85
    ax.text(x0, y + 0.2, "(concat is the default)", ha="left", va="center", fontsize=9, color="0.35")
    return fig


_ILLUSTRATIVE_SCORES = (0.3, -0.6, 1.7, 0.2, -1.1, 0.8)


def _check_weights(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or not 2 <= len(w) <= 8:
        raise ValueError(f"weights must be one weight per time step, between 2 and 8 of them to fit on the page "
                         f"(a 1-d sequence); got shape {w.shape}. Pass the weights of one short sequence, e.g. "
                         f"alpha[0, :, 0] of the attention layer's (batch, T, 1) output")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"attention weights are a softmax, so each must be a finite number >= 0; got {w.tolist()}. "
                         f"Pass softmax(scores), not the scores")
    if not np.isclose(w.sum(), 1.0, atol=1e-4):
        raise ValueError(f"attention weights must sum to 1 (a softmax over the time steps); these sum to "
                         f"{w.sum():.4g}. Divide them by their sum, or pass softmax(scores)")
    return w


def draw_attention_context(weights=None) -> Figure:
    """Attention pooling as chapter 8 writes it: a score e_t = v^T tanh(W h_t + b) for each LSTM output h_t, a softmax
    over the steps giving weights α_t that sum to 1, and the context vector c = Σ_t α_t h_t that the Dense layer
    reads.

    ``weights``: one weight per step (2 to 8 steps, each >= 0, summing to 1), e.g. a trained layer's weights for one
    review; default: the softmax of fixed illustrative scores. The bars (right) have heights, and the arrows into Σ
    line widths, proportional to the weights; a step with weight 0 (padding) gets no score and no arrow."""
    if weights is None:
        scores = np.array(_ILLUSTRATIVE_SCORES)
        w = np.exp(scores - scores.max())
        w /= w.sum()
    else:
        w = _check_weights(weights)
        with np.errstate(divide="ignore"):
            logs = np.log(w)
        scores = np.where(w > 0, logs - logs[w > 0].mean(), np.nan)   # any scores differing by a constant give w
    steps = len(w)
    gap, first = 1.3, 1.3
    columns = [first + gap * t for t in range(steps)]
    middle = (columns[0] + columns[-1]) / 2
    panel = columns[-1] + 1.4                                  # where the weights panel starts
    bar_gap = 0.5
    width = panel + max(bar_gap * steps + 1.0, 5.2)
    fig, ax = _canvas(width, 7.0, scale=0.8)
    h_y, sigma_y, c_y, dense_y = 0.8, 3.7, 4.85, 5.85
    sigma_r = 0.3
    for t, (cx, wt) in enumerate(zip(columns, w), start=1):
        s = _step(t, steps)
        _box(ax, cx, h_y, rf"$h_{s}$", _STATE, w=0.8)
        if wt > 0:                                           # α_t h_t into Σ: line width proportional to α_t
            dx, dy = middle - cx, sigma_y - (h_y + 0.28)
            end = (middle - dx * sigma_r / np.hypot(dx, dy), sigma_y - dy * sigma_r / np.hypot(dx, dy))
            arrow = FancyArrowPatch((cx, h_y + 0.28), end, arrowstyle="-|>", mutation_scale=8 + 22 * wt,
                                    lw=14 * wt, color=_STATE["ec"], shrinkA=0, shrinkB=0, alpha=0.85)
            arrow.set_gid(f"alpha_arrow_{t}")
            ax.add_patch(arrow)
        left = cx < middle - 0.01                            # the label on the side the arrow leaves from
        ax.text(cx + (-0.1 if left else 0.1), h_y + 0.4, rf"$\alpha_{s}$ = {wt:.2f}", ha="right" if left else "left",
                va="bottom", fontsize=9, color=_STATE["ec"])
    ax.text(columns[0] - 0.45, 0.2, r"LSTM outputs $h_1 \dots h_T$ (return_sequences=True); arrow widths "
            r"$\propto \alpha_t$", ha="left", va="center", fontsize=9.5, color="0.3")
    _op(ax, middle, sigma_y, "Σ", r=sigma_r)
    ax.text(middle + 0.45, sigma_y - 0.1, r"$c = \sum_t \alpha_t h_t$", ha="left", va="center", fontsize=12)
    _arrow(ax, (middle, sigma_y + sigma_r), (middle, c_y - 0.28))
    _box(ax, middle, c_y, "$c$", _STATE, w=0.8)
    ax.text(middle + 0.55, c_y, "context vector", ha="left", va="center", fontsize=10)
    _arrow(ax, (middle, c_y + 0.28), (middle, dense_y - 0.28))
    _box(ax, middle, dense_y, 'Dense(1, "sigmoid")', _GATE, w=2.6, fontsize=11)
    _arrow(ax, (middle, dense_y + 0.28), (middle, dense_y + 0.68))
    ax.text(middle, dense_y + 0.72, "P(positive)", ha="center", va="bottom", fontsize=11)
    # the weights panel: scores, softmax, weights
    ax.plot([panel - 0.45, panel - 0.45], [0.3, 6.6], color="0.8", lw=1)
    bars = [panel + bar_gap * t + 0.25 for t in range(steps)]
    score_y, alpha_y, alpha_h = 1.55, 3.75, 2.0
    ax.plot([bars[0] - 0.3, bars[-1] + 0.3], [score_y, score_y], color="0.5", lw=0.8)
    finite = np.abs(scores[np.isfinite(scores)])
    score_scale = 0.6 / max(finite.max(), 1e-9)
    for t, (bx, e, wt) in enumerate(zip(bars, scores, w), start=1):
        s = _step(t, steps)
        if np.isfinite(e):
            ax.add_patch(plt.Rectangle((bx - 0.15, min(score_y, score_y + score_scale * e)), 0.3,
                                       abs(score_scale * e), fc=_GATE["fc"], ec=_GATE["ec"], lw=1))
        else:
            ax.text(bx, score_y + 0.1, "masked", ha="center", va="bottom", fontsize=7, rotation=90, color="0.4")
        ax.text(bx, 0.65, rf"$e_{s}$", ha="center", va="center", fontsize=10)
        bar = plt.Rectangle((bx - 0.15, alpha_y), 0.3, alpha_h * wt, fc=_STATE["fc"], ec=_STATE["ec"], lw=1)
        bar.set_gid(f"alpha_bar_{t}")
        ax.add_patch(bar)
        ax.text(bx, alpha_y - 0.22, rf"$\alpha_{s}$", ha="center", va="center", fontsize=10)
    ax.text(panel - 0.2, 2.45, r"score $e_t = v^\top \tanh(W h_t + b)$", ha="left", va="center", fontsize=10)
    _arrow(ax, (panel - 0.2, 2.7), (panel - 0.2, 3.4))
    ax.text(panel, 3.05, "softmax over the unmasked steps", ha="left", va="center", fontsize=10)
    ax.text(panel - 0.2, alpha_y + alpha_h + 0.25, r"weights $\alpha_t$, heights $\propto \alpha_t$, "
            rf"$\sum_t \alpha_t$ = {w.sum():.2f}", ha="left", va="center", fontsize=10)
    ax.text(panel - 0.2, alpha_y + alpha_h + 0.7, r"$\alpha_t = \exp(e_t) / \sum_s \exp(e_s)$", ha="left",
            va="center", fontsize=11)
    return fig
