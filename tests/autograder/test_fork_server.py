"""One sandbox per submission (``stages.run_submission`` with ``sandbox.ForkServer``): a forked child per function
with the function's own limits, and whatever one function does (crash, timeout, fork bomb, killing the server)
costs only that function."""
from __future__ import annotations

import textwrap
import time

import pytest

from autograder import grader, references, sandbox, stages
from autograder.protocol import Cell, Job, encode_input
from autograder.sandbox import Limits

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning"),
    pytest.mark.skipif(not sandbox.fork_server_supported(), reason="the fork server needs a PID namespace"),
]

A = "ex1_rnn_cells"
ENVELOPE = Limits(cpu_s=30, wall_s=40, memory_mb=1024)
TIME_LIMIT = 5.0     # --time-limit of the ex1 submissions below


def _job(code: str) -> Job:
    return Job(function="f", cells=[Cell("c", textwrap.dedent(code))], cases=[encode_input({"args": {}})])


@pytest.fixture(scope="module")
def prep(kit):
    kit.released(A)
    return references.prepare(kit.course, A, limits_override={"wall_s": TIME_LIMIT})


@pytest.fixture
def own_sandboxes(monkeypatch) -> list[str]:
    """The functions run again in a sandbox of their own (sandbox.run_job) since the fork server was lost."""
    ran, run_job = [], sandbox.run_job

    def counted(job, *args, **kwargs):
        ran.append(job.function)
        return run_job(job, *args, **kwargs)
    monkeypatch.setattr(sandbox, "run_job", counted)
    return ran


def _grade(kit, prep, **override):
    """(passed, reason) per function of one ex1 submission with the given solution cells replaced."""
    solutions = {**kit.answers(A), **{k: textwrap.dedent(v) for k, v in override.items()}}
    runs = stages.run_submission(prep, solutions, protect=(kit.course.root,))
    return {t.function: grader.judge_function(prep, t, solutions, runs[t.function]) for t in prep.tasks}


def _only_failure(verdicts: dict, function: str) -> str:
    assert all(ok for f, (ok, _) in verdicts.items() if f != function), verdicts
    ok, reason = verdicts[function]
    assert not ok
    return reason


def test_each_run_has_its_own_limits_folder_and_no_way_back():
    """A child sees the run's limits (not the server's), a folder of its own, only stdin/stdout/stderr, and /dev/null
    as stdin."""
    code = """
    import os, resource
    def f():
        return (resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_AS),
                sorted(os.listdir(".")), len(os.listdir("/proc/self/fd")), os.readlink("/proc/self/fd/0"))
    """
    with sandbox.ForkServer(ENVELOPE) as server:
        res = server.run(_job(code), Limits(cpu_s=3, wall_s=10, memory_mb=512))
    cpu, mem, files, n_fds, stdin = res.run.cases[0].ok["__tuple__"]
    assert cpu == {"__tuple__": [3, 4]} and mem == {"__tuple__": [512 * 2**20] * 2}
    assert files["__list__"] == ["progress.txt", "stderr.txt", "stdout.txt"]
    assert n_fds == 4 and stdin == "/dev/null"        # 0, 1, 2 and the listing's own


def test_limits_above_the_servers_are_refused():
    with sandbox.ForkServer(ENVELOPE) as server, pytest.raises(ValueError, match="exceed"):
        server.run(_job("def f():\n    return 1\n"), Limits(cpu_s=60, wall_s=10, memory_mb=512))


def test_a_cpu_limit_in_one_child_leaves_the_next_its_whole_budget():
    spin = "def f():\n    while True:\n        pass\n"
    with sandbox.ForkServer(ENVELOPE) as server:
        first = server.run(_job(spin), Limits(cpu_s=2, wall_s=20, memory_mb=1024))
        second = server.run(_job("def f():\n    return 7\n"), Limits(cpu_s=2, wall_s=20, memory_mb=1024))
    assert first.status == "timeout" and first.detail == "timeout: CPU limit of 2 s exceeded"
    assert second.status == "ok" and second.run.cases[0].ok == 7


def test_a_fork_bomb_in_one_function_costs_only_that_function(kit, prep, own_sandboxes):
    bomb = """
    import os
    def lstm_step(*args):
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    started = time.perf_counter()
    reason = _only_failure(_grade(kit, prep, lstm_step=bomb), "lstm_step")
    assert reason.startswith("timeout:"), reason
    assert time.perf_counter() - started < 10 * TIME_LIMIT
    assert own_sandboxes == []          # the server cleaned up and went on


def test_a_timeout_in_one_function_leaves_the_others_passing(kit, prep, own_sandboxes):
    sleepy = "import time\ndef gru_step(*args):\n    time.sleep(1000)\n"
    reason = _only_failure(_grade(kit, prep, gru_step=sleepy), "gru_step")
    assert reason == f"timeout: no result within {TIME_LIMIT:g} s (wall clock), in hidden case 1", reason
    assert own_sandboxes == []


def test_a_timeout_at_the_top_level_says_so(kit, prep, own_sandboxes):
    top = "import time\ntime.sleep(1000)\n"
    verdicts = _grade(kit, prep, gru_step=top)
    for function in ("gru_step", "rnn_bptt"):       # rnn_bptt's cells include gru_step's
        ok, reason = verdicts.pop(function)
        assert not ok and reason == (f"timeout: no result within {TIME_LIMIT:g} s (wall clock), while the solution "
                                     "cells ran (code at the top level of a cell), before any function was called")
    assert all(ok for ok, _ in verdicts.values()) and own_sandboxes == []


def test_a_segfault_in_one_function_leaves_the_others_passing(kit, prep, own_sandboxes):
    segv = "import ctypes\ndef gru_step(*args):\n    ctypes.string_at(0)\n"
    assert _only_failure(_grade(kit, prep, gru_step=segv), "gru_step") == "crashed: killed by signal 11 (SIGSEGV)"
    assert own_sandboxes == []


def test_a_function_that_kills_its_server_still_gets_its_own_verdict(kit, prep, own_sandboxes):
    """lstm_step kills the server (its parent): the functions it had not reported run again in sandboxes of their
    own; there the parent is the namespace's init, which ignores the signal, and lstm_step's wrong answer is
    judged as such."""
    killer = """
    import os, signal
    def lstm_step(x_t, h_prev, c_prev, *weights):
        os.kill(os.getppid(), signal.SIGKILL)
        return h_prev, c_prev
    """
    assert _only_failure(_grade(kit, prep, lstm_step=killer), "lstm_step").startswith("mismatch:")
    assert own_sandboxes == ["lstm_step", "gru_step", "rnn_bptt"]     # it and the functions after it


def test_a_stopped_server_is_given_up_after_the_runs_limit(kit, prep, own_sandboxes):
    stopper = """
    import os, signal
    def gru_step(x_t, h_prev, *weights):
        os.kill(os.getppid(), signal.SIGSTOP)
        return h_prev
    """
    assert _only_failure(_grade(kit, prep, gru_step=stopper), "gru_step").startswith("mismatch:")
    assert own_sandboxes == ["gru_step", "rnn_bptt"]
