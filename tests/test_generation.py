"""Tests for course_utils.generation: the temperature sampler, generate_text and the step generator."""
import numpy as np
import pytest

from course_utils.generation import (StepGenerator, apply_temperature, check_temperature, distinct_ngrams,
                                     encode_start, generate_text, make_step_model, sample_index, sample_rows)
from course_utils.text import CharVocab

PROBS = np.array([0.05, 0.1, 0.5, 0.25, 0.1])


# ---------------------------------------------------------------- temperature and sampling
def test_temperature_one_is_the_model_distribution():
    np.testing.assert_allclose(apply_temperature(PROBS, 1.0), PROBS, rtol=1e-12)


def test_temperature_matches_the_formula():
    t = 0.7
    logits = np.log(PROBS) / t
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(apply_temperature(PROBS, t), expected, rtol=1e-12)


@pytest.mark.parametrize("t", [0.1, 0.01, 1e-3, 1e-6])
def test_low_temperature_approaches_greedy(t):
    q = apply_temperature(PROBS, t)
    assert np.isfinite(q).all()
    assert np.argmax(q) == 2
    # the mass on the argmax grows towards 1 as T -> 0
    assert q[2] >= apply_temperature(PROBS, 2 * t)[2]


def test_greedy_limit_is_reached_and_sampling_is_deterministic():
    rng = np.random.default_rng(0)
    assert apply_temperature(PROBS, 1e-6)[2] == pytest.approx(1.0)
    assert {sample_index(PROBS, 1e-3, rng) for _ in range(300)} == {2}
    assert {sample_index(PROBS, 0, rng) for _ in range(10)} == {2}        # T = 0: documented greedy


def test_high_temperature_approaches_uniform():
    np.testing.assert_allclose(apply_temperature(PROBS, 1e6), np.full(5, 0.2), atol=1e-5)


def test_zero_probabilities_are_never_sampled():
    p = np.array([0.0, 0.5, 0.5, 0.0])
    rng = np.random.default_rng(1)
    draws = {sample_index(p, 3.0, rng) for _ in range(500)}
    assert draws <= {1, 2}


def test_empirical_distribution_at_t1_matches_probabilities_chi_square():
    """At T = 1 the sampler must draw from the model's probabilities: Pearson chi-square goodness of fit."""
    rng = np.random.default_rng(123)
    n = 20_000
    counts = np.bincount([sample_index(PROBS, 1.0, rng) for _ in range(n)], minlength=5)
    expected = n * PROBS
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    # 4 degrees of freedom: the 99.9th percentile of chi-square(4) is 18.47
    assert chi2 < 18.47, (counts, expected, chi2)


def test_chi_square_check_can_fail():
    """The same statistic rejects a sampler that ignores temperature handling (e.g. samples p as logits)."""
    rng = np.random.default_rng(123)
    n = 20_000
    wrong = np.exp(PROBS) / np.exp(PROBS).sum()        # the original bug: probabilities used as logits
    counts = np.bincount(rng.choice(5, size=n, p=wrong), minlength=5)
    expected = n * PROBS
    assert float(((counts - expected) ** 2 / expected).sum()) > 18.47


def test_sample_rows_draws_each_row_from_its_own_distribution():
    rng = np.random.default_rng(5)
    n = 20_000
    rows = np.vstack([np.tile(PROBS, (n, 1)), np.tile(PROBS[::-1], (n, 1))])
    draws = sample_rows(rows, 1.0, rng)
    for part, p in ((draws[:n], PROBS), (draws[n:], PROBS[::-1])):
        counts = np.bincount(part, minlength=5)
        assert float(((counts - n * p) ** 2 / (n * p)).sum()) < 18.47       # chi-square(4), 99.9th percentile
    assert list(sample_rows(np.vstack([PROBS, PROBS[::-1]]), 0, rng)) == [2, 2]
    with pytest.raises(ValueError, match="2-D"):
        sample_rows(PROBS, 1.0, rng)


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf"), "hot", None])
def test_bad_temperature_raises_value_error_with_reason(bad):
    with pytest.raises(ValueError, match="temperature"):
        check_temperature(bad)
    with pytest.raises(ValueError, match="temperature"):
        sample_index(PROBS, bad)


def test_bad_probabilities_raise():
    with pytest.raises(ValueError):
        apply_temperature([0.5, -0.1, 0.6], 1.0)
    with pytest.raises(ValueError):
        apply_temperature([], 1.0)


def test_never_drawn_indices():
    rng = np.random.default_rng(0)
    assert 2 not in {sample_index(PROBS, 1.0, rng, never=(2,)) for _ in range(300)}
    assert sample_index(PROBS, 0, rng, never=(2,)) == 3                     # the next likeliest
    rows = sample_rows(np.vstack([PROBS] * 200), 1.0, rng, never=(0, 2))
    assert not np.isin(rows, [0, 2]).any()
    with pytest.raises(ValueError, match="may not draw"):
        sample_rows(np.array([[1.0, 0.0, 0.0]]), 1.0, rng, never=(0,))


def test_distinct_ngrams():
    assert distinct_ngrams("abab", 2) == pytest.approx(2 / 3)
    assert distinct_ngrams("abcd", 2) == 1.0
    assert distinct_ngrams("a", 2) == 0.0


# ---------------------------------------------------------------- generator input handling
@pytest.fixture(scope="module")
def vocab():
    return CharVocab.from_texts(["床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n"])


@pytest.fixture(scope="module")
def tiny_model(vocab):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        keras.layers.Embedding(vocab.size, 8),
        keras.layers.LSTM(16, return_sequences=True),
        keras.layers.Dropout(0.1),
        keras.layers.GRU(12, return_sequences=True),
        keras.layers.Dense(vocab.size, activation="softmax"),
    ])
    return model


