"""The bag-of-words baseline of chapters 5 and 8: which words occur in a review, weighted by one linear layer.

    features = lambda texts: multi_hot_vectorizer(texts)       # or lambda ids: multi_hot(ids, len(vocab))
    model = compile_binary_classifier(bag_of_words_model(len(vocab) - 1))
    model.fit(bag_of_words_dataset(x_train, y_train, features, shuffle=True), ...)
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["multi_hot", "bag_of_words_model", "bag_of_words_dataset"]


def multi_hot(ids, vocab_size: int):
    """``(batch, T)`` token ids -> ``(batch, vocab_size - 1)`` 0/1 floats; column ``j - 1`` says whether id ``j``
    occurs. Id 0 is padding and gets no column, so the columns match ``TextVectorization(output_mode="multi_hot")``
    with the same vocabulary ([UNK] first, then the words)."""
    counts = tf.math.bincount(tf.cast(ids, tf.int32), minlength=vocab_size, maxlength=vocab_size, axis=-1)
    return tf.cast(counts[:, 1:] > 0, tf.float32)


def bag_of_words_model(n_features: int, name: str = "bag_of_words") -> keras.Model:
    """Logistic regression on the multi-hot vector: ``sigmoid(w · x + b)``, one weight per vocabulary entry."""
    inputs = keras.Input(shape=(n_features,))
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs), name=name)


def bag_of_words_dataset(inputs, labels, features, *, batch_size: int = 128, shuffle: bool = False, seed: int = 42):
    """Batches of ``(features(batch of inputs), labels)``, computed once and cached.

    ``inputs`` are raw texts (then ``features`` is a ``TextVectorization(output_mode="multi_hot")``) or token ids
    (then ``features`` is ``lambda ids: multi_hot(ids, vocab_size)``). ``shuffle=True`` shuffles the cached batches
    for training.
    """
    inputs = np.asarray(inputs)
    if inputs.dtype == object:
        inputs = inputs.astype(str)
    ds = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(batch_size)
    ds = ds.map(lambda x, y: (features(x), y)).cache()
    if shuffle:
        ds = ds.shuffle(64, seed=seed)
    return ds.prefetch(tf.data.AUTOTUNE)
