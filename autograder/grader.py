"""The trusted verdict: sandboxed runs of each exercise function, compared in this process, stored in nbgrader.

Flow of ``grade_assignment`` (``python -m autograder grade``):

1. read every submission under ``submitted/<student>/<assignment>/`` as JSON (never executed here), reject
   unreadable ones with a reason;
2. for each (submission, exercise function) run a fresh sandbox (``autograder.sandbox``) with the submission's
   solution cells only, on hidden inputs made here; judge the returned plain values here (``autograder.spec``);
   these runs go ``--jobs`` at a time;
3. let nbgrader's own autograde converter sanitise each submission (restore test cells, de-duplicate ids, ...)
   with its ``Execute`` step replaced by :class:`autograder.nbgrader_hooks.SandboxVerdict`, so scores land in
   the gradebook the nbgrader way (formgrader, manual grading, feedback and export keep working);
4. record every reason in the gradebook (comments) and in ``reports/<assignment>.{json,csv}``.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from autograder import hidden, sandbox
from autograder.course import Course
from autograder.notebook import InvalidNotebook, SourceInfo, extract_solutions, load_json_notebook, source_info
from autograder.spec import KERAS_LIMITS, Mismatch, Task, enc, reference_judge

REFERENCE_VERSION = 1


@dataclass
class FunctionVerdict:
    function: str
    test_cell: str
    solution_cell: str
    points: float
    score: float
    reason: str
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.score >= self.points > 0


@dataclass
class SubmissionVerdict:
    assignment: str
    student: str
    path: str
    sha256: str
    status: str                           # "graded" | "invalid"
    reason: str = ""
    functions: list[FunctionVerdict] = field(default_factory=list)
    seconds: float = 0.0
    nbgrader: str = ""                    # how the scores reached the gradebook

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.points for f in self.functions)


# ---------------------------------------------------------------------------------------------------------
# hidden cases and reference outputs

@dataclass
class Prepared:
    module: object
    info: SourceInfo
    tasks: list[Task]
    payloads: dict[str, list]             # function -> encoded payloads for the child
    secrets: dict[str, object]            # function -> parent-only data (labels, thresholds)
    references: dict[str, list]           # function -> reference results (encoded), for use_reference tasks
    limits_override: dict = field(default_factory=dict)


def _fingerprint(course: Course, module, payloads) -> str:
    h = hashlib.sha256()
    h.update(course.source_notebook(module.ASSIGNMENT).read_bytes())
    h.update(Path(module.__file__).read_bytes())
    h.update(json.dumps(payloads, sort_keys=True).encode())
    h.update(str(REFERENCE_VERSION).encode())
    return h.hexdigest()


def _make_cases(module) -> tuple[dict, dict]:
    payloads, secrets = {}, {}
    for k, task in enumerate(module.TASKS):
        rng = np.random.default_rng([module.SEED, k])
        cases, secret = task.make_cases(rng)
        payloads[task.function] = [enc(c) for c in cases]
        secrets[task.function] = secret
    return payloads, secrets


def prepare(course: Course, assignment: str, *, rebuild: bool = False, jobs: int = 1,
            limits_override: dict | None = None) -> Prepared:
    """Hidden cases (seeded) and the reference solution's outputs on them (built once, cached in reference/)."""
    module = hidden.load(assignment)
    info = source_info(assignment, course.source_notebook(assignment))
    tasks = list(module.TASKS)
    missing_cells = {t.test_cell for t in tasks} ^ set(info.test_cells)
    if missing_cells:
        raise RuntimeError(f"{assignment}: the source notebook's autograded test cells and the hidden checks "
                           f"disagree on {sorted(missing_cells)}")
    payloads, secrets = _make_cases(module)
    prep = Prepared(module, info, tasks, payloads, secrets, {}, dict(limits_override or {}))
    fingerprint = _fingerprint(course, module, payloads)
    ref_file = course.reference_file(assignment)
    if not rebuild and ref_file.is_file():
        stored = json.loads(ref_file.read_text())
        if stored.get("fingerprint") == fingerprint:
            prep.references = stored["outputs"]
            return prep
    prep.references = build_references(course, prep, jobs=jobs)
    ref_file.parent.mkdir(parents=True, exist_ok=True)
    ref_file.write_text(json.dumps({"assignment": assignment, "fingerprint": fingerprint,
                                    "outputs": prep.references}))
    return prep


