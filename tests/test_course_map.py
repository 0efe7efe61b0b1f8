"""The course map JupyterLab opens first (notebooks/README.md): every chapter is a link, and every link resolves."""
import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LINK = re.compile(r"\[[^\]]+\]\(([^)#\s]+)\)")


def test_every_chapter_and_the_exercises_are_links_that_resolve():
    text = (NOTEBOOKS / "README.md").read_text()
    targets = LINK.findall(text)
    chapters = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert chapters and set(chapters) <= set(targets), f"not linked: {sorted(set(chapters) - set(targets))}"
    assert "09_exercises/README.md" in targets
    assert [t for t in targets if not (NOTEBOOKS / t).exists()] == []
