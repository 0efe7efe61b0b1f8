"""The course's own files, as the book reads them: in a git checkout, what git's index holds (tracked files, as last
`git add`-ed), so a learner's copies and edits in the working tree are never published; elsewhere (a downloaded
archive) the files as they are."""
from __future__ import annotations

import fnmatch
import shutil
import subprocess
from functools import cached_property
from pathlib import Path


class BookSourceError(Exception):
    """A source file the book cannot use; the message names it and says what to do (one line)."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60)


class CourseFiles:
    """Lists and reads the repository's files from git's index, or from the folder when it is not a git checkout."""

    def __init__(self, repo: Path):
        self.repo = repo

    @cached_property
    def in_git(self) -> bool:
        """Whether `repo` is the top of a git checkout (and git is installed)."""
        if not shutil.which("git"):
            return False
        top = _git(self.repo, "rev-parse", "--show-toplevel")
        return top.returncode == 0 and Path(top.stdout.decode().strip()).resolve() == self.repo.resolve()

    @cached_property
    def _tracked(self) -> list[str]:
        listing = _git(self.repo, "ls-files", "-z", "--cached")
        return sorted(name for name in listing.stdout.decode().split("\0") if name)

    def glob(self, pattern: str) -> list[str]:
        """Paths (relative, posix) matching a pattern such as `notebooks/[0-9][0-9]_*.ipynb`; `*` stays within one
        folder."""
        if not self.in_git:
            return sorted(p.relative_to(self.repo).as_posix() for p in self.repo.glob(pattern) if p.is_file())
        depth = pattern.count("/")
        return [name for name in self._tracked if name.count("/") == depth and fnmatch.fnmatchcase(name, pattern)]

    def folders(self, pattern: str) -> list[str]:
        """Folders (relative, posix) matching a one-level pattern under a folder, e.g. `notebooks/[0-9][0-9]_*`,
        that hold at least one course file."""
        if not self.in_git:
            return sorted(p.relative_to(self.repo).as_posix() for p in self.repo.glob(pattern) if p.is_dir())
        depth = pattern.count("/") + 1
        return sorted({"/".join(parts[:depth]) for parts in (name.split("/") for name in self._tracked)
                       if len(parts) > depth and fnmatch.fnmatchcase("/".join(parts[:depth]), pattern)})

    def exists(self, page: str) -> bool:
        return page in self._tracked if self.in_git else (self.repo / page).is_file()

    def read_bytes(self, page: str) -> bytes:
        """The file's content as the book takes it."""
        if not self.in_git:
            try:
                return (self.repo / page).read_bytes()
            except OSError as exc:
                raise BookSourceError(f"{page} cannot be read ({exc.strerror}): restore it") from None
        blob = _git(self.repo, "cat-file", "blob", f":{page}")
        if blob.returncode != 0:
            raise BookSourceError(f"{page} is not in git's index: `git add {page}` to put it in the book")
        return blob.stdout

    def read_text(self, page: str) -> str:
        data = self.read_bytes(page)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BookSourceError(f"{page} is not UTF-8 text (byte {exc.start}): restore it, e.g. with "
                                  f"`git checkout HEAD -- {page}`") from None

    def differing(self, pages: list[str]) -> list[str]:
        """Those of `pages` whose working copy differs from what the book takes (git checkouts only)."""
        if not self.in_git:
            return []
        changed = _git(self.repo, "diff", "--name-only", "-z", "--", *pages)
        return sorted(name for name in changed.stdout.decode().split("\0") if name)
