"""The shipped example submissions (autograder/examples/submitted/, graded by `make grade-demo`): each is a released
notebook with a learner's answers, listed in autograder/examples/expected.json with its expected score per function.

The numpy exercises' examples are graded here; the Keras exercises' examples are graded once, together with
test_exercises.py's submissions for that exercise (a TensorFlow import and a short training per function)."""
from __future__ import annotations

import json

import pytest

from autograder import cells, grader, hidden
from autograder.paths import EXAMPLES_DIR
from autograder.notebook import InvalidNotebook, load_json_notebook

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

EXAMPLE_SCORES = {a: {s: (e["scores"], e["reasons"]) for s, e in students.items()}
                  for a, students in json.loads((EXAMPLES_DIR / "expected.json").read_text()).items()
                  if not a.startswith("_")}
SHIPPED = sorted((p.parent.name, p.parent.parent.name) for p in EXAMPLES_DIR.glob("submitted/*/*/*.ipynb"))
# graded once, in test_exercises.py: the exercises with a function that imports TensorFlow
KERAS = {a for a in hidden.names() if any(t.tensorflow for t in hidden.load(a).TASKS)}
_source, _nbgrader = cells.source, cells.meta


def test_every_shipped_example_has_expected_scores():
    listed = sorted((a, s) for a, students in EXAMPLE_SCORES.items() for s in students)
    assert SHIPPED == listed
    assert {a for a, _ in SHIPPED} >= KERAS | {"ex1_rnn_cells", "ex4_text_generation"}


@pytest.mark.parametrize("assignment,student", [(a, s) for a, s in SHIPPED if a in KERAS])
def test_examples_are_filled_in_released_notebooks(kit, assignment, student):
    """Same cells, ids and nbgrader metadata as the release; only solution cells differ; a learner's text in the
    written answers, or the untouched prompt of an unfinished one."""
    released = kit.released(assignment)
    nb = load_json_notebook(EXAMPLES_DIR / "submitted" / student / assignment / f"{assignment}.ipynb")
    assert [(c["cell_type"], c.get("id"), _nbgrader(c)) for c in nb["cells"]] == \
           [(c["cell_type"], c.get("id"), _nbgrader(c)) for c in released["cells"]]
    for ours, rel in zip(nb["cells"], released["cells"]):
        if not _nbgrader(rel).get("solution"):
            assert _source(ours) == _source(rel)
        elif ours["cell_type"] == "markdown" and "YOUR ANSWER HERE" not in _source(ours):
            written = _source(ours)[len(_source(rel).replace("YOUR ANSWER HERE", "")):]
            assert len(written.split()) >= 25, f"{student}: a written answer of a few sentences, not {written!r}"
    unfinished = any("raise NotImplementedError" in _source(c) for c in nb["cells"] if _nbgrader(c).get("solution"))
    assert unfinished == any(r.startswith("not implemented") for r in EXAMPLE_SCORES[assignment][student][1].values())


@pytest.mark.parametrize("assignment", sorted(KERAS))
def test_alice_codes_the_reference_solution(kit, assignment):
    """So alice's full marks in test_exercises.py are the reference solutions' full marks."""
    nb = load_json_notebook(EXAMPLES_DIR / "submitted" / "alice" / assignment / f"{assignment}.ipynb")
    reference = kit.answers(assignment)
    code = {_nbgrader(c)["grade_id"]: _source(c) for c in nb["cells"]
            if _nbgrader(c).get("solution") and c["cell_type"] == "code"}
    assert code == {gid: src for gid, src in reference.items() if gid in code}
    assert "raise NotImplementedError" not in json.dumps(code)


@pytest.mark.parametrize("assignment", sorted(set(EXAMPLE_SCORES) - KERAS))
def test_numpy_examples_score_as_expected(kit, assignment):
    kit.released(assignment)
    examples = kit.examples(assignment)
    for student, data in examples.items():
        kit.submit(student, assignment, data)
    verdicts = grader.grade_assignment(kit.course, assignment, students=sorted(examples), jobs=2)
    kit.check_examples(assignment, {v.student: v for v in verdicts})


def test_the_invalid_example_is_really_invalid():
    with pytest.raises(InvalidNotebook):
        load_json_notebook(EXAMPLES_DIR / "submitted" / "dave" / "ex1_rnn_cells" / "ex1_rnn_cells.ipynb")
