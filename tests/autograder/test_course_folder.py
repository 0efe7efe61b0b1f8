"""The course folder no submission can reach (issue 26): file-level attacks on ``submitted/``.

One batch of hostile or unusual ex1 submissions, graded together with ``--jobs 2`` on a course copy of its own:

1. nothing stops the grading: a very deep tree, a lone surrogate in a message, a folder name that is not UTF-8,
   and any failure of the grader on one submission are that submission's (0 points with the reason);
2. submissions are read as regular files only: a linked notebook, a linked side file or student folder, a FIFO,
   a huge file are invalid with the reason, and no instructor file reaches ``autograded/`` or ``feedback/``;
3. student ids are checked where they enter (``--student`` and the folders of ``submitted/``): a trailing space
   or a glob character never touches another student's files, ``../x`` is refused;
4. every grade has its autograded notebook, also when nbgrader cannot process the submitted one;
5. learners' texts are escaped before they reach the terminal, the reports and the gradebook;
6. a result too large to parse safely is refused before it is parsed.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import tracemalloc

import pytest

from autograder import cells, course_files, grader, nbgrader_hooks, reports, sandbox, stages
from autograder.course_files import BadStudentId
from autograder.demo import make_course_copy
from autograder.paths import REPO_ROOT
from autograder.protocol import RunResult
from autograder.text import printable

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

A = "ex1_rnn_cells"
FULL = 12.0
TIME_LIMIT = float(os.environ.get("AUTOGRADER_TEST_TIME_LIMIT", "8"))
DEEP = 1200              # deeper than Python's recursion limit: shutil.rmtree and os.walk raise RecursionError
GRU = "x_t, h_prev, W_z, W_r, W, b_z, b_r, b"
LINK = "is a symbolic link"


def gru_raises(message: str) -> dict[str, str]:
    return {"gru_step": f"def gru_step({GRU}):\n    raise ValueError({message!r})\n"}


def _deep_tree(folder, depth: int) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)


def _remove_deep_tree(folder) -> None:
    """Remove a chain of folders named d without recursion (shutil.rmtree cannot, before Python 3.12)."""
    fds = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY)]
    while True:
        try:
            fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
        except FileNotFoundError:
            break
    os.close(fds.pop())
    while fds:
        os.rmdir("d", dir_fd=fds[-1])
        os.close(fds.pop())
    os.rmdir(folder)


def edited(kit, change) -> dict:
    nb = kit.honest(A)
    for cell in nb["cells"]:
        change(cell, cells.meta(cell), cells.grade_id(cell))
    return nb


def duplicated_solution_cell(kit, new_id: bool) -> dict:
    nb = kit.honest(A)
    i = next(i for i, c in enumerate(nb["cells"]) if cells.grade_id(c) == "gru_step")
    copy = json.loads(json.dumps(nb["cells"][i]))
    if new_id:
        copy["id"] = "a-copy"
    nb["cells"].insert(i + 1, copy)
    return nb


def _set(key, value, grade_id):
    def change(cell, meta, gid):
        if gid == grade_id:
            meta[key] = value
    return change


# student -> (expected total, fragment of the reason of every function that loses its points, or "" for none)
EXPECTED = {
    "honest": (FULL, ""),
    "deep_tree": (0.0, "the submission folder is nested more than 32 folders deep"),
    "surrogate_message": (FULL - 2, "raised ValueError: half a character \\ud800 here"),
    "escape_message": (FULL - 2, "raised ValueError: \\x1b[2J\\x1b[31mPASSED\\n"),
    "linked_notebook": (0.0, f"the file {A}.ipynb {LINK}"),
    "linked_side_files": (0.0, "the submission holds a symbolic link"),
    "linked_student_folder": (0.0, f"the folder submitted/linked_student_folder {LINK}"),
    "fifo_notebook": (0.0, f"the file {A}.ipynb is a FIFO, not a regular file"),
    "fifo_side_file": (0.0, "the submission holds a FIFO (pipe), not a regular file"),
    "huge_notebook": (0.0, f"the file {A}.ipynb is too large (more than {20 * 2**20} bytes)"),
    "bad_timestamp": (0.0, "timestamp.txt does not hold a time nbgrader can read"),
    "on_time": (FULL, ""),
    "big_result": (FULL - 2, "crashed: result too large: "),
    "victim": (FULL, ""),
    "meta_test_renamed": (FULL, ""),
    "meta_solution_made_grade": (FULL, ""),
    "meta_test_made_solution": (FULL, ""),
    "meta_schema_too_new": (FULL, ""),
    "duplicate_cell_same_id": (FULL, ""),
    "duplicate_cell_new_id": (FULL, ""),
}
STAND_INS = {"meta_test_renamed", "meta_solution_made_grade", "meta_test_made_solution", "meta_schema_too_new",
             "duplicate_cell_same_id", "duplicate_cell_new_id"}
BAD_FOLDERS = {b"victim ": "it starts or ends with white space", b"*": "glob character '*'",
               b"?ictim": "glob character '?'", b"[v]ictim": "glob character '['",
               b"\xff": "it is not UTF-8 text (byte 0xff)", b"tab\there": "control character \\t"}


@pytest.fixture(scope="module")
def folder_kit(kit, tmp_path_factory):
    """A CourseKit (conftest.py) of a course copy of this module's own: its submitted/ holds odd folder names."""
    return type(kit)(make_course_copy(tmp_path_factory.mktemp("course_folder") / "course"))


