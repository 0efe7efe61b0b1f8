"""One sandbox per submission (``stages.run_submission`` with ``sandbox.ForkServer``): a forked child per function
with the function's own limits, and whatever one function does (crash, timeout, fork bomb, killing the server)
costs only that function."""
from __future__ import annotations

import os
import tempfile
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


# ---------------------------------------------------------------------------------------------------------
# every run starts clean (issue 26): its own /dev/shm, /tmp, home and System V IPC; nothing is left on the host

MARKERS = ("/dev/shm/marker", "/tmp/marker", "~/marker", "../marker")
SHM_KEY = 0x26_2026     # the System V shared memory key the runs below use

SYSV = """
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p


def sysv_segment(create):
    # the id of the shared memory segment of SHM_KEY (64 MiB, written when created), or -1
    shmid = _libc.shmget(SHM_KEY, 64 * 2**20, (0o1000 | 0o666) if create else 0)
    if shmid >= 0 and create:
        ctypes.memset(_libc.shmat(shmid, None, 0), 1, 64 * 2**20)   # attached and touched: real memory
    return shmid
""".replace("SHM_KEY", str(SHM_KEY))

LEAVE_STATE = SYSV + """
import os
def f():
    wrote = []
    for p in MARKERS:
        try:
            with open(os.path.expanduser(p), "w") as fh:
                fh.write("left by an earlier run")
            wrote.append(p)
        except OSError:
            pass
    return wrote, sysv_segment(create=True) >= 0
""".replace("MARKERS", repr(MARKERS))

SEE_STATE = SYSV + """
import os
def f():
    caps = [line for line in open("/proc/self/status") if line.startswith("Cap") and int(line.split()[1], 16)]
    return ([p for p in MARKERS if os.path.exists(os.path.expanduser(p))], sysv_segment(create=False),
            os.listdir(".."), os.listdir("/dev/shm"), os.listdir("/tmp"), caps)
""".replace("MARKERS", repr(MARKERS))


def _host_state() -> tuple[set[str], set[str]]:
    """The host's /dev/shm entries and System V shared memory segments (key, owner uid)."""
    with open("/proc/sysvipc/shm") as f:
        segments = {" ".join(line.split()[i] for i in (0, 7)) for line in list(f)[1:]}
    return set(os.listdir("/dev/shm")), segments


