"""The built site's files: self-contained (nothing fetched from elsewhere), no solutions or hidden checks published."""
import ast
import json
import re
from pathlib import Path

import pytest

from book.pages import REPO, all_pages, html_path, notebook_pages

EXTERNAL_SOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"")
CSS_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)")
SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _site_text(site: Path, suffixes=(".html", ".ipynb", ".md", ".txt", ".js")) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in site.rglob("*") if p.suffix in suffixes and "_static" not in p.parts}


def test_every_page_of_the_book_is_built(built_book):
    for page in all_pages():
        assert (built_book / html_path(page)).exists(), f"{page} has no page {html_path(page)}"


def test_the_download_buttons_serve_the_repository_files(built_book):
    for page in all_pages():
        served = built_book / "_sources" / ("index.md" if page == "README.md" else page)
        assert served.read_bytes() == (REPO / page).read_bytes(), f"{served} differs from {page}"


def test_pages_show_no_nbval_markers(built_book):
    found = [p.name for p in (built_book / "notebooks").glob("*.html") if "NBVAL_" in p.read_text(encoding="utf-8")]
    assert not found, found


def test_the_book_builds_without_network(book_build):
    if not book_build.offline:
        pytest.skip("`unshare -n` is not allowed here (it needs root on Linux): the build ran with the network")
    assert (book_build.site / "index.html").exists()


def test_no_page_or_stylesheet_loads_anything_from_outside_the_site(built_book):
    found = [f"{name}: {url}" for name, text in _site_text(built_book, (".html",)).items()
             for url in EXTERNAL_SOURCE.findall(text)]
    found += [f"{p.relative_to(built_book)}: {url}" for p in built_book.rglob("*.css")
              for url in CSS_EXTERNAL_URL.findall(p.read_text(encoding="utf-8", errors="replace"))]
    assert not found, "the book must work offline:\n" + "\n".join(found)
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").exists()


def _hidden_check_names() -> set[str]:
    """Public function names and seeds of the grader's hidden checks (autograder/hidden/ex*.py)."""
    names = set()
    for path in (REPO / "autograder" / "hidden").glob("ex*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                names.add(node.name)
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SEED" for t in node.targets):
                names.add(str(node.value.value))
    return names


def _solution_lines() -> set[str]:
    """Distinctive lines of the reference solutions and hidden tests in the exercise sources."""
    block = re.compile(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END (?:SOLUTION|HIDDEN TESTS)", re.S)
    released = "".join((REPO / p).read_text(encoding="utf-8") for p in notebook_pages())
    lines = set()
    for path in (REPO / "autograder" / "course" / "source").glob("*/*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for body in block.findall("".join(cell["source"])):
                lines |= {line.strip() for line in body.splitlines()
                          if len(line.strip()) >= 30 and json.dumps(line.strip())[1:-1] not in released}
    return lines


def test_the_site_publishes_no_solutions_or_hidden_checks(built_book):
    names, lines = _hidden_check_names(), _solution_lines()
    assert names and lines, "found no hidden checks or solutions to look for: has autograder/ moved?"
    site = _site_text(built_book)
    found = [f"{page}: {marker!r}" for page, text in site.items() if "notebooks/" in page  # the instructor docs
             for marker in SOLUTION_MARKERS if marker in text]                          # name the markers
    found += [f"{page}: hidden check {name!r}" for page, text in site.items()
              for name in names if re.search(rf"\b{re.escape(name)}\b", text)]
    found += [f"{page}: solution line {line!r}" for page, text in site.items() for line in lines
              if line in text or json.dumps(line)[1:-1] in text]
    assert not found, "\n".join(found)
