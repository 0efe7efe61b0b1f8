"""``python -m autograder check NOTEBOOK``: the learner's quick verdict on their own exercise notebook.

Runs, in a fresh sandboxed process, exactly what the grader would run (the setup cell and the solution cells,
taken from the notebook file, not from a live kernel) followed by the notebook's visible check cells, and prints
one line per function. The hidden checks use other inputs; passing here is necessary, not sufficient.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder import cells as nbcells
from autograder import sandbox
from autograder.course_environment import missing_modules, outside_message
from autograder.harnesses import source
from autograder.notebook import InvalidNotebook, load_json_notebook
from autograder.paths import LEARNER_DIR
from autograder.protocol import Job, ProtocolError, decode_checked, encode_input

HARNESS = source("visible_checks")


def _cells(nb: dict) -> list[dict]:
    """The setup, solution and visible test cells, first of each grade id, in notebook order."""
    out = []
    seen = set()
    for cell in nb["cells"]:
        gid = nbcells.grade_id(cell)
        if cell.get("cell_type") != "code" or not gid or gid in seen:
            continue
        seen.add(gid)
        kind = nbcells.role(cell)   # a manually graded answer (e.g. a generated sample) is not part of the check
        if kind in ("setup", "solution", "test"):
            out.append({"id": gid, "kind": kind, "source": nbcells.source(cell)})
    return out


def _graded_ids(nb: dict) -> set[str]:
    return {gid for cell in nb["cells"] if (gid := nbcells.grade_id(cell)) and nbcells.role(cell) in
            ("solution", "test")}


def exercise_of(nb: dict, released: Path = LEARNER_DIR) -> str | None:
    """The released exercise whose solution and test cells the notebook shares most (None: none in common)."""
    shared = {}
    for path in released.glob("ex*.ipynb"):
        if not path.name.endswith(".solution.ipynb"):
            try:
                shared[path.stem] = len(_graded_ids(nb) & _graded_ids(load_json_notebook(path)))
            except InvalidNotebook:
                continue
    best = max(shared, key=shared.get, default=None)
    return best if best is not None and shared[best] > 0 else None


def named_exercise(path: Path, released: Path = LEARNER_DIR) -> str | None:
    """The exercise a file's name claims (`ex1_rnn_cells.ipynb`, `ex1_rnn_cells-Copy1.ipynb`), if any."""
    names = [p.stem for p in released.glob("ex*.ipynb") if not p.name.endswith(".solution.ipynb")]
    return max((n for n in names if Path(path).name.startswith(n)), key=len, default=None)


def check_notebook(path: Path, timeout: float = 600, stream=None) -> int:
    """Print a per-function report; return 0 when every visible check passes, 1 otherwise, 2 when the notebook
    cannot be checked (unreadable, not an exercise, or this Python lacks the modules its setup cell imports)."""
    stream = stream or sys.stdout
    if not Path(path).is_file():
        what = "is a folder, not a notebook file" if Path(path).is_dir() else "does not exist"
        print(f"{path}: {what}; give the path of your saved notebook, e.g. "
              f"notebooks/09_exercises/ex1_rnn_cells.ipynb", file=stream)
        return 2
    try:
        nb = load_json_notebook(path)
    except InvalidNotebook as exc:
        print(f"{path}: cannot be checked: {exc}", file=stream)
        return 2
    cells = _cells(nb)
    if not any(c["kind"] == "test" for c in cells):
        print(f"{path}: no visible check cells found (is this an exercise notebook with its nbgrader metadata?)",
              file=stream)
        return 2
    named, holds = named_exercise(path), exercise_of(nb)
    if named and holds and named != holds:
        print(f"{path}: not checked: its name says {named}, but it holds exercise {holds} (its cells); the grader "
              f"gives it 0 points as {named}. Save {holds} as {holds}.ipynb, or check the right file.", file=stream)
        return 2
    missing = missing_modules([c["source"] for c in cells if c["kind"] == "setup"])
    if missing:
        print(outside_message(missing, notebook=path), file=stream)
        return 2
    job = Job(function="check", cells=[], cases=[encode_input({"cells": cells})], harness=HARNESS, seed=42)
    limits = sandbox.Limits(cpu_s=int(timeout), wall_s=timeout, memory_mb=6144)
    print(f"checking {path} (solution cells and visible checks, in a fresh process) ...", file=stream, flush=True)
    res = sandbox.run_job(job, limits)
    entries = None
    if res.status == "ok" and res.run.cases and res.run.cases[0].returned:
        try:
            entries = decode_checked(res.run.cases[0].ok).plain()
        except ProtocolError:
            pass
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        detail = res.detail or (json.dumps(res.run.to_json())[:500] if res.run else "")
        print(f"the check did not complete: {detail}", file=stream)
        if res.stderr.strip():
            print(res.stderr[-2000:], file=stream)
        return 1
    by_id = {e["id"]: e for e in entries}
    failed = 0
    width = max(len(c["id"]) for c in cells)
    print("", file=stream)
    for cell in cells:
        e = by_id.get(cell["id"], {})
        if cell["kind"] in ("setup", "solution"):
            if not e.get("ok", False) and e.get("type") != "NotImplementedError":
                print(f"  {'cell ' + cell['id']:<{width + 5}}  ERROR    {e.get('error', '')}", file=stream)
                failed += 1
            continue
        function = cell["id"].removeprefix("test_")
        if e.get("ok"):
            status, msg = "PASS", ""
        elif e.get("type") == "NotImplementedError":
            status, msg = "TODO", "not implemented yet"
        elif e.get("type") == "AssertionError":
            status, msg = "FAIL", e.get("error", "").removeprefix("AssertionError: ")
        else:
            status, msg = "ERROR", e.get("error", "")
        if status != "PASS":
            failed += 1
        print(f"  {function:<{width + 5}}  {status:<7}  {msg}", file=stream)
    print("", file=stream)
    if failed:
        print(f"{failed} problem(s). The grader also runs hidden checks on other inputs.", file=stream)
        return 1
    print("all visible checks passed. The grader also runs hidden checks on other inputs.", file=stream)
    return 0
