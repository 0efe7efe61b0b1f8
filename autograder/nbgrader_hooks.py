"""Putting trusted verdicts into nbgrader: its autograde converter with the Execute step replaced.

nbgrader's ``Autograde`` still does everything it does well (writes the notebook to ``autograded/``, restores
edited or deleted test cells from the gradebook, de-duplicates cell ids, records timestamps and late penalties,
saves scores with ``SaveAutoGrades``), on a private copy of what was graded (:func:`store`), never on
``submitted/`` itself. Only the step that would run the learner's notebook (``Execute``) is replaced:
:class:`SandboxVerdict` writes the verdict computed by the sandboxed grader into each test cell's output (an error
output for a failed function, so nbgrader scores it 0; a plain line for a passed one), and :class:`RecordReasons`
stores each reason as the autograder comment of the function's solution cell, where formgrader shows it next to
the learner's code. Every reason was made printable (``autograder.text``) when the verdict was made.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                    NbGraderPreprocessor, SaveAutoGrades)
from traitlets.config import Config

from autograder import cells
from autograder.notebook import graded_cells, parse_notebook
from autograder.text import code_text, printable

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


AUTOGRADED = "nbgrader autograde (sandboxed verdict)"
STAND_IN = "nbgrader autograde of the released notebook"
NOTE_ID = "autograder-note"


def store(course, info, verdict) -> None:
    """Write one submission's verdict into the gradebook through nbgrader's autograde, which also writes the
    autograded notebook that formgrader and feedback show. nbgrader never reads ``submitted/``: it gets a private
    copy (:func:`_autograde`) of the notebook bytes that were graded and of timestamp.txt, nothing else. When
    nbgrader cannot process that notebook (edited cell metadata, a duplicated cell), or the submission is invalid,
    it gets a stand-in instead (:func:`stand_in`: the released notebook, with the learner's answers when they were
    readable, after a note giving the reason) and the submission is flagged for the instructor."""
    with _LOCK:
        _VERDICTS[(verdict.assignment, verdict.student)] = verdict
        try:
            with course.gradebook() as gb:  # before nbgrader's own find-then-insert, which races (ensure_student)
                ensure_student(gb, verdict.student)
            if verdict.status == "graded":
                failed = _autograde(course, verdict, verdict.submitted.notebook)
                if not failed:
                    verdict.nbgrader = AUTOGRADED
                    return
                why = f"nbgrader could not process the submitted notebook ({failed})"
                how = f"{STAND_IN} with the learner's answers (flagged): {why}"
            else:
                why = verdict.reason
                how = f"{STAND_IN} (invalid notebook; flagged)"
            failed = _autograde(course, verdict, stand_in(course, verdict, why))
            if failed:
                raise RuntimeError(f"nbgrader autograde failed on the released notebook too: {failed}")
            _flag(course, verdict)
            verdict.nbgrader = printable(how)
        finally:
            _VERDICTS.pop((verdict.assignment, verdict.student), None)


def _autograde(course, verdict, notebook: bytes) -> str:
    """nbgrader autograde of ``notebook`` (and the submission's timestamp.txt) as this verdict's submission, from
    a private folder of the course root standing for submitted/; "" on success, else nbgrader's error."""
    stage = Path(tempfile.mkdtemp(prefix=".autograder-input-", dir=course.root))
    try:
        folder = stage / verdict.student / verdict.assignment
        folder.mkdir(parents=True)
        (folder / f"{verdict.assignment}.ipynb").write_bytes(notebook)
        if verdict.submitted is not None and verdict.submitted.timestamp is not None:
            (folder / "timestamp.txt").write_bytes(verdict.submitted.timestamp)
        cfg = autograde_config()
        cfg.CourseDirectory.submitted_directory = stage.name
        result = course.api(cfg).autograde(verdict.assignment, verdict.student, force=True, create=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return "" if result.get("success") else _last_error(result)


_ERROR_LINE = re.compile(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception|Warning)): (.*)$")


def _last_error(result: dict) -> str:
    """The last exception line in nbgrader's log that is not its generic closing NbGraderException."""
    lines = ((result.get("error") or "") + "\n" + (result.get("log") or "")).splitlines()
    found = [m for m in map(_ERROR_LINE.match, lines) if m and m.group(1) != "NbGraderException"]
    text = f"{found[-1].group(1)}: {found[-1].group(2)}" if found else next(
        (line.strip() for line in reversed(lines) if line.strip()), "no error message")
    return printable(text[:300])


def stand_in(course, verdict, why: str) -> bytes:
    """The released notebook with, when the submission was readable, the learner's answer in each of its
    solution cells (the first cell with that grade id, if of the same type), after a markdown note with ``why``."""
    nb = json.loads(course.release_notebook(verdict.assignment).read_text(encoding="utf-8"))
    answers = graded_cells(parse_notebook(verdict.submitted.notebook)) if verdict.status == "graded" else {}
    for cell in nb["cells"]:
        answer = answers.get(cells.grade_id(cell))
        if cells.is_solution(cell) and answer is not None and answer.get("cell_type") == cell["cell_type"]:
            cell["source"] = code_text(cells.source(answer))
    shown = ("the learner's answers are in their cells; cells the learner added are not shown"
             if verdict.status == "graded" else "the submitted file could not be graded")
    note = (f"**autograder:** this is the released notebook standing in for the submitted one ({shown}); "
            f"the scores are the sandboxed grader's verdict on the submitted file. Why:\n\n    {printable(why)}\n")
    nb["cells"].insert(0, {"cell_type": "markdown", "id": NOTE_ID, "metadata": {}, "source": note})
    return json.dumps(nb, indent=1).encode("utf-8")


def _flag(course, verdict) -> None:
    """Flag the submission for the instructor; an invalid one's reason goes on every cell without a comment of
    the autograder (written answers included)."""
    with course.gradebook() as gb:
        nb = gb.find_submission_notebook(verdict.assignment, verdict.assignment, verdict.student)
        nb.flagged = True
        if verdict.status != "graded":
            for comment in nb.comments:
                if not (comment.auto_comment or "").startswith(PREFIX):
                    comment.auto_comment = f"{PREFIX}{verdict.reason}"
        gb.db.commit()
