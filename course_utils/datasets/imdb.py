"""IMDB Large Movie Review Dataset (Maas et al., 2011): 25,000 + 25,000 raw, labelled reviews.

``load_imdb()`` returns the data the way ``keras.datasets.imdb.load_data()`` does, but as raw text
(so the course can teach vectorisation itself) and without needing the internet when the archive is
in ``$COURSE_DATA_DIR`` or ``data/cache/``.

The first load reads every review straight from ``aclImdb_v1.tar.gz`` (no 50,000 small files on
disk) and caches them in one compact file, ``data/cache/imdb-<sha256 of the archive>.npz``;
later loads read that file.
"""
from __future__ import annotations

import re

import numpy as np

from course_utils.datasets import _store

SOURCE = _store.Source(
    filename="aclImdb_v1.tar.gz",
    url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    description="Large Movie Review Dataset v1.0, 84,125,825 bytes",
    mirrors={"b0e029f4ee84a6c3027e154b36a3e9c632495ba77b2eb2d79ff13ca461885cf0":
             "course offline mirror (labelled train/test parts only)"},
)

_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _read_archive(path) -> dict[str, tuple[list[str], list[int]]]:
    """Every labelled review in the archive, per split, sorted by (label, review id)."""
    found = {"train": [], "test": []}
    for name, data in _store.iter_tar(path):
        match = _MEMBER.search(name)
        if match:
            split, label, review_id, _rating = match.groups()
            found[split].append((int(label == "pos"), int(review_id), data.decode("utf-8")))
    result = {}
    for split, rows in found.items():
        for label in (0, 1):
            if not any(row[0] == label for row in rows):
                folder = f"aclImdb/{split}/{'pos' if label else 'neg'}/"
                raise _store.corrupt(path, f"it holds no reviews in {folder}")
        rows.sort()
        result[split] = ([row[2] for row in rows], [row[0] for row in rows])
    return result


def _save(cache_file, data) -> None:
    arrays = {}
    for split, (texts, labels) in data.items():
        encoded = [text.encode("utf-8") for text in texts]
        arrays[f"{split}_blob"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        arrays[f"{split}_offsets"] = np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64)
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.int8)
    with _store.atomic_path(cache_file) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def _load_cache(cache_file) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = {}
    with np.load(cache_file) as npz:
        for split in ("train", "test"):
            blob = npz[f"{split}_blob"].tobytes()
            offsets = npz[f"{split}_offsets"]
            texts = np.empty(len(offsets) - 1, dtype=object)
            texts[:] = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
            data[split] = (texts, npz[f"{split}_labels"].astype(np.int64))
    return data


def _load_all(base_url=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    archive = _store.fetch(SOURCE, base_url=base_url)
    digest = _store.sha256_of(archive)
    cache_file = _store.cache_dir() / f"imdb-{digest[:16]}.npz"
    if not cache_file.exists():
        _store.note_if_unknown(archive, SOURCE, digest)
        data = _read_archive(archive)
        try:
            _save(cache_file, data)
        except OSError as err:  # a read-only checkout still works, only slower
            print(f"note: could not cache the parsed reviews in {cache_file}: {err}")
            return {s: (np.array(t, dtype=object), np.array(l, dtype=np.int64)) for s, (t, l) in data.items()}
    return _load_cache(cache_file)


def _stratified_pick(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` items with the same class proportions as ``labels`` (sorted)."""
    if n > len(labels):
        raise ValueError(f"asked for {n} reviews but the split has only {len(labels)}")
    classes, counts = np.unique(labels, return_counts=True)
    wanted = np.floor(counts * n / len(labels)).astype(int)
    # hand out what rounding left over, largest remainder first
    leftover = n - wanted.sum()
    order = np.argsort(-(counts * n / len(labels) - wanted), kind="stable")
    wanted[order[:leftover]] += 1
    picked = [rng.choice(np.flatnonzero(labels == c), size=k, replace=False) for c, k in zip(classes, wanted)]
    return np.sort(np.concatenate(picked))


def _subset_sizes(subset) -> tuple[int | None, int | None]:
    """``(train, test)`` review counts from ``load_imdb``'s ``subset`` argument."""
    if subset is None:
        return None, None
    if isinstance(subset, (tuple, list)) and len(subset) == 2:
        return int(subset[0]), int(subset[1])
    if isinstance(subset, (int, np.integer)) and not isinstance(subset, bool):
        return int(subset), int(subset)
    raise TypeError(f"subset must be None, a number of reviews per split, or (train, test), got {subset!r}")


def load_imdb(validation_split: float | None = None, seed: int = 42, subset: int | tuple[int, int] | None = None,
              base_url: str | None = None):
    """Load the IMDB reviews as raw text with 0/1 labels (0 = negative, 1 = positive).

    Returns ``(x_train, y_train), (x_test, y_test)``, or with ``validation_split`` (e.g. 0.2)
    ``(x_train, y_train), (x_val, y_val), (x_test, y_test)`` where the validation reviews are carved
    out of the training split only, stratified by label. Texts are a numpy array of ``str``
    (``dtype=object``, HTML ``<br />`` tags left in), labels are ``int64``.

    ``subset=None`` gives all 25,000 / 25,000 reviews; ``subset=n`` a stratified ``n`` reviews per split,
    ``subset=(n_train, n_test)`` different sizes (the validation reviews come out of ``n_train``).
    Chapters shrink the data for quick mode themselves, e.g. ``subset=cfg.pick(full=None, quick=600)``.
    Every split is shuffled with ``seed``, so results are reproducible.
    """
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
    data = _load_all(base_url=base_url)
    rng = np.random.default_rng(seed)
    sizes = dict(zip(("train", "test"), _subset_sizes(subset)))

    def take(split):
        texts, labels = data[split]
        if sizes[split] is not None:
            keep = _stratified_pick(labels, sizes[split], rng)
            texts, labels = texts[keep], labels[keep]
        return texts, labels

    def shuffled(texts, labels):
        order = rng.permutation(len(labels))
        return texts[order], labels[order]

    x_train, y_train = take("train")
    x_test, y_test = take("test")
    if validation_split is None:
        return shuffled(x_train, y_train), shuffled(x_test, y_test)
    val = _stratified_pick(y_train, int(round(validation_split * len(y_train))), rng)
    is_val = np.zeros(len(y_train), dtype=bool)
    is_val[val] = True
    return (shuffled(x_train[~is_val], y_train[~is_val]), shuffled(x_train[is_val], y_train[is_val]),
            shuffled(x_test, y_test))
