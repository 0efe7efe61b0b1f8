"""The trusted verdict: sandboxed runs of each exercise function, judged in this process, stored in nbgrader.

Flow of :func:`grade_assignment` (``python -m autograder grade``):

1. hidden cases and reference outputs (``autograder.references``);
2. read every submission under ``submitted/<student>/<assignment>/`` as JSON (never executed here), reject
   unreadable ones with a reason;
3. for each submission, run each exercise function on the hidden inputs with the submission's solution cells only,
   in one sandbox per submission that forks a child per function (``autograder.stages.run_submission``), here
   ``--jobs`` submissions at a time or on a Dask cluster (``autograder.cluster``); judge the returned plain
   values here (:func:`judge_function`);
4. let nbgrader's own autograde converter sanitise each submission (restore test cells, de-duplicate ids, ...)
   with its ``Execute`` step replaced by :class:`autograder.nbgrader_hooks.SandboxVerdict`, so scores land in
   the gradebook the nbgrader way (formgrader, manual grading, feedback and export keep working), each submission
   as soon as its verdict is complete, while other submissions still run;
5. record every reason in the gradebook (comments) and in ``reports/<assignment>.{json,csv}``
   (``autograder.reports``).
"""
from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import cluster, course_files, nbgrader_hooks, sandbox, stages
from autograder.compare import Mismatch, reference_judge
from autograder.gradebook_repair import GradebookError
from autograder.nbgrader_course import Course
from autograder.notebook import InvalidNotebook, extract_solutions, parse_notebook, source_info
from autograder.protocol import SIGNATURE_ERROR, CaseError, ProtocolError, progress_note
from autograder.references import Prepared, prepare
from autograder.reports import write_reports
from autograder.task import Task
from autograder.text import printable
from autograder.verdicts import NOT_STORED, FunctionVerdict, SubmissionVerdict


def error_reason(err: CaseError, case_no: int, limits: sandbox.Limits) -> str:
    """The reason for a case that raised: out of memory, not implemented, or the exception and where."""
    etype, msg, where = err.type[:80], err.message[:300], err.where[:80]
    if sandbox.is_memory_error(etype, msg):
        reason = f"out of memory: {etype} under the {limits.memory_mb} MiB limit (hidden case {case_no})"
        reason += f": {msg[:200]}" if msg and etype != "MemoryError" else ""
    elif etype == "NotImplementedError":
        reason = "not implemented yet (raises NotImplementedError)"
    elif etype == SIGNATURE_ERROR:
        reason = f"wrong signature: {err.message[:600]}"    # longer: the notebook's parameters and the learner's
    else:
        reason = f"crashed: hidden case {case_no} raised {etype}: {msg}" + (f" at {where}" if where else "")
    return f"{reason} ({stages.AFTER_RELOAD})" if err.after_reload else reason


def judge_function(prep: Prepared, task: Task, solutions: dict[str, str | None],
                   res: sandbox.SandboxResult | None) -> tuple[bool, str]:
    """(passed, reason) for one function of one submission, from its sandbox run."""
    if solutions.get(task.solution_cell) is None:
        return False, f"solution cell '{task.solution_cell}' is missing from the submission (or is not a code cell)"
    assert res is not None
    if res.status != "ok":
        where = progress_note(res.progress) if res.status in ("timeout", "oom") else ""
        return False, f"{res.detail}, {where}" if where else res.detail
    run = res.run
    own = [e for e in run.cell_errors if e.cell == task.solution_cell]
    if run.missing:
        if own and own[0].type == "NotImplementedError":
            return False, "not implemented yet (raises NotImplementedError)"
        why = f": its cell raised {own[0].type[:80]}: {own[0].message[:200]}" if own else ""
        return False, f"{task.requires or task.function} is not defined after running the solution cells{why}"
    expected_n = len(prep.payloads[task.function])
    if len(run.cases) != expected_n:
        return False, "crashed: the sandbox returned an incomplete result"
    for i, case in enumerate(run.cases, 1):
        if not case.returned:
            return False, error_reason(case.error, i, res.limits)
    results = [case.ok for case in run.cases]
    note = None
    try:
        if task.judge is None:
            reference_judge(task, results, prep.references[task.function])
        else:
            note = task.judge(results, prep.references.get(task.function), prep.secrets[task.function])
    except (Mismatch, ProtocolError) as exc:
        return False, f"mismatch: {exc}"
    except Exception as exc:  # noqa: BLE001 - a malformed result must never crash the grader
        return False, f"mismatch: the returned values could not be checked ({type(exc).__name__}: {exc})"
    return True, f"passed ({note})" if note else f"passed ({expected_n} hidden cases)"


def _known_ids(course: Course) -> dict[str, set[str]]:
    out = {}
    for a in course.assignments():
        try:
            out[a] = source_info(a, course.source_notebook(a)).all_ids
        except InvalidNotebook:
            continue
    return out