def test_encode_start_rules(vocab):
    ids, echoed = encode_start(vocab, "床前")
    assert echoed == "床前" and list(ids) == [vocab.char2idx["床"], vocab.char2idx["前"]]
    with pytest.raises(ValueError, match="'X'"):
        encode_start(vocab, "床X")
    ids, echoed = encode_start(vocab, "床X", unknown="replace")
    assert list(ids) == [vocab.char2idx["床"], 0] and echoed == "床X"
    ids, echoed = encode_start(vocab, "床X", unknown="skip")
    assert echoed == "床"
    ids, echoed = encode_start(vocab, "")                      # empty: documented fallback to the separator
    assert list(ids) == [vocab.char2idx["\n"]] and echoed == ""
    with pytest.raises(ValueError, match="empty"):
        encode_start(vocab, "", bos="#")
    with pytest.raises(ValueError, match="unknown must be"):
        encode_start(vocab, "床", unknown="ignore")
    with pytest.raises(TypeError):
        encode_start(vocab, 42)


def test_generate_text_output_and_errors(vocab, tiny_model):
    text = generate_text(tiny_model, vocab, "床前", 12, temperature=1.0, seed=0)
    assert text.startswith("床前") and len(text) == 14
    assert set(text) <= set(vocab.chars)
    assert generate_text(tiny_model, vocab, "床前", 0) == "床前"
    assert len(generate_text(tiny_model, vocab, "", 5, seed=1)) == 5
    # same seed, same text; greedy is deterministic without a seed
    assert generate_text(tiny_model, vocab, "床", 8, seed=3) == generate_text(tiny_model, vocab, "床", 8, seed=3)
    assert generate_text(tiny_model, vocab, "床", 8, 0) == generate_text(tiny_model, vocab, "床", 8, 0)
    for bad in (0 - 1, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            generate_text(tiny_model, vocab, "床", 5, bad)
    with pytest.raises(ValueError, match="never saw"):
        generate_text(tiny_model, vocab, "Moonlight", 5)
    with pytest.raises(ValueError, match="num_generate"):
        generate_text(tiny_model, vocab, "床", -3)


def test_step_model_matches_full_model(vocab, tiny_model):
    ids = vocab.encode("床前明月光，疑是地上霜。")
    full = np.asarray(tiny_model(ids[None, :], training=False))[0]
    gen = StepGenerator(tiny_model, vocab)
    step = gen.next_char_probs("床前明月光，疑是地上霜。")
    np.testing.assert_allclose(step, full, rtol=1e-4, atol=1e-6)


def test_step_generator_agrees_with_generate_text(vocab, tiny_model):
    gen = StepGenerator(tiny_model, vocab)
    for t in (0, 0.5, 1.0):
        fast = gen.generate("床前", 20, temperature=t, seed=7)
        slow = generate_text(tiny_model, vocab, "床前", 20, temperature=t, seed=7)
        assert fast == slow
    assert gen.last_seconds is not None
    assert gen.generate("", 4, seed=0) != "" and len(gen.generate("", 4, seed=0)) == 4
    with pytest.raises(ValueError, match="temperature"):
        gen.generate("床", 5, temperature=-1)
    with pytest.raises(ValueError, match="never saw"):
        gen.generate("月亮", 5)


def test_generate_rows_is_a_batch_of_step_generator_samples(vocab, tiny_model):
    gen = StepGenerator(tiny_model, vocab)
    for t in (0, 0.7):
        assert gen.generate_rows("床前", 15, 1, temperature=t, seed=4) == [gen.generate("床前", 15, t, seed=4)]
    rows = gen.generate_rows("\n", 30, 8, temperature=1.0, seed=1)
    assert len(rows) == 8 and all(r.startswith("\n") and len(r) == 31 for r in rows)
    assert len(set(rows)) > 1                                  # the rows are drawn independently
    with pytest.raises(ValueError, match="rows"):
        gen.generate_rows("床", 5, 0)


def test_generators_never_write_the_unknown_id(vocab):
    import keras

    keras.utils.set_random_seed(0)
    fond_of_unknown = keras.Sequential([          # puts most of its probability on id 0 at every step
        keras.Input(shape=(None,), dtype="int32"),
        keras.layers.Embedding(vocab.size, 4),
        keras.layers.LSTM(4, return_sequences=True),
        keras.layers.Dense(vocab.size, activation="softmax",
                           bias_initializer=keras.initializers.Constant(np.eye(vocab.size)[0] * 5)),
    ])
    gen = StepGenerator(fond_of_unknown, vocab)
    for t in (0, 1.0):
        assert "\ufffd" not in generate_text(fond_of_unknown, vocab, "床", 30, temperature=t, seed=0)[1:]
        assert "\ufffd" not in "".join(gen.generate_rows("床", 30, 4, temperature=t, seed=0))
    assert "\ufffd" in generate_text(fond_of_unknown, vocab, "床", 30, seed=0, allow_unknown=True)
    assert "\ufffd" in gen.generate("床", 30, seed=0, allow_unknown=True)
    assert gen.generate("床", 30, 1.0, seed=2) == generate_text(fond_of_unknown, vocab, "床", 30, 1.0, seed=2)


def test_make_step_model_rejects_unsupported_layers(vocab):
    import keras

    model = keras.Sequential([keras.Input(shape=(None,), dtype="int32"),
                              keras.layers.Embedding(vocab.size, 4),
                              keras.layers.Conv1D(4, 3, padding="causal"),
                              keras.layers.Dense(vocab.size, activation="softmax")])
    with pytest.raises(ValueError, match="Conv1D"):
        make_step_model(model)
