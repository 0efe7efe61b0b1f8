"""Grading on a Dask distributed cluster (autograder.cluster): a ``LocalCluster`` of two worker processes, one
thread each, started here.

* The attack and fault suite (test_attacks.py), the fair-verdict submissions (test_fair_verdicts.py) and the numpy
  exercises' shipped examples get, on the cluster, the scores and reasons they get locally.
* A worker killed (SIGKILL) while it runs a slow but valid job: its sandbox dies with it at once, the job is rerun
  on another worker, and every score arrives exactly once in the SQLite gradebook.
* An unreachable scheduler (flag or config entry): a clear error and exit status 1, and nothing written.
* A worker's answer is parsed strictly: a malformed result fails its own function with a reason, the others stay.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import fields

import psutil
import pytest
from test_attacks import A, EXPECTED, TIME_LIMIT, attacks
from test_fair_verdicts import PASSED, POINTS, SUBMISSIONS

from autograder import cells, cli, cluster, grader, hidden, reports, sandbox
from autograder.demo import make_course_copy
from autograder.protocol import RunResult
from autograder.notebook import source_info
from autograder.references import Prepared, make_cases, prepare
from autograder.sandbox import Limits, SandboxResult

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

NUMPY_EXAMPLES = ("ex1_rnn_cells", "ex4_text_generation")
# valid, but each of gru_step's and rnn_bptt's sandboxes sleeps first: time to kill the worker running it
SLOW_GRU = "import time\ntime.sleep(4)\n\n\n"


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit=0) as local, Client(local, set_as_default=False) as c:      # as the command line's
        yield c


@pytest.fixture(scope="module")
def ckit(kit, tmp_path_factory):
    """A course of its own (the session's course belongs to the local grading tests)."""
    return type(kit)(make_course_copy(tmp_path_factory.mktemp("cluster") / "course"))


def _sandboxes_left() -> list:
    return [p.info for p in psutil.process_iter(["pid", "uids", "name"])
            if p.info["uids"] and p.info["uids"].real >= sandbox.SANDBOX_UID_BASE]


def test_attacks_and_faults_score_as_locally(client, ckit):
    ckit.released(A)
    subs = attacks(ckit)
    fair = {f"fair_{s}": ckit.honest(A, **override) for s, (override, _) in SUBMISSIONS.items()}
    for student, (nb, _, _) in subs.items():
        ckit.submit(student, A, nb)
    for student, nb in fair.items():
        ckit.submit(student, A, nb)
    verdicts = grader.grade_assignment(ckit.course, A, students=sorted([*subs, *fair]), client=client,
                                       limits_override={"wall_s": TIME_LIMIT})
    by_student = {v.student: v for v in verdicts}
    wrong = []
    for student in EXPECTED:
        if sandbox.isolation_mode() == "limits" and student in ("network", "read_anywhere"):
            continue        # no namespaces here: test_attacks.py says the same of local grading
        _, expected, fragment = subs[student]
        v = by_student[student]
        reasons = " | ".join(f.reason for f in v.functions if not f.passed)
        if v.score != expected or fragment not in reasons:
            wrong.append(reports.summary_table([v]))
    for student, (_, lost) in SUBMISSIONS.items():
        v = by_student[f"fair_{student}"]
        if [(f.function, f.reason) for f in v.functions] != [(f, lost.get(f, PASSED)) for f in POINTS]:
            wrong.append(reports.summary_table([v]))
    assert not wrong, "\n".join(wrong)
    with ckit.course.gradebook() as gb:
        assert {s: gb.find_submission(A, s).score for s in by_student} == {s: v.score for s, v in by_student.items()}
    assert _sandboxes_left() == []


@pytest.mark.parametrize("assignment", NUMPY_EXAMPLES)
def test_shipped_examples_score_as_locally(client, ckit, assignment):
    ckit.released(assignment)
    examples = {f"example_{s}": data for s, data in ckit.examples(assignment).items()}
    for student, data in examples.items():
        ckit.submit(student, assignment, data)
    verdicts = grader.grade_assignment(ckit.course, assignment, students=sorted(examples), client=client)
    ckit.check_examples(assignment, {v.student.removeprefix("example_"): v for v in verdicts})


def _grade_rows(course, students: list[str]) -> dict[str, tuple[int, int]]:
    """student -> (rows in the gradebook's grade table, distinct grade cells among them) for assignment A."""
    con = sqlite3.connect(course.root / "gradebook.db")
    try:
        return {s: con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT g.cell_id) FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment sa ON n.assignment_id = sa.id "
            "JOIN assignment a ON sa.assignment_id = a.id WHERE sa.student_id = ? AND a.name = ?",
            (s, A)).fetchone() for s in students}
    finally:
        con.close()


