"""The built book, once per test session: `python -m book.build` into a temporary folder, without network where the
machine allows it (a new network namespace, `unshare -n`, needs root on Linux)."""
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class BookBuild:
    site: Path          # index.html at its top
    offline: bool       # built inside a network namespace with no network


def _no_network_prefix() -> list[str]:
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> BookBuild:
    out = tmp_path_factory.mktemp("book") / "html"
    prefix = _no_network_prefix()
    result = subprocess.run([*prefix, sys.executable, "-m", "book.build", "--out", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"make book failed:\n{result.stdout}\n{result.stderr}"
    return BookBuild(out, offline=bool(prefix))


@pytest.fixture(scope="session")
def built_book(book_build) -> Path:
    """The site's folder; the build failing fails every test that uses it."""
    return book_build.site
