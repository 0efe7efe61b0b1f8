"""The built book, once per test session: `python -m book.build` into a temporary folder."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The site's folder (index.html at its top); the build failing fails every test that uses it."""
    out = tmp_path_factory.mktemp("book") / "html"
    result = subprocess.run([sys.executable, "-m", "book.build", "--out", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"make book failed:\n{result.stdout}\n{result.stderr}"
    return out
