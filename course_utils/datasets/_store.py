"""Find, download, verify and unpack dataset archives (the data contract, in one place).

Every loader asks :func:`fetch` for its archive. ``fetch`` looks, in order, in

1. ``$COURSE_DATA_DIR`` (a classroom mirror, e.g. a USB stick or a shared folder),
2. the project's ``data/cache/``,
3. the Keras cache (``~/.keras/datasets`` or ``$KERAS_HOME/datasets``),

and only then downloads from the dataset's canonical public source with ``keras.utils.get_file``
(progress bar, sha256 checksum) into ``data/cache/``. ``$COURSE_DATA_URL`` replaces the download's
base URL (a classroom web server holding the same file names).

How files are verified
----------------------
* A download must have a known sha256 (the canonical file, or the course's offline repack);
  otherwise it is deleted and :class:`CorruptDatasetError` is raised.
* A file found locally is accepted as it is when its sha256 is known. A local file with an unknown
  hash (another repack of the same data) is checked structurally by the loader: every archive member
  is read to the end and the expected members must be present. A note says so.
* A truncated or unreadable archive raises :class:`CorruptDatasetError` naming the file; when it lies
  in ``data/cache/`` (our own download) it is deleted, so it is never mistaken for a valid one again.

Anything derived from an archive (parsed texts, converted poems) is cached in ``data/cache/`` under a
name that contains the archive's sha256 and is written atomically (temporary file, then rename).
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import socket
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from course_utils import config

#: Errors that mean "this archive is damaged" when reading a tar.gz.
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError)

PROBE_TIMEOUT_S = 5  # how long to wait for the download server to answer before giving up
DOWNLOAD_TIMEOUT_S = 60  # socket timeout while downloading (a stalled connection fails, not hangs)


class DatasetError(RuntimeError):
    """A dataset could not be found, downloaded or read."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """The file is not in any searched folder and could not be downloaded."""


class CorruptDatasetError(DatasetError, ValueError):
    """The file exists but is damaged, truncated or not the expected data."""


@dataclass(frozen=True, eq=False)
class Source:
    """One downloadable file: its name, canonical URL and the sha256 of every accepted version."""

    filename: str
    url: str
    sha256: str  # the canonical file's hash
    description: str = ""
    mirrors: dict[str, str] = field(default_factory=dict)  # other accepted sha256 -> what it is

    @property
    def known_hashes(self) -> dict[str, str]:
        return {self.sha256: f"canonical {self.filename}", **self.mirrors}


def cache_dir() -> Path:
    """The project's download and derived-data cache (``data/cache/``)."""
    return Path(config.CACHE_DIR)


def search_dirs() -> list[Path]:
    """Folders searched for a dataset file, in order."""
    return config.data_search_dirs()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find(filename: str) -> Path | None:
    """The first existing ``filename`` in :func:`search_dirs`, or None."""
    for folder in search_dirs():
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    return None


def download_url(source: Source, base_url: str | None = None) -> str:
    """The URL to download from: ``base_url`` (or ``$COURSE_DATA_URL``) + file name, else the canonical URL."""
    base = base_url or os.environ.get("COURSE_DATA_URL")
    if base:
        return base.rstrip("/") + "/" + urllib.parse.quote(source.filename)
    return source.url


def where_to_put_it(filename: str) -> str:
    """A short instruction for placing a file by hand."""
    return (f"put {filename} in $COURSE_DATA_DIR (and set that variable) or in {cache_dir()}/ "
            "(see data/README.md)")


def fetch(source: Source, *, base_url: str | None = None) -> Path:
    """Path to ``source.filename``: found in a search folder, else downloaded into ``data/cache/``."""
    found = find(source.filename)
    if found is not None:
        return found
    return download(source, base_url=base_url)


def _searched() -> str:
    dirs = [str(d) for d in search_dirs()]
    note = "" if os.environ.get("COURSE_DATA_DIR") else " ($COURSE_DATA_DIR is not set)"
    return ", ".join(dirs) + note