@pytest.fixture
def sandbox_folders(monkeypatch) -> list[str]:
    """Every folder the sandbox code creates with tempfile.mkdtemp during the test."""
    made, mkdtemp = [], tempfile.mkdtemp

    def recorded(*args, **kwargs):
        made.append(mkdtemp(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(sandbox.tempfile, "mkdtemp", recorded)
    return made


def test_each_run_starts_clean_and_leaves_nothing_on_the_host(sandbox_folders):
    """A run leaves a marker in /dev/shm, /tmp, its home and the server's folder (read-only: refused) and a 64 MiB
    System V segment; the next run of the same server sees none of them, only its own folder, and no
    capability; once the server is closed the host has no new /dev/shm entry, no segment and no sandbox folder."""
    before = _host_state()
    with sandbox.ForkServer(ENVELOPE) as server:
        first = server.run(_job(LEAVE_STATE), Limits(cpu_s=5, wall_s=20, memory_mb=512))
        second = server.run(_job(SEE_STATE), Limits(cpu_s=5, wall_s=20, memory_mb=512))
        assert _host_state() == before      # the segment was in the run's own IPC namespace, not the host's
    wrote, created = first.run.cases[0].ok["__tuple__"]
    assert wrote["__list__"] == list(MARKERS[:3]) and created is True, (first.detail, first.stderr)
    seen, segment, siblings, shm, tmp, caps = second.run.cases[0].ok["__tuple__"]
    assert seen["__list__"] == [] and segment == -1, second.run
    assert len(siblings["__list__"]) == 1 and siblings["__list__"][0].startswith("run-")   # only its own folder
    assert shm["__list__"] == [] and tmp["__list__"] == [] and caps["__list__"] == []
    assert _host_state() == before
    assert sandbox_folders and not [p for p in sandbox_folders if os.path.exists(p)]


def test_a_single_sandbox_has_a_private_ipc_namespace_and_tmp(sandbox_folders):
    """The one-sandbox-per-run way (and the fork server's whole sandbox) has its own IPC namespace and /tmp."""
    before = _host_state()
    res = sandbox.run_job(_job(LEAVE_STATE), Limits(cpu_s=5, wall_s=20, memory_mb=512))
    wrote, created = res.run.cases[0].ok["__tuple__"]
    assert wrote["__list__"] == list(MARKERS[:3]) and created is True, (res.detail, res.stderr)
    res = sandbox.run_job(_job(SEE_STATE), Limits(cpu_s=5, wall_s=20, memory_mb=512))
    seen, segment, _, shm, tmp, caps = res.run.cases[0].ok["__tuple__"]
    assert seen["__list__"] == [] and segment == -1 and shm["__list__"] == tmp["__list__"] == []
    assert caps["__list__"] == []
    assert _host_state() == before
    assert not [p for p in sandbox_folders if os.path.exists(p)]


FILL = """
def fill(folder, n, size=2**20):
    # n files of size bytes in folder, until it is full
    os.makedirs(folder, exist_ok=True)
    try:
        for i in range(n):
            with open(os.path.join(folder, str(i)), "wb") as fh:
                fh.write(b"x" * size)
    except OSError:
        pass
"""
# lstm_step fills one resource and leaves a marker; the wrong gru_step returns the right answer only where it finds
# a marker (state that crossed from an earlier run)
EXHAUST = {
    "memory": """
        kept = []
        open(os.path.expanduser("~/marker"), "w").write("x")
        try:
            while True:                             # every byte the memory limit allows
                kept.append(bytearray(32 * 2**20))
        except MemoryError:
            pass
    """,
    "disk": """
        open("/tmp/marker", "w").write("x")
        fill("/tmp/full", 10_000)                   # the run's /tmp, then 240 MiB at home
        fill(os.path.expanduser("~/big"), 4, 60 * 2**20)
    """,
    "shared memory": """
        open("/dev/shm/marker", "w").write("x")
        fill("/dev/shm/full", 10_000)
    """,
    "System V segment": """
        sysv_segment(create=True)
    """,
}
GRU_CHEAT = """
def gru_step(x_t, h_prev, W_z, W_r, W, b_z, b_r, b):
    found = [p for p in ("/dev/shm/marker", "/tmp/marker", os.path.expanduser("~/marker"), "../marker")
             if os.path.exists(p)]
    if found or sysv_segment(create=False) >= 0:
        sig = lambda a: 1 / (1 + np.exp(-a))
        v = np.concatenate([h_prev, x_t], axis=-1)
        z, r = sig(v @ W_z + b_z), sig(v @ W_r + b_r)
        return (1 - z) * h_prev + z * np.tanh(np.concatenate([r * h_prev, x_t], axis=-1) @ W + b)
    return h_prev
"""


@pytest.mark.parametrize("resource", list(EXHAUST))
def test_a_wrong_gru_step_after_a_function_that_exhausts_a_resource_still_fails(kit, prep, own_sandboxes, resource):
    """lstm_step takes all the memory it may, fills /tmp and writes 240 MiB at home, fills /dev/shm, or leaves a
    64 MiB System V segment, each with a marker: gru_step, correct only where it finds one, is wrong; every
    other function (rnn_bptt runs after both) passes, and nothing is left on the host."""
    before = _host_state()
    prelude = "import os\n" + SYSV + FILL
    lstm = prelude + "\n\ndef lstm_step(*args):\n" + textwrap.indent(textwrap.dedent(EXHAUST[resource]), "    ") + \
        "    return None\n"
    verdicts = _grade(kit, prep, lstm_step=lstm, gru_step=prelude + GRU_CHEAT)
    assert not verdicts.pop("lstm_step")[0]
    ok, reason = verdicts.pop("gru_step")
    assert not ok and reason.startswith("mismatch: gru_step (hidden case 1)"), reason
    assert all(ok for ok, _ in verdicts.values()), verdicts
    assert own_sandboxes == [] and _host_state() == before
