"""`python -m autograder solution EX`: a worked solution for self-learners, written beside their notebook."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from autograder import cells
from autograder.learner_check import check_notebook
from autograder.paths import DEFAULT_COURSE, LEARNER_DIR, REPO_ROOT
from autograder.solutions import SolutionUnavailable, reasoning, write_solution

SOURCES = sorted(DEFAULT_COURSE.glob("source/*/*.ipynb"))


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_every_solved_code_cell_has_its_reasoning_and_no_entry_is_stale(source):
    nb = json.loads(source.read_text())
    solved = {cells.grade_id(c) for c in nb["cells"] if cells.is_solution(c) and c["cell_type"] == "code"}
    why = reasoning(source.stem)
    assert solved - set(why) == set(), f"{source.stem}: no reasoning in worked_solutions.yml for {solved - set(why)}"
    assert set(why) - solved == set(), f"{source.stem}: reasoning for cells that are not solutions: {set(why) - solved}"
    assert all(len(text.split()) >= 25 for text in why.values())


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_the_worked_solution_is_solved_explained_and_free_of_hidden_tests(source, tmp_path):
    path = write_solution(source.stem, to=tmp_path / "solved.ipynb")
    nb = json.loads(path.read_text())
    text = json.dumps(nb)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    solved = [cells.source(c) for c in nb["cells"] if cells.is_solution(c)]
    assert solved and not any("NotImplementedError" in s or "YOUR CODE HERE" in s or "YOUR ANSWER HERE" in s
                              for s in solved)
    for cell, following in zip(nb["cells"], nb["cells"][1:]):
        if cells.is_solution(cell) and cell["cell_type"] == "code":
            assert cells.source(following).startswith("**Why this works.**"), cells.grade_id(cell)
    assert "Try the exercise first" in cells.source(nb["cells"][0])


def test_the_worked_solution_passes_the_learners_check(tmp_path):
    path = write_solution("ex1_rnn_cells", to=tmp_path / "ex1_rnn_cells.ipynb")
    out = io.StringIO()
    assert check_notebook(path, timeout=120, stream=out) == 0, out.getvalue()
    assert out.getvalue().count("PASS") == 5


def test_nothing_the_learner_wrote_is_overwritten(tmp_path):
    target = tmp_path / "mine.ipynb"
    target.write_text("my own notes")
    with pytest.raises(SolutionUnavailable, match="--force"):
        write_solution("ex1_rnn_cells", to=target)
    assert target.read_text() == "my own notes"
    with pytest.raises(SolutionUnavailable, match="your own exercise notebook"):
        write_solution("ex1_rnn_cells", to=LEARNER_DIR / "ex1_rnn_cells.ipynb", force=True)
    write_solution("ex1_rnn_cells", to=target, force=True)
    assert "Why this works" in target.read_text()


def test_a_withheld_or_unknown_exercise_gets_a_clear_message(tmp_path):
    (tmp_path / "source").mkdir()
    with pytest.raises(SolutionUnavailable, match="instructor keeps the reference solutions"):
        write_solution("ex1_rnn_cells", course_root=tmp_path, to=tmp_path / "x.ipynb")
    result = subprocess.run([sys.executable, "-m", "autograder", "solution", "ex9_nothing", "--to",
                             str(tmp_path / "y.ipynb")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "unknown exercise 'ex9_nothing'" in result.stderr
    assert "ex1_rnn_cells" in result.stderr and not (tmp_path / "y.ipynb").exists()
