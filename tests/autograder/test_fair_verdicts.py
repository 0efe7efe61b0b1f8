"""Fair verdicts (issue 14): a correct function scores whatever its parameters are called, and a learner is told
the real cause of a lost point.

* The grader calls a function positionally, in the released notebook's parameter order: renamed parameters, a
  ``*args`` wrapper and a decorator that supplies an argument itself all score full marks.
* Arguments that do not fit the function's own signature give a "wrong signature" reason naming both parameter
  lists; a TypeError raised once the function runs (also one from a call the learner's code makes) stays the
  learner's own error, reported with its cell and line.
* Code at the top level of a cell that runs past the time limit is a timeout "while the solution cells ran ...,
  before any function was called" for every function whose cells include it, not "crashed: the process ended
  (exit status 1)" (the submission's code no longer runs as the PID namespace's init, where the kernel dropped
  the CPU limit's SIGXCPU and the hard limit's SIGKILL reached unshare, which exits 1 for it).
* A cell that changes the working folder does not break the grader's own files (progress, result).

Every expected reason is checked exactly, for every function of every submission.
"""
from __future__ import annotations

import functools
import os
from types import SimpleNamespace

import pytest

from autograder import grader, reports, sandbox, sandbox_child, stages
from autograder.protocol import SIGNATURE_ERROR, CaseError, Cell, Job, encode_input
from autograder.references import prepare
from autograder.sandbox import Limits
from autograder.task import KERAS_IMPORT_LIMITS, Task

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")

A = "ex1_rnn_cells"
TIME_LIMIT = float(os.environ.get("AUTOGRADER_TEST_TIME_LIMIT", "8"))
SHORT_LIMIT = 3.0        # the top-level timeout batch: sleeping code, so only the wall clock matters
POINTS = {"rnn_step": 2.0, "rnn_forward": 2.0, "lstm_step": 2.0, "gru_step": 2.0, "rnn_bptt": 4.0}
PASSED = "passed (4 hidden cases)"
HINT = ": keep the number and order of the released notebook's parameters (the names may differ)"
LSTM_PARAMS = "x_t, h_prev, c_prev, W_f, W_i, W_C, W_o, b_f, b_i, b_C, b_o"
GRU_PARAMS = "x_t, h_prev, W_z, W_r, W, b_z, b_r, b"
TOP_LEVEL = "while the solution cells ran (code at the top level of a cell), before any function was called"

RNN_RENAMED = "def rnn_step(x, h, Wx, Wh, b):\n    return np.tanh(x @ Wx + h @ Wh + b)\n"
RNN_STAR_ARGS = ("def _cell(x, h, Wx, Wh, b):\n    return np.tanh(x @ Wx + h @ Wh + b)\n\n\n"
                 "def rnn_step(*args):\n    return _cell(*args)\n")
RNN_DECORATED = '''import functools


def with_activation(f):
    @functools.wraps(f)          # copies f's signature (6 parameters) onto a wrapper that takes the 5 arguments
    def step(*args):
        return f(np.tanh, *args)
    return step


@with_activation
def rnn_step(activation, x_t, h_prev, W_xh, W_hh, b_h):
    return activation(x_t @ W_xh + h_prev @ W_hh + b_h)
'''

