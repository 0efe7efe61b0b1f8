"""Character-level text generation: a temperature sampler, a simple ``generate_text`` and a fast step generator.

The model these helpers expect maps a batch of character ids ``(batch, time)`` to next-character
probabilities ``(batch, time, vocab)`` (a softmax over the vocabulary at every position), e.g.::

    model = keras.Sequential([keras.Input(shape=(None,), dtype="int32"),
                              keras.layers.Embedding(vocab.size, 64),
                              keras.layers.LSTM(128, return_sequences=True),
                              keras.layers.LSTM(128, return_sequences=True),
                              keras.layers.Dense(vocab.size, activation="softmax")])

``vocab`` is a :class:`course_utils.text.CharVocab` (or anything with ``encode``, ``decode``, ``size``
and ``char2idx``).

Temperature ``T`` rescales the model's log-probabilities before sampling: the next id is drawn from
``softmax(log(p) / T)``. ``T = 1`` samples the model's own distribution, ``T -> 0`` approaches the
greedy choice ``argmax(p)``, large ``T`` approaches uniform. Documented edge cases:

* ``temperature == 0`` means greedy decoding (the limit ``T -> 0``), not a division by zero;
* a negative, infinite or NaN temperature raises ``ValueError`` naming the value;
* characters of ``start_string`` outside the vocabulary raise ``ValueError`` naming them
  (``unknown="replace"`` maps them to the unknown id 0 instead, ``unknown="skip"`` drops them);
* the generators never write the unknown id 0 (``"\ufffd"``, the id of every character too rare to keep): its
  probability is set to zero and the rest renormalised, since it stands for no character a poem could hold
  (``allow_unknown=True`` samples it like any other id);
* an empty ``start_string`` starts from ``bos`` (default ``"\\n"``, the separator between poems) which is
  fed to the model but not returned; when ``bos`` is not in the vocabulary it raises ``ValueError``.
"""
from __future__ import annotations

import math
import time

import numpy as np

__all__ = [
    "check_temperature", "apply_temperature", "sample_index", "sample_rows", "encode_start", "generate_text",
    "make_step_model", "StepGenerator", "distinct_ngrams", "UNKNOWN_ID",
]

RNN_STATE_COUNT = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}
UNKNOWN_ID = 0  # the unknown character's id in every CharVocab


