"""The sandboxed child: runs one submission's solution cells and calls one function on given inputs.

This file is copied into the sandbox's private working folder, next to a copy of ``autograder/protocol.py``, and
run there by ``python -I child.py`` with an unprivileged user, resource limits, no network and a scrubbed
environment. It cannot import the course repository (the repository is not visible inside the sandbox), so it
executes ``protocol.py`` as source: ``job.json`` in, ``result.json`` out, as that module describes. Nothing here is
trusted by the grader: the parent re-checks everything it reads back.
"""
import inspect
import json
import os
import signal
import sys
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))     # the private folder (absolute: a cell may os.chdir)
RESULT = os.path.join(HERE, "result.json")
MAX_SIGNATURE_CHARS = 200


def load_protocol():
    """The protocol module from the source file next to this one."""
    module = types.ModuleType("protocol")
    module.__file__ = os.path.join(HERE, "protocol.py")
    sys.modules["protocol"] = module
    with open(module.__file__, encoding="utf-8") as f:
        exec(compile(f.read(), module.__file__, "exec"), module.__dict__)
    return module


class SignatureMismatch(TypeError):
    """The hidden inputs do not fit the learner's function's parameters (protocol.SIGNATURE_ERROR)."""


def call(fn, name, args):
    """``fn`` called with the values of ``args`` positionally (the notebook's order, whatever the names).

    Whether the values fit is decided before the call, from the signature of ``fn`` itself (not that of a function
    it wraps: ``functools.wraps`` copies the wrapped function's signature, which a wrapper that supplies an
    argument of its own does not have). A TypeError raised once the call has begun is the learner's own error."""
    values = list(args.values())
    try:
        signature = inspect.signature(fn, follow_wrapped=False)
    except (TypeError, ValueError):      # no signature to check (e.g. some builtins): just call
        signature = None
    if signature is not None:
        try:
            signature.bind(*values)
        except TypeError:
            raise SignatureMismatch(signature_message(name, list(args), signature)) from None
    return fn(*values)


def signature_message(name, params, signature):
    """What the learner reads when the hidden arguments do not fit their function's parameters."""
    theirs = str(signature)
    if len(theirs) > MAX_SIGNATURE_CHARS:
        theirs = theirs[:MAX_SIGNATURE_CHARS - 4] + " ...)"
    n = len(params)
    return (f"{name} takes {n} argument{'' if n == 1 else 's'} in the order ({', '.join(params)}); yours is "
            f"defined as {name}{theirs}: keep the number and order of the released notebook's parameters "
            "(the names may differ)")


def progress(P, text):
    with open(os.path.join(HERE, P.PROGRESS_FILE), "w", encoding="utf-8") as f:
        f.write(text)


def run_as_init_parent():
    """Keep the submission's code off PID 1 of the sandbox's PID namespace, where it would run under a namespace
    init's signal rules: the kernel drops every signal whose action is the default there, so the CPU limit's
    SIGXCPU would not end it; it ran on to the hard limit's SIGKILL, which ``unshare`` cannot pass on (it exits
    with status 1), and a limit hit at the top level of a cell read as a crash. As PID 1, fork: the child returns
    and does the work as an ordinary process; this process waits for it (reaping whatever else ends meanwhile)
    and exits with its status, ``128 + N`` for a death by signal N; it dies with its parent. Without a PID
    namespace: nothing to do."""
    if os.getpid() != 1:
        return
    import ctypes

    # PR_SET_PDEATHSIG (1): end with ``unshare``, which ends with the grading thread, so that a grader killed
    # mid-run (e.g. a cluster worker) leaves no sandbox behind; the kernel then ends the whole PID namespace
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    worker = os.fork()
    if worker == 0:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Python's own handler would let the submission signal us
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == worker:
            if os.WIFSIGNALED(status):
                os._exit(128 + os.WTERMSIG(status))
            os._exit(os.waitstatus_to_exitcode(status))


def describe(exc):
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(tb):
        if frame.filename.startswith("<cell "):
            where = f"{frame.filename[1:-1]}, line {frame.lineno}"
            break
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"SystemExit({exc.code!r}) was raised: the submission tried to exit"
    return {"type": type(exc).__name__, "message": message[:2000], "where": where}


def configure_tensorflow(seed):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def main():
    run_as_init_parent()
    started = time.perf_counter()
    os.chdir(HERE)   # the private folder (chroot starts at "/")
    with open(os.path.join(HERE, "job.json"), encoding="utf-8") as f:
        raw_job = json.load(f)
    os.remove(os.path.join(HERE, "job.json"))
    if raw_job.get("tensorflow"):
        configure_tensorflow(int(raw_job.get("seed", 0)))
    P = load_protocol()
    job = P.Job.from_json(raw_job)
    out = P.RunResult()
    import random

    import numpy as np

    random.seed(job.seed)
    np.random.seed(job.seed)

    ns = {"__name__": "__submission__", "__builtins__": __builtins__}
    progress(P, "cells")
    exec(compile(job.preamble, "<preamble>", "exec"), ns)
    for cell in job.cells:
        try:
            exec(compile(cell.source, f"<cell {cell.id}>", "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit etc. must not end the run
            if isinstance(exc, KeyboardInterrupt):
                raise
            out.cell_errors.append(P.CellError(cell=cell.id, **describe(exc)))

    run = None
    required = job.required_name
    if required and not callable(ns.get(required)):
        out.missing = True
    elif job.harness:
        hns = {"__name__": "__harness__", "call": call}   # harnesses call the learner's functions with call
        exec(compile(job.harness, "<harness>", "exec"), hns)
        run = hns["run"]
    if not out.missing:
        for i, payload in enumerate(job.cases, 1):
            progress(P, f"case {i}")
            try:
                if run is not None:
                    value = run(ns, P.decode(payload))
                else:
                    value = call(ns[job.function], job.function, P.decode(payload)["args"])
                out.cases.append(P.CaseResult(ok=P.encode(value)))
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                out.cases.append(P.CaseResult(error=P.CaseError(**describe(exc))))
    out.seconds = time.perf_counter() - started
    text = json.dumps(out.to_json())
    fd = os.open(RESULT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