def build_references(course: Course, prep: Prepared, jobs: int = 1) -> dict[str, list]:
    """Run the instructor's reference solutions (the source notebook's solution cells) through the same sandbox."""
    nb = load_json_notebook(course.source_notebook(prep.info.assignment))
    solutions = extract_solutions(nb, prep.info)
    todo = [t for t in prep.tasks if t.use_reference]

    def one(task: Task):
        res = _run_task(course, prep, task, solutions)
        if res.status != "ok" or res.data is None:
            raise RuntimeError(f"reference solution of {task.function} failed in the sandbox: {res.detail}\n"
                               f"{res.stderr[-2000:]}")
        cases = res.data.get("cases", [])
        bad = [c for c in cases if "ok" not in c]
        if res.data.get("missing") or bad or len(cases) != len(prep.payloads[task.function]):
            raise RuntimeError(f"reference solution of {task.function} failed: {res.data}")
        return task.function, [c["ok"] for c in cases]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(pool.map(one, todo))


# ---------------------------------------------------------------------------------------------------------
# one function of one submission

def _cells_for(task: Task, info: SourceInfo, solutions: dict[str, str | None]) -> list[dict]:
    """The solution cells up to and including the task's own cell, in the source's order."""
    cells = []
    for gid in info.solution_cells:
        code = solutions.get(gid)
        if code is not None:
            cells.append({"id": gid, "source": code})
        if gid == task.solution_cell:
            break
    return cells


def _limits(prep: Prepared, task: Task, preamble: str = "") -> sandbox.Limits:
    lim = task.limits
    if "keras" in preamble or "tensorflow" in preamble:
        # importing TensorFlow alone maps ~2.5 GB of address space and takes seconds of CPU
        lim = replace(lim, memory_mb=max(lim.memory_mb, KERAS_LIMITS.memory_mb), cpu_s=max(lim.cpu_s, 90),
                      wall_s=max(lim.wall_s, 150))
    over = prep.limits_override
    if over.get("wall_s"):
        lim = replace(lim, wall_s=min(lim.wall_s, over["wall_s"]), cpu_s=int(min(lim.cpu_s, max(1, over["wall_s"]))))
    if over.get("memory_mb"):
        lim = replace(lim, memory_mb=over["memory_mb"])
    return lim


AFTER_RELOAD = "after reloading the saved model in a fresh process"


def _job(prep: Prepared, task: Task, solutions: dict[str, str | None], preamble: str,
         harness: str | None) -> dict:
    return {
        "preamble": preamble,
        "cells": _cells_for(task, prep.info, solutions),
        "function": task.function,
        "harness": harness,
        "cases": prep.payloads[task.function],
        "tensorflow": task.tensorflow,
        "seed": int(prep.module.SEED),
        "requires": task.notes.get("requires"),
    }


def _run_stages(course: Course, prep: Prepared, task: Task, solutions: dict[str, str | None],
                preamble: str) -> sandbox.SandboxResult:
    """One run of the task; with a reload stage, a second fresh sandbox gets the files the first one wrote."""
    limits = _limits(prep, task, preamble)
    res = sandbox.run_job(_job(prep, task, solutions, preamble, task.harness), limits, protect=[course.root],
                          collect=tuple(task.carry) if task.reload_harness else ())
    res.extra["limits"] = limits
    if not task.reload_harness or res.status != "ok" or not isinstance(res.data, dict) \
            or res.data.get("missing") is not False:
        return res
    cases = res.data.get("cases")
    if not isinstance(cases, list) or not any(isinstance(c, dict) and "ok" in c for c in cases):
        return res                              # nothing to reload: the first stage's errors decide
    carried = res.extra.pop("files", {})
    lost = res.extra.pop("files_missing", {})
    if lost:
        name, why = next(iter(lost.items()))
        return _with_cases(res, [c if not _is_ok(c) else {"error": {
            "type": "FileNotFoundError", "message": f"the saved file {name} {why}", "after_reload": True}}
            for c in cases])
    res2 = sandbox.run_job(_job(prep, task, solutions, preamble, task.reload_harness), limits,
                           protect=[course.root], files=carried)
    return _merge_reload(res, res2)