def check_temperature(temperature) -> float:
    """Return ``temperature`` as a float; 0 is allowed (greedy), negative/inf/NaN raise ``ValueError``."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}") from None
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 means greedy, 1 samples the model's own "
            f"distribution), got {temperature!r}"
        )
    return value


def apply_temperature(probs, temperature) -> np.ndarray:
    """The distribution ``softmax(log(p) / T)`` as float64 (rows of a 2-D array are treated separately).

    ``T = 0`` gives a one-hot vector at ``argmax(p)``. Zero probabilities stay zero for every ``T > 0``.
    """
    t = check_temperature(temperature)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim not in (1, 2) or p.shape[-1] == 0:
        raise ValueError(f"probs must be a non-empty vector or a 2-D batch of vectors, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("probs must be finite and non-negative")
    if t == 0:
        out = np.zeros_like(p)
        np.put_along_axis(out, np.argmax(p, axis=-1)[..., None], 1.0, axis=-1)
        return out
    with np.errstate(divide="ignore"):
        logits = np.log(p) / t          # log(p)/T used as logits (the Keras 2 version of this course used p itself)
    logits -= logits.max(axis=-1, keepdims=True)  # stable: the largest logit becomes 0
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def _without(probs, never) -> np.ndarray:
    """``probs`` as float64 with the columns ``never`` set to zero (a row left with no mass raises ValueError)."""
    p = np.array(probs, dtype=np.float64)
    if len(never):
        p[..., list(never)] = 0.0
        if np.any(p.sum(axis=-1) <= 0):
            raise ValueError(f"a row of probs has all its mass on the ids {list(never)} it may not draw")
    return p


def sample_index(probs, temperature=1.0, rng: np.random.Generator | None = None, never=()) -> int:
    """Draw one index from ``softmax(log(probs) / temperature)``; ``temperature=0`` returns ``argmax``.
    Indices in ``never`` are not drawn (their probability is set to zero first)."""
    t = check_temperature(temperature)
    p = _without(np.asarray(probs).reshape(-1), never)
    if t == 0:
        return int(np.argmax(p))
    return int(sample_rows(p[None], t, np.random.default_rng() if rng is None else rng)[0])


def sample_rows(probs, temperature, rng: np.random.Generator, never=()) -> np.ndarray:
    """One index per row of ``probs`` (shape ``(rows, vocab)``), each from ``softmax(log(row) / temperature)``
    (one-hot at ``temperature=0``) by inverse-CDF sampling, one uniform draw per row; indices in ``never`` are
    not drawn."""
    q = apply_temperature(_without(probs, never), temperature)
    if q.ndim != 2:
        raise ValueError(f"probs must be a 2-D batch (rows, vocab), got shape {q.shape}")
    cumulative = np.cumsum(q, axis=-1)
    draws = (cumulative <= rng.random(len(q))[:, None]).sum(axis=-1)   # searchsorted(side="right") per row
    return np.minimum(draws, q.shape[-1] - 1)   # guards against the last cumulative value being 1 - epsilon


def encode_start(vocab, start_string: str, unknown: str = "error", bos: str = "\n") -> tuple[np.ndarray, str]:
    """Ids to feed for ``start_string`` and the text to echo back, applying the documented rules above."""
    if not isinstance(start_string, str):
        raise TypeError(f"start_string must be a str, got {type(start_string).__name__}")
    if unknown not in ("error", "replace", "skip"):
        raise ValueError(f'unknown must be "error", "replace" or "skip", not {unknown!r}')
    missing = sorted({c for c in start_string if c not in vocab.char2idx}, key=ord)
    if missing and unknown == "error":
        raise ValueError(
            f"start_string has {len(missing)} character(s) the model never saw: "
            f"{', '.join(repr(c) for c in missing[:10])}. Use characters of the training text, or pass "
            f'unknown="replace" (map them to the unknown id 0) or unknown="skip" (drop them).'
        )
    if unknown == "skip":
        start_string = "".join(c for c in start_string if c in vocab.char2idx)
    if start_string:
        return vocab.encode(start_string, errors="replace"), start_string
    if bos is not None and bos in vocab.char2idx:
        return vocab.encode(bos), ""
    raise ValueError(
        "start_string is empty (after dropping unknown characters) and the separator "
        f"{bos!r} is not in the vocabulary, so there is nothing to condition on; give at least one character."
    )


def _check_num(num_generate) -> int:
    if isinstance(num_generate, bool) or not isinstance(num_generate, (int, np.integer)) or num_generate < 0:
        raise ValueError(f"num_generate must be an integer >= 0, got {num_generate!r}")
    return int(num_generate)


def generate_text(model, vocab, start_string: str, num_generate: int = 200, temperature: float = 1.0, *,
                  seed: int | None = None, context: int = 100, unknown: str = "error", bos: str = "\n",
                  allow_unknown: bool = False) -> str:
    """The simple, correct generator: re-run the model on the last ``context`` characters at every step.

    One encoding end to end (the ids the model was trained on), no ``reset_states`` (the model is not
    stateful: every call starts from zero states), sampling from ``log(p) / T``. Cost per character grows
    with ``context``; use :class:`StepGenerator` for long texts.
    """
    import tensorflow as tf

    t = check_temperature(temperature)
    n = _check_num(num_generate)
    if not isinstance(context, (int, np.integer)) or context < 1:
        raise ValueError(f"context must be a positive integer, got {context!r}")
    ids, echoed = encode_start(vocab, start_string, unknown=unknown, bos=bos)
    rng = np.random.default_rng(seed)
    # one traced graph for every context length (an eager Keras call per step is ~100x slower)
    last_probs = tf.function(lambda x: model(x, training=False)[:, -1],
                             input_signature=[tf.TensorSpec([1, None], tf.int32)])
    history = list(int(i) for i in ids)
    never = () if allow_unknown else (UNKNOWN_ID,)
    out = []
    for _ in range(n):
        window = np.asarray(history[-context:], dtype=np.int32)[None, :]
        probs = last_probs(tf.constant(window)).numpy()[0]
        next_id = sample_index(probs, t, rng, never)
        history.append(next_id)
        out.append(next_id)
    return echoed + vocab.decode(np.asarray(out, dtype=np.int32))


def make_step_model(model):
    """A copy of ``model`` that reads ONE character per row and call and carries the recurrent states explicitly.

    Inputs: ``[ids (rows, 1) int32, *states]``; outputs: ``[probs (rows, vocab), *new_states]``. Works for a
    linear stack of Embedding / LSTM / GRU / SimpleRNN / Dense (Dropout is skipped, it is the identity at
    inference). The weights are copied, so the step model gives the same probabilities as ``model``.
    """
    import keras

    x_in = keras.Input(shape=(1,), dtype="int32", name="char_id")
    x = x_in
    state_inputs, state_outputs = [], []
    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.InputLayer) or kind == "Dropout":
            continue
        config = layer.get_config()
        if kind in RNN_STATE_COUNT:
            config.update(return_sequences=True, return_state=True, stateful=False, name=f"step_{layer.name}")
            clone = type(layer).from_config(config)
            states = [keras.Input(shape=(layer.units,), name=f"{layer.name}_state{i}")
                      for i in range(RNN_STATE_COUNT[kind])]
            result = clone(x, initial_state=states if len(states) > 1 else states[0])
            x, new_states = result[0], list(result[1:])
            state_inputs += states
            state_outputs += new_states
        elif kind in ("Embedding", "Dense"):
            config["name"] = f"step_{layer.name}"
            clone = type(layer).from_config(config)
            x = clone(x)
        else:
            raise ValueError(f"make_step_model supports Embedding, LSTM, GRU, SimpleRNN, Dense and Dropout "
                             f"layers; got {kind} ({layer.name})")
        clone.set_weights(layer.get_weights())
    probs = keras.layers.Reshape((-1,), name="next_char_probs")(x)
    return keras.Model([x_in, *state_inputs], [probs, *state_outputs], name=f"{model.name}_step")


class StepGenerator:
    """Fast generation: feed one character per step and carry the LSTM states (no re-encoding).

    ``gen = StepGenerator(model, vocab)``; ``gen.generate("床前明月光", 1000, temperature=0.8, seed=0)``.
    The compiled step (``tf.function``) costs about a millisecond, so 1,000 characters take about a second
    on a laptop CPU, whatever the length of the text so far. ``gen.generate_rows(start, n, rows)`` writes
    ``rows`` independent samples at once (one batched step per character).
    """

    def __init__(self, model, vocab):
        import tensorflow as tf

        self.vocab = vocab
        self.step_model = make_step_model(model)
        self.state_shapes = [tuple(s.shape) for s in self.step_model.inputs[1:]]
        step_model = self.step_model

        @tf.function(reduce_retracing=True)
        def step(ids, states):
            outputs = step_model([ids, *states], training=False)
            return outputs[0], list(outputs[1:])

        self._step = step
        self.last_seconds = None

    def initial_states(self, rows: int = 1):
        import tensorflow as tf

        return [tf.zeros((rows, *shape[1:]), dtype="float32") for shape in self.state_shapes]

    def next_char_probs(self, text: str) -> np.ndarray:
        """Probabilities of every next character after ``text`` (shape ``(len(text), vocab)``)."""
        import tensorflow as tf

        states = self.initial_states()
        rows = []
        for i in self.vocab.encode(text, errors="replace"):
            probs, states = self._step(tf.constant([[int(i)]], dtype=tf.int32), states)
            rows.append(probs.numpy()[0])
        return np.array(rows)

    def generate(self, start_string: str, num_generate: int = 1000, temperature: float = 1.0, *,
                 seed: int | None = None, unknown: str = "error", bos: str = "\n", allow_unknown: bool = False) -> str:
        """``start_string`` followed by ``num_generate`` sampled characters (same rules as ``generate_text``);
        ``self.last_seconds`` records how long it took."""
        start = time.perf_counter()
        text, = self.generate_rows(start_string, num_generate, 1, temperature, seed=seed, unknown=unknown, bos=bos,
                                   allow_unknown=allow_unknown)
        self.last_seconds = time.perf_counter() - start
        return text

    def generate_rows(self, start_string: str, num_generate: int, rows: int, temperature: float = 1.0, *,
                      seed: int | None = None, unknown: str = "error", bos: str = "\n",
                      allow_unknown: bool = False) -> list[str]:
        """``rows`` samples of ``num_generate`` characters after ``start_string``, drawn in one batch."""
        import tensorflow as tf

        t = check_temperature(temperature)
        n = _check_num(num_generate)
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ValueError(f"rows must be a positive integer, got {rows!r}")
        ids, echoed = encode_start(self.vocab, start_string, unknown=unknown, bos=bos)
        rng = np.random.default_rng(seed)
        states = self.initial_states(rows)
        for i in ids:
            probs, states = self._step(tf.fill([rows, 1], int(i)), states)
        never = () if allow_unknown else (UNKNOWN_ID,)
        out = np.empty((rows, n), dtype=np.int32)
        for k in range(n):
            out[:, k] = sample_rows(probs.numpy(), t, rng, never)
            if k + 1 < n:
                probs, states = self._step(tf.constant(out[:, k:k + 1]), states)
        return [echoed + self.vocab.decode(row) for row in out]


def distinct_ngrams(text: str, n: int = 2, ignore: str = "，。\n") -> float:
    """Share of distinct n-grams among all n-grams of ``text`` (punctuation/newlines removed): a diversity score."""
    chars = "".join(c for c in text if c not in ignore)
    grams = [chars[i:i + n] for i in range(len(chars) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0