# student -> (solution cells replaced, {function: exact reason} for the functions that lose their points)
SUBMISSIONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "fair_renamed_parameters": ({"rnn_step": RNN_RENAMED}, {}),
    "fair_star_args_wrapper": ({"rnn_step": RNN_STAR_ARGS}, {}),
    "fair_decorator_supplies_an_argument": ({"rnn_step": RNN_DECORATED}, {}),
    "fair_wrong_arity": (
        {"lstm_step": "def lstm_step(x_t, h_prev):\n    return h_prev, h_prev\n",
         "gru_step": f"def gru_step({GRU_PARAMS}, units):\n    return h_prev\n"},
        {"lstm_step": f"wrong signature: lstm_step takes 11 arguments in the order ({LSTM_PARAMS}); yours is "
                      f"defined as lstm_step(x_t, h_prev){HINT}",
         "gru_step": f"wrong signature: gru_step takes 8 arguments in the order ({GRU_PARAMS}); yours is defined "
                     f"as gru_step({GRU_PARAMS}, units){HINT}"}),
    "fair_type_error_in_the_body": (
        {"gru_step": f"def gru_step({GRU_PARAMS}):\n    return len(h_prev) + 'a'\n",
         "lstm_step": "def _lstm(x_t, h_prev, c_prev):\n    return h_prev, c_prev\n\n\n"
                      "def lstm_step(*args):\n    return _lstm(*args)\n"},
        {"gru_step": "crashed: hidden case 1 raised TypeError: unsupported operand type(s) for +: 'int' and 'str' "
                     "at cell gru_step, line 2",
         "lstm_step": "crashed: hidden case 1 raised TypeError: _lstm() takes 3 positional arguments but 11 were "
                      "given at cell lstm_step, line 6"}),
    "fair_chdir_at_the_top_level": (
        {"rnn_step": "import os\nos.chdir('/')\n\n\n" + RNN_RENAMED}, {}),
}
# the top-level timeout: rnn_step's cell sleeps, and every function's cells include it
SLOW = {"fair_slow_top_level_code": ({"rnn_step": "import time\ntime.sleep(10_000)\n\n\n" + RNN_RENAMED},
                                     {f: f"timeout: no result within {SHORT_LIMIT:g} s (wall clock), {TOP_LEVEL}"
                                      for f in POINTS})}


def _grade(kit, subs: dict, wall_s: float) -> dict:
    for student, (override, _) in subs.items():
        kit.submit(student, A, kit.honest(A, **override))
    verdicts = grader.grade_assignment(kit.course, A, students=sorted(subs), jobs=2,
                                       limits_override={"wall_s": wall_s})
    return {v.student: v for v in verdicts}


@pytest.fixture(scope="module")
def verdicts(kit):
    kit.released(A)
    prepare(kit.course, A, jobs=2)     # the reference outputs, under the normal limits, before the short batch
    out = _grade(kit, SUBMISSIONS, TIME_LIMIT)
    out.update(_grade(kit, SLOW, SHORT_LIMIT))
    return out


@pytest.mark.parametrize("student", [*SUBMISSIONS, *SLOW])
def test_every_function_has_its_exact_score_and_reason(verdicts, kit, student):
    _, lost = {**SUBMISSIONS, **SLOW}[student]
    v = verdicts[student]
    table = reports.summary_table([v])
    assert [f.function for f in v.functions] == list(POINTS), table
    for f in v.functions:
        assert f.reason == lost.get(f.function, PASSED), table
        assert f.score == (0.0 if f.function in lost else POINTS[f.function]), table
    expected = sum(POINTS.values()) - sum(POINTS[f] for f in lost)
    assert v.score == expected, table
    with kit.course.gradebook() as gb:       # the score nbgrader stored, and the reason the learner reads
        sub = gb.find_submission(A, student)
        assert sub.score == expected
        comments = " | ".join(c.auto_comment or "" for c in sub.notebooks[0].comments)
    for reason in lost.values():
        assert reason in comments, comments


# ---------------------------------------------------------------------------------------------------------
# the child's call, in this process: binding decides before the call, an error inside the call is the learner's

def _params(**values):
    return dict(values)


ARGS = _params(x_t=1, h_prev=2, W_xh=3, W_hh=4, b_h=5)


def test_call_is_positional_whatever_the_names():
    assert sandbox_child.call(lambda a, b, c, d, e: (a, b, c, d, e), "rnn_step", ARGS) == (1, 2, 3, 4, 5)
    assert sandbox_child.call(lambda *args: args, "rnn_step", ARGS) == (1, 2, 3, 4, 5)
    assert sandbox_child.call(lambda a, b, c, d, e, f=6: f, "rnn_step", ARGS) == 6
    assert sandbox_child.call(functools.partial(lambda k, a, b, c, d, e: k + e, 10), "rnn_step", ARGS) == 15

    def base(activation, x_t, h_prev, W_xh, W_hh, b_h):
        return activation + b_h

    @functools.wraps(base)
    def wrapper(*args):
        return base(100, *args)

    assert sandbox_child.call(wrapper, "rnn_step", ARGS) == 105


