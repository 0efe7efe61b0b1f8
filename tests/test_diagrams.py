"""course_utils.diagrams: every diagram draws and labels what the chapters' prose names."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import diagrams  # noqa: E402


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_the_lstm_cell_labels_its_gates_states_and_products():
    texts = _texts(diagrams.draw_lstm_cell())
    for label in (r"$f_t$", r"$i_t$", r"$\tilde C_t$", r"$o_t$", r"$C_{t-1}$", r"$C_t$", r"$h_{t-1}$", r"$h_t$",
                  r"$x_t$", r"$C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t$", r"$h_t = o_t \odot \tanh(C_t)$"):
        assert label in texts, label
    assert texts.count("⊙") == 3 and texts.count("+") == 1 and texts.count(r"$\sigma$") == 3


def test_the_gru_cell_follows_chapter_3s_convention():
    texts = _texts(diagrams.draw_gru_cell())
    for label in (r"$z_t$", r"$r_t$", r"$\tilde h_t$", r"$h_{t-1}$", r"$h_t$", r"$x_t$", "1−",
                  r"$h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$"):
        assert label in texts, label
    assert texts.count("⊙") == 3 and texts.count("+") == 1


@pytest.mark.parametrize("steps", [2, 4, 6])
def test_the_bptt_graph_has_every_step_and_the_w_hh_gradient(steps):
    fig = diagrams.draw_bptt_graph(steps)
    texts = _texts(fig)
    for t in range(1, steps + 1):
        for node in ("x", "a", "h", "y", "L"):
            assert rf"${node}_{t}$" in texts
    assert r"$h_0$" in texts and texts.count(r"$W_{hh}$") == steps
    assert any(r"\partial L/\partial W_{hh}" in t for t in texts)
    assert any(r"$L_t, \dots, L_T$ of that step and every later one" in t for t in texts)   # delta a_t: later losses
    red = [p for p in fig.axes[0].patches if getattr(p, "get_edgecolor", None) and
           tuple(round(c, 3) for c in p.get_edgecolor()[:3]) == tuple(round(c, 3) for c in
                                                                    matplotlib.colors.to_rgb(diagrams._GRAD))]
    assert len(red) == 2 * steps          # per step: its loss into h_t, and h_t back to h_{t-1}


def test_bptt_graph_rejects_a_size_that_does_not_fit():
    with pytest.raises(ValueError, match="between 2 and 6"):
        diagrams.draw_bptt_graph(9)


def test_masking_shows_the_mask_and_the_copied_final_state():
    lengths = (5, 3, 4)
    fig = diagrams.draw_masking(lengths, max_len=6)
    left, right = ([t.get_text() for t in ax.texts] for ax in fig.axes)
    assert left.count("True") == sum(lengths) and left.count("False") == 3 * 6 - sum(lengths)
    for n in lengths:       # the last column holds each review's final state: the state after its last real token
        assert right.count(rf"$h_{{{n}}}$") >= 6 - n + 1
    assert right.count("final state") == 3
    with pytest.raises(ValueError, match="max_len"):
        diagrams.draw_masking((7,), max_len=6)


def test_the_bidirectional_layer_names_both_directions_and_every_merge_mode():
    fig = diagrams.draw_bidirectional()
    assert isinstance(fig, matplotlib.figure.Figure)
    texts = _texts(fig)
    for t in ("1", "2", "3", "T"):           # chapter 8: x_1 ... x_T, the states →h_t and ←h_t
        for label in (rf"$x_{t}$", rf"$\overrightarrow{{h}}_{t}$", rf"$\overleftarrow{{h}}_{t}$"):
            assert label in texts, label
    assert r"$\overrightarrow{h}_t$" in texts and r"$\overleftarrow{h}_t$" in texts
    assert any("Bidirectional(LSTM(n))" in t and r"$x_1 \dots x_T$" in t for t in texts)
    # chapter 8's merge_mode table: each mode's formula and output size, exactly as its prose writes them
    table = {"concat": (r"$[\overrightarrow{h};\overleftarrow{h}]$", "$2n$"),
             "sum": (r"$\overrightarrow{h}+\overleftarrow{h}$", "$n$"),
             "mul": (r"$\overrightarrow{h}\odot\overleftarrow{h}$", "$n$"),
             "ave": (r"$(\overrightarrow{h}+\overleftarrow{h})/2$", "$n$")}
    for mode, (formula, _) in table.items():
        assert f'"{mode}"' in texts and formula in texts, mode
    assert texts.count("$2n$") == 1 and texts.count("$n$") == 3
    # the drawn output has one square per unit: 2n for concat, n for the others
    squares = {mode: sum(p.get_gid() == f"merge_{mode}" for p in fig.axes[0].patches) for mode in table}
    assert squares == {"concat": 8, "sum": 4, "mul": 4, "ave": 4}


def test_bidirectional_draws_a_selection_of_modes_and_rejects_unknown_ones():
    texts = _texts(diagrams.draw_bidirectional(merge_modes=("concat", "ave"), steps=3, units=2))
    assert '"concat"' in texts and '"ave"' in texts and '"sum"' not in texts and r"$x_T$" in texts
    with pytest.raises(ValueError, match="merge_modes must be"):
        diagrams.draw_bidirectional(merge_modes=("max",))
    with pytest.raises(ValueError, match="between 2 and 6"):
        diagrams.draw_bidirectional(steps=9)


def _weight_artists(fig, kind):
    found = {p.get_gid(): p for p in fig.axes[0].patches if str(p.get_gid()).startswith(f"alpha_{kind}_")}
    return [found.get(f"alpha_{kind}_{t}") for t in range(1, len(found) + 1)]


def test_the_attention_diagram_labels_scores_softmax_weights_and_context():
    fig = diagrams.draw_attention_context()
    assert isinstance(fig, matplotlib.figure.Figure)
    texts = _texts(fig)
    for label in (r"$h_1$", r"$h_T$", r"$e_1$", r"$\alpha_1$", r"$\alpha_T$", r"$c$", r"$c = \sum_t \alpha_t h_t$",
                  r"score $e_t = v^\top \tanh(W h_t + b)$", r"$\alpha_t = \exp(e_t) / \sum_s \exp(e_s)$",
                  "softmax over the unmasked steps", "context vector", 'Dense(1, "sigmoid")', "Σ"):
        assert label in texts, label
    assert any(r"$h_1 \dots h_T$" in t for t in texts)
    # the default weights are the softmax of fixed illustrative scores, and the bars are drawn in proportion
    scores = np.array(diagrams._ILLUSTRATIVE_SCORES)
    softmax = np.exp(scores) / np.exp(scores).sum()
    heights = np.array([bar.get_height() for bar in _weight_artists(fig, "bar")])
    np.testing.assert_allclose(heights / heights.sum(), softmax)
    assert any(t.endswith(r"$\sum_t \alpha_t$ = 1.00") for t in texts)


@pytest.mark.parametrize("weights", [[0.5, 0.3, 0.2], [0.1, 0.6, 0.05, 0.25, 0.0, 0.0]])
def test_attention_bars_and_arrow_widths_are_proportional_to_the_weights(weights):
    fig = diagrams.draw_attention_context(weights)
    heights = np.array([bar.get_height() for bar in _weight_artists(fig, "bar")])
    np.testing.assert_allclose(heights / heights.sum(), weights)
    arrows = _weight_artists(fig, "arrow")
    drawn = [w for w in weights if w > 0]
    assert len([a for a in arrows if a is not None]) == len(drawn)   # no arrow from a step with weight 0 (padding)
    widths = np.array([a.get_linewidth() for a in arrows if a is not None])
    np.testing.assert_allclose(widths / widths.sum(), drawn)
    texts = _texts(fig)
    for t, w in enumerate(weights, start=1):
        name = "T" if t == len(weights) else t
        assert rf"$\alpha_{name}$ = {w:.2f}" in texts


@pytest.mark.parametrize("weights, message", [
    ([0.6, -0.1, 0.5], "finite number >= 0.*softmax\\(scores\\)"),
    ([0.5, 0.3, 0.1], "must sum to 1.*sum to 0.9.*Divide them by their sum"),
    ([1.0], "between 2 and 8"),
    ([0.1] * 10, "between 2 and 8"),
    ([[0.5, 0.5]], "one weight per time step"),
])
def test_attention_rejects_weights_that_are_not_a_softmax_over_a_few_steps(weights, message):
    with pytest.raises(ValueError, match=message):
        diagrams.draw_attention_context(weights)
