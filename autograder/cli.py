"""Command line: ``python -m autograder {release,references,grade,export,feedback,check,solution,demo,gradebook,info}``."""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path


def _quiet_warnings() -> None:
    # nbgrader 0.9.6's gradebook code triggers SQLAlchemy 2.x "not in session" warnings on every autograde;
    # they are harmless (the objects are added explicitly right after) and no SQLAlchemy 2.x release avoids them.
    try:
        from sqlalchemy.exc import SAWarning

        warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\..*")
    except ImportError:  # pragma: no cover
        pass
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(nbgrader|nbconvert|traitlets)\..*")


def _course(args):
    from autograder.nbgrader_course import Course

    course = Course(args.course)
    if args.db_url:
        course.config.CourseDirectory.db_url = args.db_url
    return course


def _assignments(course, names):
    known = course.assignments()
    if not names:
        return known
    bad = [n for n in names if n not in known]
    if bad:
        raise SystemExit(f"unknown assignment(s) {', '.join(bad)}; this course has: {', '.join(known)}")
    return names


def _require_step(course, assignment: str, step: str) -> None:
    """Stop with one line naming the command to run first when ``step`` needs a step not yet done on this course."""
    released = (course.root / "release" / assignment).is_dir()
    graded = any((course.root / "autograded").glob(f"*/{assignment}"))
    first = None
    if step in ("grade", "feedback") and not released:
        first = f"python -m autograder release {assignment}"
    elif step == "feedback" and not graded:
        first = f"python -m autograder grade {assignment}"
    if first:
        raise SystemExit(f"{step} {assignment}: not possible yet in {course.root}: run `{first}` first")


def cmd_release(args) -> int:
    from autograder.paths import LEARNER_DIR

    course = _course(args)
    sync = None if args.no_sync else Path(args.sync_to) if args.sync_to else LEARNER_DIR
    for a in _assignments(course, args.assignments):
        path = course.release(a, sync_to=sync)
        print(f"released {a}: {path}" + (f" (copied to {sync})" if sync else ""))
    return 0


def cmd_references(args) -> int:
    from autograder import references

    course = _course(args)
    for a in _assignments(course, args.assignments):
        t = time.perf_counter()
        references.prepare(course, a, rebuild=True, jobs=args.jobs)
        print(f"reference outputs of {a}: {course.reference_file(a)} ({time.perf_counter() - t:.1f} s)")
    return 0


