"""What `check` says about files it cannot check as the learner meant: a missing path, another exercise's notebook
under an exercise's name, a damaged file (no sandbox run needed)."""
from __future__ import annotations

import io
import shutil

from autograder.learner_check import check_notebook, exercise_of, named_exercise
from autograder.notebook import load_json_notebook
from autograder.paths import LEARNER_DIR


def _check(path) -> tuple[int, str]:
    out = io.StringIO()
    return check_notebook(path, stream=out), out.getvalue()


def test_a_path_that_does_not_exist_is_said_so(tmp_path):
    rc, out = _check(tmp_path / "nope.ipynb")
    assert rc == 2 and "nope.ipynb: does not exist" in out and "submission" not in out
    rc, out = _check(tmp_path)
    assert rc == 2 and "is a folder, not a notebook file" in out


def test_another_exercise_under_an_exercise_name_is_detected(tmp_path):
    wrong = tmp_path / "ex1_rnn_cells.ipynb"
    shutil.copy(LEARNER_DIR / "ex4_text_generation.ipynb", wrong)
    rc, out = _check(wrong)
    assert rc == 2
    assert "its name says ex1_rnn_cells, but it holds exercise ex4_text_generation" in out
    assert "checking" not in out          # nothing ran


def test_each_released_notebook_is_its_own_exercise(tmp_path):
    for path in sorted(LEARNER_DIR.glob("ex*.ipynb")):
        if not path.name.endswith(".solution.ipynb"):
            assert exercise_of(load_json_notebook(path)) == path.stem
            assert named_exercise(tmp_path / f"{path.stem}-Copy1.ipynb") == path.stem
    assert named_exercise(tmp_path / "my_notes.ipynb") is None


def test_a_json_error_names_its_position_once(tmp_path):
    bad = tmp_path / "ex1_rnn_cells.ipynb"
    bad.write_text('{"cells": [\n  {"source": "unterminated')
    rc, out = _check(bad)
    assert rc == 2 and "Unterminated string starting at line 2, column 14" in out and "at at" not in out
