"""Shared fixtures of the autograder tests: one released course copy per session (in a temporary folder)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.paths import EXAMPLES_DIR
from autograder.demo import make_course_copy
from autograder.submissions import fill, reference_solutions


def expected_examples() -> dict[str, dict[str, dict]]:
    """autograder/examples/expected.json: exercise -> student -> {"scores": {function: points}, "reasons":
    {function: fragment of the reason}} for the shipped example submissions."""
    data = json.loads((EXAMPLES_DIR / "expected.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


class CourseKit:
    def __init__(self, course):
        self.course = course
        self._released: dict[str, dict] = {}

    def released(self, assignment: str) -> dict:
        if assignment not in self._released:
            path = self.course.release_notebook(assignment)
            if not path.is_file():
                self.course.release(assignment)
            self._released[assignment] = json.loads(path.read_text())
        return self._released[assignment]

    def answers(self, assignment: str) -> dict[str, str]:
        return reference_solutions(self.course.source_notebook(assignment))

    def honest(self, assignment: str, **override: str) -> dict:
        answers = self.answers(assignment)
        answers.update(override)
        return fill(self.released(assignment), answers)

    def examples(self, assignment: str) -> dict[str, bytes]:
        """student -> the shipped example submission of ``assignment`` (bytes, exactly as shipped)."""
        return {p.parent.parent.name: p.read_bytes()
                for p in sorted(EXAMPLES_DIR.glob(f"submitted/*/{assignment}/{assignment}.ipynb"))}

    def check_examples(self, assignment: str, verdicts: dict) -> None:
        """The shipped examples of ``assignment`` among ``verdicts`` (student -> SubmissionVerdict) scored as
        autograder/examples/expected.json says, each lost point with the expected reason."""
        from autograder import reports

        for student, expected in expected_examples()[assignment].items():
            scores, fragments = expected["scores"], expected["reasons"]
            v = verdicts[student]
            table = reports.summary_table([v])
            assert {f.function: f.score for f in v.functions} == scores, table
            for f in v.functions:
                if f.function in fragments:
                    assert fragments[f.function] in f.reason, table

    def submit(self, student: str, assignment: str, notebook) -> Path:
        path = self.course.submission_notebook(student, assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, bytes):
            path.write_bytes(notebook)
        elif isinstance(notebook, str):
            path.write_text(notebook)
        else:
            path.write_text(json.dumps(notebook, indent=1))
        return path


@pytest.fixture(scope="session")
def kit(tmp_path_factory) -> CourseKit:
    course = make_course_copy(tmp_path_factory.mktemp("agcourse") / "course")
    return CourseKit(course)
