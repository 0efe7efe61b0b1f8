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
import resource
import select
import signal
import sys
import time
import traceback
import types

HOME = os.path.dirname(os.path.abspath(__file__))     # the private folder (absolute: a cell may os.chdir)
HERE = HOME     # where the job, its result and its progress file are: HOME, or a fork server run's own folder
RESULT_NAME = "result.json"
MAX_SIGNATURE_CHARS = 200


def load_protocol():
    """The protocol module from the source file next to this one (executed once per process tree)."""
    if "protocol" in sys.modules:
        return sys.modules["protocol"]
    module = types.ModuleType("protocol")
    module.__file__ = os.path.join(HOME, "protocol.py")
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


def exit_status(status):
    """A wait status as an exit status: ``128 + N`` for a death by signal N, else the process's exit code."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)


def run_as_init_parent():
    """Keep the submission's code off PID 1 of the sandbox's PID namespace, where it would run under a namespace
    init's signal rules: the kernel drops every signal whose action is the default there, so the CPU limit's
    SIGXCPU would not end it; it ran on to the hard limit's SIGKILL, which ``unshare`` cannot pass on (it exits
    with status 1), and a limit hit at the top level of a cell read as a crash. As PID 1, fork: the child returns
    and does the work as an ordinary process; this process waits for it (reaping whatever else ends meanwhile)
    and exits with its status, ``128 + N`` for a death by signal N; it dies with its parent. Without a PID
    namespace: nothing to do. Returns whether this process is that child."""
    if os.getpid() != 1:
        return False
    import ctypes

    # PR_SET_PDEATHSIG (1): end with ``unshare``, which ends with the grading thread, so that a grader killed
    # mid-run (e.g. a cluster worker) leaves no sandbox behind; the kernel then ends the whole PID namespace
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    worker = os.fork()
    if worker == 0:
        return True
    drop_capabilities()     # the fork server's (kept for the server itself, which forks the runs)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Python's own handler would let the submission signal us
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == worker:
            os._exit(exit_status(status))


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


def run_job(configure):
    """The job in the current folder: ``job.json`` in, ``result.json`` out; ends the process."""
    started = time.perf_counter()
    os.chdir(HERE)   # the private folder (chroot starts at "/")
    with open(os.path.join(HERE, "job.json"), encoding="utf-8") as f:
        raw_job = json.load(f)
    os.remove(os.path.join(HERE, "job.json"))
    if configure and raw_job.get("tensorflow"):
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
    fd = os.open(os.path.join(HERE, RESULT_NAME), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# ---------------------------------------------------------------------------------------------------------
# the fork server: one sandbox per submission, one forked child per run (see autograder.sandbox.ForkServer)

PR_SET_DUMPABLE = 4
KILL_ROUNDS = 1000      # rounds of "kill every other process" (5 ms apart) before the namespace counts as unclean
CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
CAP_SYS_ADMIN = 21
# a run's own empty tmpfs folders (the sandbox's root has these mount points; see sandbox._MOUNT_SCRIPT)
FRESH_TMPFS = (("/dev/shm", "size=64m,mode=1777"), ("/tmp", "size=256m,mode=1777"))


def _libc_call(name, *args):
    """A libc function that returns 0 on success; OSError with errno otherwise."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args[:2]}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, options=None):
    enc = (lambda v: None if v is None else v.encode())
    _libc_call("mount", enc(source), enc(target), enc(fstype), flags, enc(options))


