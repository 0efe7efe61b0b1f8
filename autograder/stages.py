"""Running one task of one submission: its sandbox job, its limits, the optional second (reload) stage in a fresh
sandbox, and the light-preamble run with its fallback to the notebook's full setup.

Public so that the tests can drive each piece: :func:`run_submission` (every task of one submission, in one fork
server: the unit of grading work), :func:`run_task` (one task), :func:`run_stages` (one or two sandboxes with a given preamble),
:func:`merge_reload`, :func:`defined_names`, :func:`needs_full_setup`.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from autograder import sandbox, saved_model
from autograder.protocol import CaseError, CaseResult, Cell, Job, dict_fields, encode, encode_dict
from autograder.task import KERAS_IMPORT_LIMITS, Task

if TYPE_CHECKING:
    from autograder.references import Prepared

AFTER_RELOAD = "after reloading the saved model in a fresh process"
REBUILD_PREAMBLE = "import numpy as np\n"     # a rebuild stage runs no cell of the notebook, not even its setup


def cells_for(task: Task, solution_cells: list[str], solutions: dict[str, str | None]) -> list[Cell]:
    """The solution cells up to and including the task's own cell, in the source's order."""
    cells = []
    for gid in solution_cells:
        code = solutions.get(gid)
        if code is not None:
            cells.append(Cell(gid, code))
        if gid == task.solution_cell:
            break
    return cells


def job_for(prep: Prepared, task: Task, solutions: dict[str, str | None], preamble: str,
            harness: str | None) -> Job:
    """The first stage's job: the solution cells, then the harness (or the function) on the hidden inputs, less
    the payload keys only a rebuild stage may see (``task.rebuild_only``)."""
    cases = prep.payloads[task.function]
    if task.rebuild_only:
        cases = [encode_dict({k: v for k, v in (dict_fields(c) or {}).items() if k not in task.rebuild_only})
                 for c in cases]
    return Job(function=task.function, cells=cells_for(task, prep.info.solution_cells, solutions), cases=cases,
               preamble=preamble, harness=harness, requires=task.requires, tensorflow=task.tensorflow,
               seed=int(prep.module.SEED))


def rebuild_job_for(prep: Prepared, task: Task) -> Job:
    """A rebuild stage's job: no solution cell and no setup cell, only the harness, on the full payloads."""
    return Job(function=task.function, cells=[], cases=prep.payloads[task.function], preamble=REBUILD_PREAMBLE,
               harness=task.reload_harness, requires=None, tensorflow=task.tensorflow, seed=int(prep.module.SEED))


def limits_for(task: Task, full_setup: bool, override: dict) -> sandbox.Limits:
    """The task's limits (see Task.limits_for), capped by ``--time-limit`` (``override["wall_s"]``)."""
    return _capped(task.limits_for(full_setup), override)


def _capped(lim: sandbox.Limits, override: dict) -> sandbox.Limits:
    if override.get("wall_s"):
        lim = replace(lim, wall_s=min(lim.wall_s, override["wall_s"]),
                      cpu_s=int(min(lim.cpu_s, max(1, override["wall_s"]))))
    if override.get("memory_mb"):
        lim = replace(lim, memory_mb=override["memory_mb"])
    return lim


def import_limits(lim: sandbox.Limits, override: dict) -> sandbox.Limits:
    """The limits of a rerun of a function whose run could not import TensorFlow under ``lim``: at least
    KERAS_IMPORT_LIMITS, capped by ``override`` as every run is."""
    k = KERAS_IMPORT_LIMITS
    return _capped(replace(lim, cpu_s=max(lim.cpu_s, k.cpu_s), wall_s=max(lim.wall_s, k.wall_s),
                           memory_mb=max(lim.memory_mb, k.memory_mb)), override)


Runner = Callable[..., sandbox.SandboxResult]    # (job, limits, collect=(), files=None): run_job's contract


def tasks_to_run(tasks: list[Task], solutions: dict[str, str | None]) -> list[Task]:
    """The tasks whose solution cell the submission has (in ``tasks``' order): the ones that are run."""
    return [t for t in tasks if solutions.get(t.solution_cell) is not None]


