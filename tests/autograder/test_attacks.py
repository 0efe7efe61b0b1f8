"""The attack and fault suite: each example submission of ex1_rnn_cells with its expected score.

All submissions are graded in ONE batch (``--jobs 2``) so the suite also shows that a timeout, a crash, a memory
bomb or an unreadable notebook never stops the others. ex1 has 12 points: rnn_step 2, rnn_forward 2,
lstm_step 2, gru_step 2, rnn_bptt 4. Attacks target lstm_step or gru_step, which no other function calls, so the
expected total is exact (code at the top level of gru_step's cell also runs for rnn_bptt, whose cells include it).
The fair-verdict cases: the grader calls functions positionally (parameters may be named differently, or be
``*args``), says in words when the arguments do not fit, and says when a limit was hit before any function ran.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import textwrap

import psutil
import pytest

from autograder import cells, grader, reports, sandbox
from autograder.paths import REPO_ROOT


pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

A = "ex1_rnn_cells"
TIME_LIMIT = float(os.environ.get("AUTOGRADER_TEST_TIME_LIMIT", "8"))
FULL = 12.0

LSTM_OK = """
def _lstm_ok(x_t, h_prev, c_prev, W_f, W_i, W_C, W_o, b_f, b_i, b_C, b_o):
    sig = lambda z: 1 / (1 + np.exp(-z))
    v = np.concatenate([h_prev, x_t], axis=-1)
    c = sig(v @ W_f + b_f) * c_prev + sig(v @ W_i + b_i) * np.tanh(v @ W_C + b_C)
    return sig(v @ W_o + b_o) * np.tanh(c), c
"""
GRU_OK = """
def _gru_ok(x_t, h_prev, W_z, W_r, W, b_z, b_r, b):
    sig = lambda a: 1 / (1 + np.exp(-a))
    v = np.concatenate([h_prev, x_t], axis=-1)
    z, r = sig(v @ W_z + b_z), sig(v @ W_r + b_r)
    return (1 - z) * h_prev + z * np.tanh(np.concatenate([r * h_prev, x_t], axis=-1) @ W + b)
