"""Building submissions from a released notebook (used by the example generator, the tests and the benchmark)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

_SOLUTION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def reference_solutions(source_notebook: Path) -> dict[str, str]:
    """grade_id -> the source's solution cell code with the BEGIN/END SOLUTION markers removed."""
    nb = json.loads(Path(source_notebook).read_text())
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            out[meta["grade_id"]] = _SOLUTION.sub(lambda m: m.group(1), src)
    return out


def fill(released: dict, answers: dict[str, str]) -> dict:
    """A copy of the released notebook with the given cells' sources replaced (like a learner typing them in)."""
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb
