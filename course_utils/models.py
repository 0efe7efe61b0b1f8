"""Saving and loading course models with clear errors.

    model.save("sentiment.keras")
    model = load_model("sentiment.keras")   # a readable ValueError when the file is missing or not a Keras model

Importing this module registers the course's custom objects (``course_utils.text.standardize_text``,
``course_utils.attention.AttentionLayer``), so models that use them load without ``custom_objects``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import keras

import course_utils.attention  # noqa: F401  (registers AttentionLayer)
import course_utils.text  # noqa: F401  (registers standardize_text)

__all__ = ["load_model", "KeepLastTokens", "length_bucketed_dataset", "length_sorted_dataset", "predict_in_order",
           "EpochTimer"]


def load_model(path, *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model file; raise a ``ValueError`` that says what is wrong when it is not one.

    A ``.keras`` file is a zip archive holding ``config.json`` (the architecture) and the weights. A missing file,
    another kind of file (a CSV, a notebook, a legacy ``.h5``), or a damaged archive each give a one-line message
    naming the file, instead of a traceback from deep inside Keras.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no model file at {path}: save one first with model.save({str(path)!r})")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a model file; Keras 3 models are single .keras files")
    if path.suffix != ".keras":
        raise ValueError(f"{path} is not a .keras file (suffix {path.suffix or 'none'!r}); Keras 3 saves models "
                         "as .keras files: model.save('name.keras')")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras model: a .keras file is a zip archive and this file is not one "
                         f"({path.stat().st_size} bytes; was it truncated or overwritten?)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    if "config.json" not in names:
        raise ValueError(f"{path} is a zip archive but not a Keras model: it has no config.json "
                         f"(it holds {sorted(names)[:5]})")
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # damaged weights, unknown custom layers, version mismatch
        raise ValueError(f"{path} looks like a Keras model but could not be loaded: "
                         f"{type(error).__name__}: {error}") from error


# ------------------------------------------------------------------------------------------ truncation


@keras.saving.register_keras_serializable(package="course_utils")
class KeepLastTokens(keras.layers.Layer):
    """Keep the **last** ``length`` real tokens of each sequence: ``(batch, L)`` ids -> ``(batch, length)`` ids.

    Input: integer ids padded with 0 at the end (what ``TextVectorization(output_sequence_length=None)`` gives).
    Output: the final ``length`` non-padding tokens of each row, left-aligned and padded with 0 at the end, so
    masking works as usual. ``TextVectorization`` itself can only keep the first tokens; reviews tend to end with
    their verdict, so the end is the part worth keeping. Registered, so a model using it saves and loads.
    """

    def __init__(self, length: int = 200, **kwargs):
        super().__init__(**kwargs)
        if int(length) < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        self.length = int(length)

    def call(self, ids):
        from keras import ops

        ids = ops.convert_to_tensor(ids)
        n = self.length
        padded = ops.concatenate([ids, ops.zeros((ops.shape(ids)[0], n), dtype=ids.dtype)], axis=1)
        lengths = ops.sum(ops.cast(ops.not_equal(ids, 0), "int32"), axis=1)
        start = ops.maximum(lengths - n, 0)
        positions = ops.expand_dims(start, 1) + ops.expand_dims(ops.arange(n, dtype="int32"), 0)
        return ops.take_along_axis(padded, ops.cast(positions, "int32"), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.length)

    def get_config(self):
        config = super().get_config()
        config.update({"length": self.length})
        return config


# ------------------------------------------------------------------------------------------ input pipeline


def length_bucketed_dataset(token_ids, labels, *, batch_size: int = 128, shuffle: bool = False, seed: int = 42,
                            boundaries=(50, 100, 150)):
    """A ``tf.data`` pipeline over already-vectorised reviews that wastes little time on padding.

    ``token_ids``: int array ``(n, T)`` padded with 0 at the end (what ``TextVectorization`` returns).
    Each review is cut back to its real length, reviews of similar length are batched together
    (``bucket_by_sequence_length``, boundaries in tokens), and each batch is padded only to its longest review.
    An LSTM then runs ~mean length steps per batch instead of always ``T``. With ``shuffle=True`` the order of
    reviews (and so of batches) changes every epoch; without, the order is fixed (for evaluation).
    Labels come back in the pipeline's order, so evaluate with ``model.evaluate(ds)``, not against ``labels``.
    """
    import numpy as np
    import tensorflow as tf

    token_ids = np.asarray(token_ids)
    labels = np.asarray(labels)
    ds = tf.data.Dataset.from_tensor_slices((token_ids, labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)

    def trim(ids, label):
        n = tf.maximum(tf.reduce_sum(tf.cast(ids > 0, tf.int32)), 1)   # keep one step for an empty review
        return ids[:n], label

    ds = ds.map(trim, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.bucket_by_sequence_length(lambda ids, label: tf.shape(ids)[0], list(boundaries),
                                      [batch_size] * (len(boundaries) + 1), pad_to_bucket_boundary=False)
    if not shuffle:
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE)


def _lengths(token_ids):
    import numpy as np

    return np.maximum((np.asarray(token_ids) > 0).sum(axis=1), 1)


def length_sorted_dataset(token_ids, labels=None, *, batch_size: int = 256):
    """Reviews sorted by length, each batch padded only to its longest review; for validation and prediction.

    Returns ``(dataset, order)``: the dataset yields ``ids`` (or ``(ids, labels)``) for reviews
    ``order[0], order[1], ...`` of the input, so ``probs[order] = model.predict(dataset)`` restores the input order.
    """
    import numpy as np
    import tensorflow as tf

    token_ids = np.asarray(token_ids)
    lengths = _lengths(token_ids)
    order = np.argsort(lengths, kind="stable")
    batches = []
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        batches.append(token_ids[idx, :lengths[idx].max()])

    def gen():
        for b in batches:
            yield b

    spec = tf.TensorSpec(shape=(None, None), dtype=tf.as_dtype(token_ids.dtype))
    ds = tf.data.Dataset.from_generator(gen, output_signature=spec)
    if labels is not None:
        sorted_labels = np.asarray(labels)[order]
        label_ds = tf.data.Dataset.from_tensor_slices(sorted_labels).batch(batch_size)
        ds = tf.data.Dataset.zip((ds, label_ds))
    return ds.cache().prefetch(tf.data.AUTOTUNE), order


def predict_in_order(model, token_ids, *, batch_size: int = 256):
    """``model.predict`` on length-sorted batches (fast), with the results put back in the input order.

    For a model with one output per review (e.g. the probability of "positive"), not per-word outputs.
    """
    import numpy as np

    ds, order = length_sorted_dataset(token_ids, batch_size=batch_size)
    outputs = np.asarray(model.predict(ds, verbose=0))
    result = np.empty_like(outputs)
    result[order] = outputs
    return result


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch in ``self.seconds`` (training plus validation)."""

    def on_train_begin(self, logs=None):
        import time

        self._clock = time.perf_counter
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._clock()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self._clock() - self._start)

    @property
    def per_epoch(self) -> float:
        return sum(self.seconds) / max(len(self.seconds), 1)
