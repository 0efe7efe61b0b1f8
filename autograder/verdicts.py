"""The grader's verdicts: one per submission, one per exercise function, with the reason of every lost point."""
from __future__ import annotations

from dataclasses import dataclass, field

from autograder.course_files import Submission

NOT_STORED = "not stored in the gradebook"     # how SubmissionVerdict.nbgrader starts when the grade was not written


@dataclass
class FunctionVerdict:
    function: str
    test_cell: str
    solution_cell: str
    points: float
    score: float
    reason: str
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.score >= self.points > 0


@dataclass
class SubmissionVerdict:
    assignment: str
    student: str
    path: str
    sha256: str
    status: str                           # "graded" | "invalid" | "skipped" (a folder name that is no student id)
    reason: str = ""
    functions: list[FunctionVerdict] = field(default_factory=list)
    seconds: float = 0.0
    nbgrader: str = ""                    # how the scores reached the gradebook
    submitted: Submission | None = field(default=None, repr=False)   # the bytes read (not in the reports)

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.points for f in self.functions)