def run_submission(prep: Prepared, solutions: dict[str, str | None],
                   protect: tuple[Path, ...] = ()) -> dict[str, sandbox.SandboxResult]:
    """The sandbox result of every task whose solution cell is present (by function name), one submission at a
    time: all its runs are children forked by one :class:`sandbox.ForkServer`, the tasks without TensorFlow first
    (TensorFlow is imported once, in the server, before the first task that needs it). Tasks the server did not
    report (it was killed, e.g. by the submission, or stopped answering) are run again the one-sandbox-per-run way
    (:func:`run_task`), so that each gets its own reason. Without a PID namespace: that way only. Uses only
    ``prep.tasks``, ``prep.setup``, ``prep.payloads``, ``prep.info.solution_cells``, ``prep.module.SEED`` and
    ``prep.limits_override``, so that a portable copy of them (``autograder.cluster``) is enough on a worker."""
    tasks = tasks_to_run(prep.tasks, solutions)
    results: dict[str, sandbox.SandboxResult] = {}
    if tasks and sandbox.fork_server_supported():
        try:
            with sandbox.ForkServer(server_limits(tasks, prep.limits_override), list(protect),
                                    import_wall_s=KERAS_IMPORT_LIMITS.wall_s) as server:
                for task in sorted(tasks, key=lambda t: t.tensorflow):
                    results[task.function] = run_task(prep, task, solutions, protect, runner=server.run)
        except sandbox.SandboxLost:
            pass
    for task in tasks:
        if task.function not in results:
            results[task.function] = run_task(prep, task, solutions, protect)
    return {t.function: results[t.function] for t in tasks}


def server_limits(tasks: list[Task], override: dict) -> sandbox.Limits:
    """The fork server's sandbox-wide limits: the largest of every run's limits, plus, with TensorFlow, what
    importing it in the server takes (its CPU seconds count against the server's own limit)."""
    runs = [limits_for(t, full, override) for t in tasks for full in (False, True)]
    runs += [import_limits(lim, override) for lim in runs]      # run_task's rerun for a TensorFlow import
    cpu_s = max(lim.cpu_s for lim in runs) + 1     # a child's hard limit is its soft limit + 1
    memory_mb = max(lim.memory_mb for lim in runs)
    if any(t.tensorflow for t in tasks):
        cpu_s += KERAS_IMPORT_LIMITS.cpu_s
        memory_mb = max(memory_mb, KERAS_IMPORT_LIMITS.memory_mb)
    return sandbox.Limits(cpu_s=cpu_s, wall_s=max(lim.wall_s for lim in runs), memory_mb=memory_mb,
                          fsize_mb=max(lim.fsize_mb for lim in runs), nproc=max(lim.nproc for lim in runs))


def run_task(prep: Prepared, task: Task, solutions: dict[str, str | None],
             protect: tuple[Path, ...] = (), runner: Runner | None = None) -> sandbox.SandboxResult:
    """A fresh sandbox (or two, see Task.reload_harness) running the task; with a light preamble first, rerun
    with the notebook's full setup when the code used a name only the full setup defines; rerun under
    :func:`import_limits` when the code imported TensorFlow (or Keras) and that import ran out of memory, so
    that using Keras utilities is never penalised. ``runner``: how a run is done (default: a fresh sandbox each,
    sandbox.run_job)."""
    full, override = prep.setup, prep.limits_override
    light = task.preamble if task.preamble not in (None, full) else None
    preamble = light or full
    res = run_stages(prep, task, solutions, preamble, limits_for(task, light is None, override), protect, runner)
    names = needs_full_setup(res, light, full) if light else []
    if names:
        preamble, res = full, _rerun(res, run_stages(prep, task, solutions, full, limits_for(task, True, override),
                                                     protect, runner))
        res.setup_fallback = tuple(names)
    if not task.tensorflow and import_ran_out_of_memory(res):
        limits = import_limits(res.limits, override)
        if limits != res.limits:
            res = _rerun(res, run_stages(prep, task, solutions, preamble, limits, protect, runner))
    return res


def _rerun(first: sandbox.SandboxResult, again: sandbox.SandboxResult) -> sandbox.SandboxResult:
    """The rerun's result, counting the first run's seconds and keeping its setup fallback."""
    again.seconds += first.seconds
    again.setup_fallback = first.setup_fallback
    return again


def import_ran_out_of_memory(res: sandbox.SandboxResult) -> bool:
    """Whether the run's code failed because a shared library (TensorFlow's, by ``import tensorflow`` or ``from
    keras import ops``) could not be mapped under its memory limit: an ImportError saying so, at the top level
    of a cell or in a hidden case."""
    if res.status != "ok":
        return False
    errors = [*res.run.cell_errors, *(c.error for c in res.run.cases if not c.returned)]
    return any(e.type == "ImportError" and sandbox.is_memory_error(e.type, e.message) for e in errors)


