"""Tests for course_utils.training (the shared loop) and course_utils.bag_of_words (the shared baseline)."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from course_utils.bag_of_words import bag_of_words_dataset, bag_of_words_model, multi_hot  # noqa: E402
from course_utils.training import (EpochTimer, WeightSnapshots, average_weights, compile_binary_classifier,  # noqa: E402
                                   fit_for_epochs, fit_with_early_stopping)


def test_epoch_timer_records_one_time_per_epoch():
    inp = keras.Input(shape=(3,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(optimizer="sgd", loss="mse")
    timer = EpochTimer()
    model.fit(np.zeros((8, 3)), np.zeros((8, 1)), epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3 and timer.per_epoch > 0


class _ScriptedValidation(keras.callbacks.Callback):
    """Overwrites val_accuracy with a fixed sequence, so early stopping sees known values."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_accuracy"] = self.values[epoch]


def test_fit_with_early_stopping_keeps_the_best_validation_epoch(monkeypatch):
    keras.utils.set_random_seed(0)
    model = compile_binary_classifier(bag_of_words_model(4))
    x, y = np.eye(4, dtype="float32")[[0, 1, 2, 3] * 4], np.array([0, 1, 0, 1] * 4)
    weights = []
    script = _ScriptedValidation([0.6, 0.8, 0.7, 0.65, 0.9])
    snapshot = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    original_fit = model.fit
    monkeypatch.setattr(model, "fit", lambda *a, callbacks, **k: original_fit(*a, callbacks=[script, snapshot,
                                                                                             *callbacks], **k))
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    run = fit_with_early_stopping(model, data, data, epochs=5, patience=1, monitor="val_accuracy")
    assert run.history["val_accuracy"] == [0.6, 0.8, 0.7]          # stopped one epoch after the best
    assert (run.epochs_run, run.best_epoch, run.best) == (3, 2, 0.8)
    for got, want in zip(model.get_weights(), weights[1]):          # holds epoch 2's weights, not epoch 3's
        np.testing.assert_array_equal(got, want)
    assert run.seconds_per_epoch > 0


def test_weight_snapshots_keep_every_epoch_and_average_them():
    keras.utils.set_random_seed(0)
    model = compile_binary_classifier(bag_of_words_model(4), learning_rate=0.1)
    x, y = np.eye(4, dtype="float32")[[0, 1, 2, 3] * 4], np.array([0, 1, 0, 1] * 4)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    snapshots = WeightSnapshots()
    timer = fit_for_epochs(model, data, epochs=3, callbacks=(snapshots,))
    assert len(timer.seconds) == 3 and len(snapshots.weights) == 3
    for got, want in zip(model.get_weights(), snapshots.weights[-1]):      # the last snapshot is the model now
        np.testing.assert_array_equal(got, want)
    first, second = snapshots.weights[0][0], snapshots.weights[1][0]
    assert not np.array_equal(first, second)                               # copies, not views of one buffer
    mean = average_weights(snapshots.weights[:2])
    np.testing.assert_allclose(mean[0], (first + second) / 2, rtol=1e-6)
    assert [w.dtype for w in mean] == [w.dtype for w in snapshots.weights[0]]
    with pytest.raises(ValueError, match="at least one"):
        average_weights([])


def test_multi_hot_matches_text_vectorization():
    vocab = ["", "[UNK]", "good", "bad", "film"]
    vectorizer = keras.layers.TextVectorization(vocabulary=vocab[2:], output_mode="multi_hot")
    ids = keras.layers.TextVectorization(vocabulary=vocab[2:])(tf.constant(["good good film", "awful bad"]))
    np.testing.assert_array_equal(multi_hot(ids, len(vocab)), vectorizer(tf.constant(["good good film",
                                                                                       "awful bad"])))
    padded = tf.constant([[2, 0, 0]])                               # padding (id 0) has no column
    np.testing.assert_array_equal(multi_hot(padded, len(vocab)), [[0, 1, 0, 0]])


def test_bag_of_words_dataset_from_texts_and_from_ids():
    vectorizer = keras.layers.TextVectorization(vocabulary=["good", "bad"], output_mode="multi_hot")
    texts = np.array(["good", "bad", "good bad", "meh", "bad bad"], dtype=object)
    labels = np.array([1, 0, 1, 0, 0])
    batches = list(bag_of_words_dataset(texts, labels, vectorizer, batch_size=2))
    assert [len(y) for _, y in batches] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]),
                                  [[0, 1, 0], [0, 0, 1], [0, 1, 1], [1, 0, 0], [0, 0, 1]])
    ids = np.array([[2, 0], [3, 3]])
    (x, y), = bag_of_words_dataset(ids, labels[:2], lambda i: multi_hot(i, 4), batch_size=8)
    np.testing.assert_array_equal(x, [[0, 1, 0], [0, 0, 1]])
    shuffled = [y.numpy().tolist() for _, y in bag_of_words_dataset(texts, labels, vectorizer, batch_size=1,
                                                                      shuffle=True, seed=3)]
    assert sorted(sum(shuffled, [])) == sorted(labels.tolist())