def _is_ok(case) -> bool:
    return isinstance(case, dict) and "ok" in case and "error" not in case


def _with_cases(res: sandbox.SandboxResult, cases: list) -> sandbox.SandboxResult:
    return replace(res, data={**res.data, "cases": cases}, extra=dict(res.extra))


def _merge_reload(res1: sandbox.SandboxResult, res2: sandbox.SandboxResult) -> sandbox.SandboxResult:
    """Per case: an error in either stage wins (stage 2's marked as happening after the reload); else the two
    result dicts merged, stage 2's keys (e.g. "after") added to stage 1's (e.g. "before")."""
    seconds = res1.seconds + res2.seconds
    if res2.status != "ok":
        return replace(res2, seconds=seconds, detail=f"{res2.detail} ({AFTER_RELOAD})", extra=dict(res1.extra))
    data2 = res2.data if isinstance(res2.data, dict) else {}
    cases1, cases2 = res1.data["cases"], data2.get("cases")
    if data2.get("missing") is not False or not isinstance(cases2, list) or len(cases2) != len(cases1):
        return replace(res2, status="bad_result", seconds=seconds, data=None, extra=dict(res1.extra),
                       detail=f"crashed: the solution cells did not give a result {AFTER_RELOAD}")
    merged = []
    for c1, c2 in zip(cases1, cases2):
        if not _is_ok(c1):
            merged.append(c1)
        elif not isinstance(c2, dict) or ("error" not in c2 and "ok" not in c2):
            merged.append({"error": {"type": "RuntimeError", "message": "malformed result", "after_reload": True}})
        elif "error" in c2:
            err = c2["error"] if isinstance(c2["error"], dict) else {}
            merged.append({"error": {**err, "after_reload": True}})
        else:
            d1, d2 = c1["ok"], c2["ok"]
            if not (isinstance(d1, dict) and isinstance(d1.get("__dict__"), dict)
                    and isinstance(d2, dict) and isinstance(d2.get("__dict__"), dict)):
                merged.append(c1)               # not dicts: the judge rejects stage 1's value itself
                continue
            out = {**d1["__dict__"], **d2["__dict__"]}
            if "error" in d2["__dict__"]:
                out["error"] = f"{str(d2['__dict__']['error'])[:300]} ({AFTER_RELOAD})"
            if "error" in d1["__dict__"]:
                out["error"] = d1["__dict__"]["error"]
            merged.append({"ok": {"__dict__": out}})
    res = _with_cases(res1, merged)
    res.seconds = seconds
    res.stderr = (res1.stderr + "\n--- " + AFTER_RELOAD + " ---\n" + res2.stderr)[-sandbox.MAX_LOG_BYTES:]
    return res


_NAME_ERROR = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def _defined_names(code: str) -> set[str] | None:
    """Top-level names a preamble defines (imports, assignments, defs); None when unknown (``import *``)."""
    try:
        tree = ast.parse(code or "")
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _needs_full_setup(res: sandbox.SandboxResult, light: str, full: str) -> list[str]:
    """The names the light preamble lacks and the full one defines that the run failed on (NameError)."""
    if res.status != "ok" or not isinstance(res.data, dict):
        return []
    full_names, light_names = _defined_names(full), _defined_names(light) or set()
    errors = [e for e in (res.data.get("cell_errors") or []) if isinstance(e, dict)]
    errors += [c["error"] for c in (res.data.get("cases") or [])
               if isinstance(c, dict) and isinstance(c.get("error"), dict)]
    found = []
    for err in errors:
        if err.get("type") != "NameError":
            continue
        m = _NAME_ERROR.search(str(err.get("message", "")))
        if m and m.group(1) not in light_names and (full_names is None or m.group(1) in full_names):
            found.append(m.group(1))
    return sorted(set(found))


def _run_task(course: Course, prep: Prepared, task: Task, solutions: dict[str, str | None]) -> sandbox.SandboxResult:
    """A fresh sandbox (or two, see Task.reload_harness) running the task; with a light preamble first, rerun
    with the notebook's full setup when the code used a name only the full setup defines."""
    full = getattr(prep.module, "PREAMBLE", None) or prep.info.setup_code
    if task.preamble is None or task.preamble == full:
        return _run_stages(course, prep, task, solutions, full)
    res = _run_stages(course, prep, task, solutions, task.preamble)
    names = _needs_full_setup(res, task.preamble, full)
    if not names:
        return res
    res2 = _run_stages(course, prep, task, solutions, full)
    res2.seconds += res.seconds
    res2.extra["setup_fallback"] = names
    return res2


