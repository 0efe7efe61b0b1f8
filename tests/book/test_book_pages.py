"""The book's pages and alt texts, from the stored notebooks (no build needed), and the files it takes."""
import json
import subprocess

import pytest

from book import alt_text
from book.build import build
from book.pages import REFERENCE_PAGES, REPO, course_sections, notebook_pages, stage, unlink_non_pages

NOTEBOOK = json.dumps({"cells": [{"id": "c1", "cell_type": "markdown", "metadata": {}, "source": "course text"}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _course(root, *, git: bool, notebooks=("notebooks/01_a.ipynb", "notebooks/10_new_chapter.ipynb",
                                           "notebooks/09_exercises/ex1.ipynb")):
    """A minimal course folder: the READMEs the book needs and `notebooks`, all `git add`-ed when `git`."""
    for name in ("README.md", "notebooks/README.md", "notebooks/09_exercises/README.md", *REFERENCE_PAGES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("# x\n")
    for name in notebooks:
        (root / name).write_text(NOTEBOOK)
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    return root


def test_every_notebook_git_tracks_under_notebooks_is_a_page():
    listing = subprocess.run(["git", "-C", str(REPO), "ls-files", "notebooks"], capture_output=True, text=True,
                             check=True).stdout.split()
    assert sorted(notebook_pages()) == sorted(name for name in listing if name.endswith(".ipynb"))


@pytest.mark.parametrize("git", [True, False], ids=["git checkout", "no git"])
def test_a_chapter_added_later_appears_without_editing_anything(tmp_path, git):
    _course(tmp_path, git=git)
    (tmp_path / "notebooks/09_exercises/ex1.solution.ipynb").write_text("{}")   # a learner's worked solution
    pages = [(s.page, s.children) for s in course_sections(tmp_path)]
    assert pages == [("notebooks/README.md", []), ("notebooks/01_a.ipynb", []),
                     ("notebooks/09_exercises/README.md", ["notebooks/09_exercises/ex1.ipynb"]),
                     ("notebooks/10_new_chapter.ipynb", [])]


def test_a_learners_copies_and_answers_are_not_published(tmp_path, capsys):
    course = _course(tmp_path / "course", git=True)
    answered = course / "notebooks/09_exercises/ex1.ipynb"
    answered.write_text(NOTEBOOK.replace("course text", "MY ANSWER"))
    (course / "notebooks/09_exercises/my_ex1.ipynb").write_text(NOTEBOOK.replace("course text", "MY COPY"))
    (course / "notebooks/09_exercises/broken_copy.ipynb").write_text('{"cells": [')
    (course / "notebooks/11_mine").mkdir()
    (course / "notebooks/11_mine/notes.ipynb").write_text(NOTEBOOK)
    assert [p for s in course_sections(course) for p in (s.page, *s.children)] == [
        "notebooks/README.md", "notebooks/01_a.ipynb", "notebooks/09_exercises/README.md",
        "notebooks/09_exercises/ex1.ipynb", "notebooks/10_new_chapter.ipynb"]
    stage(tmp_path / "src", course)
    assert "course text" in (tmp_path / "src/notebooks/09_exercises/ex1.ipynb").read_text()
    staged = "".join(p.read_text() for p in (tmp_path / "src").rglob("*.ipynb"))
    assert "MY ANSWER" not in staged and "MY COPY" not in staged
    assert not (tmp_path / "src/notebooks/09_exercises/my_ex1.ipynb").exists()


@pytest.mark.parametrize("git", [True, False], ids=["git checkout", "no git"])
def test_an_unreadable_notebook_is_named_in_one_line_and_nothing_is_left_behind(tmp_path, capsys, git):
    course = _course(tmp_path / "course", git=False)
    (course / "notebooks/01_a.ipynb").write_text('{"cells": [\n  {"id": ')
    if git:
        _course(course, git=True, notebooks=())
    out = tmp_path / "build" / "book"
    assert build(out, course) == 1
    printed = capsys.readouterr()
    assert printed.err.strip().splitlines() == [
        "make book: notebooks/01_a.ipynb is not a readable notebook (invalid JSON at line 2, column 10: Expecting "
        "value): restore it " + ("with `git checkout HEAD -- notebooks/01_a.ipynb`" if git else "from the course")]
    assert ("not a git checkout" in printed.out) is not git
    assert not (tmp_path / "build" / "book-src").exists() and not out.exists()


def test_every_figure_of_every_stored_notebook_has_alt_text():
    texts = alt_text.load_alt_texts()
    found = [problem for page in notebook_pages()
             for problem in alt_text.problems(page, json.loads((REPO / page).read_text(encoding="utf-8")), texts)]
    assert not found, "\n".join(found)
    assert not set(texts) - set(notebook_pages()), "alt_text.yml names a notebook that is not in the book"


def _notebook(*outputs):
    return {"cells": [{"id": "c1", "cell_type": "code", "source": "", "metadata": {}, "outputs": list(outputs)}]}


def test_a_figure_without_alt_text_stops_the_build():
    figure = {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}}
    with pytest.raises(ValueError, match="cell c1 has no alt text"):
        alt_text.apply_alt_texts("nb.ipynb", _notebook(figure), {})
    with pytest.raises(ValueError, match="cell c1, which has no figure"):
        alt_text.apply_alt_texts("nb.ipynb", _notebook(), {"nb.ipynb": {"c1": "a plot"}})
    notebook = _notebook(figure)
    alt_text.apply_alt_texts("nb.ipynb", notebook, {"nb.ipynb": {"c1": "a plot"}})
    assert notebook["cells"][0]["metadata"]["mystnb"]["image"]["alt"] == "a plot"


def test_links_to_files_that_are_not_pages_become_text():
    pages = ["README.md", "notebooks/README.md"]
    text = "[n](notebooks/README.md) [r](bench/results/) [w](https://example.org) [a](#top)"
    assert unlink_non_pages(text, "README.md", pages) == (
        "[n](notebooks/README.md) `r` (in the repository) [w](https://example.org) [a](#top)")
    assert unlink_non_pages("[up](../README.md)", "notebooks/README.md", pages) == "[up](../README.md)"


def test_staging_leaves_the_stored_notebooks_untouched(tmp_path):
    before = {p: (REPO / p).read_bytes() for p in notebook_pages()}
    stage(tmp_path / "src")
    assert {p: (REPO / p).read_bytes() for p in notebook_pages()} == before
    assert (tmp_path / "src" / "index.md").read_text(encoding="utf-8").startswith((REPO / "README.md").read_text()[:40])