def _tree_state(folder) -> dict[str, str]:
    """path -> sha256 (regular files) or the kind and link target (anything else), without following links and
    without descending into the deep tree."""
    out = {}
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "d"]
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    out[path] = hashlib.sha256(f.read()).hexdigest()
            else:
                out[path] = f"{stat.S_IFMT(st.st_mode)} {os.readlink(path) if stat.S_ISLNK(st.st_mode) else ''}"
    return out


@pytest.fixture(scope="module")
def batch(folder_kit, monkeypatch_module):
    kit, course = folder_kit, folder_kit.course
    kit.released(A)
    honest = kit.honest(A)
    submit = kit.submit
    submit("honest", A, honest)
    submit("deep_tree", A, honest)
    _deep_tree(course.submitted_dir() / "deep_tree" / A, DEEP)
    submit("surrogate_message", A, kit.honest(A, **gru_raises("half a character \ud800 here")))
    submit("escape_message", A, kit.honest(A, **gru_raises("\x1b[2J\x1b[31mPASSED\n")))
    folder = course.submitted_dir() / "linked_notebook" / A
    folder.mkdir(parents=True)
    os.symlink(course.source_notebook(A), folder / f"{A}.ipynb")
    folder = submit("linked_side_files", A, honest).parent
    for name, target in {"gradebook.db": course.root / "gradebook.db", "source": course.root / "source",
                         "hidden": REPO_ROOT / "autograder" / "hidden",
                         "reference.json": course.reference_file(A)}.items():
        os.symlink(target, folder / name)
    os.symlink(course.submitted_dir() / "honest", course.submitted_dir() / "linked_student_folder")
    folder = course.submitted_dir() / "fifo_notebook" / A
    folder.mkdir(parents=True)
    os.mkfifo(folder / f"{A}.ipynb")
    os.mkfifo(submit("fifo_side_file", A, honest).parent / "pipe")
    with open(submit("huge_notebook", A, honest), "ab") as f:
        f.truncate(21 * 2**20)
    (submit("bad_timestamp", A, honest).parent / "timestamp.txt").write_text("the day before the deadline")
    (submit("on_time", A, honest).parent / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    submit("big_result", A, kit.honest(A, gru_step=f"def gru_step({GRU}):\n    return 'x' * (5 * 2**20)\n"))
    submit("victim", A, honest)
    for name in BAD_FOLDERS:
        submit(os.fsdecode(name), A, honest)
    submit("meta_test_renamed", A, edited(kit, _set("grade_id", "test_renamed", "test_gru_step")))
    submit("meta_solution_made_grade", A, edited(kit, lambda c, m, g: m.update(grade=True, points=50)
                                                 if g == "gru_step" else None))
    submit("meta_test_made_solution", A, edited(kit, _set("solution", True, "test_gru_step")))
    submit("meta_schema_too_new", A, edited(kit, lambda c, m, g: m.update(schema_version=99) if m else None))
    submit("duplicate_cell_same_id", A, duplicated_solution_cell(kit, new_id=False))
    submit("duplicate_cell_new_id", A, duplicated_solution_cell(kit, new_id=True))

    before = _tree_state(course.submitted_dir())
    made: list[str] = []                   # every temporary folder the sandboxes create
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        path = real_mkdtemp(*args, **kwargs)
        made.append(path)
        return path

    monkeypatch_module.setattr(tempfile, "mkdtemp", mkdtemp)
    verdicts = grader.grade_assignment(course, A, jobs=2, limits_override={"wall_s": TIME_LIMIT})
    monkeypatch_module.setattr(tempfile, "mkdtemp", real_mkdtemp)
    feedback = course.feedback(A)
    yield {"verdicts": verdicts, "by_student": {v.student: v for v in verdicts}, "before": before,
           "temporary": made, "feedback": feedback}
    _remove_deep_tree(course.submitted_dir() / "deep_tree" / A / "d")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_expected_score_and_reason(batch, folder_kit, student):
    total, fragment = EXPECTED[student]
    v = batch["by_student"][student]
    table = reports.summary_table([v])
    assert v.score == total, table
    lost = [f.reason for f in v.functions if not f.passed]
    assert all(fragment in reason for reason in lost) if fragment else not lost, table
    if total == 0.0:
        assert v.status == "invalid" and fragment in v.reason
    with folder_kit.course.gradebook() as gb:
        submission = gb.find_submission(A, student)
        assert submission.score == total
        assert submission.notebooks[0].flagged == (v.status == "invalid" or student in STAND_INS)
    # 4. formgrader and feedback have the autograded notebook of every grade, and its feedback page
    autograded = folder_kit.course.autograded_dir(student, A) / f"{A}.ipynb"
    assert autograded.is_file(), v.nbgrader
    assert (folder_kit.course.root / "feedback" / student / A / f"{A}.html").is_file()
    note = json.loads(autograded.read_text())["cells"][0]
    stands_in = v.status == "invalid" or student in STAND_INS
    assert (note.get("id") == nbgrader_hooks.NOTE_ID) == stands_in
    assert v.nbgrader.startswith(nbgrader_hooks.STAND_IN if stands_in else nbgrader_hooks.AUTOGRADED), v.nbgrader


def test_the_grading_goes_on_and_leaves_no_temporary_folder(batch):
    assert batch["feedback"].get("success"), batch["feedback"].get("log")
    made = [p for p in batch["temporary"] if "ag-root-" in p or "ag-sandbox-" in p]
    assert made, "the sandboxes' folders are made with tempfile.mkdtemp"
    assert [p for p in batch["temporary"] if os.path.lexists(p)] == []


def test_folders_that_are_no_student_ids_are_skipped_with_the_reason(batch, folder_kit):
    skipped = {v.student: v for v in batch["verdicts"] if v.status == "skipped"}
    assert len(skipped) == len(BAD_FOLDERS)
    for name, why in BAD_FOLDERS.items():
        shown = printable(os.fsdecode(name))
        assert why in skipped[shown].reason and skipped[shown].functions == []
    table = reports.summary_table(batch["verdicts"])
    assert "folders of submitted/ not graded:" in table and "'victim ': skipped: invalid student id" in table
    with folder_kit.course.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == sorted(EXPECTED)
    autograded = folder_kit.course.root / "autograded"
    assert sorted(os.listdir(autograded)) == sorted(EXPECTED)


def test_no_instructor_file_reaches_autograded_or_feedback(batch, folder_kit):
    root = folder_kit.course.root
    for where in ("autograded", "feedback"):
        for top, dirs, files in os.walk(root / where):
            for name in dirs + files:
                path = os.path.join(top, name)
                assert not os.path.islink(path), path
                assert name in (f"{A}.ipynb", f"{A}.html", "timestamp.txt") or os.path.isdir(path), path
    autograded = root / "autograded" / "on_time" / A
    assert (autograded / "timestamp.txt").read_text() == "2026-12-01 10:00:00.000000 UTC"
    source = json.loads(folder_kit.course.source_notebook(A).read_text())
    solution = next(cells.source(c) for c in source["cells"] if cells.grade_id(c) == "gru_step")
    linked = json.loads((root / "autograded" / "linked_notebook" / A / f"{A}.ipynb").read_text())
    assert solution not in json.dumps(linked)
    assert not [p for p in os.listdir(root) if p.startswith(".autograder-input-")]


def test_submissions_and_the_course_are_untouched(batch, folder_kit):
    assert _tree_state(folder_kit.course.submitted_dir()) == batch["before"]


def test_a_notebook_nbgrader_cannot_process_gets_a_stand_in_with_the_answers(batch, folder_kit):
    for student in STAND_INS:
        v = batch["by_student"][student]
        assert "nbgrader could not process the submitted notebook (" in v.nbgrader, v.nbgrader
        nb = json.loads((folder_kit.course.autograded_dir(student, A) / f"{A}.ipynb").read_text())
        assert "the learner's answers are in their cells" in cells.source(nb["cells"][0])
        answer = next(c for c in nb["cells"] if cells.grade_id(c) == "gru_step")
        assert "def gru_step" in cells.source(answer) and "raise NotImplementedError" not in cells.source(answer)
        test = next(c for c in nb["cells"] if cells.grade_id(c) == "test_gru_step")
        assert "autograder: gru_step: passed" in json.dumps(test["outputs"])


def test_learners_texts_are_escaped_everywhere(batch, folder_kit):
    course = folder_kit.course
    raw = ("\x1b", "\ud800")
    texts = {"table": reports.summary_table(batch["verdicts"]),
             "csv": (course.reports_dir() / f"{A}.csv").read_text(encoding="utf-8"),
             "json": json.dumps(json.loads((course.reports_dir() / f"{A}.json").read_text()), ensure_ascii=False)}
    for student in ("surrogate_message", "escape_message"):
        with course.gradebook() as gb:
            texts[student] = " ".join(c.auto_comment or "" for c in gb.find_submission(A, student).notebooks[0].comments)
        texts[student + " autograded"] = (course.autograded_dir(student, A) / f"{A}.ipynb").read_text()
        texts[student + " feedback"] = (course.root / "feedback" / student / A / f"{A}.html").read_text()
    for where, text in texts.items():
        assert not any(ch in text for ch in raw), where
    assert "\\x1b[2J" in texts["escape_message"] and "\\ud800" in texts["surrogate_message"]
    rows = list(csv.reader((course.reports_dir() / f"{A}.csv").open(encoding="utf-8")))
    assert all(len(row) == 8 for row in rows)


def test_regrading_is_identical(batch, folder_kit):
    course = folder_kit.course
    again = grader.grade_assignment(course, A, jobs=2, limits_override={"wall_s": TIME_LIMIT})
    summary = lambda verdicts: {v.student: (v.status, v.reason, v.nbgrader, [(f.score, f.reason) for f in v.functions])
                                for v in verdicts}  # noqa: E731
    assert summary(again) == summary(batch["verdicts"])
    assert _tree_state(course.submitted_dir()) == batch["before"]


# --- student ids where they enter ------------------------------------------------------------------------------

@pytest.mark.parametrize("student", ["../x", "/", "victim ", " victim", "*", "vic?im", "[v]ictim", "a\x1bb",
                                     "\udcff", "", ".", ".."])
def test_a_given_student_id_that_cannot_be_one_is_refused(folder_kit, student):
    with pytest.raises(BadStudentId, match="invalid student id") as raised:
        grader.grade_assignment(folder_kit.course, A, students=[student])
    assert "\n" not in str(raised.value) and "\x1b" not in str(raised.value)


def test_student_outside_submitted_is_refused_on_the_command_line(folder_kit, tmp_path):
    course = folder_kit.course
    outside = course.root / "x" / A
    outside.mkdir(parents=True)
    (outside / f"{A}.ipynb").write_text(json.dumps(folder_kit.honest(A)))
    before = _tree_state(course.root / "x")
    for student in ("../x", "victim "):
        run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", A,
                              "--student", student], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        assert run.returncode == 2, run.stderr
        assert run.stderr.strip().count("\n") == 0 and "--student: invalid student id" in run.stderr, run.stderr
    assert _tree_state(course.root / "x") == before
    assert not (course.root / "autograded" / "x").exists()