def _error_reason(err: dict, case_no: int, limits: sandbox.Limits) -> str:
    reason = _error_reason_plain(err, case_no, limits)
    return f"{reason} ({AFTER_RELOAD})" if err.get("after_reload") is True else reason


def _error_reason_plain(err: dict, case_no: int, limits: sandbox.Limits) -> str:
    etype = str(err.get("type", "Exception"))[:80]
    msg = str(err.get("message", ""))[:300]
    where = str(err.get("where", ""))[:80]
    if etype == "MemoryError":
        return f"out of memory: MemoryError under the {limits.memory_mb} MiB limit (hidden case {case_no})"
    if etype == "NotImplementedError":
        return "not implemented yet (raises NotImplementedError)"
    loc = f" at {where}" if where else ""
    return f"crashed: hidden case {case_no} raised {etype}: {msg}{loc}"


def judge_function(prep: Prepared, task: Task, solutions: dict[str, str | None],
                   res: sandbox.SandboxResult | None) -> tuple[bool, str]:
    if solutions.get(task.solution_cell) is None:
        return False, f"solution cell '{task.solution_cell}' is missing from the submission (or is not a code cell)"
    assert res is not None
    if res.status != "ok":
        return False, res.detail
    data = res.data or {}
    cell_errors = data.get("cell_errors") if isinstance(data.get("cell_errors"), list) else []
    own = [e for e in cell_errors if isinstance(e, dict) and e.get("cell") == task.solution_cell]
    if data.get("missing") is True:
        why = ""
        if own and own[0].get("type") == "NotImplementedError":
            return False, "not implemented yet (raises NotImplementedError)"
        if own:
            why = f": its cell raised {str(own[0].get('type'))[:80]}: {str(own[0].get('message'))[:200]}"
        name = task.notes.get("requires") or task.function
        return False, f"{name} is not defined after running the solution cells{why}"
    cases = data.get("cases")
    expected_n = len(prep.payloads[task.function])
    if not isinstance(cases, list) or len(cases) != expected_n:
        return False, "crashed: the sandbox returned an incomplete result"
    results = []
    for i, case in enumerate(cases, 1):
        if not isinstance(case, dict):
            return False, "crashed: the sandbox returned a malformed result"
        if "error" in case:
            err = case["error"] if isinstance(case["error"], dict) else {}
            limits = res.extra.get("limits") if isinstance(res.extra.get("limits"), sandbox.Limits) else None
            return False, _error_reason(err, i, limits or _limits(prep, task))
        if "ok" not in case:
            return False, "crashed: the sandbox returned a malformed result"
        results.append(case["ok"])
    note = None
    try:
        if task.judge is None:
            reference_judge(task, results, prep.references[task.function])
        else:
            note = task.judge(results, prep.references.get(task.function), prep.secrets[task.function])
    except Mismatch as exc:
        return False, f"mismatch: {exc}"
    except Exception as exc:  # noqa: BLE001 - a malformed result must never crash the grader
        return False, f"mismatch: the returned values could not be checked ({type(exc).__name__}: {exc})"
    return True, f"passed ({note})" if note else f"passed ({expected_n} hidden cases)"


# ---------------------------------------------------------------------------------------------------------
# whole assignment

def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _known_ids(course: Course) -> dict[str, set[str]]:
    out = {}
    for a in course.assignments():
        try:
            out[a] = source_info(a, course.source_notebook(a)).all_ids
        except InvalidNotebook:
            continue
    return out


