"""What learners put in ``submitted/``, read strictly: student ids and the files of one submission.

* A student id is the name of one folder under ``submitted/`` (:func:`student_id_problem`): UTF-8 text, not empty,
  not ``.`` or ``..``, no ``/``, no glob characters (nbgrader globs paths built from it), no control or format
  characters, no leading or trailing white space (nbgrader strips it, and would then work on another student).
  The command line's ``--student`` and every folder found in ``submitted/`` are checked; a folder with another
  name is skipped with the reason (:func:`scan_submitted`), never graded through a glob.
* A submission is read as regular files only (:func:`read_submission`): every folder and file on the way is
  opened without following links; the notebook and ``timestamp.txt`` must be regular files of bounded size; the
  submission folder may hold other regular files and folders (they are never read or copied), but no link, FIFO,
  device or socket, and no tree deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_ENTRIES` entries.
  Anything else makes the submission invalid, with the reason.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from autograder.cells import InvalidNotebook
from autograder.notebook import MAX_NOTEBOOK_BYTES
from autograder.text import escape_char, is_unsafe, printable

MAX_TIMESTAMP_BYTES = 1024
MAX_DEPTH = 32                 # folders below the submission folder
MAX_ENTRIES = 100_000          # files and folders in the submission folder, all levels
GLOB_CHARACTERS = "*?[]"
ID_RULE = ("a student id is the name of its folder under submitted/: UTF-8, no '/', no glob characters * ? [ ], "
           "no control characters, no leading or trailing white space")
_NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class BadStudentId(ValueError):
    """A name that cannot be a student id; the message is one line saying why and what the rule is."""


@dataclass(frozen=True)
class Submission:
    """The bytes of one submission, read once: what is graded and what nbgrader is given."""

    notebook: bytes
    timestamp: bytes | None        # timestamp.txt, when the submission has one


def student_id_problem(name: str) -> str:
    """Why ``name`` cannot be a student id ("" when it can)."""
    if not name:
        return "it is empty"
    if name in (".", "..") or "/" in name:
        return "it is not the name of one folder (it is '.' or '..', or contains '/')"
    for ch in name:
        if 0xDC80 <= ord(ch) <= 0xDCFF:      # how the file system's bytes that are not UTF-8 are decoded
            return f"it is not UTF-8 text (byte 0x{ord(ch) - 0xDC00:02x})"
        if is_unsafe(ch):
            return f"it contains the control character {escape_char(ch)}"
    if name != name.strip():
        return "it starts or ends with white space"
    glob = [ch for ch in name if ch in GLOB_CHARACTERS]
    if glob:
        return f"it contains the glob character {glob[0]!r}"
    return ""


def check_student_id(name: str) -> str:
    """``name`` when it can be a student id, else BadStudentId."""
    why = student_id_problem(name)
    if why:
        raise BadStudentId(f"invalid student id '{printable(name)}': {why} ({ID_RULE})")
    return name


def scan_submitted(submitted: Path, assignment: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The student ids with an entry for ``assignment`` in ``submitted`` (sorted), and the folders that have one
    but cannot be student ids: [(name as printable text, why)]."""
    if not submitted.is_dir():
        return [], []
    students, skipped = [], []
    with os.scandir(submitted) as entries:
        for entry in entries:
            if not os.path.lexists(os.path.join(entry.path, assignment)):
                continue
            why = student_id_problem(entry.name)
            if why:
                skipped.append((printable(entry.name), f"skipped: invalid student id: {why} ({ID_RULE})"))
            else:
                students.append(entry.name)
    return sorted(students), sorted(skipped)


def read_submission(submitted: Path, student: str, assignment: str) -> Submission:
    """The notebook and timestamp.txt of ``submitted/<student>/<assignment>/``, read as regular files only (see
    the module's rules); InvalidNotebook with the reason otherwise."""
    check_student_id(student)
    notebook = f"{assignment}.ipynb"
    opened: list[int] = []
    try:
        top = _open_folder(None, str(submitted), "the course's submitted/ folder", opened, follow=True)
        mine = _open_folder(top, student, f"the folder submitted/{student}", opened)
        folder = _open_folder(mine, assignment, f"the folder submitted/{student}/{assignment}", opened)
        data = _read_regular(folder, notebook, MAX_NOTEBOOK_BYTES)
        if data is None:
            raise InvalidNotebook(f"no notebook file {notebook} in the submission")
        timestamp = _read_regular(folder, "timestamp.txt", MAX_TIMESTAMP_BYTES)
        if timestamp is not None:
            _check_timestamp(timestamp)
        _check_tree(folder)
        return Submission(data, timestamp)
    finally:
        for fd in opened:
            os.close(fd)


