"""nbgrader's cell metadata, read in one place: a cell's grade id, its role in grading and its source text.

Works on plain JSON dicts and on nbformat nodes alike; never trusts the metadata's shape (a submission is
untrusted data).
"""
from __future__ import annotations


class InvalidNotebook(Exception):
    """The file cannot be graded; the message is the reason recorded in the gradebook and the report."""


def meta(cell) -> dict:
    """The cell's ``metadata.nbgrader`` dict ({} when absent or malformed)."""
    m = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = m.get("nbgrader") if isinstance(m, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def grade_id(cell) -> str | None:
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def role(cell) -> str | None:
    """``"setup"`` (a locked code cell: imports), ``"solution"`` (code the learner writes), ``"test"`` (an
    autograded test cell), ``"manual"`` (graded by hand: a written answer, or code graded by hand), or None."""
    m, code = meta(cell), cell.get("cell_type") == "code"
    if m.get("grade"):
        return "test" if code and not m.get("solution") else "manual"
    if m.get("solution"):
        return "solution" if code else None
    if m.get("locked") and code:
        return "setup"
    return None


def is_solution(cell) -> bool:
    """Any cell the learner fills in (code or written answer)."""
    return bool(meta(cell).get("solution"))


def source(cell) -> str:
    """The cell's text (nbformat allows a string or a list of strings)."""
    src = cell.get("source", "")
    if isinstance(src, list):
        if not all(isinstance(s, str) for s in src):
            raise InvalidNotebook("a cell's source is not text")
        return "".join(src)
    if not isinstance(src, str):
        raise InvalidNotebook("a cell's source is not text")
    return src