def verdicts_for(course: Course, prep: Prepared, students: list[str], jobs: int = 1,
                 progress=None) -> list[SubmissionVerdict]:
    """Phase 1 and 2 of the flow above: sandbox runs and trusted judging (no gradebook writes)."""
    assignment = prep.info.assignment
    known = _known_ids(course)
    verdicts: list[SubmissionVerdict] = []
    work: list[tuple[SubmissionVerdict, dict, Task]] = []
    for student in students:
        path = course.submission_notebook(student, assignment)
        v = SubmissionVerdict(assignment, student, str(path), _sha256(path), "graded")
        verdicts.append(v)
        try:
            nb = load_json_notebook(path)
            solutions = extract_solutions(nb, prep.info, known)
        except InvalidNotebook as exc:
            v.status, v.reason = "invalid", f"invalid notebook: {exc}"
            v.functions = [FunctionVerdict(t.function, t.test_cell, t.solution_cell, prep.info.test_cells[t.test_cell],
                                           0.0, v.reason) for t in prep.tasks]
            continue
        for task in prep.tasks:
            work.append((v, solutions, task))

    def one(item):
        v, solutions, task = item
        res = None
        if solutions.get(task.solution_cell) is not None:
            res = _run_task(course, prep, task, solutions)
        ok, reason = judge_function(prep, task, solutions, res)
        points = prep.info.test_cells[task.test_cell]
        fv = FunctionVerdict(task.function, task.test_cell, task.solution_cell, points, points if ok else 0.0,
                             reason, res.seconds if res else 0.0)
        if progress:
            progress(v, fv)
        return v, fv

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, work))
    order = {t.function: i for i, t in enumerate(prep.tasks)}
    for v, fv in results:
        v.functions.append(fv)
        v.seconds += fv.seconds
    for v in verdicts:
        v.functions.sort(key=lambda f: order[f.function])
    return verdicts


def grade_assignment(course: Course, assignment: str, students: list[str] | None = None, jobs: int = 1,
                     limits_override: dict | None = None, progress=None) -> list[SubmissionVerdict]:
    """Grade every (or the given) submission of ``assignment`` into the gradebook; returns the verdicts."""
    from autograder import nbgrader_hooks

    started = time.perf_counter()
    prep = prepare(course, assignment, jobs=jobs, limits_override=limits_override)
    if students is None:
        students = course.students(assignment)
    verdicts = verdicts_for(course, prep, students, jobs=jobs, progress=progress)
    for v in verdicts:
        nbgrader_hooks.store(course, prep.info, v)
    write_reports(course, assignment, verdicts, time.perf_counter() - started)
    return verdicts


def write_reports(course: Course, assignment: str, verdicts: list[SubmissionVerdict], seconds: float) -> Path:
    out = course.reports_dir()
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "assignment": assignment,
        "isolation": sandbox.isolation_note(),
        "seconds": round(seconds, 2),
        "submissions": [
            {**{k: val for k, val in asdict(v).items() if k != "functions"}, "score": v.score,
             "max_score": v.max_score, "seconds": round(v.seconds, 3),
             "functions": [{**asdict(f), "seconds": round(f.seconds, 3)} for f in v.functions]}
            for v in verdicts
        ],
    }
    path = out / f"{assignment}.json"
    path.write_text(json.dumps(doc, indent=1))
    with open(out / f"{assignment}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "status", "function", "score", "max_score", "reason", "seconds", "sha256"])
        for v in verdicts:
            for fv in v.functions:
                w.writerow([v.student, v.status, fv.function, fv.score, fv.points, fv.reason, f"{fv.seconds:.3f}",
                            v.sha256])
    return path


def summary_table(verdicts: list[SubmissionVerdict]) -> str:
    if not verdicts:
        return "(no submissions)"
    funcs = [f.function for f in verdicts[0].functions]
    width = max(8, *(len(v.student) for v in verdicts))
    head = f"{'student':<{width}}  " + "  ".join(f"{fn[:12]:>12}" for fn in funcs) + f"  {'total':>9}  {'seconds':>7}"
    lines = [head, "-" * len(head)]
    for v in verdicts:
        cells = "  ".join(f"{f'{fv.score:g}/{fv.points:g}':>12}" for fv in v.functions)
        lines.append(f"{v.student:<{width}}  {cells}  {f'{v.score:g}/{v.max_score:g}':>9}  {v.seconds:7.2f}")
    fails = [(v, fv) for v in verdicts for fv in v.functions if not fv.passed and v.status == "graded"]
    invalid = [v for v in verdicts if v.status != "graded"]
    if fails or invalid:
        lines.append("")
        lines.append("not passed:")
        for v in invalid:
            lines.append(f"  {v.student}: {v.reason}")
        for v, fv in fails:
            lines.append(f"  {v.student} / {fv.function}: {fv.reason}")
    return "\n".join(lines)
