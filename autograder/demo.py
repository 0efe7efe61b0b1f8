"""``python -m autograder demo`` (``make grade-demo``): the instructor workflow on the shipped example submissions.

Works on a fresh clone: copies the course (config and sources) to ``build/grade-demo/course``, releases every
exercise, puts ``autograder/examples/submitted/`` in place as if collected, grades with the sandboxed grader,
exports the gradebook to CSV and generates feedback, printing a score table per exercise and whether every score
is the one ``autograder/examples/expected.json`` expects (exit status 1 if not).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from autograder import grader, reports, sandbox
from autograder.nbgrader_course import Course
from autograder.paths import DEFAULT_COURSE, EXAMPLES_DIR, REPO_ROOT
from autograder.verdicts import SubmissionVerdict


def make_course_copy(dest: Path) -> Course:
    """A fresh course folder with the configuration and sources only (no gradebook, no submissions)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy2(DEFAULT_COURSE / "nbgrader_config.py", dest / "nbgrader_config.py")
    shutil.copytree(DEFAULT_COURSE / "source", dest / "source")
    return Course(dest)


def expected_mismatches(assignment: str, verdicts: list[SubmissionVerdict]) -> list[str]:
    """Differences between the verdicts and ``examples/expected.json`` (scores per function) for ``assignment``."""
    path = EXAMPLES_DIR / "expected.json"
    expected = json.loads(path.read_text()).get(assignment, {}) if path.is_file() else {}
    out = []
    for v in verdicts:
        want = expected.get(v.student, {}).get("scores")
        got = {f.function: f.score for f in v.functions}
        if want is None:
            out.append(f"{v.student}: not listed in {path.name}")
        elif got != want:
            diff = ", ".join(f"{k} {got.get(k)} (expected {want.get(k)})" for k in sorted(set(got) | set(want))
                             if got.get(k) != want.get(k))
            out.append(f"{v.student}: {diff}")
    return out


def formgrader_command(course_root: Path) -> str:
    """The command that opens a course folder in formgrader, from the repository's folder."""
    root = Path(course_root).resolve()
    shown = root.relative_to(REPO_ROOT) if root.is_relative_to(REPO_ROOT) else root
    return f"make formgrader COURSE={shown}"


def run_demo(jobs: int = 2, workdir: Path | None = None, assignments: list[str] | None = None) -> int:
    started = time.perf_counter()
    workdir = workdir or (REPO_ROOT / "build" / "grade-demo")
    course = make_course_copy(Path(workdir) / "course")
    examples = EXAMPLES_DIR / "submitted"
    shutil.copytree(examples, course.submitted_dir())
    with_examples = sorted({p.parent.name for p in examples.glob("*/*/*.ipynb")})
    todo = [a for a in course.assignments() if a in with_examples and (not assignments or a in assignments)]
    mismatches: list[str] = []
    print(f"course copy: {course.root}")
    print(f"sandbox: {sandbox.isolation_note()}")
    for a in course.assignments():
        course.release(a)
    print(f"released: {', '.join(course.assignments())} -> {course.root / 'release'}")
    for a in todo:
        t = time.perf_counter()
        verdicts = grader.grade_assignment(course, a, jobs=jobs)
        print(f"\n== {a}: {len(verdicts)} example submission(s), graded in {time.perf_counter() - t:.1f} s "
              f"(--jobs {jobs})")
        print(reports.summary_table(verdicts))
        wrong = expected_mismatches(a, verdicts)
        mismatches += [f"{a} / {w}" for w in wrong]
        print("expected scores (examples/expected.json): " + ("all match" if not wrong else "; ".join(wrong)))
        result = course.feedback(a)
        print(f"feedback: {'ok' if result.get('success') else 'FAILED'} -> {course.root / 'feedback'}")
    csv_path = course.export_csv(course.root / "grades.csv")
    print(f"\ngradebook exported to {csv_path}")
    print(f"demo finished in {time.perf_counter() - started:.1f} s")
    print(f"to grade the written answers by hand, open this course in formgrader: {formgrader_command(course.root)}")
    if mismatches:
        print(f"{len(mismatches)} example submission(s) did not get their expected scores")
        return 1
    return 0
