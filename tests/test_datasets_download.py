"""The data contract's plumbing (course_utils.datasets._store): search order, download from a local
HTTP server, checksum mismatch, truncated archives, fast failure offline, atomic extraction."""
from __future__ import annotations

import os
import socket
import tarfile
import time
from pathlib import Path

import pytest

from archives import make_tar_gz, sha256
from course_utils.datasets import _store


def closed_port() -> int:
    """A local port nobody listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_search_order_prefers_course_data_dir(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR")
    mirror, cache, keras_dir = isolated / "mirror", isolated / "cache", isolated / "keras" / "datasets"
    for folder in (mirror, cache, keras_dir):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "x.bin").write_text(folder.name)
    assert _store.find("x.bin") == cache / "x.bin"  # COURSE_DATA_DIR unset: data/cache comes first
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    assert _store.find("x.bin") == mirror / "x.bin"
    (mirror / "x.bin").unlink()
    (cache / "x.bin").unlink()
    assert _store.find("x.bin") == keras_dir / "x.bin"
    assert _store.find("missing.bin") is None


def test_download_from_local_server(isolated, served, capsys):
    www, base = served
    archive = make_tar_gz(www / "mini.tar.gz", {"mini/a.txt": b"hello"})
    source = _store.Source("mini.tar.gz", f"{base}/mini.tar.gz", sha256(archive))
    path = _store.fetch(source)
    assert path == isolated / "cache" / "mini.tar.gz"
    assert sha256(path) == source.sha256
    assert [p.name for p in path.parent.iterdir()] == ["mini.tar.gz"]  # no temporary leftovers
    assert "Downloading data from" in capsys.readouterr().out  # keras.utils.get_file did the work
    # a second fetch finds the file instead of downloading
    www.joinpath("mini.tar.gz").unlink()
    assert _store.fetch(source) == path


def test_course_data_url_overrides_base_url(isolated, served, monkeypatch):
    www, base = served
    archive = make_tar_gz(www / "mini.tar.gz", {"a.txt": b"x"})
    canonical = "http://127.0.0.1:%d/nowhere/mini.tar.gz" % closed_port()
    source = _store.Source("mini.tar.gz", canonical, "0" * 64, mirrors={sha256(archive): "a repack"})
    monkeypatch.setenv("COURSE_DATA_URL", base + "/")
    assert sha256(_store.fetch(source)) == sha256(archive)  # a known repack is accepted from a mirror URL


def test_checksum_mismatch_removes_the_download(isolated, served):
    www, base = served
    make_tar_gz(www / "mini.tar.gz", {"a.txt": b"tampered"})
    source = _store.Source("mini.tar.gz", f"{base}/mini.tar.gz", "f" * 64)
    with pytest.raises(_store.CorruptDatasetError, match=r"mini\.tar\.gz.*sha256.*deleted"):
        _store.fetch(source)
    cache = isolated / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []  # nothing that could pass for the file


def test_http_error_is_reported(isolated, served):
    _www, base = served
    source = _store.Source("absent.tar.gz", f"{base}/absent.tar.gz", "0" * 64)
    with pytest.raises(_store.DatasetNotFoundError, match="absent.tar.gz"):
        _store.fetch(source)
    assert list((isolated / "cache").iterdir()) == []


def test_missing_offline_fails_fast_and_says_where_to_put_it(isolated):
    source = _store.Source("aclImdb_v1.tar.gz", f"http://127.0.0.1:{closed_port()}/aclImdb_v1.tar.gz", "0" * 64)
    start = time.perf_counter()
    with pytest.raises(_store.DatasetNotFoundError) as err:
        _store.fetch(source)
    assert time.perf_counter() - start < 5
    message = str(err.value)
    assert "aclImdb_v1.tar.gz" in message
    assert str(isolated / "cache") in message and "COURSE_DATA_DIR" in message
    assert isinstance(err.value, FileNotFoundError)


def test_truncated_archive_in_cache_is_reported_and_removed(isolated):
    good = make_tar_gz(isolated / "good.tar.gz", {f"d/{i}.txt": os.urandom(20_000) for i in range(5)})
    bad = isolated / "cache" / "bad.tar.gz"
    bad.parent.mkdir()
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(_store.CorruptDatasetError, match=r"bad\.tar\.gz.*(damaged|incomplete)") as err:
        list(_store.iter_tar(bad))
    assert "deleted" in str(err.value)
    assert not bad.exists()


def test_truncated_archive_outside_cache_is_kept_with_advice(isolated):
    good = make_tar_gz(isolated / "good.tar.gz", {"d/a.txt": os.urandom(50_000)})
    bad = isolated / "mirror" / "bad.tar.gz"
    bad.parent.mkdir(exist_ok=True)
    bad.write_bytes(good.read_bytes()[:-20])  # only the gzip trailer is missing
    with pytest.raises(_store.CorruptDatasetError, match="re-download"):
        list(_store.iter_tar(bad))
    assert bad.exists()  # not ours to delete (e.g. a read-only classroom mirror)


def test_not_an_archive(isolated):
    junk = isolated / "cache" / "junk.tar.gz"
    junk.parent.mkdir()
    junk.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(_store.CorruptDatasetError, match="junk.tar.gz"):
        list(_store.iter_tar(junk))


def test_extract_archive_is_atomic(isolated, monkeypatch):
    archive = make_tar_gz(isolated / "a.tar.gz", {"top/x.txt": b"1", "top/y.txt": b"2"})
    dest = isolated / "cache" / "a"
    assert _store.extract_archive(archive, dest) == dest
    assert (dest / "top" / "x.txt").read_bytes() == b"1" and (dest / ".complete").exists()

    # an extraction that fails half-way leaves no folder behind
    dest2 = isolated / "cache" / "b"
    real_extractall = tarfile.TarFile.extractall

    def crash(self, path, *args, **kwargs):
        real_extractall(self, path, *args, **kwargs)
        raise KeyboardInterrupt  # e.g. the learner interrupts the kernel

    monkeypatch.setattr(tarfile.TarFile, "extractall", crash)
    with pytest.raises(KeyboardInterrupt):
        _store.extract_archive(archive, dest2)
    assert sorted(p.name for p in dest2.parent.iterdir()) == ["a"]


def test_atomic_path_leaves_nothing_on_error(isolated):
    target = isolated / "cache" / "derived.npz"
    with pytest.raises(RuntimeError):
        with _store.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(target.parent.iterdir()) == []
    with _store.atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
