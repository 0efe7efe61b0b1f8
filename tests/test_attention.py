"""Tests for course_utils.attention.AttentionLayer and course_utils.saving.load_model."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_utils.attention import AttentionLayer  # noqa: E402
from course_utils.saving import load_model  # noqa: E402

VOCAB, T, D = 50, 7, 6


def _ids():
    """Three padded sequences: lengths 7, 4 and 1 (0 = padding)."""
    ids = np.zeros((3, T), dtype="int32")
    ids[0, :] = np.arange(1, T + 1)
    ids[1, :4] = [5, 9, 2, 30]
    ids[2, :1] = [11]
    return ids


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 8, mask_zero=True)(inp)
    x = keras.layers.LSTM(D, return_sequences=True)(x)
    context, weights = AttentionLayer(units=5, name="attention")(x)
    out = keras.layers.Dense(1, activation="sigmoid")(context)
    return keras.Model(inp, [out, context, weights])


def test_weights_sum_to_one_over_real_words_and_zero_on_padding():
    ids = _ids()
    _, context, weights = _model()(ids)
    weights = np.asarray(weights)
    assert weights.shape == (3, T, 1)
    real = ids > 0
    np.testing.assert_allclose((weights[..., 0] * real).sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(weights[..., 0][~real] == 0.0)          # exactly zero, not just small
    assert np.all(weights[..., 0][real] > 0.0)
    assert np.asarray(context).shape == (3, D)


def test_matches_a_numpy_reference_and_ignores_padding_values():
    layer = AttentionLayer(units=4)
    rng = np.random.default_rng(0)
    h = rng.normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    context, weights = layer(h, mask=mask)
    W, b, v = (np.asarray(w) for w in (layer.W, layer.b, layer.v))
    e = np.tanh(h @ W + b) @ v                            # (2, 5, 1)
    e = np.where(mask[..., None], e, -np.inf)
    a = np.exp(e - e.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(weights), a, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(context), (a * h).sum(axis=1), rtol=1e-5, atol=1e-6)
    # changing what sits under the padding changes nothing
    h2 = h.copy()
    h2[0, 3:] = 100.0
    context2, weights2 = layer(h2, mask=mask)
    np.testing.assert_allclose(np.asarray(weights2), np.asarray(weights), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(context2), np.asarray(context), rtol=1e-6)


def test_without_mask_is_a_plain_softmax_and_all_masked_row_gives_zeros():
    layer = AttentionLayer(units=3)
    h = np.random.default_rng(1).normal(size=(2, 4, 2)).astype("float32")
    _, weights = layer(h)
    np.testing.assert_allclose(np.asarray(weights).sum(axis=1), 1.0, rtol=1e-6)
    context, weights = layer(h, mask=np.array([[0, 0, 0, 0], [1, 0, 0, 0]], dtype=bool))
    assert np.all(np.isfinite(np.asarray(context)))
    assert np.all(np.asarray(weights)[0] == 0.0)
    np.testing.assert_allclose(np.asarray(weights)[1, :, 0], [1.0, 0, 0, 0])


def test_keras_file_round_trip_keeps_the_weights(tmp_path):
    ids = _ids()
    model = _model(seed=3)
    before = [np.asarray(t) for t in model(ids)]
    path = tmp_path / "attention.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)               # no custom_objects: the layer is registered
    assert isinstance(reloaded.get_layer("attention"), AttentionLayer)
    assert reloaded.get_layer("attention").units == 5
    after = [np.asarray(t) for t in reloaded(ids)]
    for a, b in zip(before, after):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert np.all(after[2][..., 0][ids == 0] == 0.0)


def test_config_round_trip_and_bad_arguments():
    layer = AttentionLayer(units=7, name="att")
    clone = AttentionLayer.from_config(layer.get_config())
    assert clone.units == 7 and clone.name == "att"
    with pytest.raises(ValueError, match="units"):
        AttentionLayer(units=0)
    with pytest.raises(ValueError, match="return_sequences"):
        AttentionLayer()(np.zeros((2, 3), dtype="float32"))


def test_load_model_gives_readable_errors(tmp_path):
    with pytest.raises(ValueError, match="no model file"):
        load_model(tmp_path / "missing.keras")
    text = tmp_path / "notes.keras"
    text.write_text("this is not a model")
    with pytest.raises(ValueError, match="not a Keras model"):
        load_model(text)
    csv = tmp_path / "x.csv"
    csv.write_text("a,b")
    with pytest.raises(ValueError, match="not a .keras file"):
        load_model(csv)
    import zipfile
    other = tmp_path / "other.keras"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match="no config.json"):
        load_model(other)


def test_load_model_loads_a_real_model(tmp_path):
    model = _model(seed=1)
    path = tmp_path / "m.keras"
    model.save(path)
    reloaded = load_model(path)
    np.testing.assert_allclose(np.asarray(reloaded(_ids())[0]), np.asarray(model(_ids())[0]), rtol=1e-6)


def test_keep_last_tokens_keeps_the_end_and_pads_at_the_end(tmp_path):
    from course_utils.truncation import KeepLastTokens

    ids = np.array([[5, 6, 7, 8, 9, 0, 0],      # 5 tokens -> last 3
                    [3, 4, 0, 0, 0, 0, 0],      # 2 tokens -> kept, padded
                    [0, 0, 0, 0, 0, 0, 0]],     # empty
                   dtype="int64")
    out = np.asarray(KeepLastTokens(3)(ids))
    np.testing.assert_array_equal(out, [[7, 8, 9], [3, 4, 0], [0, 0, 0]])
    # narrower input than the length
    np.testing.assert_array_equal(np.asarray(KeepLastTokens(4)(ids[:, :2])), [[5, 6, 0, 0], [3, 4, 0, 0], [0] * 4])
    inp = keras.Input(shape=(None,), dtype="int64")
    model = keras.Model(inp, KeepLastTokens(3, name="keep")(inp))
    model.save(tmp_path / "k.keras")
    reloaded = load_model(tmp_path / "k.keras")
    assert reloaded.get_layer("keep").length == 3
    np.testing.assert_array_equal(np.asarray(reloaded(ids)), out)
    with pytest.raises(ValueError, match="length"):
        KeepLastTokens(0)
