"""ConcatPooling: max and mean over the real steps only, against NumPy; an all-padding row; a .keras round trip."""
import keras
import numpy as np

from course_utils.pooling import ConcatPooling


def test_max_and_mean_ignore_padded_steps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    lengths = [5, 2, 3]
    mask = np.arange(5)[None, :] < np.array(lengths)[:, None]
    x[~mask] = 100.0                                            # padding that would win the max and shift the mean
    out = np.asarray(ConcatPooling()(x, mask=mask))
    for row, n in enumerate(lengths):
        np.testing.assert_allclose(out[row, :4], x[row, :n].max(axis=0), rtol=1e-6)
        np.testing.assert_allclose(out[row, 4:], x[row, :n].mean(axis=0), rtol=1e-6)


def test_an_all_padding_row_gives_zeros_and_no_mask_means_every_step():
    x = np.ones((2, 3, 2), dtype="float32")
    mask = np.array([[False] * 3, [True] * 3])
    out = np.asarray(ConcatPooling()(x, mask=mask))
    assert out[0].tolist() == [0.0] * 4 and out[1].tolist() == [1.0] * 4
    np.testing.assert_allclose(np.asarray(ConcatPooling()(x)), 1.0)


def test_masks_flow_from_an_embedding_and_the_model_reloads(tmp_path):
    inp = keras.Input((None,), dtype="int32")
    seq = keras.layers.GRU(3, return_sequences=True)(keras.layers.Embedding(10, 4, mask_zero=True)(inp))
    model = keras.Model(inp, ConcatPooling()(seq))
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 6]])
    path = tmp_path / "pool.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again(ids), model(ids), rtol=1e-6)
    short = np.asarray(model(ids[:1, :2]))                       # the same review without its padding
    np.testing.assert_allclose(np.asarray(model(ids[:1]))[0], short[0], rtol=1e-5, atol=1e-6)
