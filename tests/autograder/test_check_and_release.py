"""The learner's `check` command, the released notebooks' sync with notebooks/09_exercises, and the CLI."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from autograder import cells
from autograder.learner_check import check_notebook
from autograder.paths import LEARNER_DIR, REPO_ROOT

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")


def _strip(nb: dict) -> list:
    """What must agree between a fresh release and the committed learner copy: every cell's type, source and
    nbgrader metadata (checksums included)."""
    return [(c["cell_type"], cells.source(c), c.get("metadata", {}).get("nbgrader")) for c in nb["cells"]]


@pytest.mark.parametrize("assignment", sorted(p.stem for p in LEARNER_DIR.glob("ex*.ipynb")))
def test_learner_notebooks_are_in_sync_with_a_fresh_release(kit, assignment):
    fresh = kit.released(assignment)
    committed = json.loads((LEARNER_DIR / f"{assignment}.ipynb").read_text())
    assert _strip(fresh) == _strip(committed), (
        f"notebooks/09_exercises/{assignment}.ipynb is stale: run `python -m autograder release {assignment}`")
    text = json.dumps(committed)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


def test_every_source_has_a_learner_copy(kit):
    for assignment in kit.course.assignments():
        assert (LEARNER_DIR / f"{assignment}.ipynb").is_file(), assignment


def _run_check(kit, nb: dict, tmp_path, name="ex1_rnn_cells") -> tuple[int, str]:
    path = tmp_path / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    out = io.StringIO()
    rc = check_notebook(path, timeout=120, stream=out)
    return rc, out.getvalue()


def test_check_on_the_blank_released_notebook_lists_todo(kit, tmp_path):
    rc, out = _run_check(kit, kit.released("ex1_rnn_cells"), tmp_path)
    assert rc == 1
    for fn in ("rnn_step", "rnn_forward", "lstm_step", "gru_step", "rnn_bptt"):
        assert f"{fn}" in out
    assert out.count("TODO") == 5


def test_check_passes_a_correct_notebook(kit, tmp_path):
    rc, out = _run_check(kit, kit.honest("ex1_rnn_cells"), tmp_path)
    assert rc == 0, out
    assert out.count("PASS") == 5 and "all visible checks passed" in out


def test_check_names_the_failing_function_and_message(kit, tmp_path):
    wrong = "def gru_step(x_t, h_prev, W_z, W_r, W, b_z, b_r, b):\n    return h_prev.astype(np.float64)\n"
    rc, out = _run_check(kit, kit.honest("ex1_rnn_cells", gru_step=wrong), tmp_path)
    assert rc == 1
    line = next(l for l in out.splitlines() if l.strip().startswith("gru_step"))
    assert "FAIL" in line and "float32" in line
    assert sum("PASS" in l for l in out.splitlines()) == 4


def test_check_reports_syntax_errors_and_unreadable_files(kit, tmp_path):
    rc, out = _run_check(kit, kit.honest("ex1_rnn_cells", rnn_step="def rnn_step(:\n"), tmp_path)
    assert rc == 1 and "SyntaxError" in out
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{")
    out = io.StringIO()
    assert check_notebook(bad, stream=out) == 2 and "not valid JSON" in out.getvalue()


def test_cli_help_and_info():
    out = subprocess.run([sys.executable, "-m", "autograder", "--help"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    for cmd in ("release", "references", "grade", "export", "feedback", "check", "demo"):
        assert cmd in out
    info = subprocess.run([sys.executable, "-m", "autograder", "info"], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True).stdout
    assert "sandbox" in info and "ex1_rnn_cells" in info


def test_export_and_feedback_after_grading(kit, tmp_path):
    from autograder import grader

    kit.submit("export_student", "ex1_rnn_cells", kit.honest("ex1_rnn_cells"))
    grader.grade_assignment(kit.course, "ex1_rnn_cells", students=["export_student"], jobs=1)
    csv_path = kit.course.export_csv(tmp_path / "grades.csv")
    text = csv_path.read_text()
    assert "export_student" in text and "ex1_rnn_cells" in text
    result = kit.course.feedback("ex1_rnn_cells", "export_student")
    assert result["success"], result.get("log")
    html = (kit.course.root / "feedback" / "export_student" / "ex1_rnn_cells" / "ex1_rnn_cells.html").read_text()
    assert "autograder: rnn_step: passed" in html