def verdicts_for(course: Course, prep: Prepared, students: list[str], jobs: int = 1,
                 progress=None, client=None, done=None) -> list[SubmissionVerdict]:
    """Steps 2 and 3 of the flow above: sandbox runs (here, or on the Dask cluster of ``client``) and trusted
    judging (no gradebook writes). ``done``: called with each submission's verdict as soon as it is judged, in
    submission order, while later submissions still run (locally; a cluster's results arrive all at once). A
    failure of the grader on one submission fails that submission with the reason, never the others."""
    assignment = prep.info.assignment
    known = _known_ids(course)
    verdicts: list[SubmissionVerdict] = []
    work: list[tuple[SubmissionVerdict, dict]] = []
    for student in students:
        v = SubmissionVerdict(assignment, student, str(course.submission_notebook(student, assignment)), "",
                              "graded")
        verdicts.append(v)
        try:
            v.submitted = course_files.read_submission(course.submitted_dir(), student, assignment)
            v.sha256 = hashlib.sha256(v.submitted.notebook).hexdigest()
            solutions = extract_solutions(parse_notebook(v.submitted.notebook), prep.info, known)
        except Exception as exc:  # noqa: BLE001 - one submission's failure is that submission's
            why = str(exc) if isinstance(exc, InvalidNotebook) else f"grader error: {type(exc).__name__}: {exc}"
            fail_submission(v, prep, f"invalid notebook: {why}")
            if done:
                done(v)
            continue
        work.append((v, solutions))

    runs = _sandbox_runs(course, prep, [solutions for _, solutions in work], jobs, client)
    for (v, solutions), results in zip(work, runs):
        for task in prep.tasks:
            res = results.get(task.function)
            ok, reason = judge_function(prep, task, solutions, res)
            points = prep.info.test_cells[task.test_cell]
            fv = FunctionVerdict(task.function, task.test_cell, task.solution_cell, points,
                                 points if ok else 0.0, printable(reason), res.seconds if res else 0.0)
            v.functions.append(fv)
            v.seconds += fv.seconds
            if progress:
                progress(v, fv)
        if done:
            done(v)
    return verdicts


def fail_submission(v: SubmissionVerdict, prep: Prepared, reason: str) -> None:
    """Make ``v`` an invalid submission: every function 0 points with ``reason`` (made printable)."""
    v.status, v.reason = "invalid", printable(reason)
    v.functions = [FunctionVerdict(t.function, t.test_cell, t.solution_cell, prep.info.test_cells[t.test_cell],
                                   0.0, v.reason) for t in prep.tasks]


def _sandbox_runs(course: Course, prep: Prepared, solutions: list[dict], jobs: int, client):
    """:func:`autograder.stages.run_submission` of every submission, in order: here ``jobs`` at a time, or on the
    Dask cluster of ``client`` (``autograder.cluster``)."""
    if client is not None:
        yield from cluster.run_submissions(client, prep, solutions, protect=(course.root,))
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        yield from pool.map(lambda s: _run_submission(prep, s, (course.root,)), solutions)


def _run_submission(prep: Prepared, solutions: dict, protect: tuple[Path, ...]) -> dict[str, sandbox.SandboxResult]:
    """stages.run_submission; should the grader itself fail on this submission, every function it runs fails
    with the error as reason (the other submissions go on)."""
    try:
        return stages.run_submission(prep, solutions, protect=protect)
    except Exception as exc:  # noqa: BLE001 - one submission's failure is that submission's
        detail = f"grader error: {type(exc).__name__}: {exc}"
        return {t.function: sandbox.SandboxResult(status="crashed", detail=detail)
                for t in stages.tasks_to_run(prep.tasks, solutions)}


def store_verdict(course: Course, prep: Prepared, v: SubmissionVerdict) -> None:
    """nbgrader_hooks.store; should it fail on this submission, the submission is stored as invalid with the error
    as reason, and if that fails too, ``v.nbgrader`` says it was not stored (the other submissions go on). A
    gradebook that cannot be used (GradebookError) stops the grading."""
    try:
        nbgrader_hooks.store(course, prep.info, v)
    except GradebookError:
        raise
    except Exception as exc:  # noqa: BLE001
        fail_submission(v, prep, f"grader error while recording the grade: {type(exc).__name__}: {exc}")
        try:
            nbgrader_hooks.store(course, prep.info, v)
        except GradebookError:
            raise
        except Exception as again:  # noqa: BLE001
            v.nbgrader = printable(f"{NOT_STORED}: {type(again).__name__}: {again}")


def grade_assignment(course: Course, assignment: str, students: list[str] | None = None, jobs: int = 1,
                     limits_override: dict | None = None, progress=None, client=None) -> list[SubmissionVerdict]:
    """Grade every (or the given) submission of ``assignment`` into the gradebook; returns the verdicts, with a
    "skipped" one for each folder of submitted/ whose name cannot be a student id. A given student id that cannot
    be one raises course_files.BadStudentId before anything is done. With a Dask ``client``
    (``autograder.cluster.connect``) the sandboxes run on its cluster."""
    started = time.perf_counter()
    skipped: list[tuple[str, str]] = []
    if students is None:
        students, skipped = course_files.scan_submitted(course.submitted_dir(), assignment)
    else:
        students = [course_files.check_student_id(s) for s in students]
    prep = prepare(course, assignment, jobs=jobs, limits_override=limits_override)
    store = lambda v: store_verdict(course, prep, v)  # noqa: E731
    if client is None:      # here each submission is stored as soon as it is judged, while others still run
        verdicts = verdicts_for(course, prep, students, jobs=jobs, progress=progress, done=store)
    else:                   # a cluster's results arrive together: a job that fails stops grading before any write
        verdicts = verdicts_for(course, prep, students, jobs=jobs, progress=progress, client=client)
        for v in verdicts:
            store(v)
    verdicts += [SubmissionVerdict(assignment, name, "", "", "skipped", why, nbgrader="not stored (skipped)")
                 for name, why in skipped]
    write_reports(course, assignment, verdicts, time.perf_counter() - started)
    return verdicts
