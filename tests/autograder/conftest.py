"""Shared fixtures of the autograder tests: one released course copy per session (in a temporary folder)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.demo import make_course_copy
from autograder.submissions import fill, reference_solutions



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