def _probe(url: str) -> None:
    """Fail within seconds when the server cannot be reached (instead of a long network timeout)."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT_S):
        pass


def download(source: Source, *, base_url: str | None = None) -> Path:
    """Download ``source`` into ``data/cache/`` with ``keras.utils.get_file`` and check its sha256.

    The file is downloaded into a temporary folder next to its destination and only renamed into
    place once its hash is known to be right, so an interrupted or bad download leaves nothing behind.
    """
    url = download_url(source, base_url)
    host = urllib.parse.urlsplit(url).hostname
    try:
        _probe(url)
    except OSError as err:
        raise DatasetNotFoundError(
            f"{source.filename} was not found and cannot be downloaded: no connection to {host} ({err}).\n"
            f"Searched: {_searched()}.\n"
            f"Fix: download {url} on a machine with internet and {where_to_put_it(source.filename)}."
        ) from None

    import keras  # imported here: finding a local file must not need TensorFlow

    target_dir = cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / source.filename
    tmp = Path(tempfile.mkdtemp(prefix=f".{source.filename}.", suffix=".partial", dir=target_dir))
    old_timeout = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
        # get_file checks the canonical hash itself; a file from a $COURSE_DATA_URL mirror may be a
        # known repack instead, so that one is checked against every known hash below.
        canonical = url == source.url
        try:
            path = Path(keras.utils.get_file(
                fname=source.filename, origin=url, cache_dir=str(tmp), cache_subdir="",
                file_hash=source.sha256 if canonical else None, hash_algorithm="sha256"))
        except ValueError:  # raised by get_file when the hash does not match
            path = tmp / source.filename
        except Exception as err:  # HTTP errors, connection resets, timeouts
            raise DatasetNotFoundError(
                f"Downloading {source.filename} from {url} failed: {err}.\n"
                f"Searched first: {_searched()}.\n"
                f"Fix: try again later, or {where_to_put_it(source.filename)}."
            ) from None
        digest = sha256_of(path) if path.exists() else "(no file)"
        if digest not in source.known_hashes:
            raise CorruptDatasetError(
                f"The download of {source.filename} from {url} is damaged or not the expected file: "
                f"its sha256 is {digest}, expected {source.sha256}. It was deleted.\n"
                f"Fix: run again to re-download, or {where_to_put_it(source.filename)}."
            )
        os.replace(path, target)
    finally:
        socket.setdefaulttimeout(old_timeout)
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def note_if_unknown(path: Path, source: Source, digest: str) -> None:
    """Say so when a local file is not a known version (the loader then checks its structure)."""
    if digest not in source.known_hashes:
        print(f"note: {path} has sha256 {digest[:16]}…, not a known version of {source.filename}; "
              "checking its structure instead (every member readable, expected files present).")


def corrupt(path: Path, problem: str) -> CorruptDatasetError:
    """The error for a damaged archive; deletes the file when it is our own download in ``data/cache/``."""
    path = Path(path)
    in_cache = path.parent.resolve() == cache_dir().resolve()
    if in_cache:
        with contextlib.suppress(OSError):
            path.unlink()
        action = "It was deleted from the cache; run again to download a fresh copy"
    else:
        action = f"Delete or replace it with a good copy (re-download it, or {where_to_put_it(path.name)})"
    return CorruptDatasetError(f"{path} is damaged or incomplete: {problem}.\n{action}.")


def iter_tar(path: Path):
    """Yield ``(member_name, bytes)`` for every regular file of a tar or tar.gz, reading it to the very end.

    Reading to the end matters: gzip checks the data's CRC and length only there, so a truncated or
    damaged download is always noticed. Damage raises :class:`CorruptDatasetError`.
    """
    try:
        with open(path, "rb") as f:
            is_gzip = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if is_gzip else open(path, "rb")) as stream:
            with tarfile.open(fileobj=stream, mode="r|" if is_gzip else "r|*") as archive:
                for member in archive:
                    if member.isfile():
                        yield member.name, archive.extractfile(member).read()
            while stream.read(1 << 20):  # the rest (tar padding), up to gzip's CRC check
                pass
    except ARCHIVE_ERRORS as err:
        raise corrupt(path, f"{type(err).__name__}: {err}") from None


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def extract_archive(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into the folder ``dest`` atomically and return ``dest``.

    The members go into a temporary sibling folder, a ``.complete`` marker is written last, and the
    folder is renamed to ``dest``. An interrupted or failed extraction leaves no ``dest`` behind.
    An existing ``dest`` with its marker is reused.
    """
    dest = Path(dest)
    if (dest / ".complete").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        try:
            with tarfile.open(archive, mode="r:*") as tar:
                tar.extractall(tmp, filter="data")
        except ARCHIVE_ERRORS as err:
            raise corrupt(archive, f"{type(err).__name__}: {err}") from None
        (tmp / ".complete").write_text(sha256_of(archive) + "\n")
        if dest.exists():  # a leftover without marker from an older, interrupted run
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
