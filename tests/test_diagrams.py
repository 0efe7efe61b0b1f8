"""course_utils.diagrams: every diagram draws and labels what the chapters' prose names."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
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
