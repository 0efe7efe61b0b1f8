"""Adding an exercise takes its source notebook and its hidden checks, nothing else (autograder/README.md,
"Adding an exercise"): a throw-away sixth exercise, in a temporary course, is discovered, released, checked by the
learner's command and graded, with no list anywhere naming it."""
from __future__ import annotations

import io
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import grader, hidden
from autograder.demo import make_course_copy
from autograder.learner_check import check_notebook
from autograder.nbgrader_course import Course
from autograder.submissions import fill, reference_solutions

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

A = "ex6_throwaway"

HIDDEN_CHECKS = f'''"""Hidden checks for {A}: seeded float32 vectors, compared with the reference solution's outputs."""
import numpy as np

from autograder.task import Task

ASSIGNMENT = "{A}"
SEED = 6


def cases_scale(rng):
    return [{{"args": {{"x": rng.normal(size=n).astype(np.float32), "factor": 3}}}} for n in (1, 4, 7)], None


TASKS = [Task("scale", "scale", "test_scale", cases_scale)]
'''


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
         "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def source_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Exercise 6: scaling a vector"),
        new_code_cell("import numpy as np", metadata=_meta("setup", locked=True)),
        new_code_cell("def scale(x, factor):\n    ### BEGIN SOLUTION\n    return (x * factor).astype(x.dtype)\n"
                      "    ### END SOLUTION\n", metadata=_meta("scale", solution=True)),
        new_code_cell("assert scale(np.ones(2, np.float32), 2).tolist() == [2.0, 2.0]",
                      metadata=_meta("test_scale", grade=True, locked=True, points=2)),
    ], metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})


def test_a_sixth_exercise_needs_only_its_source_and_its_hidden_checks(tmp_path):
    checks = tmp_path / "hidden"
    checks.mkdir()
    (checks / f"{A}.py").write_text(HIDDEN_CHECKS)                                  # file 1: the hidden checks
    course = Course(make_course_copy(tmp_path / "course").root, checks_dir=checks)
    source = course.source_notebook(A)
    source.parent.mkdir(parents=True)
    nbformat.write(source_notebook(), source)                                      # file 2: the source notebook
    assert course.assignments() == [A] and hidden.names(checks) == [A]

    learner = tmp_path / "learner"
    course.release(A, sync_to=learner)                                             # generated: the learner's copy
    released = json.loads((learner / f"{A}.ipynb").read_text())
    assert "BEGIN SOLUTION" not in json.dumps(released)

    honest = fill(released, reference_solutions(source))
    out = io.StringIO()
    (tmp_path / f"{A}.ipynb").write_text(json.dumps(honest))
    assert check_notebook(tmp_path / f"{A}.ipynb", timeout=120, stream=out) == 0, out.getvalue()

    submissions = {"honest": honest, "wrong": fill(released, {"scale": "def scale(x, factor):\n    return x\n"}),
                   "blank": released}
    for student, nb in submissions.items():
        path = course.submission_notebook(student, A)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
    verdicts = {v.student: v for v in grader.grade_assignment(course, A, jobs=1)}
    assert {s: v.score for s, v in verdicts.items()} == {"honest": 2, "wrong": 0, "blank": 0}
    assert verdicts["honest"].functions[0].reason == "passed (3 hidden cases)"
    assert verdicts["wrong"].functions[0].reason.startswith("mismatch: scale (hidden case 1)")
    assert verdicts["blank"].functions[0].reason.startswith("not implemented")
    with course.gradebook() as gb:
        assert gb.find_submission(A, "honest").score == 2


def test_hidden_checks_must_name_their_own_assignment(tmp_path):
    (tmp_path / f"{A}.py").write_text(HIDDEN_CHECKS.replace(f'ASSIGNMENT = "{A}"', 'ASSIGNMENT = "ex1_rnn_cells"'))
    with pytest.raises(ValueError, match="ASSIGNMENT must be"):
        hidden.load(A, tmp_path)
    with pytest.raises(KeyError, match="unknown assignment"):
        hidden.load("ex9_missing", tmp_path)
