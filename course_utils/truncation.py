"""Keep the end of a text: a Keras layer that keeps the last ``length`` tokens of each sequence, and a helper that
encodes whole reviews that way."""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["KeepLastTokens", "encode_last_tokens"]


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


def encode_last_tokens(vectorizer, texts, length: int = 200, batch_size: int = 1_000) -> np.ndarray:
    """Ids of the last ``length`` words of every text, padded with 0 at the end: an int array ``(len(texts), length)``.

    ``vectorizer`` must keep every word (``make_word_vectorizer(..., sequence_length=None)``): one that truncates
    has already dropped the end. Texts are encoded ``batch_size`` at a time, so memory follows the batch's longest text.
    """
    if vectorizer.get_config().get("output_sequence_length") is not None:
        raise ValueError("the vectorizer truncates to its first words; build it with sequence_length=None so that "
                         "encode_last_tokens sees the end of each text")
    keep_last = KeepLastTokens(length)
    parts = [keep_last(vectorizer(texts[start:start + batch_size])).numpy()
             for start in range(0, len(texts), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, length), dtype="int64")
