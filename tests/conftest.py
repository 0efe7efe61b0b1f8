"""Fixtures shared by several test modules."""
import functools
import http.server
import threading

import pytest

from course_utils import config


@pytest.fixture
def served(tmp_path):
    """A throw-away HTTP server on 127.0.0.1 (random port) serving tmp_path/www; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Data search folders and caches inside tmp_path, so tests never touch data/cache, ~/.keras or the shared
    mirror: an empty ``$COURSE_DATA_DIR`` (tmp_path/mirror), no ``$COURSE_DATA_URL``, full mode unless a test says
    otherwise."""
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.delenv("COURSE_DATA_URL", raising=False)
    monkeypatch.setenv("COURSE_MODE", "full")
    (tmp_path / "mirror").mkdir()
    return tmp_path