def run_stages(prep: Prepared, task: Task, solutions: dict[str, str | None], preamble: str,
               limits: sandbox.Limits, protect: tuple[Path, ...] = (),
               runner: Runner | None = None) -> sandbox.SandboxResult:
    """One run of the task; with a reload stage, a second fresh sandbox (or forked child) gets the files the first
    one wrote."""
    runner = runner or functools.partial(sandbox.run_job, protect=list(protect))
    res = runner(job_for(prep, task, solutions, preamble, task.harness), limits,
                 collect=tuple(task.carry) if task.reload_harness else ())
    if not task.reload_harness or res.status != "ok" or res.run.missing:
        return res
    if not any(c.returned and "error" not in (dict_fields(c.ok) or {}) for c in res.run.cases):
        return res                              # nothing to reload: the first stage's errors decide
    carried, lost = res.files, res.files_missing
    res = replace(res, files={}, files_missing={})
    if lost:
        name, why = next(iter(lost.items()))
        error = CaseError("FileNotFoundError", f"the saved file {name} {why}", after_reload=True)
        return _with_cases(res, [c if not c.returned else CaseResult(error=error) for c in res.run.cases])
    if task.rebuild:
        return _rebuild(prep, task, res, carried, limits, runner)
    res2 = runner(job_for(prep, task, solutions, preamble, task.reload_harness), limits, files=carried)
    return merge_reload(res, res2)


def _rebuild(prep: Prepared, task: Task, res: sandbox.SandboxResult, carried: dict[str, bytes],
             limits: sandbox.Limits, runner: Runner) -> sandbox.SandboxResult:
    """The rebuild stage (Task.rebuild): the saved models' configs are read here, in the trusted process, and
    refused unless Keras' own classes can rebuild them; the rebuilt model's answers come from a fresh sandbox that
    runs none of the learner's code. Every returned case gets ``saved_config``, the config text of ``carry[0]``
    read here (it replaces any key of that name a stage returned), from which the judge reads the architecture."""
    config, why = None, None
    try:
        for name in task.carry:                 # every carried model is rebuilt, so every one is checked
            text = saved_model.read_config(carried[name])
            why = why or saved_model.refusal(text)
            config = config or text
    except saved_model.Refused as exc:
        why = str(exc)
    if why is None:
        res = merge_reload(res, runner(rebuild_job_for(prep, task), limits, files=carried))
        if res.status != "ok" or res.run is None:
            return res
    cases = []
    for case in res.run.cases:
        fields = dict_fields(case.ok) if case.returned else None
        if fields is None:
            cases.append(case)
            continue
        extra = {"saved_config": encode(config)} if why is None else {"error": why}
        cases.append(CaseResult(ok=encode_dict({**fields, **extra} if "error" not in fields else fields)))
    return _with_cases(res, cases)


def _with_cases(res: sandbox.SandboxResult, cases: list[CaseResult]) -> sandbox.SandboxResult:
    return replace(res, run=replace(res.run, cases=cases))


def merge_reload(res1: sandbox.SandboxResult, res2: sandbox.SandboxResult) -> sandbox.SandboxResult:
    """Per case: an error in either stage wins (stage 2's marked as happening after the reload); else the two
    result dicts merged, stage 2's keys (e.g. "after") added to stage 1's (e.g. "before")."""
    seconds = res1.seconds + res2.seconds
    if res2.status != "ok":
        return replace(res2, seconds=seconds, detail=f"{res2.detail} ({AFTER_RELOAD})")
    cases1, cases2 = res1.run.cases, res2.run.cases
    if res2.run.missing or len(cases2) != len(cases1):
        return replace(res2, status="bad_result", seconds=seconds, run=None,
                       detail=f"crashed: the solution cells did not give a result {AFTER_RELOAD}")
    merged = []
    for c1, c2 in zip(cases1, cases2):
        if not c1.returned:
            merged.append(c1)
        elif not c2.returned:
            merged.append(CaseResult(error=replace(c2.error, after_reload=True)))
        else:
            d1, d2 = dict_fields(c1.ok), dict_fields(c2.ok)
            if d1 is None or d2 is None:
                merged.append(c1)               # not dicts: the judge rejects stage 1's value itself
                continue
            out = {**d1, **d2}
            if "error" in d2:
                out["error"] = f"{str(d2['error'])[:300]} ({AFTER_RELOAD})"
            if "error" in d1:
                out["error"] = d1["error"]
            merged.append(CaseResult(ok=encode_dict(out)))
    res = _with_cases(res1, merged)
    res.seconds = seconds
    res.stderr = (res1.stderr + "\n--- " + AFTER_RELOAD + " ---\n" + res2.stderr)[-sandbox.MAX_LOG_BYTES:]
    return res


_NAME_ERROR = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def defined_names(code: str) -> set[str] | None:
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


def needs_full_setup(res: sandbox.SandboxResult, light: str, full: str) -> list[str]:
    """The names the light preamble lacks and the full one defines that the run failed on (NameError)."""
    if res.status != "ok":
        return []
    full_names, light_names = defined_names(full), defined_names(light) or set()
    errors = [(e.type, e.message) for e in res.run.cell_errors]
    errors += [(c.error.type, c.error.message) for c in res.run.cases if not c.returned]
    found = []
    for etype, message in errors:
        if etype != "NameError":
            continue
        m = _NAME_ERROR.search(message)
        if m and m.group(1) not in light_names and (full_names is None or m.group(1) in full_names):
            found.append(m.group(1))
    return sorted(set(found))
