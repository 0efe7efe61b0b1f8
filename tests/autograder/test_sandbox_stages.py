"""Carrying a file from one sandbox run into a fresh one (``files`` / ``collect``), the merge of a task's two stages,
and the light preamble of numpy-only tasks with its fallback to the notebook's full setup."""
from __future__ import annotations

import ast
from dataclasses import replace

import pytest

from autograder import grader, references, sandbox, stages
from autograder.protocol import CaseError, CaseResult, Cell, CellError, Job, RunResult, encode_dict, encode_input
from autograder.sandbox import Limits
from autograder.task import KERAS_IMPORT_LIMITS, Task

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

LIMITS = Limits(cpu_s=10, wall_s=30, memory_mb=1024)

WRITER = '''
import os
def f():
    data = open("in.bin", "rb").read()
    with open("out.bin", "wb") as fh:
        fh.write(data * 2)
    os.symlink("/etc/hostname", "link.bin")
    os.mkfifo("fifo.bin")
    os.mkdir("folder.bin")
    with open("big.bin", "wb") as fh:
        fh.truncate(sandbox_cap + 1)
    return sorted(os.listdir("."))
'''


def _job(code: str) -> Job:
    return Job(function="f", cells=[Cell("c", code)], cases=[encode_input({"args": {}})])


def test_files_go_in_and_only_regular_files_come_back():
    code = WRITER.replace("sandbox_cap", str(sandbox.MAX_CARRY_BYTES))
    res = sandbox.run_job(_job(code), LIMITS, files={"in.bin": b"abc"},
                          collect=("out.bin", "link.bin", "fifo.bin", "folder.bin", "big.bin", "never.bin"))
    assert res.status == "ok", (res.detail, res.stderr)
    listing = res.run.cases[0].ok["__list__"]
    assert "in.bin" in listing and "job.json" not in listing
    assert res.files == {"out.bin": b"abcabc"}
    missing = res.files_missing
    assert missing["link.bin"] == missing["fifo.bin"] == missing["folder.bin"] == "is not a regular file"
    assert missing["big.bin"].startswith("is larger than")
    assert missing["never.bin"] == "was not written"


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "child.py", "protocol.py", "job.json", "result.json"])
def test_carried_file_names_are_plain(name):
    with pytest.raises(ValueError):
        sandbox.run_job(_job("def f():\n    return 1\n"), LIMITS, files={name: b""})
    with pytest.raises(ValueError):
        sandbox.run_job(_job("def f():\n    return 1\n"), LIMITS, collect=(name,))


def _res(cases, status="ok", detail="") -> sandbox.SandboxResult:
    return sandbox.SandboxResult(status=status, detail=detail, seconds=1.0, run=RunResult(cases=cases))


def test_merge_of_two_stages():
    ok1 = CaseResult(ok=encode_dict({"before": 1, "after": 99}))
    ok2 = CaseResult(ok=encode_dict({"after": 2}))
    err = CaseResult(error=CaseError("ValueError", "bad shape", ""))
    merged = stages.merge_reload(_res([ok1, ok1, err, ok1]), _res([ok2, err, ok2, CaseResult(ok=encode_dict({
        "error": "not found"}))]))
    cases = merged.run.cases
    assert cases[0] == CaseResult(ok={"__dict__": {"before": 1, "after": 2}})
    assert cases[1].error.after_reload is True                 # stage 2's error wins, marked
    assert cases[2] == err                                      # stage 1's error wins, unmarked
    assert cases[3].ok["__dict__"]["error"] == f"not found ({stages.AFTER_RELOAD})"
    assert merged.seconds == 2.0
    reason = grader.error_reason(cases[1].error, 2, LIMITS)
    assert reason.startswith("crashed: hidden case 2 raised ValueError: bad shape") and stages.AFTER_RELOAD in reason
    timeout = stages.merge_reload(_res([ok1]), _res([], status="timeout", detail="timeout: no result"))
    assert timeout.status == "timeout" and timeout.detail == f"timeout: no result ({stages.AFTER_RELOAD})"


