"""Run untrusted submission code in a fresh, locked-down subprocess.

Layers (each one is tested by tests/autograder/test_attacks.py):

* resource limits (``setrlimit`` in the child before exec): CPU seconds, address space (memory), file size,
  number of processes of the sandbox user, no core dumps; plus a wall-clock timeout enforced by the parent;
* a private working folder (``mkdtemp``, mode 0700) holding only the child script and the job;
* a scrubbed environment (``env -i`` style: a fixed PATH, HOME and TMPDIR in the working folder, no secrets);
* when running as root on Linux with ``unshare`` and ``setpriv``: new network namespace (no network at all),
  new PID namespace (every process the submission starts dies with it), new mount namespace in which the
  repository's folders and the course folder (sources, hidden checks, references, gradebook, other
  submissions) are covered by empty read-only tmpfs mounts, and the code runs as a dedicated unprivileged
  uid per parallel slot with no capabilities and ``no_new_privs``;
* without root the same is attempted with a user namespace (``unshare -r``) and a capability-free child;
  where neither works, only the limits and the private folder apply and ``isolation_note()`` says so.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CHILD_SCRIPT = Path(__file__).with_name("_child.py")
REPO_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_UID_BASE = 64000  # uid 64000 + slot; no passwd entry needed
MAX_RESULT_BYTES = 64 * 2**20
MAX_LOG_BYTES = 20_000


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 20            # RLIMIT_CPU (seconds of CPU time)
    wall_s: float = 30.0       # wall clock, enforced by the parent
    memory_mb: int = 1024      # RLIMIT_AS
    fsize_mb: int = 64         # RLIMIT_FSIZE
    nproc: int = 256           # RLIMIT_NPROC for the sandbox uid (threads count too)


@dataclass
class SandboxResult:
    status: str                 # "ok" | "timeout" | "crashed" | "no_result" | "bad_result"
    data: dict | None = None    # the child's result.json (untrusted, already parsed)
    returncode: int | None = None
    seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""
    detail: str = ""
    isolation: str = ""
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# what the platform allows

def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@lru_cache(maxsize=None)
def isolation_mode() -> str:
    """``root`` (namespaces + setuid), ``userns`` (user namespace) or ``limits`` (rlimits only)."""
    if os.environ.get("AUTOGRADER_ISOLATION") in {"root", "userns", "limits"}:
        return os.environ["AUTOGRADER_ISOLATION"]
    if not sys.platform.startswith("linux"):
        return "limits"
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    if unshare and setpriv and os.geteuid() == 0:
        if _works([unshare, "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
                   setpriv, f"--reuid={SANDBOX_UID_BASE}", f"--regid={SANDBOX_UID_BASE}", "--clear-groups",
                   "--no-new-privs", "true"]):
            return "root"
    if unshare and setpriv:
        if _works([unshare, "-r", "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
                   setpriv, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "true"]):
            return "userns"
    return "limits"


def isolation_note() -> str:
    mode = isolation_mode()
    return {
        "root": "full isolation: unprivileged uid, no network, private PID and mount namespaces, rlimits",
        "userns": "user-namespace isolation: no network, private PID and mount namespaces, no capabilities, "
                  "rlimits (same uid as the grader outside the namespace)",
        "limits": "reduced isolation: rlimits, scrubbed environment and a private folder only "
                  "(no unshare/setpriv here); hidden files are protected only by not being passed in",
    }[mode]


# ---------------------------------------------------------------------------------------------------------
# slots: one uid per concurrently running sandbox, so process limits and clean-up never interfere

_slot_lock = threading.Lock()
_free_slots: list[int] = list(range(64))


def _take_slot() -> int:
    with _slot_lock:
        return _free_slots.pop(0)


def _give_slot(slot: int) -> None:
    with _slot_lock:
        _free_slots.append(slot)
        _free_slots.sort()


def _hidden_paths(protect: list[Path]) -> list[str]:
    """Folders covered with an empty tmpfs inside the sandbox: every top-level folder of the repository
    except the virtual environment the child runs from, and whatever the caller protects (the course)."""
    python_prefix = Path(sys.prefix).resolve()
    paths: set[Path] = set()
    for entry in REPO_ROOT.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            resolved = entry.resolve()
            if resolved == python_prefix or python_prefix.is_relative_to(resolved):
                continue
            paths.add(resolved)
    for p in protect:
        p = Path(p).resolve()
        if p.is_dir() and not python_prefix.is_relative_to(p):
            paths.add(p)
    # a folder inside an already covered one is hidden with it (and its mount point would not exist)
    kept: list[Path] = []
    for p in sorted(paths, key=lambda q: len(q.parts)):
        if not any(p.is_relative_to(k) for k in kept):
            kept.append(p)
    return sorted(str(p) for p in kept)


def _environment(workdir: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": workdir,
        "KERAS_HOME": os.path.join(workdir, ".keras"),
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _preexec(limits: Limits):
    def apply() -> None:
        os.setsid()
        mem = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize_mb * 2**20, limits.fsize_mb * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if isolation_mode() != "userns":
            # under a user namespace the real uid is the grader's own, so NPROC would count its processes;
            # there the PID namespace and --kill-child contain spawned processes instead
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
    return apply


_MOUNT_SCRIPT = (
    'set -e; n="$1"; shift; i=0; '
    'while [ "$i" -lt "$n" ]; do mount -t tmpfs -o ro,size=4k,mode=0555 ag-hidden "$1"; shift; i=$((i+1)); done; '
    '"$@"; exit $?'
)


def _command(workdir: str, hidden: list[str], slot: int) -> list[str]:
    python = [sys.executable, "-I", "-B", os.path.join(workdir, "child.py")]
    mode = isolation_mode()
    if mode == "limits":
        return python
    uid = SANDBOX_UID_BASE + slot
    if mode == "root":
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                "--inh-caps=-all", "--bounding-set=-all"]
        ns = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc"]
    else:
        drop = ["setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all",
                "--securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked"]
        ns = ["unshare", "-r", "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc"]
    return [*ns, "/bin/sh", "-c", _MOUNT_SCRIPT, "sandbox", str(len(hidden)), *hidden, *drop,
            *python]


def run_job(job: dict, limits: Limits, protect: list[Path] = ()) -> SandboxResult:
    """Run the child on ``job`` in a fresh sandbox; never raises for anything the submission does."""
    slot = _take_slot()
    workdir = tempfile.mkdtemp(prefix="ag-sandbox-")
    try:
        shutil.copyfile(CHILD_SCRIPT, os.path.join(workdir, "child.py"))
        with open(os.path.join(workdir, "job.json"), "w", encoding="utf-8") as f:
            json.dump(job, f)
        if isolation_mode() == "root":
            uid = SANDBOX_UID_BASE + slot
            for name in ("", "child.py", "job.json"):
                os.chown(os.path.join(workdir, name), uid, uid)
        os.chmod(workdir, 0o700)
        stdout_f = tempfile.TemporaryFile()
        stderr_f = tempfile.TemporaryFile()
        started = time.perf_counter()
        proc = subprocess.Popen(
            _command(workdir, _hidden_paths(list(protect)), slot),
            cwd=workdir, env=_environment(workdir), stdin=subprocess.DEVNULL,
            stdout=stdout_f, stderr=stderr_f, preexec_fn=_preexec(limits), close_fds=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            proc.wait()
        seconds = time.perf_counter() - started
        _kill_group(proc)  # anything left in the process group (the PID namespace already took the rest)
        stdout_f.seek(0)
        stderr_f.seek(0)
        result = SandboxResult(status="ok", returncode=proc.returncode, seconds=seconds,
                               stdout=stdout_f.read(MAX_LOG_BYTES).decode("utf-8", "replace"),
                               stderr=stderr_f.read(MAX_LOG_BYTES).decode("utf-8", "replace"),
                               isolation=isolation_mode())
        stdout_f.close()
        stderr_f.close()
        rc = proc.returncode
        if timed_out:
            result.status, result.detail = "timeout", f"timeout: no result within {limits.wall_s:g} s (wall clock)"
            return result
        if rc is not None and rc < 0 or (rc is not None and rc > 128 and isolation_mode() != "limits"):
            signum = -rc if rc < 0 else rc - 128
            if signum == signal.SIGXCPU or signum == signal.SIGKILL and seconds >= limits.cpu_s:
                result.status, result.detail = "timeout", f"timeout: CPU limit of {limits.cpu_s} s exceeded"
            else:
                try:
                    signame = signal.Signals(signum).name
                except ValueError:
                    signame = "?"
                result.status = "crashed"
                result.detail = f"crashed: killed by signal {signum} ({signame})"
                if _looks_like_oom(result.stderr):
                    result.detail = f"out of memory: the {limits.memory_mb} MiB memory limit was exceeded ({signame})"
                    result.status = "oom"
            return result
        path = os.path.join(workdir, "result.json")
        if not os.path.isfile(path) or os.path.islink(path):
            result.status = "no_result"
            if _looks_like_oom(result.stderr):
                result.status = "oom"
                result.detail = f"out of memory: the {limits.memory_mb} MiB memory limit was exceeded"
            else:
                result.detail = (f"crashed: the process ended (exit status {rc}) before returning a result; "
                                 "did the code call os._exit, sys.exit or crash the interpreter?")
            return result
        if os.path.getsize(path) > MAX_RESULT_BYTES:
            result.status, result.detail = "bad_result", "crashed: the result was too large"
            return result
        try:
            with open(path, encoding="utf-8") as f:
                result.data = json.load(f)
            if not isinstance(result.data, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as exc:
            result.status, result.detail = "bad_result", f"crashed: unreadable result ({exc})"
            result.data = None
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        _give_slot(slot)


def _looks_like_oom(stderr: str) -> bool:
    return any(s in stderr for s in ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory"))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
