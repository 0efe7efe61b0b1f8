"""NBSVM: the tokeniser, the naive-Bayes ratios of Wang & Manning's formula, the interpolated weights, bigrams that
carry a sentiment their words do not, and clear errors."""
import numpy as np
import pytest

from course_utils.nbsvm import NBSVM, tokenize_review

POSITIVE = ["a great film", "great acting and a great story", "not bad at all", "loved it , great fun"]
NEGATIVE = ["a bad film", "bad acting and a dull story", "not good at all", "hated it , bad fun"]
TEXTS, LABELS = POSITIVE + NEGATIVE, [1] * 4 + [0] * 4


def test_tokenizer_drops_html_keeps_contractions_and_exclamations():
    assert tokenize_review("Great<br /><br />film!! Don't MISS it?") == \
        ["great", "film", "!", "!", "don't", "miss", "it", "?"]


def test_ratios_follow_the_naive_bayes_formula():
    model = NBSVM(ngrams=1, alpha=1.0).fit(TEXTS, LABELS)
    vocab = model.vectorizer_.vocabulary_
    # "great": in 3 positive reviews (binary counts), 0 negative; p and q are smoothed with alpha = 1
    x = model.vectorizer_.transform(TEXTS).toarray()
    p, q = 1 + x[:4].sum(axis=0), 1 + x[4:].sum(axis=0)
    expected = np.log((p / p.sum()) / (q / q.sum()))
    np.testing.assert_allclose(model.ratio_, expected, rtol=1e-6)
    assert model.ratio_[vocab["great"]] > 0 > model.ratio_[vocab["bad"]]


def test_weights_interpolate_between_naive_bayes_and_the_svm():
    nb_like = NBSVM(ngrams=1, beta=0.0).fit(TEXTS, LABELS)
    assert np.allclose(nb_like.coef_, nb_like.coef_[0])        # beta = 0: every feature the same weight: pure NB
    svm = NBSVM(ngrams=1, beta=1.0).fit(TEXTS, LABELS)
    assert not np.allclose(svm.coef_, svm.coef_[0])
    np.testing.assert_allclose(svm.coef_, svm.svm_coef_)
    svm.beta = 0.25                                             # applied at prediction time: no refit
    np.testing.assert_allclose(svm.coef_, 0.75 * np.abs(svm.svm_coef_).mean() + 0.25 * svm.svm_coef_)
    np.testing.assert_allclose(svm.score_features(svm.transform(TEXTS)), svm.decision_function(TEXTS), rtol=1e-6)


def test_bigrams_separate_what_single_words_cannot():
    # alone, "good" is positive and "bad" negative; "not bad" is positive and "not good" negative
    texts = ["good", "so good", "good film", "not bad", "not bad film",
             "bad", "so bad", "bad film", "not good", "not good film"]
    labels = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    words = NBSVM(ngrams=1, C=10.0, beta=1.0).fit(texts, labels)
    assert words.predict(["not bad", "not good"]).tolist() == [0, 1]       # read word by word: wrong way round
    pairs = NBSVM(ngrams=2, C=10.0, beta=1.0).fit(texts, labels)
    assert pairs.predict(texts).tolist() == labels
    assert pairs.n_features > words.n_features


def test_predictions_are_zero_one_and_fit_the_training_data():
    model = NBSVM().fit(TEXTS, LABELS)
    assert model.predict(TEXTS).tolist() == LABELS
    assert model.predict(["great great great"]).tolist() == [1]


def test_clear_errors():
    with pytest.raises(ValueError, match="ngrams must be 1 or more"):
        NBSVM(ngrams=0)
    with pytest.raises(ValueError, match="beta interpolates"):
        NBSVM(beta=1.5)
    with pytest.raises(ValueError, match="beta interpolates"):
        NBSVM().beta = -0.1
    with pytest.raises(ValueError, match="labels must be 0"):
        NBSVM().fit(TEXTS, [1] * 8)
    with pytest.raises(RuntimeError, match="call fit"):
        NBSVM().predict(["a film"])