# --- one submission's failure stays its own ----------------------------------------------------------------------

def test_a_grader_failure_on_one_submission_fails_only_that_one(folder_kit, monkeypatch):
    course = folder_kit.course
    folder_kit.submit("lucky", A, folder_kit.honest(A))
    run_submission = stages.run_submission

    def flaky(prep, solutions, protect=()):
        if "unlucky" in solutions["gru_step"]:
            raise RecursionError("maximum recursion depth exceeded")
        return run_submission(prep, solutions, protect)

    monkeypatch.setattr(stages, "run_submission", flaky)
    folder_kit.submit("unlucky", A, folder_kit.honest(A, gru_step=folder_kit.answers(A)["gru_step"] + "# unlucky\n"))
    store = nbgrader_hooks.store
    tries = []

    def store_fails_once(course_, info, verdict):
        if verdict.student == "lucky" and not tries:
            tries.append(verdict.status)
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return store(course_, info, verdict)

    monkeypatch.setattr(nbgrader_hooks, "store", store_fails_once)
    verdicts = {v.student: v for v in grader.grade_assignment(course, A, students=["unlucky", "lucky", "honest"],
                                                              limits_override={"wall_s": TIME_LIMIT})}
    assert verdicts["honest"].score == FULL
    unlucky = verdicts["unlucky"]
    assert unlucky.score == 0.0 and {f.reason for f in unlucky.functions} == \
        {"grader error: RecursionError: maximum recursion depth exceeded"}
    lucky = verdicts["lucky"]
    assert lucky.status == "invalid" and lucky.score == 0.0
    assert lucky.reason.startswith("grader error while recording the grade: UnicodeEncodeError")
    with course.gradebook() as gb:
        assert gb.find_submission(A, "lucky").score == 0.0 and gb.find_submission(A, "unlucky").score == 0.0
        assert gb.find_submission(A, "honest").score == FULL


