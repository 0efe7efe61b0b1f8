"""Tests for the input pipelines of course_utils.pipelines."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_utils.pipelines import length_bucketed_dataset, length_sorted_dataset, predict_in_order  # noqa: E402


def _ids(n=37, T=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, T), dtype="int32")
    lengths = rng.integers(0, T + 1, size=n)
    for i, length in enumerate(lengths):
        ids[i, :length] = rng.integers(1, 50, size=length)
    return ids, lengths


def test_bucketed_dataset_yields_every_review_once_trimmed():
    ids, lengths = _ids()
    labels = np.arange(len(ids))                     # labels identify the reviews
    seen = []
    for batch, y in length_bucketed_dataset(ids, labels, batch_size=5, shuffle=True, boundaries=(4, 8)):
        batch, y = np.asarray(batch), np.asarray(y)
        assert batch.shape[1] == max(1, max(lengths[y]))            # padded only to the longest in the batch
        for row, i in zip(batch, y):
            np.testing.assert_array_equal(row[:lengths[i]], ids[i, :lengths[i]])
            assert not row[lengths[i]:].any()
        seen.extend(y.tolist())
    assert sorted(seen) == labels.tolist()


def test_predict_in_order_restores_the_input_order():
    ids, lengths = _ids(n=50)
    inp = keras.Input(shape=(None,), dtype="int32")
    # a "model" whose output is the sum of the ids of each review: order errors are visible
    out = keras.layers.Lambda(lambda t: keras.ops.sum(keras.ops.cast(t, "float32"), axis=1, keepdims=True))(inp)
    model = keras.Model(inp, out)
    pred = predict_in_order(model, ids, batch_size=8)
    np.testing.assert_allclose(pred[:, 0], ids.sum(axis=1))
    ds, order = length_sorted_dataset(ids, np.arange(50), batch_size=8)
    assert np.all(np.diff(np.maximum(lengths, 1)[order]) >= 0)      # an empty review counts as 1 step
    got = np.concatenate([np.asarray(y) for _, y in ds])
    np.testing.assert_array_equal(got, order)