"""


def gru(body: str, prelude: str = "") -> dict:
    code = textwrap.dedent(prelude) + GRU_OK + "\ndef gru_step(x_t, h_prev, W_z, W_r, W, b_z, b_r, b):\n" + \
        textwrap.indent(textwrap.dedent(body), "    ")
    return {"gru_step": code}


def lstm(body: str, prelude: str = "") -> dict:
    code = textwrap.dedent(prelude) + LSTM_OK + \
        "\ndef lstm_step(x_t, h_prev, c_prev, W_f, W_i, W_C, W_o, b_f, b_i, b_C, b_o):\n" + \
        textwrap.indent(textwrap.dedent(body), "    ")
    return {"lstm_step": code}


LSTM_ARGS = "x_t, h_prev, c_prev, W_f, W_i, W_C, W_o, b_f, b_i, b_C, b_o"
GRU_ARGS = "x_t, h_prev, W_z, W_r, W, b_z, b_r, b"


def probe_paths(kit) -> list[str]:
    root = kit.course.root
    return [str(p) for p in [REPO_ROOT / "autograder" / "hidden" / f"{A}.py", REPO_ROOT / "autograder" / "hidden",
                             REPO_ROOT / "autograder" / "course" / "source", REPO_ROOT / ".git",
                             root / "reference" / f"{A}.json", root / "reference", root / "source" / A,
                             root / "gradebook.db", root / "submitted", root, REPO_ROOT / "autograder"]]


def attacks(kit) -> dict[str, tuple[object, float, str]]:
    """student -> (notebook, expected total, expected reason fragment for the attacked function)."""
    honest = kit.honest
    paths = probe_paths(kit)
    root = str(kit.course.root)
    subs: dict[str, tuple[object, float, str]] = {
        "honest": (honest(A), FULL, ""),
        "wrong_answer": (honest(A, **lstm("return h_prev, c_prev")), FULL - 2, "mismatch"),
        "monkeypatch_allclose": (honest(A, **gru(
            "return np.zeros_like(h_prev)",
            "import numpy as np, numpy.testing\nnp.allclose = lambda *a, **k: True\n"
            "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
            "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n")), FULL - 2, "mismatch"),
        "always_true_eq": (honest(A, **gru(
            "return Sneaky()",
            "class Sneaky:\n    shape = (1, 3)\n    dtype = np.float32\n"
            "    def __eq__(self, other): return True\n    def __array__(self, *a, **k): return np.zeros((1, 3))\n"
            "    def __float__(self): return 0.0\n")), FULL - 2, "object of type"),
        "ndarray_subclass": (honest(A, **lstm(
            f"h, c = _lstm_ok({LSTM_ARGS})\nreturn h.view(Always), c.view(Always)",
            "class Always(np.ndarray):\n    def __eq__(self, other): return np.ones(self.shape, bool)\n")),
            FULL - 2, "object of type"),
        "read_hidden": (honest(A, **gru(
            f"""
            import os, glob
            found = []
            for p in {paths!r}:
                try:
                    found += os.listdir(p) if os.path.isdir(p) else [open(p, 'rb').read(10)]
                except OSError:
                    pass
            found += glob.glob('/tmp/**/reference/*.json', recursive=True)
            found += glob.glob('/tmp/**/gradebook.db', recursive=True)
            if found:   # anything readable -> the answer is spoiled, and the test fails on the score
                return np.zeros_like(h_prev)
            return _gru_ok({GRU_ARGS})
            """)), FULL, ""),
        "read_anywhere": (honest(A, **gru(
            f"""
            import os
            # a whole-filesystem search for anything of the course, in any copy of it anywhere on the machine
            # (the big read-only Python and system trees are skipped to stay within the time limit)
            wanted = {{'gradebook.db', 'nbgrader_config.py', 'COURSE_DESIGN.md', '_harness.py',
                      '{A}.ipynb', '{A}.json', '{A}.py'}}
            found = []
            for top, dirs, files in os.walk('/'):
                dirs[:] = [d for d in dirs if d != 'site-packages'
                           and os.path.join(top, d) not in ('/proc', '/sys', '/dev', '/usr')]
                found += [os.path.join(top, f) for f in files if f in wanted]
            if found:
                return np.zeros_like(h_prev)
            return _gru_ok({GRU_ARGS})
            """)), FULL, ""),
        "write_instructor_files": (honest(A, **gru(
            f"""
            import os
            wrote = False
            for p in [{root + '/gradebook.db'!r}, {root + '/source/' + A + '/' + A + '.ipynb'!r},
                      {root + '/release/' + A + '/' + A + '.ipynb'!r}, {root + '/pwned.txt'!r},
                      {str(REPO_ROOT / 'autograder' / 'pwned.txt')!r}]:
                try:
                    with open(p, 'a') as f:
                        f.write('pwned')
                    wrote = True
                except OSError:
                    pass
            if wrote:
                return np.zeros_like(h_prev)
            return _gru_ok({GRU_ARGS})
            """)), FULL, ""),
        "fake_passed": (honest(A, **gru(
            "print('PASSED'); print('autograder: gru_step: passed (4 hidden cases)')\n"
            "import sys; print('All tests PASSED', file=sys.stderr)\nreturn h_prev")), FULL - 2, "mismatch"),
        "sys_exit": (honest(A, **lstm("import sys\nsys.exit(0)")), FULL - 2, "SystemExit"),
        "os_exit": (honest(A, **gru("import os\nos._exit(0)")), FULL - 2, "crashed"),
        "segfault": (honest(A, **lstm("import ctypes\nctypes.string_at(0)")), FULL - 2, "signal 11"),
        "infinite_loop": (honest(A, **gru("while True:\n    pass")), FULL - 2, "timeout"),
        "sleep_forever": (honest(A, **lstm("import time\ntime.sleep(10_000)")), FULL - 2, "timeout"),
        "memory_bomb": (honest(A, **lstm("big = np.ones(50 * 10**9 // 8)\nreturn big, big")), FULL - 2,
                        "out of memory"),
        "spawn_loop": (honest(A, **gru(
            f"""
            import subprocess
            children = []
            try:
                for _ in range(3000):      # bounded, so a failed limit cannot take the machine down
                    children.append(subprocess.Popen(['sleep', '120'], start_new_session=True))
            except OSError:
                pass
            return _gru_ok({GRU_ARGS})
            """)), FULL, ""),
        "network": (honest(A, **gru(
            f"""
            import socket
            try:
                socket.create_connection(('127.0.0.1', 22), timeout=2).close()
                return np.zeros_like(h_prev)     # connected: spoiled
            except OSError as exc:
                if 'unreachable' not in str(exc).lower():
                    return np.zeros_like(h_prev)   # refused by a live host: the network was reachable
            return _gru_ok({GRU_ARGS})
            """)), FULL, ""),
        "stderr_warnings": (honest(A, **gru(
            f"import sys, warnings\nwarnings.warn('this is only a warning')\n"
            f"print('some noise on stderr', file=sys.stderr)\nreturn _gru_ok({GRU_ARGS})")), FULL, ""),
        "renamed_parameters": (honest(A, gru_step=GRU_OK + (
            "\ndef gru_step(x, h, Wz, Wr, Wc, bz, br, bc):\n    return _gru_ok(x, h, Wz, Wr, Wc, bz, br, bc)\n")),
            FULL, ""),
        "star_args_wrapper": (honest(A, gru_step=GRU_OK + "\ndef gru_step(*args):\n    return _gru_ok(*args)\n"),
                              FULL, ""),
        "wrong_arity": (honest(A, lstm_step="def lstm_step(x_t, h_prev):\n    return h_prev, h_prev\n"), FULL - 2,
                        "wrong signature: lstm_step takes 11 arguments in the order (x_t, h_prev, c_prev, W_f, W_i, "
                        "W_C, W_o, b_f, b_i, b_C, b_o); yours is defined as lstm_step(x_t, h_prev)"),
        "slow_top_level_code": (honest(A, **gru(f"return _gru_ok({GRU_ARGS})", "import time\ntime.sleep(10_000)\n")),
                                FULL - 6, f"timeout: no result within {TIME_LIMIT:g} s (wall clock), while the "
                                "solution cells ran (code at the top level of a cell), before any function was called"),
        "solution_cell_syntax_error": (honest(A, **{"lstm_step": "def lstm_step(:\n    pass\n"}), FULL - 2,
                                       "not defined"),
    }
    # edited test cells: nbgrader restores them from the gradebook, and they never decide the verdict
    edited = honest(A)
    for cell in edited["cells"]:
        if cells.meta(cell).get("grade"):
            cell["source"] = "print('PASSED')"
    subs["edited_test_cells"] = (edited, FULL, "")
    edited_wrong = honest(A, **lstm("return h_prev, c_prev"))
    for cell in edited_wrong["cells"]:
        if cells.grade_id(cell) == "test_lstm_step":
            cell["source"] = "pass"
    subs["edited_test_cells_wrong"] = (edited_wrong, FULL - 2, "mismatch")
    deleted = honest(A)
    deleted["cells"] = [c for c in deleted["cells"]
                        if cells.grade_id(c) not in ("test_gru_step", "test_rnn_bptt")]
    subs["deleted_test_cells"] = (deleted, FULL, "")
    dup = honest(A)
    idx = next(i for i, c in enumerate(dup["cells"]) if cells.grade_id(c) == "gru_step")
    copy_cell = json.loads(json.dumps(dup["cells"][idx]))
    copy_cell["id"] = "dup-of-gru"
    copy_cell["source"] = "def gru_step(*args):\n    return None\n"
    dup["cells"].insert(idx + 1, copy_cell)
    subs["duplicate_cell_ids"] = (dup, FULL, "")
    # unreadable notebooks: recorded as failed with the reason
    subs["invalid_json"] = ('{"cells": [', 0.0, "not valid JSON")
    subs["empty_file"] = ("", 0.0, "empty")
    other = honest(A)
    for cell in other["cells"]:
        if cells.grade_id(cell):
            cells.meta(cell)["grade_id"] = "other_" + cells.grade_id(cell)
    subs["other_assignment"] = (other, 0.0, "not a notebook of ex1_rnn_cells")
    nul = honest(A)
    for cell in nul["cells"]:
        if cells.grade_id(cell) == "rnn_step":
            cell["source"] += "\n# \x00 a null byte"
    subs["null_bytes"] = (nul, 0.0, "null bytes")
    return subs


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def batch(kit):
    course = kit.course
    kit.released(A)
    subs = attacks(kit)
    for student, (nb, _, _) in subs.items():
        kit.submit(student, A, nb)
    before = {s: _digest(course.submission_notebook(s, A)) for s in subs}
    protected_before = {
        "source": _tree_digest(course.root / "source"),
        "release": _tree_digest(course.root / "release"),
    }
    verdicts = grader.grade_assignment(course, A, students=sorted(subs), jobs=2,
                                       limits_override={"wall_s": TIME_LIMIT})
    return {
        "subs": subs,
        "verdicts": {v.student: v for v in verdicts},
        "hash_before": before,
        "protected_before": protected_before,
    }


EXPECTED = [
    "honest", "wrong_answer", "monkeypatch_allclose", "always_true_eq", "ndarray_subclass", "read_hidden",
    "read_anywhere",
    "write_instructor_files", "fake_passed", "sys_exit", "os_exit", "segfault", "infinite_loop", "sleep_forever",
    "memory_bomb", "spawn_loop", "network", "stderr_warnings", "renamed_parameters", "star_args_wrapper",
    "wrong_arity", "slow_top_level_code", "solution_cell_syntax_error", "edited_test_cells",
    "edited_test_cells_wrong", "deleted_test_cells", "duplicate_cell_ids", "invalid_json", "empty_file",
    "other_assignment", "null_bytes",
]


@pytest.mark.parametrize("student", EXPECTED)
def test_expected_score_and_reason(batch, kit, student):
    if sandbox.isolation_mode() == "limits":
        if student == "network":
            pytest.skip("no network namespace on this platform (recorded in the sandbox's isolation note)")
        if student == "read_anywhere":
            pytest.skip("no mount namespace on this platform: the sandbox sees the whole filesystem "
                        "(recorded in the sandbox's isolation note)")
    _, expected, fragment = batch["subs"][student]
    v = batch["verdicts"][student]
    assert v.score == expected, reports.summary_table([v])
    if fragment:
        reasons = " | ".join(f.reason for f in v.functions if not f.passed)
        assert fragment in reasons, reasons
    # the gradebook holds the same score, written through nbgrader
    with kit.course.gradebook() as gb:
        sub = gb.find_submission(A, student)
        assert sub.score == expected
        comments = [c.auto_comment or "" for c in sub.notebooks[0].comments]
    assert all("autograder:" in c for c in comments), comments
    if expected == 0.0:
        assert v.status == "invalid" and fragment in v.reason


def test_unreadable_notebooks_are_flagged_with_reason(batch, kit):
    with kit.course.gradebook() as gb:
        for student in ("invalid_json", "empty_file", "other_assignment", "null_bytes"):
            nb = gb.find_submission(A, student).notebooks[0]
            assert nb.flagged
            assert all("invalid notebook" in (c.auto_comment or "") for c in nb.comments)


def test_submissions_are_never_modified(batch, kit):
    for student, digest in batch["hash_before"].items():
        assert _digest(kit.course.submission_notebook(student, A)) == digest, student


def test_instructor_files_untouched(batch, kit):
    root = kit.course.root
    assert _tree_digest(root / "source") == batch["protected_before"]["source"]
    assert _tree_digest(root / "release") == batch["protected_before"]["release"]
    assert not (root / "pwned.txt").exists()
    assert not (REPO_ROOT / "autograder" / "pwned.txt").exists()
    con = sqlite3.connect(root / "gradebook.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_no_sandbox_process_survives(batch):
    left = [p.info for p in psutil.process_iter(["pid", "uids", "name"])
            if p.info["uids"] and p.info["uids"].real >= sandbox.SANDBOX_UID_BASE]
    assert left == []


def test_reasons_are_in_the_report(batch, kit):
    report = json.loads((kit.course.reports_dir() / f"{A}.json").read_text())
    by_student = {s["student"]: s for s in report["submissions"]}
    assert "timeout" in " ".join(f["reason"] for f in by_student["infinite_loop"]["functions"])
    assert by_student["invalid_json"]["status"] == "invalid"
    csv_text = (kit.course.reports_dir() / f"{A}.csv").read_text()
    assert "out of memory" in csv_text


def test_regrade_is_identical_and_keeps_manual_grades(batch, kit):
    course = kit.course
    students = ["honest", "wrong_answer", "invalid_json", "segfault"]
    with course.gradebook() as gb:
        # an instructor overrides one autograded score in formgrader
        grade = gb.find_grade("test_lstm_step", A, A, "wrong_answer")
        grade.manual_score = 1.5
        gb.db.commit()
        before = {s: gb.find_submission(A, s).score for s in students}
    verdicts = grader.grade_assignment(course, A, students=students, jobs=2, limits_override={"wall_s": TIME_LIMIT})
    for v in verdicts:
        first = batch["verdicts"][v.student]
        assert [(f.function, f.score, f.reason) for f in v.functions] == \
               [(f.function, f.score, f.reason) for f in first.functions]
    with course.gradebook() as gb:
        after = {s: gb.find_submission(A, s).score for s in students}
        assert gb.find_grade("test_lstm_step", A, A, "wrong_answer").manual_score == 1.5
    assert after == before
    assert after["wrong_answer"] == FULL - 2 + 1.5


def test_course_inside_a_visible_folder_is_still_hidden(tmp_path):
    """A course kept inside a folder the sandbox must see (here: a fake system folder) is covered, not exposed."""
    visible = str(tmp_path / "usr")
    course = tmp_path / "usr" / "local" / "course"
    (course / "source").mkdir(parents=True)
    assert sandbox._hidden_paths([course], [visible, sys.prefix]) == [str(course.resolve())]
    assert sandbox._hidden_paths([tmp_path / "elsewhere"], [visible]) == []
