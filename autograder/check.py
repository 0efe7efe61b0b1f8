"""``python -m autograder check NOTEBOOK``: the learner's quick verdict on their own exercise notebook.

Runs, in a fresh sandboxed process, exactly what the grader would run (the setup cell and the solution cells,
taken from the notebook file, not from a live kernel) followed by the notebook's visible check cells, and prints
one line per function. The hidden checks use other inputs; passing here is necessary, not sufficient.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder import sandbox
from autograder.notebook import InvalidNotebook, _nbgrader_meta, _source, load_json_notebook

HARNESS = r'''
import contextlib, io, traceback

def run(ns, payload):
    out = []
    for cell in payload["cells"]:
        buf = io.StringIO()
        entry = {"id": cell["id"], "kind": cell["kind"], "ok": True, "error": "", "stdout": ""}
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(cell["source"], "<cell " + cell["id"] + ">", "exec"), ns)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            entry["ok"] = False
            entry["type"] = type(exc).__name__
            line = ""
            for frame in traceback.extract_tb(exc.__traceback__):
                if frame.filename.startswith("<cell "):
                    line = frame.filename[1:-1] + ", line " + str(frame.lineno)
            entry["error"] = (type(exc).__name__ + ": " + str(exc))[:1500] + (" (" + line + ")" if line else "")
        entry["stdout"] = buf.getvalue()[-2000:]
        out.append(entry)
    return out
'''


def _cells(nb: dict) -> list[dict]:
    cells = []
    seen = set()
    for i, cell in enumerate(nb["cells"]):
        meta = _nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if cell.get("cell_type") != "code" or not gid or gid in seen:
            continue
        seen.add(gid)
        if meta.get("solution") and meta.get("grade"):
            continue  # a manually graded answer (e.g. a generated sample): not part of the check
        if meta.get("solution"):
            kind = "solution"
        elif meta.get("grade"):
            kind = "test"
        elif meta.get("locked"):
            kind = "setup"
        else:
            continue
        cells.append({"id": gid, "kind": kind, "source": _source(cell)})
    return cells


def check_notebook(path: Path, timeout: float = 600, stream=None) -> int:
    """Print a per-function report; return 0 when every visible check passes, 1 otherwise."""
    stream = stream or sys.stdout
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
    job = {"preamble": "", "cells": [], "function": "check", "harness": HARNESS,
           "cases": [{"cells": cells}], "tensorflow": False, "seed": 42}
    limits = sandbox.Limits(cpu_s=int(timeout), wall_s=timeout, memory_mb=6144)
    print(f"checking {path} (solution cells and visible checks, in a fresh process) ...", file=stream, flush=True)
    res = sandbox.run_job(job, limits)
    if res.status != "ok" or not res.data or not res.data.get("cases") or "ok" not in res.data["cases"][0]:
        detail = res.detail or (json.dumps(res.data)[:500] if res.data else "")
        print(f"the check did not complete: {detail}", file=stream)
        if res.stderr.strip():
            print(res.stderr[-2000:], file=stream)
        return 1
    entries = _decode(res.data["cases"][0]["ok"])
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


def _decode(value):
    """The child's plain-JSON encoding of a list of dicts of str/bool."""
    if isinstance(value, dict):
        if "__list__" in value:
            return [_decode(v) for v in value["__list__"]]
        if "__dict__" in value:
            return {k: _decode(v) for k, v in value["__dict__"].items()}
        if "__tuple__" in value:
            return [_decode(v) for v in value["__tuple__"]]
    return value
