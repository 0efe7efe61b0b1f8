"""``tf.data`` pipelines over vectorised texts that spend little time on padding, and prediction in input order."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["length_bucketed_dataset", "length_sorted_dataset", "predict_in_order"]


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
    return np.maximum((np.asarray(token_ids) > 0).sum(axis=1), 1)


def length_sorted_dataset(token_ids, labels=None, *, batch_size: int = 256):
    """Reviews sorted by length, each batch padded only to its longest review; for validation and prediction.

    Returns ``(dataset, order)``: the dataset yields ``ids`` (or ``(ids, labels)``) for reviews
    ``order[0], order[1], ...`` of the input, so ``probs[order] = model.predict(dataset)`` restores the input order.
    """
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
    ds, order = length_sorted_dataset(token_ids, batch_size=batch_size)
    outputs = np.asarray(model.predict(ds, verbose=0))
    result = np.empty_like(outputs)
    result[order] = outputs
    return result