def cmd_grade(args) -> int:
    """Failed or unreadable submissions are recorded with their reasons; they are not errors of the grader. Exit
    status 1 when a grade could not be written to the gradebook, 2 for a --student that cannot be a student id."""
    from autograder import cluster, grader, reports, sandbox
    from autograder.verdicts import NOT_STORED

    course = _course(args)
    assignments = _assignments(course, args.assignments)
    _student_ids(args.student or [])
    for a in assignments:
        _require_step(course, a, "grade")
    override = {}
    if args.time_limit:
        override["wall_s"] = args.time_limit
    scheduler = args.scheduler or course.config.get("Autograder", {}).get("scheduler")
    client = None
    if scheduler:
        try:
            client = cluster.connect(scheduler)
        except cluster.ClusterError as exc:
            print(f"grading stopped: {exc}", file=sys.stderr)
            return 1
        print(f"cluster: {cluster.describe(client)}")
    else:
        print(f"sandbox: {sandbox.isolation_note()}")
    where = f"on the cluster at {scheduler}" if client else f"with --jobs {args.jobs}"
    not_stored = 0
    try:
        for a in assignments:
            t = time.perf_counter()
            verdicts = grader.grade_assignment(course, a, students=args.student or None, jobs=args.jobs,
                                               limits_override=override, client=client)
            print(f"\n== {a}: {len(verdicts)} submission(s) graded in {time.perf_counter() - t:.1f} s {where}")
            print(reports.summary_table(verdicts))
            print(f"report: {course.reports_dir() / (a + '.json')} and .csv")
            not_stored += sum(v.nbgrader.startswith(NOT_STORED) for v in verdicts)
    except cluster.ClusterError as exc:
        print(f"grading stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    if not_stored:
        print(f"{not_stored} grade(s) could not be written to the gradebook (see 'not in the gradebook' above)",
              file=sys.stderr)
        return 1
    return 0


def _student_ids(ids: list[str]) -> list[str]:
    """The ``--student`` ids, each checked (course_files.check_student_id); else a one-line error (exit status 2)."""
    from autograder.course_files import BadStudentId, check_student_id

    try:
        return [check_student_id(s) for s in ids]
    except BadStudentId as exc:
        print(f"--student: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_export(args) -> int:
    course = _course(args)
    to = Path(args.to)
    if not any((course.root / "release" / a).is_dir() for a in course.assignments()):
        raise SystemExit(f"export: no assignment released in {course.root} yet, so no grades to export; run "
                         "`python -m autograder release` and `grade` first")
    course.export_csv(to)
    print(f"grades exported to {to}")
    return 0


def cmd_feedback(args) -> int:
    course = _course(args)
    _student_ids([args.student] if args.student is not None else [])
    rc = 0
    for a in _assignments(course, args.assignments):
        _require_step(course, a, "feedback")
        result = course.feedback(a, args.student)
        ok = result.get("success")
        print(f"feedback for {a}: {'written to ' + str(course.root / 'feedback') if ok else 'FAILED'}")
        if not ok:
            print(result.get("log", ""), result.get("error", ""), file=sys.stderr)
            rc = 1
    return rc


def cmd_check(args) -> int:
    from autograder.learner_check import check_notebook

    return check_notebook(Path(args.notebook), timeout=args.timeout)


def cmd_solution(args) -> int:
    from autograder.solutions import SolutionUnavailable, write_solution

    try:
        path = write_solution(args.assignment, Path(args.course), to=Path(args.to) if args.to else None,
                              force=args.force)
    except SolutionUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"worked solution of {args.assignment}: {path}\n"
          f"(your own notebook is unchanged; open this one beside it and compare)")
    return 0


def cmd_demo(args) -> int:
    from autograder.demo import run_demo

    return run_demo(jobs=args.jobs, workdir=Path(args.workdir) if args.workdir else None,
                    assignments=args.assignments or None)


def cmd_gradebook(args) -> int:
    """Create the gradebook when missing, complete one left half-created, refuse (exit 1) one it cannot repair."""
    from autograder.gradebook_repair import GradebookError

    course = _course(args)
    try:
        with course.gradebook():
            pass
    except GradebookError as exc:
        print(f"gradebook not usable: {exc}", file=sys.stderr)
        return 1
    print(f"gradebook ready: {course.db_url}")
    return 0


def cmd_info(args) -> int:
    from autograder import sandbox

    course = _course(args)
    print(f"course folder  {course.root}")
    print(f"gradebook      {course.db_url}")
    print(f"assignments    {', '.join(course.assignments())}")
    print(f"sandbox        {sandbox.isolation_mode()}: {sandbox.isolation_note()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from autograder.paths import DEFAULT_COURSE

    p = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Exercises of the RNN course on nbgrader, graded by a sandboxed, tamper-proof grader.",
        epilog="Instructors: see autograder/README.md. Learners: `python -m autograder check NOTEBOOK`.",
    )
    p.add_argument("--course", default=str(DEFAULT_COURSE),
                   help="nbgrader course folder (default: %(default)s)")
    p.add_argument("--db-url", default=None,
                   help="gradebook SQLAlchemy URL (default: sqlite gradebook.db in the course folder), "
                        "e.g. postgresql+psycopg2://user:pw@host/db")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("release", help="nbgrader generate_assignment: student versions into release/ "
                                       "and notebooks/09_exercises/")
    s.add_argument("assignments", nargs="*", help="assignments (default: all)")
    s.add_argument("--no-sync", action="store_true", help="do not copy the student versions to the learners' folder")
    s.add_argument("--sync-to", default=None, help="copy the student versions here instead of notebooks/09_exercises")
    s.set_defaults(func=cmd_release)

    s = sub.add_parser("references", help="(re)build reference outputs from the instructor's reference solutions")
    s.add_argument("assignments", nargs="*", help="assignments (default: all)")
    s.add_argument("--jobs", "-j", type=int, default=1, help="parallel sandboxes")
    s.set_defaults(func=cmd_references)

    s = sub.add_parser("grade", help="grade every submission under submitted/ into the gradebook")
    s.add_argument("assignments", nargs="*", help="assignments (default: all)")
    s.add_argument("--student", action="append", help="only this student (repeatable)")
    s.add_argument("--jobs", "-j", type=int, default=max(1, (os.cpu_count() or 2)),
                   help="parallel sandboxes (default: number of CPUs, %(default)s)")
    s.add_argument("--time-limit", type=float, default=None,
                   help="cap every function's wall-clock (and CPU) limit at this many seconds")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the sandboxes on this Dask distributed cluster, e.g. tcp://HOST:8786 (default: "
                        "c.Autograder.scheduler in nbgrader_config.py, else this machine with --jobs)")
    s.set_defaults(func=cmd_grade)

    s = sub.add_parser("export", help="export all grades to CSV (nbgrader's CSV exporter)")
    s.add_argument("--to", default="grades.csv", help="output file (default: %(default)s)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("feedback", help="nbgrader generate_feedback: HTML feedback into feedback/")
    s.add_argument("assignments", nargs="*", help="assignments (default: all)")
    s.add_argument("--student", default=None, help="only this student")
    s.set_defaults(func=cmd_feedback)

    s = sub.add_parser("check", help="(learners) run your solution cells and the visible checks; one line per function")
    s.add_argument("notebook", help="your exercise notebook, e.g. notebooks/09_exercises/ex1_rnn_cells.ipynb")
    s.add_argument("--timeout", type=float, default=600, help="seconds for the whole check (default: %(default)s)")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("solution", help="(self-learners) write a worked solution next to your exercise notebook")
    s.add_argument("assignment", help="the exercise, e.g. ex1_rnn_cells")
    s.add_argument("--to", default=None, help="where to write it (default: notebooks/09_exercises/EX.solution.ipynb)")
    s.add_argument("--force", action="store_true", help="replace an existing solution file")
    s.set_defaults(func=cmd_solution)

    s = sub.add_parser("demo", help="release the exercises and grade the shipped example submissions "
                                    "(what `make grade-demo` runs)")
    s.add_argument("assignments", nargs="*", help="assignments (default: all with examples)")
    s.add_argument("--jobs", "-j", type=int, default=max(1, (os.cpu_count() or 2)), help="parallel sandboxes")
    s.add_argument("--workdir", default=None, help="course copy to use (default: build/grade-demo, recreated)")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("gradebook", help="create the gradebook if missing, or complete one left half-created "
                                         "(what `make formgrader` runs first)")
    s.set_defaults(func=cmd_gradebook)

    s = sub.add_parser("info", help="show the course folder, gradebook and the sandbox's isolation level")
    s.set_defaults(func=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run a command; under a Python without the course's packages, say so and give the command to use."""
    from autograder.course_environment import outside_message

    try:
        _quiet_warnings()
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "autograder":
            raise
        print(outside_message([exc.name.split(".")[0]]), file=sys.stderr)
        return 2
