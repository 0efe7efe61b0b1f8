"""Instructor commands on a course where nothing has been done yet say, in one line, which command comes first."""
import subprocess
import sys

import pytest

from autograder.demo import make_course_copy
from autograder.paths import REPO_ROOT


@pytest.mark.parametrize("command, first", [
    (["feedback", "ex1_rnn_cells"], "python -m autograder release ex1_rnn_cells"),
    (["grade", "ex1_rnn_cells"], "python -m autograder release ex1_rnn_cells"),
    (["export", "--to", "grades.csv"], "python -m autograder release"),
])
def test_a_command_before_its_prerequisite_says_what_to_run_first(tmp_path, command, first):
    course = make_course_copy(tmp_path / "course")
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), *command],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and first in lines[0] and "Traceback" not in run.stderr, run.stderr


def test_feedback_after_release_but_before_grading_says_to_grade_first(tmp_path):
    course = make_course_copy(tmp_path / "course")
    (course.root / "release" / "ex1_rnn_cells").mkdir(parents=True)
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "feedback",
                          "ex1_rnn_cells"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "python -m autograder grade ex1_rnn_cells" in run.stderr, run.stderr
