"""A character-level GRU encoder-decoder, with or without additive attention, and its two decoders (chapter 10).

Training uses **teacher forcing**: the decoder reads the true previous character ``y_{t-1}`` and is trained to
predict ``y_t`` at every step at once. At inference the true characters are unknown, so the decoder runs one step
at a time on its own previous output: :func:`greedy_decode` keeps the most probable character at each step,
:func:`beam_search` keeps the ``width`` most probable prefixes.

With ``attention=True`` each decoder state ``s_t`` (the query) scores every encoder output ``h_j`` (keys and
values) with Bahdanau's additive score ``e_tj = v^T tanh(W_s s_t + W_h h_j + b)``; the weights
``alpha_tj = softmax_j(e_tj)`` are 0 on padded source steps and sum to 1 over the real ones, and the context
``c_t = sum_j alpha_tj h_j`` joins ``s_t`` to predict ``y_t``. The score is Keras' ``AdditiveAttention`` (its
``scale`` is ``v``) applied to the projections ``W_s s_t`` and ``W_h h_j + b``; the context enters after the
recurrent step (Luong et al. 2015's placement), so the decoder GRU still runs over the whole target in one call
while training.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers, ops

__all__ = ["PAD", "BOS", "EOS", "CharVocabulary", "EncoderDecoder", "build_encoder_decoder", "greedy_decode",
           "beam_search", "exact_match", "ExactMatchCallback"]

PAD, BOS, EOS = 0, 1, 2   # token ids shared by both vocabularies; characters start at 3


class CharVocabulary:
    """Characters <-> token ids, with 0 for padding, 1 for start-of-sequence and 2 for end-of-sequence."""

    def __init__(self, texts):
        self.chars = sorted(set("".join(texts)))
        if not self.chars:
            raise ValueError("no characters to build a vocabulary from")
        self.index = {c: i + 3 for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars) + 3

    def encode(self, texts, *, bos: bool = False, eos: bool = False, length: int | None = None) -> np.ndarray:
        """Token ids of ``texts``, one row each, padded with 0 to ``length`` (default: the longest)."""
        unknown = sorted({c for t in texts for c in t} - set(self.index))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the vocabulary; build it from data that has them")
        rows = [[BOS] * bos + [self.index[c] for c in t] + [EOS] * eos for t in texts]
        length = max(map(len, rows)) if length is None else length
        if any(len(r) > length for r in rows):
            raise ValueError(f"a text is longer than length={length} tokens")
        out = np.zeros((len(rows), length), dtype="int32")
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return out

    def decode(self, ids) -> str:
        """The characters of one row of ids, up to the first end-of-sequence (special tokens dropped)."""
        chars = []
        for i in np.asarray(ids).tolist():
            if i == EOS:
                break
            if i >= 3:
                chars.append(self.chars[i - 3])
        return "".join(chars)


@dataclass
class EncoderDecoder:
    """The trainable model (``model``: ``[source ids, decoder input ids] -> logits``) and the two pieces that
    share its layers for one-step decoding: ``encoder`` (``source ids -> (outputs, state)``) and ``step``
    (``[previous id (batch, 1), state, encoder outputs, source ids] -> (logits, state, attention weights)``)."""

    model: keras.Model
    encoder: keras.Model
    step: keras.Model
    attention: bool


def build_encoder_decoder(source_vocab: int, target_vocab: int, *, units: int = 128, embed_dim: int = 32,
                          attention: bool = True, name: str | None = None) -> EncoderDecoder:
    """A GRU encoder-decoder for character sequences; ``attention=True`` adds additive attention."""
    src_embed = layers.Embedding(source_vocab, embed_dim, mask_zero=True, name="source_embedding")
    encoder_gru = layers.GRU(units, return_sequences=True, return_state=True, name="encoder_gru")
    tgt_embed = layers.Embedding(target_vocab, embed_dim, name="target_embedding")
    decoder_gru = layers.GRU(units, return_sequences=True, return_state=True, name="decoder_gru")
    if attention:
        query_proj = layers.Dense(units, use_bias=False, name="W_s")
        key_proj = layers.Dense(units, name="W_h")
        scorer = layers.AdditiveAttention(use_scale=True, name="additive_attention")
        combine = layers.Dense(units, activation="tanh", name="combine")
    to_logits = layers.Dense(target_vocab, name="logits")

    def encode(src):
        return encoder_gru(src_embed(src))

    def decode(prev_ids, state, enc_out, src):
        dec_out, state = decoder_gru(tgt_embed(prev_ids), initial_state=state)
        weights = None
        if attention:
            src_mask = ops.not_equal(src, PAD)
            context, weights = scorer([query_proj(dec_out), enc_out, key_proj(enc_out)],
                                      mask=[None, src_mask], return_attention_scores=True)
            dec_out = combine(ops.concatenate([dec_out, context], axis=-1))
        return to_logits(dec_out), state, weights

    src = keras.Input(shape=(None,), dtype="int32", name="source")
    dec_in = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    enc_out, enc_state = encode(src)
    logits, _, _ = decode(dec_in, enc_state, enc_out, src)
    name = name or ("attention" if attention else "no_attention")
    model = keras.Model([src, dec_in], logits, name=name)
    encoder = keras.Model(src, [enc_out, enc_state], name=f"{name}_encoder")

    prev = keras.Input(shape=(1,), dtype="int32", name="previous")
    state_in = keras.Input(shape=(units,), name="state")
    enc_in = keras.Input(shape=(None, units), name="encoder_outputs")
    src_in = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    step_logits, step_state, step_weights = decode(prev, state_in, enc_in, src_in)
    if step_weights is None:
        step_weights = layers.Lambda(lambda s: ops.zeros_like(ops.cast(s[:, None, :], "float32")))(src_in)
    step = keras.Model([prev, state_in, enc_in, src_in], [step_logits, step_state, step_weights], name=f"{name}_step")
    return EncoderDecoder(model=model, encoder=encoder, step=step, attention=attention)


def _call(model: keras.Model, *arrays):
    """``model`` on its inputs as tensors (a Keras model called on a list must not mix arrays and tensors)."""
    out = model([ops.convert_to_tensor(a) for a in arrays] if len(arrays) > 1 else ops.convert_to_tensor(arrays[0]),
                training=False)
    return [np.asarray(o) for o in out]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def greedy_decode(net: EncoderDecoder, source_ids, max_len: int, batch_size: int = 1024):
    """``(ids (n, max_len), attention (n, max_len, source length))``: the most probable next id at every step.
    After an end-of-sequence a row only pads."""
    out_ids, out_weights = [], []
    for start in range(0, len(source_ids), batch_size):
        src = np.asarray(source_ids[start:start + batch_size])
        enc_out, state = _call(net.encoder, src)
        prev = np.full((len(src), 1), BOS, dtype="int32")
        done = np.zeros(len(src), dtype=bool)
        ids, weights = [], []
        for _ in range(max_len):
            logits, state, w = _call(net.step, prev, state, enc_out, src)
            nxt = np.argmax(logits[:, 0], axis=-1).astype("int32")
            nxt[done] = PAD
            done |= nxt == EOS
            ids.append(nxt)
            weights.append(w[:, 0])
            prev = nxt[:, None]
        out_ids.append(np.stack(ids, axis=1))
        out_weights.append(np.stack(weights, axis=1))
    return np.concatenate(out_ids), np.concatenate(out_weights)


def beam_search(net: EncoderDecoder, source_ids, max_len: int, width: int = 4, batch_size: int = 256):
    """``(ids (n, max_len), log-probabilities (n,))`` of the most probable sequence among the ``width`` best
    prefixes kept at every step (the sum of the log-probabilities of its tokens; a finished sequence, one that
    emitted end-of-sequence, keeps its score and only pads). ``width=1`` is greedy decoding."""
    if int(width) < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    width = int(width)
    best_ids, best_scores = [], []
    for start in range(0, len(source_ids), batch_size):
        src = np.asarray(source_ids[start:start + batch_size])
        n = len(src)
        enc_out, state = _call(net.encoder, src)
        enc_out = np.repeat(enc_out, width, axis=0)           # (n * width, S, units), beam-major
        state = np.repeat(state, width, axis=0)
        src_rep = np.repeat(src, width, axis=0)
        scores = np.full((n, width), -np.inf)
        scores[:, 0] = 0.0                                                # one live beam to start from
        seqs = np.zeros((n, width, 0), dtype="int32")
        prev = np.full((n * width, 1), BOS, dtype="int32")
        done = np.zeros((n, width), dtype=bool)
        for _ in range(max_len):
            logits, new_state, _ = _call(net.step, prev, state, enc_out, src_rep)
            logp = _log_softmax(logits[:, 0].astype("float64")).reshape(n, width, -1)
            vocab = logp.shape[-1]
            finished = np.full(vocab, -np.inf)
            finished[PAD] = 0.0                                           # a finished beam extends only by padding
            logp = np.where(done[..., None], finished, logp)
            total = (scores[..., None] + logp).reshape(n, width * vocab)
            top = np.argsort(-total, axis=1, kind="stable")[:, :width]
            parent, token = top // vocab, (top % vocab).astype("int32")
            scores = np.take_along_axis(total, top, axis=1)
            seqs = np.concatenate([np.take_along_axis(seqs, parent[..., None], axis=1), token[..., None]], axis=2)
            done = np.take_along_axis(done, parent, axis=1) | (token == EOS)
            rows = (np.arange(n)[:, None] * width + parent).reshape(-1)
            state = new_state[rows]
            prev = token.reshape(-1, 1)
        best_ids.append(seqs[:, 0])
        best_scores.append(scores[:, 0])
    return np.concatenate(best_ids), np.concatenate(best_scores)


def exact_match(predicted: list[str], targets: list[str]) -> np.ndarray:
    """A boolean per example: the predicted string equals the target exactly."""
    if len(predicted) != len(targets):
        raise ValueError(f"{len(predicted)} predictions for {len(targets)} targets")
    return np.array([p == t for p, t in zip(predicted, targets)], dtype=bool)


class ExactMatchCallback(keras.callbacks.Callback):
    """After every epoch, greedy-decode ``source_ids`` and log the share of exact matches with ``targets`` as
    ``logs["val_exact_match"]``, so that early stopping can select on the measure the chapter reports. List it
    before ``EarlyStopping`` in ``callbacks``: Keras calls callbacks in order. ``history`` keeps each epoch's
    share, ``correct`` each epoch's boolean array (one entry per example, for a paired test between epochs or
    models)."""

    def __init__(self, net: EncoderDecoder, source_ids, targets: list[str], vocab: CharVocabulary, max_len: int):
        super().__init__()
        self.net, self.source_ids, self.targets, self.vocab, self.max_len = net, source_ids, targets, vocab, max_len
        self.history: list[float] = []
        self.correct: list[np.ndarray] = []

    def on_epoch_end(self, epoch, logs=None):
        ids, _ = greedy_decode(self.net, self.source_ids, self.max_len)
        correct = exact_match([self.vocab.decode(r) for r in ids], self.targets)
        score = float(correct.mean())
        self.correct.append(correct)
        self.history.append(score)
        if logs is not None:
            logs["val_exact_match"] = score
