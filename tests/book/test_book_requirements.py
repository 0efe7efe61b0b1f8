"""The book's tools (requirements-book.txt) share .venv with the course: they may add packages, never change a pin."""
import re
from importlib.metadata import PackageNotFoundError, version

import pytest

from book.pages import REPO

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s#]+)")


def _pins(name: str) -> dict[str, str]:
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    return {re.sub(r"[-_.]+", "-", m[1]).lower(): m[2] for m in map(PIN.match, lines) if m}


def test_the_book_pins_no_package_the_course_pins():
    assert not set(_pins("requirements-book.txt")) & set(_pins("requirements.txt"))


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-book.txt"])
def test_installed_versions_match_the_pins(name):
    wrong = []
    for package, pinned in _pins(name).items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            wrong.append(f"{package}: pinned {pinned}, installed {installed}")
    assert not wrong, f"{name} is not what .venv has (run `make book` to reinstall):\n" + "\n".join(wrong)
