"""Worked solutions for self-learners: an exercise notebook with the reference solutions and the reasoning.

``python -m autograder solution ex1_rnn_cells`` writes ``ex1_rnn_cells.solution.ipynb`` next to the learner's
notebook. It is built from the instructor's source notebook: every solution cell holds the reference solution
(the ``### BEGIN/END SOLUTION`` markers removed), each solved code cell is followed by the reasoning from
``autograder/course/worked_solutions.yml``, and the in-kernel hidden tests are left out. The learner's own
notebook is never touched, and an existing solution file is only replaced with ``--force``.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from autograder import cells
from autograder.paths import DEFAULT_COURSE, LEARNER_DIR
from autograder.submissions import without_solution_markers

REASONING_FILE = DEFAULT_COURSE / "worked_solutions.yml"
_HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS\n.*?[ \t]*### END HIDDEN TESTS\n?", re.S)


class SolutionUnavailable(Exception):
    """The worked solution cannot be written (no source notebook, or the target exists); the message says why."""


def reasoning(assignment: str) -> dict[str, str]:
    """grade_id -> the reasoning (Markdown) for one exercise's solution code cells."""
    import yaml

    data = yaml.safe_load(REASONING_FILE.read_text(encoding="utf-8")) if REASONING_FILE.is_file() else {}
    return dict((data or {}).get(assignment) or {})


def _markdown(text: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def worked_notebook(source_notebook: Path, assignment: str) -> dict:
    """The source notebook as a worked solution: solutions in place, reasoning after each solved code cell."""
    nb = json.loads(Path(source_notebook).read_text(encoding="utf-8"))
    why = reasoning(assignment)
    out = []
    for cell in nb["cells"]:
        cell = copy.deepcopy(cell)
        text = cells.source(cell)
        if cells.is_solution(cell):
            cell["source"] = without_solution_markers(text)
        elif cell["cell_type"] == "code":
            cell["source"] = _HIDDEN.sub("", text)
        out.append(cell)
        gid = cells.grade_id(cell)
        if cells.is_solution(cell) and cell["cell_type"] == "code" and gid in why:
            out.append(_markdown(f"**Why this works.** {why[gid].strip()}", f"why-{gid}"[:64]))
    banner = _markdown(
        f"> **Worked solution of `{assignment}`.** Try the exercise first, in your own notebook: comparing is "
        f"worth much more after you have struggled with it. Each solved function is followed by the reasoning "
        f"behind it; `make check NB=...` on this file passes every visible check.", "worked-solution")
    nb["cells"] = [banner] + out
    return nb


def write_solution(assignment: str, course_root: Path = DEFAULT_COURSE, to: Path | None = None,
                   force: bool = False) -> Path:
    """Write the worked solution of ``assignment``; return its path. Never overwrites the learner's notebook."""
    source = Path(course_root) / "source" / assignment / f"{assignment}.ipynb"
    known = sorted(p.parent.name for p in (Path(course_root) / "source").glob("*/*.ipynb"))
    if known and assignment not in known:
        raise SolutionUnavailable(f"unknown exercise {assignment!r}; this course has: {', '.join(known)}")
    if not source.is_file():
        raise SolutionUnavailable(
            f"no worked solution here: {source} is missing. In a graded course your instructor keeps the reference "
            f"solutions; ask them when solutions are released.")
    target = Path(to) if to else LEARNER_DIR / f"{assignment}.solution.ipynb"
    if target.resolve() == (LEARNER_DIR / f"{assignment}.ipynb").resolve():
        raise SolutionUnavailable(f"{target} is your own exercise notebook; choose another path with --to")
    if target.exists() and not force:
        raise SolutionUnavailable(f"{target} exists already (you may have written in it); "
                                  f"rerun with --force to replace it (`make solution EX={assignment} FORCE=1`), "
                                  f"or choose another path with --to")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(worked_notebook(source, assignment), indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    return target