def test_names_of_the_full_setup():
    full = "import numpy as np\nimport keras\nfrom keras import layers, ops as K\nSEED = 3\n"
    assert stages.defined_names(full) == {"np", "keras", "layers", "K", "SEED"}
    assert stages.defined_names("from keras import *") is None
    res = _res([CaseResult(error=CaseError("NameError", "name 'layers' is not defined"))])
    res.run.cell_errors = [CellError("c", "NameError", "name 'keras' is not defined")]
    assert stages.needs_full_setup(res, "import numpy as np\n", full) == ["keras", "layers"]
    typo = _res([CaseResult(error=CaseError("NameError", "name 'nump' is not defined"))])
    assert stages.needs_full_setup(typo, "import numpy as np\n", full) == []


def test_ex3_numpy_tasks_skip_keras_but_fall_back_to_the_full_setup(kit):
    """create_dataset with keras.ops / layers in it still passes (rerun with the setup cell); the plain one runs
    with numpy only, under the numeric limits."""
    A = "ex3_time_series"
    kit.released(A)
    prep = references.prepare(kit.course, A)
    task = next(t for t in prep.tasks if t.function == "create_dataset")
    assert task.preamble and "keras" not in task.preamble
    answers = kit.answers(A)
    plain = stages.run_task(prep, task, answers, protect=(kit.course.root,))
    assert plain.status == "ok" and not plain.setup_fallback
    assert plain.limits.memory_mb == task.limits.memory_mb < 2048
    assert grader.judge_function(prep, task, answers, plain)[0]
    uses_keras = dict(answers, create_dataset=(
        "def create_dataset(data, window_size):\n"
        "    data = np.asarray(data)\n"
        "    n = len(data) - window_size\n"
        "    X = np.stack([data[i:i + window_size] for i in range(n)])\n"
        "    X = keras.ops.convert_to_numpy(keras.ops.expand_dims(X, -1)).astype(data.dtype)\n"
        "    assert layers.LSTM  # uses the setup's names too\n"
        "    return X, data[window_size:].copy()\n"))
    res = stages.run_task(prep, task, uses_keras, protect=(kit.course.root,))
    assert res.setup_fallback == ("keras",), (res.detail, res.run)
    assert res.limits.memory_mb >= 4096
    ok, reason = grader.judge_function(prep, task, uses_keras, res)
    assert ok, reason


@pytest.mark.parametrize("where,code,note", [
    ("top level", "while True:\n    pass\ndef f():\n    return 1\n",
     "while the solution cells ran (code at the top level of a cell), before any function was called"),
    ("in the call", "def f():\n    while True:\n        pass\n", "in hidden case 1"),
])
def test_cpu_limit_is_a_timeout_and_says_where(where, code, note):
    """The CPU limit's kill is a timeout, not "the process ended (exit status 1)" (as unshare reported it), and the
    reason says whether any function had been called yet."""
    res = sandbox.run_job(_job(code), Limits(cpu_s=2, wall_s=30, memory_mb=1024))
    assert res.status == "timeout" and res.detail == "timeout: CPU limit of 2 s exceeded", (res.detail, res.stderr)
    task = Task("f", "c", "test_f", lambda rng: ([], None))
    ok, reason = grader.judge_function(None, task, {"c": code}, res)
    assert not ok and reason == f"timeout: CPU limit of 2 s exceeded, {note}"


# ---------------------------------------------------------------------------------------------------------
# ex5's reload stage starts clean (issue 26): only the saved .keras file crosses, by content

E5 = "ex5_attention"
GOOD_CONFIG = """    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""
OUTSIDE_THE_FILE = GOOD_CONFIG + """
    def save_own_variables(self, store):       # the weights go to a side channel, not into the .keras file
        _stash_write(b"".join(np.asarray(w, np.float32).tobytes() for w in self.get_weights()))

    def load_own_variables(self, store):
        flat, parts = np.frombuffer(_stash_read(), np.float32), []
        for v in self.weights:
            n = int(np.prod(v.shape))
            parts.append(flat[:n].reshape(tuple(v.shape)))
            flat = flat[n:]
        self.set_weights(parts)
"""
FILE_STASH = """import os

_STASH = {path}


def _stash_write(data):
    with open(_STASH, "wb") as fh:
        fh.write(data)


def _stash_read():
    with open(_STASH, "rb") as fh:
        return fh.read()


"""
SYSV_STASH = """import ctypes

_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p


def _stash_write(data):
    addr = _libc.shmat(_libc.shmget(0x5EED, 2**20, 0o1000 | 0o666), None, 0)
    ctypes.memmove(addr, len(data).to_bytes(8, "little") + data, 8 + len(data))


