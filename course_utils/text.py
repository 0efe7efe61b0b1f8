"""Turning text into integer ids: words for IMDB reviews, characters for Tang poems.

Word level::

    vec = make_word_vectorizer(train_texts)          # 10,000 words, 200 tokens, as in chapter 5
    ids = vec(["A <br />great movie!"])              # int64 tensor of shape (1, 200), 0 = padding
    vocab = vocabulary(vec)                          # ["", "[UNK]", "the", ...]

The vectorizer is a ``keras.layers.TextVectorization`` layer, so it can sit inside a model that takes raw
strings; its standardize step is a registered function, so such a model saves to a ``.keras`` file and loads back
(in a fresh Python process, ``import course_utils.text`` before ``keras.models.load_model``).

Character level::

    cv = CharVocab.from_texts(poem_texts)
    ids = cv.encode("床前明月光")                    # np.int32 array
    cv.decode(ids)                                   # "床前明月光"
"""
from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

__all__ = ["standardize_text", "make_word_vectorizer", "vocabulary", "CharVocab", "UNKNOWN_CHAR"]

_HTML_TAG = r"<[^>]*>"
_C1_CONTROLS = r"[\x{80}-\x{9f}]"  # e.g. U+0085 in IMDB: Windows-1252 "…" decoded as Latin-1
_PUNCTUATION = "[" + re.escape(string.punctuation) + "]"


@keras.saving.register_keras_serializable(package="course_utils.text")  # the name says what to import
def standardize_text(texts):
    """Lower-case, replace HTML tags such as ``<br />`` and C1 control characters by a space, remove ASCII punctuation.

    Works on a ``tf.Tensor`` of strings (what ``TextVectorization`` passes with the TensorFlow backend).
    Tags are removed before punctuation, so ``"great.<br /><br />The"`` becomes ``"great  the"``, not
    ``"greatbr brthe"``. Apostrophes are removed like other punctuation (``"don't"`` -> ``"dont"``), as in
    Keras's default ``"lower_and_strip_punctuation"``.
    """
    texts = tf.strings.lower(texts)
    texts = tf.strings.regex_replace(texts, _HTML_TAG, " ")
    texts = tf.strings.regex_replace(texts, _C1_CONTROLS, " ")
    return tf.strings.regex_replace(texts, _PUNCTUATION, "")


def make_word_vectorizer(texts, max_tokens: int = 10_000, sequence_length: int | None = 200,
                         ) -> keras.layers.TextVectorization:
    """A ``TextVectorization`` layer adapted to ``texts``: word ids, padded with 0 or truncated to ``sequence_length``.

    ``sequence_length=None`` pads each batch only to its longest text (nothing is truncated).

    ``texts``: a list or numpy array of strings, or a ``tf.data.Dataset`` of strings (batched or not).
    ``max_tokens`` counts the padding id 0 and ``[UNK]`` (id 1), so there are ``max_tokens - 2`` real words,
    most frequent first. Only fit it on training texts: the vocabulary is part of the model.
    """
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize_text,
        output_mode="int",
        output_sequence_length=sequence_length,
    )
    if isinstance(texts, tf.data.Dataset):
        data = texts if _is_batched(texts) else texts.batch(1024)
    else:
        # a tf.string tensor, not a fixed-width numpy unicode array (25k reviews would take over 1 GB that way)
        data = tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), dtype=tf.string)).batch(1024)
    vectorizer.adapt(data)
    return vectorizer


def _is_batched(dataset: tf.data.Dataset) -> bool:
    spec = dataset.element_spec
    return isinstance(spec, tf.TensorSpec) and spec.shape.rank is not None and spec.shape.rank >= 1


def vocabulary(vectorizer: keras.layers.TextVectorization) -> list[str]:
    """The vectorizer's vocabulary as a list of ``str``: ``vocab[i]`` is the word with id ``i``.

    ``vocab[0] == ""`` (padding) and ``vocab[1] == "[UNK]"`` (out-of-vocabulary words).
    """
    return [w.decode("utf-8") if isinstance(w, bytes) else str(w) for w in vectorizer.get_vocabulary()]


UNKNOWN_CHAR = "\ufffd"  # the Unicode replacement character; id 0 of every CharVocab


@dataclass(frozen=True)
class CharVocab:
    """A character vocabulary: id 0 is reserved for unknown characters, then characters by descending frequency.

    Build it with :meth:`from_texts`; ``chars[i]`` (equivalently ``idx2char[i]``) is the character with id ``i``,
    ``chars[0] == UNKNOWN_CHAR``.
    """

    chars: tuple[str, ...]
    char2idx: dict[str, int] = field(init=False, repr=False, compare=False)
    idx2char: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        chars = tuple(self.chars)
        if not chars or chars[0] != UNKNOWN_CHAR:
            raise ValueError(f"chars[0] must be the unknown character {UNKNOWN_CHAR!r}")
        bad = [c for c in chars if len(c) != 1]
        if bad:
            raise ValueError(f"every entry must be a single character; got {bad[:5]}")
        if len(set(chars)) != len(chars):
            raise ValueError("characters must be unique")
        object.__setattr__(self, "chars", chars)
        object.__setattr__(self, "char2idx", {c: i for i, c in enumerate(chars)})
        object.__setattr__(self, "idx2char", np.array(chars))

    @classmethod
    def from_texts(cls, texts: str | Iterable[str], min_count: int = 1) -> "CharVocab":
        """Count the characters of ``texts`` (one string or many) and keep those seen at least ``min_count`` times.

        Order: descending count, ties broken by code point, so the same texts always give the same ids.
        Rarer characters are left out and encode to id 0.
        """
        if isinstance(texts, str):
            texts = [texts]
        counts = Counter()
        for text in texts:
            counts.update(text)
        counts.pop(UNKNOWN_CHAR, None)
        kept = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], ord(c)))
        return cls((UNKNOWN_CHAR, *kept))

    @property
    def size(self) -> int:
        """Number of ids, including the unknown id 0 (use it as ``Embedding(input_dim=cv.size, ...)``)."""
        return len(self.chars)

    def __len__(self) -> int:
        return self.size

    def encode(self, text: str, errors: str = "strict") -> np.ndarray:
        """Ids of the characters of ``text`` as an ``np.int32`` array.

        ``errors="strict"`` raises a ``ValueError`` naming characters that are not in the vocabulary;
        ``errors="replace"`` maps them to id 0.
        """
        if errors not in ("strict", "replace"):
            raise ValueError(f'errors must be "strict" or "replace", not {errors!r}')
        lookup = self.char2idx
        if errors == "strict":
            unknown = sorted({c for c in text if c not in lookup}, key=ord)
            if unknown:
                shown = ", ".join(repr(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
                raise ValueError(
                    f"{len(unknown)} character(s) not in the vocabulary: {shown}. "
                    f'Pass errors="replace" to map them to id 0 ({UNKNOWN_CHAR!r}).'
                )
        return np.fromiter((lookup.get(c, 0) for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        """The text for a sequence of ids (list, numpy array or tensor); id 0 decodes to ``UNKNOWN_CHAR``."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size == 0:
            return ""
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be integers, got dtype {ids.dtype}")
        if ids.min() < 0 or ids.max() >= self.size:
            raise IndexError(f"ids must be in [0, {self.size}); got values from {ids.min()} to {ids.max()}")
        return "".join(self.idx2char[ids])