def _open_folder(parent: int | None, name: str, what: str, opened: list[int], follow: bool = False) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0) | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        raise InvalidNotebook(f"{what} does not exist") from None
    except OSError as exc:
        raise InvalidNotebook(f"{what} {_not_regular(parent, name, exc, 'a folder')}") from None
    opened.append(fd)
    return fd


def _not_regular(parent: int | None, name: str, exc: OSError, wanted: str) -> str:
    """Why ``name`` could not be opened as ``wanted``, in words: a link, another kind of file, or the OS error."""
    try:
        mode = os.lstat(name, dir_fd=parent).st_mode
    except OSError:
        return f"cannot be opened ({exc.strerror})"
    if stat.S_ISLNK(mode):
        return "is a symbolic link (submissions are read as regular files only: submit the file itself)"
    return f"is {_kind(mode)}, not {wanted}"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a regular file"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "a special file"


def _read_regular(folder: int, name: str, limit: int) -> bytes | None:
    """The bytes of ``name`` in ``folder`` if it is a regular file of at most ``limit`` bytes; None if it does not
    exist; InvalidNotebook for anything else (a link, a FIFO, a device, a folder, too large)."""
    try:
        fd = os.open(name, _NOFOLLOW, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        why = _not_regular(folder, name, exc, "a regular file") if exc.errno != errno.EACCES else "cannot be read"
        raise InvalidNotebook(f"the file {name} {why}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InvalidNotebook(f"the file {name} is {_kind(mode)}, not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        raise InvalidNotebook(f"the file {name} is too large (more than {limit} bytes)")
    finally:
        os.close(fd)


def _check_timestamp(data: bytes) -> None:
    """nbgrader reads timestamp.txt for late penalties and stops on one it cannot parse: refuse it here instead."""
    from nbgrader.utils import parse_utc

    try:
        text = data.decode("utf-8").strip()
        if text:
            parse_utc(text)
    except (UnicodeDecodeError, ValueError, OverflowError, TypeError):
        raise InvalidNotebook(f"timestamp.txt does not hold a time nbgrader can read "
                              f"({printable(data[:60].decode('utf-8', 'replace'))!r})") from None


def _check_tree(folder: int) -> None:
    """Every entry below the submission folder is a regular file or a folder (not followed if a link), at most
    MAX_DEPTH folders deep and MAX_ENTRIES in all; walked without recursion."""
    stack: list[tuple[int, object, str]] = []
    count = 0
    try:
        stack.append((-1, os.scandir(folder), ""))
        while stack:
            _, entries, where = stack[-1]
            entry = next(entries, None)
            if entry is None:
                fd, entries, _ = stack.pop()
                entries.close()
                if fd >= 0:
                    os.close(fd)
                continue
            count += 1
            if count > MAX_ENTRIES:
                raise InvalidNotebook(f"the submission folder holds more than {MAX_ENTRIES} files and folders")
            rel = printable(where + entry.name)
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                raise InvalidNotebook(f"the submission holds a symbolic link ({rel}); submissions are read as "
                                      "regular files only: remove the link and submit the file itself")
            if stat.S_ISDIR(mode):
                if len(stack) > MAX_DEPTH:
                    raise InvalidNotebook(f"the submission folder is nested more than {MAX_DEPTH} folders deep "
                                          f"(at {rel[:200]})")
                parent = stack[-1][0] if stack[-1][0] >= 0 else folder
                fd = _open_folder(parent, entry.name, f"the folder {rel}", [])
                try:
                    stack.append((fd, os.scandir(fd), where + entry.name + "/"))
                except BaseException:
                    os.close(fd)
                    raise
            elif not stat.S_ISREG(mode):
                raise InvalidNotebook(f"the submission holds {_kind(mode)} ({rel}), not a regular file")
    finally:
        for fd, entries, _ in stack:
            entries.close()
            if fd >= 0:
                os.close(fd)
