"""Reading notebooks as data: validation of submissions and extraction of solution cells.

A submission is only ever parsed as JSON here; nothing in it is executed in the grader's process.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder import cells
from autograder.cells import InvalidNotebook

MAX_NOTEBOOK_BYTES = 20 * 2**20


@dataclass
class SourceInfo:
    """The grading-relevant structure of an assignment's source notebook (instructor side)."""

    assignment: str
    solution_cells: list[str]                      # code solution cells, notebook order
    test_cells: dict[str, float]                   # autograded test cell id -> points
    manual_cells: dict[str, float]                 # manually graded cells (written answers) -> points
    all_ids: set[str] = field(default_factory=set)
    setup_code: str = ""                           # the locked setup cells (imports) the solutions rely on


def load_json_notebook(path: Path) -> dict:
    """Parse a notebook file strictly enough for grading; raise InvalidNotebook with a reason."""
    path = Path(path)
    if not path.is_file():
        raise InvalidNotebook(f"no notebook file {path.name} in the submission")
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the notebook file is too large ({size} bytes)")
    return parse_notebook(path.read_bytes())


def parse_notebook(raw: bytes) -> dict:
    """A notebook file's bytes, parsed strictly enough for grading; raise InvalidNotebook with a reason."""
    if not raw:
        raise InvalidNotebook("the notebook file is empty (0 bytes)")
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the notebook file is too large ({len(raw)} bytes)")
    if b"\x00" in raw:
        raise InvalidNotebook("the notebook file contains null bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(f"the notebook file is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        # json's messages may end in "at" ("Unterminated string starting at"): one "at" before the position
        raise InvalidNotebook(f"the notebook file is not valid JSON ({exc.msg.removesuffix(' at')} at line "
                              f"{exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InvalidNotebook("the notebook file is not a notebook (its JSON is nested too deeply)") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook("the file is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise InvalidNotebook(f"unsupported notebook format {nb.get('nbformat')!r} (expected 4)")
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook(f"cell {i + 1} is not a valid notebook cell")
        src = cells.source(cell)
        if "\x00" in src:
            raise InvalidNotebook(f"cell {i + 1} contains null bytes")
    return nb


def source_info(assignment: str, source_notebook: Path) -> SourceInfo:
    """The grading structure of a source notebook: solution cells, test cells with points, manual cells, setup."""
    nb = load_json_notebook(source_notebook)
    sol, tests, manual, ids, setup = [], {}, {}, set(), []
    for cell in nb["cells"]:
        gid = cells.grade_id(cell)
        if not gid:
            continue
        ids.add(gid)
        kind = cells.role(cell)
        if kind == "setup":
            setup.append(cells.source(cell))
        elif kind == "solution":
            sol.append(gid)  # manually graded code answers (solution + grade) are never executed by the grader
        elif kind == "test":
            tests[gid] = float(cells.meta(cell).get("points", 0))
        elif kind == "manual":
            manual[gid] = float(cells.meta(cell).get("points", 0))
    return SourceInfo(assignment, sol, tests, manual, ids, "\n\n".join(setup) + "\n")


def graded_cells(nb: dict) -> dict[str, dict]:
    """First cell carrying each grade_id (nbgrader's DeduplicateIds keeps the first and strips the rest)."""
    seen: dict[str, dict] = {}
    for cell in nb["cells"]:
        gid = cells.grade_id(cell)
        if gid and gid not in seen:
            seen[gid] = cell
    return seen


def extract_solutions(nb: dict, info: SourceInfo, known_ids: dict[str, set[str]] | None = None) -> dict[str, str | None]:
    """Solution cell id -> its code (None when the cell is missing or is no longer a code cell).

    Raises InvalidNotebook when none of the assignment's cells are present (e.g. another assignment's
    notebook, or a notebook whose nbgrader metadata was stripped).
    """
    graded = graded_cells(nb)
    if not (set(graded) & info.all_ids):
        other = ""
        for name, ids in (known_ids or {}).items():
            if name != info.assignment and set(graded) & ids:
                other = f"; it looks like the notebook of {name}"
                break
        raise InvalidNotebook(f"this is not a notebook of {info.assignment}: none of its graded cells are "
                              f"present{other}")
    out: dict[str, str | None] = {}
    for gid in info.solution_cells:
        cell = graded.get(gid)
        if cell is None or cell.get("cell_type") != "code":
            out[gid] = None
        else:
            out[gid] = cells.source(cell)
    return out
