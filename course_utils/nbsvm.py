"""NBSVM (Wang & Manning, 2012): a linear SVM on naive-Bayes-scaled binary n-gram features, the strong
non-recurrent baseline for IMDB sentiment (they report 91.22 % test accuracy with word uni- and bigrams).

For binary features ``x`` (1 if an n-gram occurs in the review) and labels ``y``, with smoothing ``alpha``:

    p = alpha + sum of x over positive reviews,   q = alpha + sum of x over negative reviews
    r = log((p / |p|_1) / (q / |q|_1))                     (the naive-Bayes log-count ratio of every n-gram)
    a linear SVM (squared hinge, L2, cost C) is trained on the scaled features r * x, giving (w, b)
    w' = (1 - beta) * mean(|w|) + beta * w                 (interpolation between NB and SVM; beta = 0.25)
    score(x) = w' . (r * x) + b,  positive if the score > 0

scikit-learn does the counting (``CountVectorizer``) and the SVM (``LinearSVC``, liblinear, as in the paper).
"""
from __future__ import annotations

import re

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.svm import LinearSVC

__all__ = ["NBSVM", "tokenize_review"]

_TAGS = re.compile(r"<[^>]+>")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")


def tokenize_review(text: str) -> list[str]:
    """Lower-cased words (with their apostrophe suffix: ``don't``), ``!`` and ``?``; HTML tags such as ``<br />``
    dropped."""
    return _TOKEN.findall(_TAGS.sub(" ", text.lower()))


class NBSVM:
    """``NBSVM(ngrams=2).fit(texts, labels)``, then ``.predict(texts)`` (0/1) or ``.decision_function(texts)``."""

    def __init__(self, ngrams: int = 2, *, alpha: float = 1.0, C: float = 1.0, beta: float = 0.25,
                 min_df: int = 1):
        if int(ngrams) < 1:
            raise ValueError(f"ngrams must be 1 or more (2: words and word pairs), got {ngrams!r}")
        if alpha <= 0 or C <= 0:
            raise ValueError(f"alpha and C must be positive, got alpha={alpha!r}, C={C!r}")
        self.ngrams, self.alpha, self.C, self.min_df = int(ngrams), alpha, C, min_df
        self.beta = beta

    @property
    def beta(self) -> float:
        """The interpolation weight; it is applied when predicting, so trying several needs one ``fit``."""
        return self._beta

    @beta.setter
    def beta(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"beta interpolates between NB (0) and SVM (1) weights; got {value!r}")
        self._beta = float(value)

    def transform(self, texts):
        """The scaled features ``r * x`` (sparse), for scoring several ``beta`` without re-tokenising."""
        return self.vectorizer_.transform(texts).multiply(self.ratio_).tocsr()

    def score_features(self, features) -> np.ndarray:
        """Decision values of features from :meth:`transform`."""
        return np.asarray(features @ self.coef_).ravel() + self.intercept_

    def fit(self, texts, labels) -> "NBSVM":
        y = np.asarray(labels)
        if set(np.unique(y)) - {0, 1} or len(np.unique(y)) != 2:
            raise ValueError("labels must be 0 (negative) and 1 (positive), with examples of both")
        self.vectorizer_ = CountVectorizer(tokenizer=tokenize_review, lowercase=False, token_pattern=None,
                                           ngram_range=(1, self.ngrams), binary=True, min_df=self.min_df,
                                           dtype=np.float32)
        x = self.vectorizer_.fit_transform(texts)
        p = self.alpha + np.asarray(x[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(x[y == 0].sum(axis=0)).ravel()
        self.ratio_ = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        svm = LinearSVC(C=self.C, loss="squared_hinge", dual=True, max_iter=10_000)
        svm.fit(x.multiply(self.ratio_).tocsr(), y)
        self.svm_coef_ = svm.coef_.ravel()
        self.intercept_ = float(svm.intercept_[0])
        return self

    @property
    def coef_(self) -> np.ndarray:
        """``w' = (1 - beta) * mean(|w|) + beta * w`` from the SVM's weights ``w``."""
        if not hasattr(self, "svm_coef_"):
            raise RuntimeError("call fit(texts, labels) before predicting")
        w = self.svm_coef_
        return (1 - self.beta) * np.abs(w).mean() + self.beta * w

    @property
    def n_features(self) -> int:
        return len(self.ratio_)

    def decision_function(self, texts) -> np.ndarray:
        coef = self.coef_
        x = self.vectorizer_.transform(texts)
        return np.asarray(x.multiply(self.ratio_) @ coef).ravel() + self.intercept_

    def predict(self, texts) -> np.ndarray:
        return (self.decision_function(texts) > 0).astype(np.int64)
