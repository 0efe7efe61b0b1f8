"""Putting trusted verdicts into nbgrader: its autograde converter with the Execute step replaced.

nbgrader's ``Autograde`` still does everything it does well (copies the submission to ``autograded/``, restores
edited or deleted test cells from the gradebook, de-duplicates cell ids, records timestamps and late penalties,
saves scores with ``SaveAutoGrades``). Only the step that would run the learner's notebook (``Execute``) is
replaced: :class:`SandboxVerdict` writes the verdict computed by the sandboxed grader into each test cell's output
(an error output for a failed function, so nbgrader scores it 0; a plain line for a passed one), and
:class:`RecordReasons` stores each reason as the autograder comment of the function's solution cell, where
formgrader shows it next to the learner's code.
"""
from __future__ import annotations

import shutil
import threading

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                    NbGraderPreprocessor, SaveAutoGrades)
from traitlets.config import Config

from autograder import cells

_VERDICTS: dict[tuple[str, str], object] = {}
_LOCK = threading.Lock()
PREFIX = "autograder: "


def _key(resources) -> tuple[str, str]:
    return resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]


class SandboxVerdict(NbGraderPreprocessor):
    """Replaces nbgrader's Execute: test-cell outputs come from the trusted verdict, nothing is executed."""

    def preprocess(self, nb, resources):
        verdict = _VERDICTS[_key(resources)]
        by_cell = {f.test_cell: f for f in verdict.functions}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            if cells.role(cell) != "test":
                continue
            fv = by_cell.get(cells.grade_id(cell))
            if fv is None:
                cell.outputs = [new_output("error", ename="AutograderVerdict",
                                           evalue="no hidden check is defined for this cell",
                                           traceback=["no hidden check is defined for this cell"])]
            elif fv.passed:
                cell.outputs = [new_output("stream", name="stdout", text=f"{PREFIX}{fv.function}: {fv.reason}\n")]
            else:
                text = f"{PREFIX}{fv.function}: {fv.reason}"
                cell.outputs = [new_output("error", ename="AutograderVerdict", evalue=fv.reason, traceback=[text])]
        return nb, resources


class RecordReasons(NbGraderPreprocessor):
    """After SaveAutoGrades: each function's reason becomes the auto comment of its solution cell."""

    def preprocess(self, nb, resources):
        verdict = _VERDICTS[_key(resources)]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            _write_comments(gb, verdict, resources["nbgrader"]["notebook"])
        return nb, resources


def _write_comments(gb, verdict, notebook: str) -> None:
    by_cell: dict[str, list[str]] = {}
    for fv in verdict.functions:  # several functions may share one solution cell (e.g. a class)
        by_cell.setdefault(fv.solution_cell, []).append(f"{fv.function}: {fv.reason}")
    for cell, reasons in by_cell.items():
        try:
            comment = gb.find_comment(cell, notebook, verdict.assignment, verdict.student)
        except MissingEntry:
            continue
        base = comment.auto_comment if comment.auto_comment and not comment.auto_comment.startswith(PREFIX) else ""
        if base and PREFIX in base:
            base = base.split(PREFIX)[0].strip()
        comment.auto_comment = (base + " " if base else "") + PREFIX + "; ".join(reasons)
    gb.db.commit()


def autograde_config() -> Config:
    cfg = Config()
    cfg.Autograde.autograde_preprocessors = [SandboxVerdict, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                             SaveAutoGrades, RecordReasons, AssignLatePenalties, CheckCellMetadata]
    return cfg


def ensure_student(gb, student_id: str):
    """The student's row, created if missing. nbgrader's ``update_or_create_student`` looks up, then inserts: two
    graders sharing a gradebook (PostgreSQL) can both miss, and the later insert fails on the primary key; that
    grader then takes the row the other one committed."""
    try:
        return gb.update_or_create_student(student_id)
    except InvalidEntry as lost:
        try:
            return gb.find_student(student_id)
        except MissingEntry:
            raise lost from None  # not a lost race: nbgrader's own error


def store(course, info, verdict) -> None:
    """Write one submission's verdict into the gradebook (via nbgrader's autograde when the notebook is valid)."""
    with _LOCK:
        _VERDICTS[(verdict.assignment, verdict.student)] = verdict
        try:
            with course.gradebook() as gb:  # before nbgrader's own find-then-insert, which races (ensure_student)
                ensure_student(gb, verdict.student)
            if verdict.status == "graded":
                result = course.api(autograde_config()).autograde(verdict.assignment, verdict.student,
                                                                  force=True, create=True)
                if result.get("success"):
                    verdict.nbgrader = "nbgrader autograde (sandboxed verdict)"
                    return
                log = (result.get("error") or result.get("log") or "").strip().splitlines()
                verdict.nbgrader = "written directly: nbgrader autograde failed: " + (log[-1] if log else "?")
            else:
                verdict.nbgrader = "written directly (invalid notebook)"
            _store_directly(course, info, verdict)
        finally:
            _VERDICTS.pop((verdict.assignment, verdict.student), None)


def _store_directly(course, info, verdict) -> None:
    """Scores and reasons without nbgrader's converter (unreadable notebooks): every autograded cell gets its
    verdict's score, manual grades are left as they are, and the submission is flagged for the instructor."""
    stale = course.autograded_dir(verdict.student, verdict.assignment)
    if stale.exists():
        shutil.rmtree(stale)
    notebook = verdict.assignment
    by_cell = {f.test_cell: f for f in verdict.functions}
    with course.gradebook() as gb:
        gb.update_or_create_student(verdict.student)
        gb.update_or_create_submission(verdict.assignment, verdict.student)
        nb = gb.find_submission_notebook(notebook, verdict.assignment, verdict.student)
        for grade in nb.grades:
            fv = by_cell.get(grade.name)
            if fv is not None:
                grade.auto_score = fv.score
                grade.needs_manual_grade = grade.manual_score is not None
        nb.flagged = verdict.status != "graded"
        gb.db.commit()
        _write_comments(gb, verdict, notebook)
        if verdict.status != "graded":
            for comment in nb.comments:
                if not (comment.auto_comment or "").startswith(PREFIX):
                    comment.auto_comment = f"{PREFIX}{verdict.reason}"
            gb.db.commit()
