"""Concat pooling over the outputs of a recurrent layer: the element-wise maximum and the mean over the real
(unmasked) steps, side by side, as a registered, serialisable Keras layer.

    seq, fwd, bwd = layers.Bidirectional(layers.GRU(64, return_sequences=True, return_state=True))(embedded)
    features = layers.Concatenate()([fwd, bwd, ConcatPooling()(seq)])     # [last states, max, mean]

The last state alone must carry a whole review; the maximum keeps the strongest evidence of every unit wherever
it occurred, and the mean its overall drift (Howard & Ruder 2018 call the three together "concat pooling").
Padding is excluded from both: a padded step never wins the maximum and does not dilute the mean.
"""
from __future__ import annotations

import keras
from keras import ops

__all__ = ["ConcatPooling"]


@keras.saving.register_keras_serializable(package="course_utils")
class ConcatPooling(keras.layers.Layer):
    """``(batch, T, d)`` with a mask -> ``(batch, 2 d)``: ``[max over real steps, mean over real steps]``.
    A row with no real step gives zeros."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        real = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)                  # (batch, T, 1)
        count = ops.sum(real, axis=1)                                             # (batch, 1)
        mean = ops.sum(inputs * real, axis=1) / ops.maximum(count, 1.0)
        lowest = ops.min(inputs) - 1.0
        maximum = ops.max(ops.where(real > 0, inputs, lowest), axis=1)
        maximum = ops.where(count > 0, maximum, ops.zeros_like(maximum))
        return ops.concatenate([maximum, mean], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])
