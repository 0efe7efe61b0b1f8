"""The book's pages and alt texts, from the stored notebooks (no build needed)."""
import json

import pytest

from book import alt_text
from book.pages import REPO, course_sections, notebook_pages, stage, unlink_non_pages


def test_every_notebook_under_notebooks_is_a_page():
    stored = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "notebooks").rglob("*.ipynb")
                    if ".ipynb_checkpoints" not in p.parts and not p.name.endswith(".solution.ipynb"))
    assert sorted(notebook_pages()) == stored


def test_a_chapter_added_later_appears_without_editing_anything(tmp_path):
    (tmp_path / "notebooks" / "09_exercises").mkdir(parents=True)
    for name in ("notebooks/README.md", "notebooks/09_exercises/README.md"):
        (tmp_path / name).write_text("# x\n")
    for name in ("notebooks/01_a.ipynb", "notebooks/10_new_chapter.ipynb", "notebooks/09_exercises/ex1.ipynb",
                 "notebooks/09_exercises/ex1.solution.ipynb"):      # a learner's worked solution is not a page
        (tmp_path / name).write_text("{}")
    pages = [(s.page, s.children) for s in course_sections(tmp_path)]
    assert pages == [("notebooks/README.md", []), ("notebooks/01_a.ipynb", []),
                     ("notebooks/09_exercises/README.md", ["notebooks/09_exercises/ex1.ipynb"]),
                     ("notebooks/10_new_chapter.ipynb", [])]


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