def fresh_namespaces(folder):
    """Give this run a mount and a System V IPC namespace of its own: new empty tmpfs at /dev/shm and /tmp, and the
    server's folder replaced by an empty read-only one that holds only this run's ``folder`` (its working folder
    and home). Nothing an earlier run left there, in shared memory or in IPC objects is visible, and what this run
    leaves goes with its namespaces. Needs the server's CAP_SYS_ADMIN (drop_capabilities follows)."""
    _libc_call("unshare", CLONE_NEWNS | CLONE_NEWIPC)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)       # nothing of this run propagates back to the server
    for path, options in FRESH_TMPFS:
        _mount("ag-run", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
    fd = os.open(folder, os.O_PATH | os.O_DIRECTORY)   # the run's folder, reachable once HOME is covered
    try:
        _mount("ag-server", HOME, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        os.mkdir(folder)
        _mount(f"/proc/self/fd/{fd}", folder, None, MS_BIND)
        _mount(None, HOME, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        os.close(fd)


def capabilities():
    """{"CapInh": ..., "CapPrm": ..., "CapEff": ..., "CapBnd": ..., "CapAmb": ...} of this process, as ints."""
    with open("/proc/self/status", encoding="ascii") as f:
        return {k: int(v, 16) for k, v in (line.split(":") for line in f if line.startswith("Cap"))}


def drop_capabilities():
    """Give up every capability for good (bounding, ambient, inheritable, permitted, effective); raises OSError
    if any is left."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):           # EPERM without CAP_SETPCAP (then the bounding set is empty already)
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()   # _LINUX_CAPABILITY_VERSION_3
    _libc_call("capset", header, data)
    left = {k: v for k, v in capabilities().items() if v}
    if left:
        raise OSError(f"capabilities left after dropping them: {left}")


def set_dumpable(flag):
    """Non-dumpable: processes of the same uid can neither ptrace this one nor open its /proc files."""
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, int(flag), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def kill_others():
    """Kill every process of the PID namespace but its init and this one; True once none is left."""
    me = os.getpid()
    for _ in range(KILL_ROUNDS):
        try:
            os.kill(-1, signal.SIGKILL)     # in a PID namespace: everything but its init and the caller
        except ProcessLookupError:
            pass
        if not [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]:
            return True
        time.sleep(0.005)
    return False


def start_child(folder, request):
    """In the forked child: no way back to the parent, the run's own limits, output and folder; then the job."""
    global HERE
    try:
        fresh_namespaces(folder)
        drop_capabilities()
        set_dumpable(True)
        os.environ.update(HOME=folder, MPLCONFIGDIR=folder, KERAS_HOME=os.path.join(folder, ".keras"))
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
            out = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            os.dup2(out, fd)
            os.close(out)
        os.close(null)
        cpu, mem, fsize = request["cpu_s"], request["memory_mb"] * 2**20, request["fsize_mb"] * 2**20
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        HERE = folder
        run_job(configure=False)
    except BaseException:  # noqa: BLE001 - never return into the server's loop
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(1)


def run_forked(request):
    """One run in a forked child, ended at its wall-clock limit; then every other process is killed."""
    folder = os.path.join(HOME, request["dir"])
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        start_child(folder, request)
    pidfd = os.pidfd_open(pid)      # readable once the child has ended
    try:
        left = request["wall_s"]
        while left > 0 and not select.select([pidfd], [], [], left)[0]:
            left = request["wall_s"] - (time.perf_counter() - started)
    finally:
        os.close(pidfd)
    timed_out = left <= 0
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status, rusage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    return {"returncode": exit_status(status), "cpu_s": rusage.ru_utime + rusage.ru_stime, "seconds": seconds,
            "timed_out": timed_out, "clean": kill_others()}


def serve():
    """Answer the parent's requests, one JSON line each on stdin, one JSON line each on stdout: "tensorflow"
    (import and configure it once, before any run that needs it) and "run" (a job in the given folder, in a
    forked child under the given limits). Only in a PID namespace, where killing "every other process" is safe,
    and with CAP_SYS_ADMIN (given by the sandbox's command) to give each run namespaces of its own."""
    set_dumpable(False)
    if not capabilities()["CapEff"] >> CAP_SYS_ADMIN & 1:
        sys.exit("the fork server needs CAP_SYS_ADMIN to give each run fresh namespaces")
    import numpy  # noqa: F401 - imported once here instead of once per run

    load_protocol()
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            os._exit(0)
        request = json.loads(line)
        if request["op"] == "tensorflow":
            configure_tensorflow(int(request["seed"]))
            reply = {"ok": True}
        else:
            reply = run_forked(request)
        os.write(1, (json.dumps(reply) + "\n").encode())


def main():
    in_namespace = run_as_init_parent()
    if sys.argv[1:] == ["serve"]:
        if not in_namespace:
            sys.exit("the fork server runs only as the child of a PID namespace's init")
        serve()
    if in_namespace:
        drop_capabilities()     # none were given; fail closed should that change
    run_job(configure=True)


if __name__ == "__main__":
    main()