@pytest.mark.parametrize("fn,theirs", [
    (lambda x, h: None, "(x, h)"),
    (lambda x_t, h_prev, W_xh, W_hh, b_h, extra: None, "(x_t, h_prev, W_xh, W_hh, b_h, extra)"),
    (lambda x_t, h_prev, W_xh, W_hh, *, b_h: None, "(x_t, h_prev, W_xh, W_hh, *, b_h)"),
])
def test_arguments_that_do_not_fit_say_so(fn, theirs):
    with pytest.raises(sandbox_child.SignatureMismatch) as info:
        sandbox_child.call(fn, "rnn_step", ARGS)
    assert str(info.value) == ("rnn_step takes 5 arguments in the order (x_t, h_prev, W_xh, W_hh, b_h); yours is "
                               f"defined as rnn_step{theirs}{HINT}")
    assert type(info.value).__name__ == SIGNATURE_ERROR


def test_a_type_error_inside_the_function_is_not_a_signature_error():
    def rnn_step(*args):
        return len(args) + "a"

    with pytest.raises(TypeError) as info:
        sandbox_child.call(rnn_step, "rnn_step", ARGS)
    assert not isinstance(info.value, sandbox_child.SignatureMismatch)


def test_a_long_signature_is_cut_but_the_advice_stays():
    long_default = list(range(500))

    def rnn_step(x, h, table=long_default):
        return x

    with pytest.raises(sandbox_child.SignatureMismatch) as info:
        sandbox_child.call(rnn_step, "rnn_step", ARGS)
    message = str(info.value)
    assert message.endswith(" ...)" + HINT) and "yours is defined as rnn_step(x, h, table=[0, 1, 2" in message
    reason = grader.error_reason(CaseError(SIGNATURE_ERROR, message), 1, Limits())
    assert reason == f"wrong signature: {message}"


# ---------------------------------------------------------------------------------------------------------
# in a real sandbox

def _job(code: str, args: dict | None = None, harness: str | None = None) -> Job:
    return Job(function="f", cells=[Cell("c", code)], cases=[encode_input({"args": args or {}})], harness=harness)


def test_harnesses_call_through_the_same_check():
    """A harness (e.g. train_binary.py) calls the learner's function with ``call``: same positional call, same
    reason when the arguments do not fit."""
    harness = "def run(ns, payload):\n    return call(ns['f'], 'f', payload['args'])\n"
    res = sandbox.run_job(_job("def f(n_words):\n    return n_words\n", {"vocab_size": 7, "sequence_length": 3},
                               harness), Limits(cpu_s=10, wall_s=30))
    assert res.status == "ok", (res.detail, res.stderr)
    err = res.run.cases[0].error
    assert err is not None and err.type == SIGNATURE_ERROR, res.run.cases
    assert grader.error_reason(err, 1, res.limits) == (
        f"wrong signature: f takes 2 arguments in the order (vocab_size, sequence_length); yours is defined as "
        f"f(n_words){HINT}")
    res = sandbox.run_job(_job("def f(a, b):\n    return a * b\n", {"vocab_size": 7, "sequence_length": 3},
                               harness), Limits(cpu_s=10, wall_s=30))
    assert res.status == "ok" and res.run.cases[0].ok == 21, (res.detail, res.run)


