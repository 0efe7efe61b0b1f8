"""Which files make the book, in sidebar order, and how they are staged for Sphinx.

Found by pattern among the course's own files (`book.sources`: what git tracks), so a chapter or exercise folder
added later (and `git add`-ed) appears without editing anything, while a learner's copies never do: the course README
is the home page, then notebooks/README.md, every `notebooks/NN_*.ipynb` chapter, every `notebooks/NN_*/` folder (its
README.md, then its notebooks), and the reference READMEs.
"""
import json
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from book.alt_text import apply_alt_texts, load_alt_texts
from book.sources import BookSourceError, CourseFiles

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
    files = CourseFiles(repo)
    entries = sorted([*files.glob("notebooks/[0-9][0-9]_*.ipynb"), *files.folders("notebooks/[0-9][0-9]_*")])
    sections = [Section("notebooks/README.md")]
    for entry in entries:
        if entry.endswith(".ipynb"):
            sections.append(Section(entry))
            continue
        readme = f"{entry}/README.md"
        if not files.exists(readme):
            raise BookSourceError(f"{entry}/ has no README.md: the book needs one as its page")
        # a learner's worked solution (`make solution`) is theirs, never a page of the public book
        children = [c for c in files.glob(f"{entry}/*.ipynb") if not c.endswith(".solution.ipynb")]
        sections.append(Section(readme, children))
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


def _docname(page: str) -> str:
    return page.rsplit(".", 1)[0]


def _toctree(entries: list[str], caption: str | None = None) -> str:
    """A hidden MyST toctree: it makes the sidebar, the page itself lists nothing."""
    options = ":hidden:\n" + (f":caption: {caption}\n" if caption else "") + ":maxdepth: 2\n"
    return "\n\n```{toctree}\n" + options + "\n" + "\n".join(entries) + "\n```\n"


def stage(target: Path, repo: Path = REPO) -> None:
    """Copy the book's sources into `target` (emptied first) for reading: alt texts applied, toctrees added, links to
    non-pages unlinked, nbval markers dropped from code cells. BookSourceError names a file it cannot use."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("conf.py", "lab_link.py"):
        shutil.copy2(Path(__file__).with_name(name), target / name)
    shutil.copytree(Path(__file__).with_name("static"), target / "static")
    files = CourseFiles(repo)
    sections = course_sections(repo)
    pages = all_pages(repo)
    texts = load_alt_texts()
    for section in sections:
        extra = _toctree([Path(c).name.rsplit(".", 1)[0] for c in section.children]) if section.children else ""
        _copy_page(files, section.page, target, texts, pages, extra)
        for child in section.children:
            _copy_page(files, child, target, texts, pages)
    for page in REFERENCE_PAGES:
        _copy_page(files, page, target, texts, pages)
    home = unlink_non_pages(files.read_text("README.md"), "README.md", pages)
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
    """Put the course's own files behind the download buttons (Sphinx copies the staged, edited ones)."""
    files = CourseFiles(repo)
    for page in all_pages(repo):
        destination = site / "_sources" / ("index.md" if page == "README.md" else page)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(files.read_bytes(page))


def read_notebook(files: CourseFiles, page: str) -> dict:
    """A notebook of the book as data; BookSourceError (one line, naming the file) if it is not one."""
    restore = f"restore it with `git checkout HEAD -- {page}`" if files.in_git else "restore it from the course"
    try:
        notebook = json.loads(files.read_text(page))
    except json.JSONDecodeError as exc:
        raise BookSourceError(f"{page} is not a readable notebook (invalid JSON at line {exc.lineno}, column "
                              f"{exc.colno}: {exc.msg}): {restore}") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise BookSourceError(f"{page} is not a notebook (no list of cells): {restore}")
    return notebook


def _copy_page(files: CourseFiles, page: str, target: Path, texts: dict, pages: list[str],
               extra_markdown: str = "") -> None:
    destination = target / page
    destination.parent.mkdir(parents=True, exist_ok=True)
    if page.endswith(".ipynb"):
        notebook = read_notebook(files, page)
        apply_alt_texts(page, notebook, texts)
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = unlink_non_pages("".join(cell["source"]), page, pages)
            elif cell["cell_type"] == "code":
                cell["source"] = _NBVAL_MARKER.sub("", "".join(cell["source"]))   # test settings, not for readers
        destination.write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        markdown = unlink_non_pages(files.read_text(page), page, pages)
        destination.write_text(markdown + extra_markdown, encoding="utf-8")
