"""Building submissions from a released notebook (used by the example generator, the tests and the benchmark)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from autograder import cells

_SOLUTION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def without_solution_markers(text: str) -> str:
    """A source cell's text with its ``### BEGIN/END SOLUTION`` lines removed (the reference solution kept)."""
    return _SOLUTION.sub(lambda m: m.group(1), text)


def reference_solutions(source_notebook: Path) -> dict[str, str]:
    """grade_id -> the source's solution cell code with the BEGIN/END SOLUTION markers removed."""
    nb = json.loads(Path(source_notebook).read_text())
    out = {}
    for cell in nb["cells"]:
        if cells.is_solution(cell):
            out[cells.grade_id(cell)] = without_solution_markers(cells.source(cell))
    return out


def fill(released: dict, answers: dict[str, str]) -> dict:
    """A copy of the released notebook with the given cells' sources replaced (like a learner typing them in)."""
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        gid = cells.grade_id(cell)
        if gid in answers:
            cell["source"] = answers[gid]
    return nb