def test_cpu_limit_at_the_top_level_ends_the_run_at_the_limit():
    """The measured case: a recursive glob of / at import. It used to run on to the hard limit (the submission was
    the PID namespace's init, which SIGXCPU does not end), be SIGKILLed there and read as "crashed: the process
    ended (exit status 1) ... os._exit". Now SIGXCPU ends it at the limit and every function is told so."""
    code = "import glob\nFILES = glob.glob('/**', recursive=True)\n\n\ndef f():\n    return len(FILES)\n"
    limits = Limits(cpu_s=2, wall_s=30, memory_mb=1024)
    res = sandbox.run_job(_job(code), limits)
    assert res.status == "timeout" and res.detail == "timeout: CPU limit of 2 s exceeded", (res.detail, res.stderr)
    assert res.cpu_seconds < limits.cpu_s + 0.9, res.cpu_seconds    # the soft limit's SIGXCPU, not the hard limit
    assert "sigprocmask" not in res.stderr and res.returncode != 1, (res.returncode, res.stderr)
    task = Task("f", "c", "test_f", lambda rng: ([], None))
    assert grader.judge_function(None, task, {"c": code}, res) == (False, f"timeout: CPU limit of 2 s exceeded, "
                                                                         f"{TOP_LEVEL}")


def test_the_submission_cannot_signal_the_sandbox_init_away():
    """The init that waits for the submission ignores what the submission sends it; the run ends normally."""
    if sandbox.isolation_mode() == "limits":
        pytest.skip("no PID namespace here: PID 1 would be the machine's own init")
    code = ("import os, signal\n\n\ndef f():\n    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):\n"
            "        try:\n            os.kill(1, s)\n        except OSError:\n            pass\n    return 5\n")
    res = sandbox.run_job(_job(code), Limits(cpu_s=10, wall_s=30))
    assert res.status == "ok" and res.run.cases[0].ok == 5, (res.detail, res.stderr)


# ---------------------------------------------------------------------------------------------------------
# issue 26: Keras inside a numpy function, a model too large for the memory limit, a subclass of LSTM

RNN_KERAS_OPS = ("def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n    from keras import ops\n"
                 "    return ops.convert_to_numpy(ops.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)).astype(x_t.dtype)\n")
GRU_TF_AT_THE_TOP = "import tensorflow as tf\n\n\n" \
    "def gru_step(x_t, h_prev, W_z, W_r, W, b_z, b_r, b):\n" \
    "    sig = lambda a: tf.math.sigmoid(a).numpy()\n" \
    "    v = np.concatenate([h_prev, x_t], axis=-1)\n" \
    "    z, r = sig(v @ W_z + b_z), sig(v @ W_r + b_r)\n" \
    "    return (1 - z) * h_prev + z * np.tanh(np.concatenate([r * h_prev, x_t], axis=-1) @ W + b)\n"


def _run_ex1(kit, override: dict, **cells) -> dict:
    """(passed, reason, memory limit of the run) per ex1 function, the submission graded by run_submission."""
    kit.released(A)
    prep = prepare(kit.course, A, limits_override=override)
    solutions = {**kit.answers(A), **cells}
    runs = stages.run_submission(prep, solutions, protect=(kit.course.root,))
    return {t.function: (*grader.judge_function(prep, t, solutions, runs[t.function]),
                         runs[t.function].limits.memory_mb) for t in prep.tasks}


def test_importing_keras_in_a_numpy_function_is_not_penalised(kit):
    """``from keras import ops`` in rnn_step, ``import tensorflow`` at the top of gru_step's cell: TensorFlow's
    libraries cannot be mapped under the numpy functions' 1 GiB, so the runs that import it (those two, and
    rnn_forward and rnn_bptt, which call rnn_step or include gru_step's cell) are redone under the limits of a
    TensorFlow import and pass; lstm_step keeps the 1 GiB."""
    verdicts = _run_ex1(kit, {}, rnn_step=RNN_KERAS_OPS, gru_step=GRU_TF_AT_THE_TOP)
    assert {f: v[:2] for f, v in verdicts.items()} == {f: (True, PASSED) for f in POINTS}, verdicts
    big = KERAS_IMPORT_LIMITS.memory_mb
    assert {f: v[2] for f, v in verdicts.items()} == {"rnn_step": big, "rnn_forward": big, "lstm_step": 1024,
                                                       "gru_step": big, "rnn_bptt": big}, verdicts


