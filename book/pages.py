"""Which files make the book, in sidebar order, and how they are staged for Sphinx.

Found by glob, so a chapter or exercise folder added later appears without editing anything: the course README is
the home page, then notebooks/README.md, every `notebooks/NN_*.ipynb` chapter, every `notebooks/NN_*/` folder (its
README.md, then its notebooks), and the reference READMEs.
"""
import json
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from book.alt_text import apply_alt_texts, load_alt_texts

REPO = Path(__file__).resolve().parent.parent
REFERENCE_PAGES = ("data/README.md", "autograder/README.md", "bench/README.md")
_NBVAL_MARKER = re.compile(r"^[ \t]*# NBVAL_[A-Z_]+[ \t]*\n?", re.M)
_LINK = re.compile(r"\[([^\]]+)\]\(([^()\s]+)\)")


@dataclass
class Section:
    """A top-level sidebar entry: one page, with optional child pages."""
    page: str
    children: list[str] = field(default_factory=list)


def course_sections(repo: Path = REPO) -> list[Section]:
    """The course's pages (paths relative to the repository) in reading order."""
    notebooks = repo / "notebooks"
    folders = [d for d in notebooks.glob("[0-9][0-9]_*") if d.is_dir()]
    entries = sorted([*notebooks.glob("[0-9][0-9]_*.ipynb"), *folders])
    sections = [Section("notebooks/README.md")]
    for entry in entries:
        if entry.is_dir():
            readme = entry / "README.md"
            # a learner's worked solution (`make solution`) is theirs, never a page of the public book
            children = sorted(c for c in entry.glob("*.ipynb") if not c.name.endswith(".solution.ipynb"))
            if not readme.exists():
                raise FileNotFoundError(f"{entry.relative_to(repo)}/ has no README.md: the book needs one as its page")
            sections.append(Section(_rel(readme, repo), [_rel(child, repo) for child in children]))
        else:
            sections.append(Section(_rel(entry, repo)))
    return sections


def all_pages(repo: Path = REPO) -> list[str]:
    """Every source file of the book, in sidebar order: the README (the home page), the course, the references."""
    return ["README.md", *(page for s in course_sections(repo) for page in (s.page, *s.children)), *REFERENCE_PAGES]


def notebook_pages(repo: Path = REPO) -> list[str]:
    """Every notebook of the book."""
    return [page for page in all_pages(repo) if page.endswith(".ipynb")]


def html_path(page: str) -> str:
    """Where the built site has the page of a source file."""
    return "index.html" if page == "README.md" else page.rsplit(".", 1)[0] + ".html"


def _rel(path: Path, repo: Path) -> str:
    return path.relative_to(repo).as_posix()


def _docname(page: str) -> str:
    return page.rsplit(".", 1)[0]


def _toctree(entries: list[str], caption: str | None = None) -> str:
    """A hidden MyST toctree: it makes the sidebar, the page itself lists nothing."""
    options = ":hidden:\n" + (f":caption: {caption}\n" if caption else "") + ":maxdepth: 2\n"
    return "\n\n```{toctree}\n" + options + "\n" + "\n".join(entries) + "\n```\n"


def stage(target: Path, repo: Path = REPO) -> None:
    """Copy the book's sources into `target` (emptied first) for reading: alt texts applied, toctrees added, links to
    non-pages unlinked, nbval markers dropped from code cells."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("conf.py", "lab_link.py"):
        shutil.copy2(Path(__file__).with_name(name), target / name)
    shutil.copytree(Path(__file__).with_name("static"), target / "static")
    sections = course_sections(repo)
    pages = all_pages(repo)
    texts = load_alt_texts()
    for section in sections:
        extra = _toctree([Path(c).name.rsplit(".", 1)[0] for c in section.children]) if section.children else ""
        _copy_page(repo, section.page, target, texts, pages, extra)
        for child in section.children:
            _copy_page(repo, child, target, texts, pages)
    for page in REFERENCE_PAGES:
        _copy_page(repo, page, target, texts, pages)
    home = unlink_non_pages((repo / "README.md").read_text(encoding="utf-8"), "README.md", pages)
    home += _toctree([_docname(s.page) for s in sections], caption="Course")
    home += _toctree([_docname(p) for p in REFERENCE_PAGES], caption="Reference")
    (target / "index.md").write_text(home, encoding="utf-8")


def unlink_non_pages(markdown: str, page: str, pages: list[str]) -> str:
    """Turn relative links to repository files that are not book pages (e.g. `bench/results/`) into code text."""
    folder = posixpath.dirname(page)

    def replace(match: re.Match) -> str:
        text, href = match.groups()
        if re.match(r"[a-z][a-z0-9+.-]*:|#", href):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(folder, href.split("#")[0]))
        return match.group(0) if target in pages else f"`{text.strip('`')}` (in the repository)"

    return _LINK.sub(replace, markdown)


def publish_sources(site: Path, repo: Path = REPO) -> None:
    """Put the repository's own files behind the download buttons (Sphinx copies the staged, edited ones)."""
    for page in all_pages(repo):
        destination = site / "_sources" / ("index.md" if page == "README.md" else page)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / page, destination)


def _copy_page(repo: Path, page: str, target: Path, texts: dict, pages: list[str], extra_markdown: str = "") -> None:
    source, destination = repo / page, target / page
    destination.parent.mkdir(parents=True, exist_ok=True)
    if page.endswith(".ipynb"):
        notebook = json.loads(source.read_text(encoding="utf-8"))
        apply_alt_texts(page, notebook, texts)
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = unlink_non_pages("".join(cell["source"]), page, pages)
            elif cell["cell_type"] == "code":
                cell["source"] = _NBVAL_MARKER.sub("", "".join(cell["source"]))   # test settings, not for readers
        destination.write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        markdown = unlink_non_pages(source.read_text(encoding="utf-8"), page, pages)
        destination.write_text(markdown + extra_markdown, encoding="utf-8")
