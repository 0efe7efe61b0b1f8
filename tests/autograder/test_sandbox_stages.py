"""Carrying a file from one sandbox run into a fresh one (``files`` / ``collect``), the merge of a task's two stages,
and the light preamble of numpy-only tasks with its fallback to the notebook's full setup."""
from __future__ import annotations

import pytest

from autograder import grader, references, sandbox, stages
from autograder.protocol import CaseError, CaseResult, Cell, CellError, Job, RunResult, encode_dict, encode_input
from autograder.sandbox import Limits
from autograder.task import Task

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
