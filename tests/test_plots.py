"""course_utils.plots: every function returns a Figure with the expected content; Chinese text renders."""
import io
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils import plots  # noqa: E402

POEM = "床前明月光，疑是地上霜。"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def missing_glyph_warnings(fig):
    """Render ``fig`` to PNG and return the 'Glyph ... missing from font(s)' warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=40)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ------------------------------------------------------------------------------------------------ Chinese text

def test_chinese_renders_without_missing_glyphs():
    fig, ax = plt.subplots()
    ax.set_title(POEM)
    ax.text(0.1, 0.5, "举头望明月 (Li Bai, 0.5)")
    ax.set_xlabel("低头思故乡")
    assert missing_glyph_warnings(fig) == []


def test_negative_control_latin_only_font_reports_missing_glyphs():
    fig, ax = plt.subplots()
    ax.set_title(POEM, family="DejaVu Sans")       # no CJK fallback for this text
    missing = missing_glyph_warnings(fig)
    assert missing and any("CJK UNIFIED IDEOGRAPH" in m for m in missing)


def test_latin_font_stays_first_and_cjk_is_the_fallback():
    family = matplotlib.rcParams["font.family"]
    assert plots.CJK_FONT == "Noto Sans CJK SC" and family[-1] == plots.CJK_FONT
    assert plots.CJK_FONT in matplotlib.rcParams["font.sans-serif"]
    latin = font_manager.findfont(font_manager.FontProperties(family=[family[0]]))
    assert "DejaVuSans" in latin
    chain = font_manager.fontManager._find_fonts_by_props(font_manager.FontProperties())
    assert any("NotoSansCJK" in str(path) for path in chain)


def test_use_cjk_font_is_idempotent_and_restores_after_reset():
    with matplotlib.rc_context():
        plots.use_cjk_font()
        assert matplotlib.rcParams["font.family"].count(plots.CJK_FONT) == 1
        matplotlib.rcdefaults()
        assert plots.CJK_FONT not in matplotlib.rcParams["font.family"]
        plots.use_cjk_font()
        assert plots.CJK_FONT in matplotlib.rcParams["font.family"]


def test_missing_font_package_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(plots.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="mplfonts"):
        plots.use_cjk_font()


def test_missing_font_file_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(plots, "CJK_FONT_FILE", "NoSuchFont.otf")
    with pytest.raises(FileNotFoundError, match="NoSuchFont.otf.*reinstall"):
        plots.use_cjk_font()


# ----------------------------------------------------------------------------------------------- plot_history

HISTORY = {
    "loss": [0.7, 0.5, 0.4, 0.35, 0.3], "val_loss": [0.65, 0.5, 0.45, 0.47, 0.5],
    "accuracy": [0.5, 0.7, 0.8, 0.85, 0.88], "val_accuracy": [0.55, 0.72, 0.79, 0.81, 0.78],
}


class FakeHistory:  # what model.fit returns: an object with a .history dict
    history = HISTORY


@pytest.mark.parametrize("history", [HISTORY, FakeHistory()])
def test_history_panels_lines_and_best_epoch(history):
    fig = plots.plot_history(history)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"
    train, val = loss_ax.lines[:2]
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(val.get_ydata(), HISTORY["val_loss"])
    assert legend_labels(loss_ax)[:2] == ["training", "validation"]
    assert "(epoch 3)" in legend_labels(loss_ax)[2]           # lowest validation loss
    assert "(epoch 4)" in legend_labels(acc_ax)[2]            # highest validation accuracy


def test_history_metric_selection():
    regression = {"loss": [3.0, 2.0], "val_loss": [2.5, 2.6], "mae": [1.0, 0.8], "val_mae": [0.9, 0.7]}
    assert [ax.get_title() for ax in plots.plot_history(regression).axes] == ["loss"]  # no accuracy: skipped
    fig = plots.plot_history(regression, metrics=("mae",))
    assert [ax.get_title() for ax in fig.axes] == ["mae"] and "(epoch 2)" in legend_labels(fig.axes[0])[2]
    with pytest.raises(KeyError, match="accuracy"):
        plots.plot_history(regression, metrics=("loss", "accuracy"))
    no_val = plots.plot_history({"loss": [1.0]})
    assert legend_labels(no_val.axes[0]) == ["training"]


# ---------------------------------------------------------------------------------------------- plot_forecast

def test_forecast_lines_and_mae_labels():
    index = pd.date_range("2015-01-01", periods=6)
    truth = np.array([1.0, 2, 3, 4, 5, 6])
    fig = plots.plot_forecast(index, truth, {"naive": [np.nan, 1, 2, 3, 4, 5], "model": truth + 0.5}, "temp")
    ax, = fig.axes
    assert ax.get_title() == "temp"
    assert legend_labels(ax) == ["truth", "naive (MAE 1)", "model (MAE 0.5)"]
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="naive"):
        plots.plot_forecast(None, truth, {"naive": truth[1:]})


# --------------------------------------------------------------------------------------------- plot_attention

WORDS = ("this movie was absolutely wonderful and the performances were extraordinary but the ending "
         "dragged a little bit too long for my taste in the end").split()


def test_attention_strip_wraps_long_sequences():
    fig = plots.plot_attention(WORDS, np.linspace(0, 1, len(WORDS)), title="review")
    ax = fig.axes[0]
    assert len(WORDS) == 25 and ax.images[0].get_array().shape == (3, 9)     # <= 12 words per row, balanced
    assert texts(fig)[:3] == ["this", "movie", "was"] and len(texts(fig)) == 25
    assert ax.get_title(loc="left") == "review"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "10", "19"]  # position of each row's first word
    assert len(fig.axes) == 2                                                # the heatmap and its colour bar


def test_attention_over_chinese_characters():
    tokens = list(POEM + "\n举头望明月，低头思故乡。")
    weights = np.random.default_rng(0).dirichlet(np.ones(len(tokens)))[:, None]  # (T, 1) is accepted
    fig = plots.plot_attention(tokens, weights, title="静夜思")
    assert fig.axes[0].images[0].get_array().shape == (2, 13)               # <= 24 characters per row, balanced
    assert texts(fig)[:5] == list("床前明月光") and "\u21b5" in texts(fig)   # newline drawn as a visible mark
    assert missing_glyph_warnings(fig) == []


def test_attention_into_given_axes_and_bad_weights():
    fig, (ax1, ax2) = plt.subplots(2, 1)
    assert plots.plot_attention(["a", "b"], [0.3, 0.7], ax=ax2) is fig
    assert ax2.images[0].get_array().shape == (1, 2)                        # short: no empty cells
    assert plots.plot_attention(["a", "b"], [0.3, 0.7], per_row=4).axes[0].images[0].get_array().shape == (1, 4)
    assert ax2.images and not ax1.images
    with pytest.raises(ValueError, match="one value per token"):
        plots.plot_attention(["a", "b", "c"], [0.5, 0.5])


def test_attention_grid_has_one_strip_per_item():
    items = [(WORDS[:5], np.full(5, 0.2), "first"), (WORDS, np.linspace(0, 1, len(WORDS)), "second"),
             (list(POEM), np.full(len(POEM), 1 / len(POEM)), POEM)]
    fig = plots.plot_attention_grid(items)
    strips = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title(loc="left") for ax in strips] == ["first", "second", POEM]
    assert [ax.images[0].get_array().shape for ax in strips] == [(1, 12), (3, 12), (1, 12)]  # same cell size
    assert missing_glyph_warnings(fig) == []


# ---------------------------------------------------------------------------------------- plot_gradient_norms

def test_gradient_norms_one_line_per_label():
    k = np.arange(1, 31)
    norms = {"SimpleRNN": 0.8 ** (30 - k), "LSTM": 0.99 ** (30 - k)}
    fig = plots.plot_gradient_norms(norms, title="vanishing")
    ax, = fig.axes
    assert [line.get_label() for line in ax.lines] == ["SimpleRNN", "LSTM"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), k)                # time steps 1..T
    assert ax.get_yscale() == "log" and "partial L" in ax.get_ylabel() and ax.get_title() == "vanishing"
    assert plots.plot_gradient_norms(norms, log=False).axes[0].get_yscale() == "linear"
    assert plots.plot_gradient_norms(norms, ylabel="relative norm").axes[0].get_ylabel() == "relative norm"
    assert missing_glyph_warnings(fig) == []


# -------------------------------------------------------------------------------------- plot_confusion_matrix

def test_confusion_matrix_counts_and_row_percentages():
    y_true = [0, 0, 0, 1, 1, 1, 1]
    fig = plots.plot_confusion_matrix(y_true, [0, 0, 1, 1, 1, 1, 0])
    ax, = fig.axes
    assert texts(fig) == ["2\n66.7%", "1\n33.3%", "1\n25.0%", "3\n75.0%"]
    assert ax.get_title().startswith("accuracy 71.4%") and "n = 7" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["negative", "positive"]
    # probabilities are thresholded at 0.5; class scores are reduced with argmax
    probs = plots.plot_confusion_matrix(y_true, np.array([[0.1], [0.2], [0.9], [0.8], [0.6], [0.7], [0.4]]))
    assert texts(probs) == texts(fig)
    scores = np.eye(3)[[0, 1, 2, 2]] * 5.0
    three = plots.plot_confusion_matrix([0, 1, 2, 1], scores, labels=("a", "b", "c"))
    assert texts(three)[4:6] == ["1\n50.0%", "1\n50.0%"]
    with pytest.raises(ValueError, match="outside"):
        plots.plot_confusion_matrix([0, 2], [0, 1])


# ------------------------------------------------------------------------------------------ draw_unrolled_rnn

@pytest.mark.parametrize("steps", [1, 4])
def test_unrolled_rnn_diagram(steps):
    fig = plots.draw_unrolled_rnn(steps)
    labels = texts(fig)
    for t in range(1, steps + 1):
        for symbol in ("x", "h", "y"):
            assert rf"$\mathbf{{{symbol}}}_{{{t}}}$" in labels
    assert rf"$\mathbf{{h}}_{{{steps + 1}}}$" not in labels
    # one W_xh and one W_hy per column (folded cell included); one W_hh per recurrent arrow plus the self-loop
    assert labels.count(r"$W_{xh}$") == labels.count(r"$W_{hy}$") == steps + 1
    assert labels.count(r"$W_{hh}$") == steps + 1
    assert "=" in labels and any("same weights" in s for s in labels)
    assert len(fig.axes[0].patches) == 5 * (steps + 1) + steps + 2       # boxes, arrows, h_0 box, self-loop
    assert missing_glyph_warnings(fig) == []


def test_unrolled_rnn_rejects_silly_sizes():
    with pytest.raises(ValueError, match="steps"):
        plots.draw_unrolled_rnn(0)
