"""Figures for the course: training curves, forecasts, attention heatmaps, gradient norms, confusion matrices
and the unrolled-RNN diagram.

Every function returns a matplotlib ``Figure`` made with ``plt.subplots`` and never calls ``plt.show()``.
In a notebook the inline backend shows each new figure once at the end of the cell, so assign the result or end
the line with ``;`` (``fig = plots.plot_history(history)``): a bare call as the cell's last line would show the
figure twice (once as the cell's value). Outside a notebook, use ``fig.savefig(...)`` or ``plt.show()``.

Importing this module registers the Noto Sans CJK SC font shipped by the ``mplfonts`` package as a fallback
font, so Chinese characters (Tang poems, attention over characters) render while Latin text keeps DejaVu Sans.
If a notebook resets matplotlib's settings (``plt.style.use``, ``rcdefaults``), call :func:`use_cjk_font` again.
"""
from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path as MplPath

__all__ = [
    "use_cjk_font", "plot_history", "plot_forecast", "plot_attention", "plot_attention_grid", "plot_alignment",
    "plot_gradient_norms", "plot_confusion_matrix", "draw_unrolled_rnn",
]

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def _cjk_font_path() -> Path:
    """The Noto Sans CJK SC file inside the installed ``mplfonts`` package (found without importing it)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "Chinese text in the course's figures needs the `mplfonts` package (it ships the Noto Sans CJK SC "
            "font). Install the course requirements: `pip install -r requirements.txt`."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "fonts" / CJK_FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"The `mplfonts` package is installed but {path} is missing; reinstall it with "
            "`pip install --force-reinstall mplfonts`."
        )
    return path


def use_cjk_font() -> str:
    """Register Noto Sans CJK SC and make it matplotlib's fallback font; return its family name.

    The default family stays first (DejaVu Sans for Latin text, digits and symbols); characters it lacks are
    drawn with the CJK font. matplotlib falls back only along the ``font.family`` list (a generic name such as
    ``"sans-serif"`` resolves to a single font), so the CJK family is appended there, and to ``font.sans-serif``.
    Safe to call again.
    """
    path = _cjk_font_path()
    name = font_manager.FontProperties(fname=path).get_name()
    if not any(f.fname == str(path) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    rc = matplotlib.rcParams
    if name not in rc["font.sans-serif"]:
        rc["font.sans-serif"] = [*rc["font.sans-serif"], name]
    family = list(rc["font.family"])
    if name not in family:
        rc["font.family"] = [*family, name]
    return name


CJK_FONT = use_cjk_font()


# --------------------------------------------------------------------------------------------- training curves

_LOWER_IS_BETTER = ("loss", "error", "mae", "mse", "rmse", "mape", "msle", "perplexity", "crossentropy")


def _lower_is_better(metric: str) -> bool:
    return any(key in metric.lower() for key in _LOWER_IS_BETTER)


_DEFAULT_METRICS = ("loss", "accuracy")


def plot_history(history, metrics: Sequence[str] = _DEFAULT_METRICS) -> Figure:
    """Training and validation curves, one panel per metric, with the best validation epoch marked.

    ``history``: what ``model.fit`` returns (a ``keras.callbacks.History``) or its ``.history`` dict.
    With the default ``metrics``, those the history lacks are skipped (a regression model has no accuracy);
    a metric you name explicitly must be there. "Best" is the lowest value for losses and errors, else the highest.
    """
    logs = history.history if hasattr(history, "history") else dict(history)
    available = [m for m in logs if not m.startswith("val_")]
    if metrics is _DEFAULT_METRICS:
        metrics = [m for m in metrics if m in logs]
    if isinstance(metrics, str):
        metrics = [metrics]
    missing = [m for m in metrics if m not in logs]
    if missing or not metrics:
        raise KeyError(f"metric(s) {missing or list(metrics)} not in the history; it has {available}")

    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.8), squeeze=False, layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        train = np.asarray(logs[metric], dtype=float)
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, marker="o", ms=4, label="training")
        val = logs.get(f"val_{metric}")
        if val is not None:
            val = np.asarray(val, dtype=float)
            ax.plot(epochs[: len(val)], val, marker="o", ms=4, label="validation")
            best = int(np.nanargmin(val) if _lower_is_better(metric) else np.nanargmax(val))
            ax.axvline(best + 1, color="0.6", ls=":", lw=1)
            ax.plot(best + 1, val[best], marker="*", ms=14, color="C3", ls="none",
                    label=f"best validation: {val[best]:.4g} (epoch {best + 1})")
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    return fig


# --------------------------------------------------------------------------------------------------- forecasts

def plot_forecast(index, truth, predictions: Mapping[str, np.ndarray], title: str = "", *,
                  ylabel: str = "") -> Figure:
    """The true series and one line per forecast, each labelled with its mean absolute error.

    ``index``: x values (a ``DatetimeIndex``, dates or numbers), ``None`` for 0, 1, 2, ...; every array in
    ``predictions`` must align with ``truth`` (use NaN where a model makes no prediction).
    """
    truth = np.asarray(truth, dtype=float).reshape(-1)
    x = np.arange(len(truth)) if index is None else index
    if len(x) != len(truth):
        raise ValueError(f"index has {len(x)} entries but truth has {len(truth)}")
    fig, ax = plt.subplots(figsize=(11, 4), layout="constrained")
    ax.plot(x, truth, color="black", lw=1.6, label="truth")
    for i, (name, pred) in enumerate(predictions.items()):
        pred = np.asarray(pred, dtype=float).reshape(-1)
        if len(pred) != len(truth):
            raise ValueError(f"prediction {name!r} has {len(pred)} values but truth has {len(truth)}")
        mae = np.nanmean(np.abs(pred - truth))
        ax.plot(x, pred, lw=1.2, alpha=0.85, color=f"C{i}", label=f"{name} (MAE {mae:.4g})")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    if np.issubdtype(np.asarray(x).dtype, np.datetime64) or hasattr(x, "to_pydatetime"):
        fig.autofmt_xdate()
    return fig


# --------------------------------------------------------------------------------------------------- attention

def _short_tokens(tokens: Sequence[str]) -> bool:
    """Single characters (Chinese poems) get narrow cells; words get wide ones."""
    return max((len(t) for t in tokens), default=1) <= 2


def _attention_per_row(tokens: Sequence[str]) -> int:
    return 24 if _short_tokens(tokens) else 12


def _cell_width(tokens: Sequence[str]) -> float:
    return 0.5 if _short_tokens(tokens) else 1.05


def _shorten(token: str, limit: int = 13) -> str:
    token = token.replace("\n", "\u21b5")
    return token if len(token) <= limit else token[: limit - 1] + "\u2026"


def plot_attention(tokens: Sequence[str], weights, title: str = "", ax=None, *, per_row: int | None = None,
                   cmap: str = "Reds") -> Figure:
    """Attention weights as a heatmap strip: one cell per token, the token written in its cell.

    Long sequences wrap into rows of ``per_row`` tokens (default: at most 24 single characters or 12 words per
    row, spread evenly over the rows; the row labels give the position of each row's first token). Colours run from 0 to
    the largest weight.
    Pass ``ax`` to draw into an existing axes (the colour bar is attached to it).
    """
    tokens = [str(t) for t in tokens]
    w = np.asarray(weights, dtype=float)
    if w.ndim > 1:
        w = np.squeeze(w)
    if w.ndim != 1 or w.size != len(tokens):
        raise ValueError(f"weights must hold one value per token: {len(tokens)} tokens, weights shape "
                         f"{np.shape(weights)}")
    if not tokens:
        raise ValueError("no tokens to plot")
    if per_row is None:             # at most 24 characters or 12 words per row, rows balanced
        per_row = math.ceil(len(tokens) / math.ceil(len(tokens) / _attention_per_row(tokens)))
    rows = math.ceil(len(tokens) / per_row)
    if ax is None:
        _, ax = plt.subplots(figsize=(per_row * _cell_width(tokens) + 1.6, 0.55 * rows + 1.0),
                             layout="constrained")
    fig = ax.figure

    grid = np.full(rows * per_row, np.nan)
    grid[: len(tokens)] = w
    vmax = float(np.nanmax(w)) if np.nanmax(w) > 0 else 1.0
    im = ax.imshow(np.ma.masked_invalid(grid.reshape(rows, per_row)), cmap=cmap, vmin=0.0, vmax=vmax,
                   aspect="auto", interpolation="nearest")
    fontsize = 12 if _short_tokens(tokens) else 9
    for i, (token, weight) in enumerate(zip(tokens, w)):
        r, c = divmod(i, per_row)
        ax.text(c, r, _shorten(token), ha="center", va="center", fontsize=fontsize,
                color="white" if weight > 0.6 * vmax else "black")
    ax.set_xticks([])
    if rows > 1:
        ax.set_yticks(range(rows), [str(r * per_row + 1) for r in range(rows)], fontsize=8)
    else:
        ax.set_yticks([])
    ax.set_xticks(np.arange(-0.5, per_row, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="both", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, loc="left", fontsize=11)
    bar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.01)
    bar.set_label("weight", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return fig


def plot_attention_grid(items: Sequence[tuple[Sequence[str], np.ndarray, str]], *,
                        per_row: int | None = None) -> Figure:
    """Several attention strips stacked, one per ``(tokens, weights, title)`` item, with the same cell size."""
    items = list(items)
    if not items:
        raise ValueError("no items to plot")
    all_tokens = [str(t) for tokens, _, _ in items for t in tokens]
    per_row = per_row or _attention_per_row(all_tokens)
    per_row = min(per_row, max(len(tokens) for tokens, _, _ in items))
    rows = [math.ceil(len(tokens) / per_row) for tokens, _, _ in items]
    fig, axes = plt.subplots(len(items), 1, squeeze=False, layout="constrained",
                             figsize=(per_row * _cell_width(all_tokens) + 1.6, 0.55 * sum(rows) + 0.75 * len(items)),
                             gridspec_kw={"height_ratios": [r + 0.6 for r in rows]})
    for ax, (tokens, weights, title) in zip(axes[:, 0], items):
        plot_attention(tokens, weights, title, ax=ax, per_row=per_row)
    return fig


def plot_alignment(items: Sequence[tuple[str, str, np.ndarray]], *, cmap: str = "Greys") -> Figure:
    """Encoder-decoder alignments side by side, one ``(source, output, weights)`` item each: ``weights`` has one row
    per output character and one column per source character (shape ``(len(output), len(source))``, rows summing
    to 1); a dark cell is a source character the decoder read when it wrote that output character."""
    items = list(items)
    if not items:
        raise ValueError("no alignments to plot")
    for source, output, weights in items:
        if np.shape(weights) != (len(output), len(source)):
            raise ValueError(f"weights for {source!r} -> {output!r} must have shape {(len(output), len(source))} "
                             f"(output characters x source characters), got {np.shape(weights)}")
    widths = [len(source) for source, _, _ in items]
    fig, axes = plt.subplots(1, len(items), squeeze=False, layout="constrained",
                             figsize=(0.27 * sum(widths) + 1.1 * len(items) + 0.6, 4.2),
                             gridspec_kw={"width_ratios": widths})
    for ax, (source, output, weights) in zip(axes[0], items):
        im = ax.imshow(np.asarray(weights, dtype=float), cmap=cmap, vmin=0.0, vmax=1.0, aspect="equal",
                       interpolation="nearest")
        ax.set_xticks(range(len(source)), list(source), fontsize=9)
        ax.set_yticks(range(len(output)), list(output), fontsize=9)
        ax.tick_params(length=0)
        ax.set_xlabel("source character", fontsize=9)
        ax.set_title(source, fontsize=10, loc="left")
    axes[0, 0].set_ylabel("output character", fontsize=9)
    bar = fig.colorbar(im, ax=list(axes[0]), fraction=0.02, pad=0.01)
    bar.set_label("attention weight", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return fig


# ---------------------------------------------------------------------------------------------- gradient norms

def plot_gradient_norms(norms: Mapping[str, np.ndarray], title: str = "", log: bool = True,
                        ylabel: str = r"$\|\partial L / \partial \mathbf{h}_k\|$") -> Figure:
    """How much the loss at the last step depends on each hidden state: ``||dL/dh_k||`` against time step k.

    ``norms[label][k - 1]`` is the norm for time step ``k`` (k = 1..T), one line per label (e.g. per cell
    type or per weight scale). ``log=True`` uses a log y axis, where vanishing gradients appear as straight lines.
    ``ylabel`` names what was measured when it is not the plain ``||dL/dh_k||`` (a normalised norm, or the
    gradient with respect to a state that includes an LSTM's cell).
    """
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for label, values in norms.items():
        values = np.asarray(values, dtype=float).reshape(-1)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, lw=1.4, label=label)
    if log:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xlabel("time step $k$")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both" if log else "major")
    ax.legend(fontsize=9)
    return fig


# ------------------------------------------------------------------------------------------- confusion matrix

def plot_confusion_matrix(y_true, y_pred, labels: Sequence[str] = ("negative", "positive")) -> Figure:
    """Counts and row percentages (the share of each true class given each prediction).

    ``y_true``: class ids 0..len(labels)-1. ``y_pred``: class ids, or model outputs: an (n, k) array of
    class scores is reduced with argmax, and a 1-D / (n, 1) float array with two labels is thresholded at 0.5.
    """
    y_true = np.asarray(y_true).reshape(-1).astype(int)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        y_pred = y_pred.argmax(axis=1)
    y_pred = y_pred.reshape(-1)
    if np.issubdtype(y_pred.dtype, np.floating):
        if len(labels) != 2:
            raise ValueError("float predictions are only thresholded for two classes; pass class ids")
        y_pred = (y_pred > 0.5).astype(int)
    y_pred = y_pred.astype(int)
    n = len(labels)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} entries but y_pred has {y_pred.size}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n):
            raise ValueError(f"{name} holds class ids outside 0..{n - 1} (labels: {list(labels)})")

    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    row_totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, row_totals, out=np.zeros((n, n)), where=row_totals > 0)

    fig, ax = plt.subplots(figsize=(1.5 * n + 2.2, 1.4 * n + 1.4), layout="constrained")
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{counts[i, j]:,}\n{100 * share[i, j]:.1f}%", ha="center", va="center",
                    fontsize=11, color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    total = counts.sum()
    accuracy = np.trace(counts) / total if total else float("nan")
    ax.set_title(f"accuracy {100 * accuracy:.1f}%  (n = {total:,})")
    return fig


# ------------------------------------------------------------------------------------------ unrolled RNN diagram

_BOX_W, _BOX_H = 1.0, 0.62
_ROW_Y = {"x": 0.0, "h": 1.9, "y": 3.8}
_COLOURS = {"x": "#d8ecd2", "h": "#cfe0f5", "y": "#f7dcc8"}
_EDGES = {"x": "#4d8a3d", "h": "#2f5f9e", "y": "#b3642b"}


def _box(ax, cx, row, text, dashed=False):
    ax.add_patch(FancyBboxPatch((cx - _BOX_W / 2, _ROW_Y[row] - _BOX_H / 2), _BOX_W, _BOX_H,
                                boxstyle="round,pad=0,rounding_size=0.12", fc=_COLOURS[row], ec=_EDGES[row],
                                lw=1.6, ls="--" if dashed else "-"))
    ax.text(cx, _ROW_Y[row], text, ha="center", va="center", fontsize=14)


def _arrow(ax, start, end, label=None, label_side="left", connection="arc3", colour="0.25"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.4, color=colour,
                                 connectionstyle=connection, shrinkA=0, shrinkB=0))
    if label:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        if label_side == "left":
            ax.text(mx - 0.08, my, label, ha="right", va="center", fontsize=11, color=colour)
        else:  # above
            ax.text(mx, my + 0.1, label, ha="center", va="bottom", fontsize=11, color=colour)


def _column(ax, cx, t):
    _box(ax, cx, "x", rf"$\mathbf{{x}}_{{{t}}}$")
    _box(ax, cx, "h", rf"$\mathbf{{h}}_{{{t}}}$")
    _box(ax, cx, "y", rf"$\mathbf{{y}}_{{{t}}}$")
    half = _BOX_H / 2
    _arrow(ax, (cx, _ROW_Y["x"] + half), (cx, _ROW_Y["h"] - half), r"$W_{xh}$")
    _arrow(ax, (cx, _ROW_Y["h"] + half), (cx, _ROW_Y["y"] - half), r"$W_{hy}$")


def draw_unrolled_rnn(steps: int = 4) -> Figure:
    """The recurrent cell folded (one box with a loop) and unrolled over ``steps`` time steps.

    Inputs x_t feed hidden states h_t through W_xh, each h_{t-1} feeds h_t through W_hh, and each h_t feeds
    the output y_t through W_hy; the same three matrices are used at every step.
    """
    if not 1 <= steps <= 8:
        raise ValueError("steps must be between 1 and 8 to fit on the page")
    gap = 1.85                      # distance between unrolled columns
    fold_x = 0.75
    equals_x = fold_x + 2.0
    h0_x = equals_x + 1.1
    first_x = h0_x + gap
    left, right = 0.05, first_x + gap * (steps - 1) + _BOX_W / 2 + 0.15
    right = max(right, 9.6)         # room for the caption when steps is small
    bottom, top = -1.75, _ROW_Y["y"] + _BOX_H / 2 + 0.1
    scale = 0.82                    # inches per data unit
    fig, ax = plt.subplots(figsize=(scale * (right - left), scale * (top - bottom)))
    fig.subplots_adjust(left=0, right=1, top=1, bottom=0)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.axis("off")

    # folded cell with its self-loop
    _column(ax, fold_x, "t")
    hy, half_w, half_h = _ROW_Y["h"], _BOX_W / 2, _BOX_H / 2
    edge = fold_x + half_w           # the loop is a cubic Bezier curve in data units, so it scales with the figure
    loop = MplPath([(edge, hy - 0.16), (edge + 0.75, hy - 0.6), (edge + 0.75, hy + 0.6), (edge, hy + 0.16)],
                [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])
    ax.add_patch(FancyArrowPatch(path=loop, arrowstyle="-|>", mutation_scale=14, lw=1.4, color=_EDGES["h"]))
    ax.text(edge + 0.66, hy, r"$W_{hh}$", ha="left", va="center", fontsize=11, color=_EDGES["h"])
    ax.text(fold_x, -0.55, "folded", ha="center", va="top", fontsize=11, style="italic", color="0.35")

    ax.text(equals_x, hy, "=", ha="center", va="center", fontsize=30, color="0.3")

    # unrolled chain, starting from the initial state h_0
    ax.add_patch(FancyBboxPatch((h0_x - 0.38, hy - half_h), 0.76, _BOX_H,
                                boxstyle="round,pad=0,rounding_size=0.12", fc="white", ec=_EDGES["h"],
                                lw=1.4, ls="--"))
    ax.text(h0_x, hy, r"$\mathbf{h}_0$", ha="center", va="center", fontsize=14)
    ax.text(h0_x, hy - half_h - 0.12, "(zeros)", ha="center", va="top", fontsize=9, color="0.35")
    previous_right = h0_x + 0.38
    for i in range(steps):
        cx = first_x + gap * i
        _column(ax, cx, i + 1)
        _arrow(ax, (previous_right, hy), (cx - half_w, hy), r"$W_{hh}$", label_side="above", colour=_EDGES["h"])
        previous_right = cx + half_w
    ax.text(first_x + gap * (steps - 1) / 2, -0.55, f"unrolled over T = {steps} time steps", ha="center",
            va="top", fontsize=11, style="italic", color="0.35")

    middle = (left + right) / 2
    ax.text(middle, -1.05, r"The same weights $W_{xh}$, $W_{hh}$, $W_{hy}$ (and biases) are used at every time step",
            ha="center", va="top", fontsize=11)
    ax.text(middle, -1.45,
            r"$\mathbf{h}_t = \tanh(W_{xh}\,\mathbf{x}_t + W_{hh}\,\mathbf{h}_{t-1} + \mathbf{b}_h)$"
            r"$\qquad \mathbf{y}_t = W_{hy}\,\mathbf{h}_t + \mathbf{b}_y$",
            ha="center", va="top", fontsize=12)
    return fig