def _worker_in_a_slow_sandbox(client, timeout: float = 60.0) -> tuple[int, list[psutil.Process]]:
    """A worker process whose sandbox has been running for a second (a slow job), and the sandboxed processes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in client.run(os.getpid).values():
            try:
                boxed = [p for p in psutil.Process(pid).children(recursive=True)
                         if p.uids().real >= sandbox.SANDBOX_UID_BASE]
                if any(time.time() - p.create_time() > 1 for p in boxed):
                    return pid, boxed
            except psutil.Error:
                continue
        time.sleep(0.1)
    raise AssertionError("no worker ran a slow sandbox")


def _still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    running = []
    for p in processes:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                running.append(p)
        except psutil.NoSuchProcess:
            pass
    return running


def test_a_killed_worker_loses_and_doubles_nothing(client, ckit):
    ckit.released(A)
    students = ["killed_slow_1", "killed_slow_2", "killed_honest"]
    answers = ckit.answers(A)
    for s in students:
        slow = "slow" in s
        ckit.submit(s, A, ckit.honest(A, gru_step=(SLOW_GRU if slow else "") + answers["gru_step"]))
    prepare(ckit.course, A)
    done: dict = {}
    grading = threading.Thread(target=lambda: done.update(
        verdicts=grader.grade_assignment(ckit.course, A, students=students, client=client)))
    grading.start()
    before = set(client.run(os.getpid).values())
    victim, its_sandbox = _worker_in_a_slow_sandbox(client)
    os.kill(victim, signal.SIGKILL)
    gone_by = time.monotonic() + 2       # well before the job's sleep would have ended
    while _still_running(its_sandbox) and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert _still_running(its_sandbox) == []
    grading.join(timeout=300)
    assert not grading.is_alive()
    assert victim in before and victim not in set(client.run(os.getpid).values())     # it was really killed
    verdicts = done["verdicts"]
    assert [v.score for v in verdicts] == [12.0] * 3, reports.summary_table(verdicts)
    grade_cells = sum(bool(cells.meta(c).get("grade")) for c in ckit.released(A)["cells"])
    assert _grade_rows(ckit.course, students) == {s: (grade_cells, grade_cells) for s in students}
    with ckit.course.gradebook() as gb:
        assert [gb.find_submission(A, s).score for s in students] == [12.0] * 3
    report = json.loads((ckit.course.reports_dir() / f"{A}.json").read_text())
    assert sorted(s["student"] for s in report["submissions"]) == sorted(students)
    assert _sandboxes_left() == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("where", ["flag", "config"])
def test_unreachable_scheduler_stops_before_writing(tmp_path, kit, monkeypatch, capsys, where):
    course = make_course_copy(tmp_path / "course")
    course.release(A)
    type(kit)(course).submit("alice", A, kit.honest(A))
    address = f"tcp://127.0.0.1:{_closed_port()}"
    args = ["--course", str(course.root), "grade", A]
    if where == "flag":
        args += ["--scheduler", address]
    else:
        with open(course.root / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.Autograder.scheduler = {address!r}\n")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2.0)
    before = _tree(course.root)
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err and "Nothing was graded or written" in err
    assert _tree(course.root) == before
    assert not course.reference_file(A).exists() and not (course.root / "autograded").exists()


# ---------------------------------------------------------------------------------------------------------
# what travels: plain data out, JSON back, strictly parsed

def _result() -> SandboxResult:
    run = RunResult.from_json({"cell_errors": [{"cell": "c", "type": "NameError", "message": "m", "where": "w"}],
                               "missing": False, "cases": [{"ok": {"__list__": [1.5, 2]}},
                                                           {"error": {"type": "E", "message": "m"}}], "seconds": 0.5})
    run.cases[1].error.after_reload = True
    return SandboxResult("ok", run, 0, 1.25, 1.0, "case 2", "out", "err", "", "root", Limits(wall_s=40),
                         {"model.keras": b"\x00\xff"}, {"other.npz": "was not written"}, ("keras",))


def test_sandbox_results_round_trip_through_json():
    res = _result()
    assert {f.name for f in fields(SandboxResult)} <= set(res.to_json())
    assert SandboxResult.from_json(json.loads(json.dumps(res.to_json()))) == res
    assert SandboxResult.from_json(json.loads(json.dumps(SandboxResult("timeout").to_json()))) == \
        SandboxResult("timeout")


def test_a_malformed_result_fails_only_its_own_function():
    good = _result().to_json()
    answer = {"f_ok": good, "f_status": {**good, "status": "fine"}, "f_seconds": {**good, "seconds": "1"},
              "f_extra": {**good, "extra": 1}, "f_cases": {**good, "run": {"result": {"cases": 3}, "after_reload": []}},
              "f_files": {**good, "files": {"a": "not base64!"}}}
    parsed = cluster.parse_results(json.dumps(answer), [*answer, "f_absent"])
    assert parsed["f_ok"] == _result()
    reasons = {f: res.detail for f, res in parsed.items() if f != "f_ok"}
    assert all(res.status == "bad_result" for f, res in parsed.items() if f != "f_ok")
    assert "unknown status 'fine'" in reasons["f_status"]
    assert "field seconds is not float" in reasons["f_seconds"]
    assert "exactly the fields" in reasons["f_extra"]
    assert "malformed result" in reasons["f_cases"]
    assert "not base64" in reasons["f_files"]
    assert reasons["f_absent"] == "crashed: the grading worker returned no result for f_absent"
    for reason in reasons.values():
        assert reason.startswith("crashed: the grading worker")
    assert "not JSON" in cluster.parse_results("{", ["f"])["f"].detail
    assert "not a JSON object" in cluster.parse_results("[]", ["f"])["f"].detail


@pytest.mark.parametrize("assignment", hidden.names())
def test_the_portable_assignment_has_what_a_worker_reads(kit, assignment):
    """Tasks (harnesses, reload stages, preambles, limits), setup, hidden inputs, cell order, seed and limit
    override travel as plain JSON; the reference outputs, the judges and their secrets stay with the client."""
    module = hidden.load(assignment)
    payloads, secrets = make_cases(module)
    prep = Prepared(module, source_info(assignment, kit.course.source_notebook(assignment)), list(module.TASKS),
                    payloads, secrets, {"f": ["reference"]}, {"wall_s": 5.0})
    data = json.loads(json.dumps(cluster.portable(prep)))
    assert set(data) == {"tasks", "setup", "payloads", "solution_cells", "seed", "limits_override"}
    port = cluster.from_portable(data)
    assert (port.setup, port.payloads, port.info.solution_cells, port.module.SEED, port.limits_override) == \
        (prep.setup, prep.payloads, prep.info.solution_cells, prep.module.SEED, prep.limits_override)
    for mine, theirs in zip(port.tasks, prep.tasks, strict=True):
        assert mine.make_cases is None and mine.judge is None
        assert [getattr(mine, f.name) for f in fields(mine) if f.name not in ("make_cases", "judge")] == \
            [getattr(theirs, f.name) for f in fields(theirs) if f.name not in ("make_cases", "judge")]


def test_sandbox_slots_are_shared_between_processes():
    """Two grading processes on one machine (e.g. two Dask workers) never run sandboxes under the same uid."""
    mine = sandbox._take_slot()
    try:
        theirs = subprocess.run([sys.executable, "-c", "from autograder import sandbox; print(sandbox._take_slot())"],
                                capture_output=True, text=True, check=True).stdout.strip()
        assert int(theirs) != mine
    finally:
        sandbox._give_slot(mine)