def test_an_import_that_still_runs_out_of_memory_says_so(kit):
    """With the memory limit forced to 1 GiB (``limits_override``) there is no rerun, and the reason says what
    happened: out of memory while mapping TensorFlow's library, with the limit."""
    verdicts = _run_ex1(kit, {"memory_mb": 1024}, rnn_step=RNN_KERAS_OPS)
    ok, reason, _ = verdicts["rnn_step"]
    assert not ok and reason.startswith("out of memory: ImportError under the 1024 MiB limit (hidden case 1): "), \
        reason
    assert "failed to map segment" in reason or "annot allocate memory" in reason, reason


@pytest.mark.parametrize("etype,message", [
    ("ResourceExhaustedError", "OOM when allocating tensor with shape[10000,200000] and type float"),
    ("RuntimeError", "std::bad_alloc"),
    ("ImportError", "libtensorflow_cc.so.2: failed to map segment from shared object"),
])
def test_memory_errors_are_reported_as_out_of_memory(etype, message):
    reason = grader.error_reason(CaseError(etype, message), 2, Limits(memory_mb=4096))
    assert reason == f"out of memory: {etype} under the 4096 MiB limit (hidden case 2): {message}"
    assert grader.error_reason(CaseError("MemoryError", ""), 1, Limits()) == \
        "out of memory: MemoryError under the 1024 MiB limit (hidden case 1)"


def test_a_model_too_large_for_the_memory_limit_is_out_of_memory():
    """A Dense layer of 2e9 weights (8 GB) under the Keras functions' 4 GiB: "out of memory: ..." with the limit,
    not a crash."""
    code = ("import keras\n\n\ndef f():\n    model = keras.Sequential([keras.Input((10_000,)), "
            "keras.layers.Dense(200_000)])\n    return model.count_params()\n")
    job = Job(function="f", cells=[Cell("c", code)], cases=[encode_input({"args": {}})], tensorflow=True)
    res = sandbox.run_job(job, Limits(cpu_s=90, wall_s=150, memory_mb=4096))
    task = Task("f", "c", "test_f", lambda rng: ([], None), use_reference=False)
    ok, reason = grader.judge_function(_one_case_prep(task), task, {"c": code}, res)
    assert not ok and reason.startswith("out of memory:") and "4096 MiB" in reason, (reason, res.stderr[-2000:])


def _one_case_prep(task: Task):
    """The little of a Prepared that judge_function reads for a task with one case and no reference."""
    return SimpleNamespace(payloads={task.function: [None]}, references={}, secrets={task.function: None})


REVIEW_LSTM = "class ReviewLSTM(keras.layers.LSTM):\n    pass\n\n\n"


def test_a_subclass_of_lstm_gets_a_reason_that_says_what_to_change(kit):
    """``class ReviewLSTM(keras.layers.LSTM): pass`` used for both ex2 models: the trained model is rebuilt from
    Keras' own layers in a sandbox that runs none of the submission's code, so a class of the notebook's cannot be
    rebuilt; the reason names the layer and its class and says to use the Keras layer it derives from."""
    E2 = "ex2_text_classification"
    kit.released(E2)
    prep = prepare(kit.course, E2)
    answers = kit.answers(E2)
    subclassed = {f: answers[f].replace("layers.LSTM(", "ReviewLSTM(")
                  for f in ("build_stacked_lstm", "build_bidirectional_lstm")}
    solutions = {**answers, **subclassed, "build_stacked_lstm": REVIEW_LSTM + subclassed["build_stacked_lstm"]}
    assert solutions["build_bidirectional_lstm"].count("ReviewLSTM(") == 1
    runs = stages.run_submission(prep, solutions, protect=(kit.course.root,))
    for t in prep.tasks:
        ok, reason = grader.judge_function(prep, t, solutions, runs[t.function])
        assert not ok and "is of class ReviewLSTM, defined in the notebook" in reason, (t.function, reason)
        assert "keras.layers.LSTM(...)" in reason