# --- 6. the size of a result ---------------------------------------------------------------------------------------

def test_the_largest_result_accepted_parses_in_bounded_memory():
    """The worst case for the parser: a result.json of MAX_RESULT_BYTES of empty lists (each 2 bytes of JSON, a
    56-byte list object once parsed). With the cap the trusted grader's peak stays well below 256 MiB per run."""
    value = "[" + ",".join(["[]"] * ((sandbox.MAX_RESULT_BYTES - 200) // 3)) + "]"
    text = json.dumps({"cell_errors": [], "missing": False, "cases": [], "seconds": 0.0})[:-1] + \
        f', "extra": {value}}}'
    assert len(text) <= sandbox.MAX_RESULT_BYTES
    tracemalloc.start()
    try:
        RunResult.from_text(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 2**20, peak


def test_a_too_large_worker_answer_is_not_parsed():
    from autograder import cluster

    limit = cluster.max_answer_chars(["f"])
    parsed = cluster.parse_results(" " * (limit + 1), ["f"])
    assert parsed["f"].detail == ("crashed: result too large: the grading worker's answer has more than the "
                                  f"limit of {limit} characters")


def test_escaping_is_idempotent_and_keeps_ordinary_text():
    from autograder.text import code_text, printable

    assert printable("José: ok [1] * 2") == "José: ok [1] * 2"
    once = printable("a\x1b[2Jb\ud800\n\u202e")
    assert once == "a\\x1b[2Jb\\ud800\\n\\u202e" and printable(once) == once
    assert code_text("def f():\n\treturn '\x1b'\n") == "def f():\n\treturn '\\x1b'\n"


def test_read_submission_accepts_ordinary_side_files(tmp_path):
    folder = tmp_path / "submitted" / "ann" / A
    (folder / "data" / "nested").mkdir(parents=True)
    (folder / f"{A}.ipynb").write_bytes(b"{}")
    (folder / "data" / "nested" / "notes.txt").write_text("mine")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    sub = course_files.read_submission(tmp_path / "submitted", "ann", A)
    assert sub.notebook == b"{}" and sub.timestamp == b"2026-12-01 10:00:00 UTC"
    _deep_tree(folder / "data" / "nested", course_files.MAX_DEPTH - 2)    # exactly MAX_DEPTH folders deep
    course_files.read_submission(tmp_path / "submitted", "ann", A)

