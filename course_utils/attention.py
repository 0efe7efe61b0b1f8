"""Attention pooling over the outputs of a recurrent layer, as a registered, serialisable Keras layer.

For a sequence of hidden states ``h_1 .. h_T`` (shape ``(batch, T, d)``) the layer computes, for each step,

    e_t     = v^T tanh(W h_t + b)                  (additive, "Bahdanau" scores; W: (d, units), b: (units,), v: (units, 1))
    alpha_t = exp(e_t) / sum_{s unmasked} exp(e_s)   for unmasked t, and alpha_t = 0 on padding
    context = sum_t alpha_t h_t                      (shape (batch, d))

and returns ``(context, weights)`` with ``weights`` of shape ``(batch, T, 1)``. Padding positions (from a Keras
mask, e.g. ``Embedding(mask_zero=True)`` followed by ``LSTM(return_sequences=True)``) are excluded from the softmax,
so their weights are exactly 0 and the weights of a review sum to 1 over its real words.

Compared with the Keras 2 attention layer this course was first written with (notebook 08 shows both), this one
has ``build`` and ``get_config`` and is registered, so a model that uses it saves to ``.keras`` and loads back; it
has no per-position bias, so it works for any sequence length; and its scores are not squashed into [-1, 1] by a
final ``tanh``, so the weights can be peaked.

    seq = keras.layers.LSTM(64, return_sequences=True)(embedded)    # (batch, T, 64), carries the padding mask
    context, weights = AttentionLayer(units=32)(seq)                # (batch, 64), (batch, T, 1)
"""
from __future__ import annotations

import keras
from keras import ops

__all__ = ["AttentionLayer"]


@keras.saving.register_keras_serializable(package="course_utils")
class AttentionLayer(keras.layers.Layer):
    """Additive attention pooling: ``(batch, T, d)`` -> ``(context (batch, d), weights (batch, T, 1))``.

    ``units``: size of the hidden layer of the scoring network ``v^T tanh(W h + b)``.
    A row whose positions are all masked gets all-zero weights and a zero context (no NaN).
    """

    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError("AttentionLayer expects inputs of shape (batch, time, features) with a known "
                             f"feature size; got {input_shape}. Use return_sequences=True on the RNN before it.")
        d = int(input_shape[-1])
        self.W = self.add_weight(name="W", shape=(d, self.units), initializer="glorot_uniform")
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
        self.v = self.add_weight(name="v", shape=(self.units, 1), initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        scores = ops.matmul(ops.tanh(ops.matmul(inputs, self.W) + self.b), self.v)      # (batch, T, 1)
        if mask is None:
            weights = ops.softmax(scores, axis=1)
        else:
            keep = ops.expand_dims(ops.cast(mask, scores.dtype), -1)                    # (batch, T, 1), 1 = real word
            # shift by the largest unmasked score for stability, then zero the padding exactly
            very_negative = ops.convert_to_tensor(-1e9, dtype=scores.dtype)
            shifted = scores - ops.max(ops.where(keep > 0, scores, very_negative), axis=1, keepdims=True)
            exp = ops.exp(ops.where(keep > 0, shifted, ops.zeros_like(shifted))) * keep
            total = ops.sum(exp, axis=1, keepdims=True)
            weights = exp / ops.maximum(total, ops.convert_to_tensor(1e-12, dtype=scores.dtype))
        context = ops.sum(weights * inputs, axis=1)                                       # (batch, d)
        return context, weights

    def compute_mask(self, inputs, mask=None):
        return [None, None]             # the context has no time axis; the weights are already zero on padding

    def compute_output_shape(self, input_shape):
        batch, steps, d = input_shape
        return (batch, d), (batch, steps, 1)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