def _stash_read():
    shmid = _libc.shmget(0x5EED, 0, 0)
    if shmid < 0:
        raise FileNotFoundError("no System V segment 0x5EED")
    addr = _libc.shmat(shmid, None, 0)
    return ctypes.string_at(addr + 8, int.from_bytes(ctypes.string_at(addr, 8), "little"))


"""
SIDE_CHANNELS = {
    "/dev/shm": FILE_STASH.format(path='"/dev/shm/weights.bin"'),
    "/tmp": FILE_STASH.format(path='"/tmp/weights.bin"'),
    "home": FILE_STASH.format(path='os.path.expanduser("~/weights.bin")'),
    "beside the payload": FILE_STASH.format(path='os.path.join(os.getcwd(), "weights.bin")'),
    "System V shared memory": SYSV_STASH,
}


@pytest.fixture(scope="module")
def ex5(kit):
    """ex5's prepared checks, its serialisation task, and one fork server for every run below."""
    kit.released(E5)
    prep = references.prepare(kit.course, E5)
    task = next(t for t in prep.tasks if t.reload_harness)
    with sandbox.ForkServer(stages.server_limits([task], prep.limits_override), [kit.course.root],
                            import_wall_s=KERAS_IMPORT_LIMITS.wall_s) as server:
        yield prep, task, server


def _outside_the_file(kit, channel: str) -> dict[str, str]:
    answers = kit.answers(E5)
    assert GOOD_CONFIG in answers["attention_layer"]
    return {**answers, "attention_layer": SIDE_CHANNELS[channel] +
            answers["attention_layer"].replace(GOOD_CONFIG, OUTSIDE_THE_FILE)}


def test_the_side_channel_layer_passes_when_both_stages_share_a_process(ex5, kit):
    """The control: saved and reloaded in one process, the layer that keeps its weights in /tmp passes, so the
    fresh second stage is what stops it below; the reference passes the two stages in the same server."""
    prep, task, server = ex5
    honest = kit.answers(E5)
    assert grader.judge_function(prep, task, honest, stages.run_task(prep, task, honest, runner=server.run))[0]
    solutions = _outside_the_file(kit, "/tmp")
    both = (f"{task.harness}\n_save = run\n{task.reload_harness}\n_reload = run\n\n\n"
            "def run(ns, payload):\n    return {**_save(ns, payload), **_reload(ns, payload)}\n")
    res = server.run(stages.job_for(prep, task, solutions, prep.setup, both), task.limits)
    assert grader.judge_function(prep, task, solutions, res)[0], (res.detail, res.run)


@pytest.mark.parametrize("channel", list(SIDE_CHANNELS))
def test_weights_outside_the_saved_file_do_not_survive_the_reload(ex5, kit, channel):
    prep, task, server = ex5
    solutions = _outside_the_file(kit, channel)
    res = stages.run_task(prep, task, solutions, runner=server.run)
    ok, reason = grader.judge_function(prep, task, solutions, res)
    assert not ok and stages.AFTER_RELOAD in reason, reason


def test_the_reload_stage_has_only_the_carried_file(ex5, kit):
    """Stage 1 leaves files beside the model and in the server's folder (refused: read-only); stage 2's folder
    holds only the carried .keras file, by content."""
    prep, task, server = ex5
    spy = ("import os\n\n\ndef run(ns, payload):\n"
           "    return {'after': repr((sorted(os.listdir('.')), sorted(os.listdir('..'))))}\n")
    leave = ("import os\n\n\ndef run(ns, payload):\n    open('extra.bin', 'w').write('x')\n"
             "    try:\n        open('../extra.bin', 'w').write('x')\n    except OSError as exc:\n"
             "        refused = type(exc).__name__\n"
             "    open(payload['file'], 'wb').write(b'model bytes')\n    return {'before': refused}\n")
    res = stages.run_stages(prep, replace(task, harness=leave, reload_harness=spy), kit.answers(E5), prep.setup,
                            task.limits, runner=server.run)
    out = res.run.cases[0].ok["__dict__"]
    assert out["before"] == "OSError", out
    here, parent = ast.literal_eval(out["after"])
    assert here == [task.carry[0], "progress.txt", "stderr.txt", "stdout.txt"], here
    assert len(parent) == 1 and parent[0].startswith("run-"), parent
