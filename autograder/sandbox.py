"""Run untrusted submission code in a fresh, locked-down subprocess.

Layers (each one is tested by tests/autograder/test_attacks.py):

* resource limits (``setrlimit`` in the child before exec): CPU seconds, address space (memory), file size,
  number of processes of the sandbox user, no core dumps; plus a wall-clock timeout enforced by the parent;
* a private working folder (``mkdtemp``, mode 0700) holding only the child script, the protocol it reads as
  source and the job;
* a scrubbed environment (``env -i`` style: a fixed PATH, HOME in the working folder, TMPDIR ``/tmp`` (the working
  folder without namespaces), no secrets);
* when running as root on Linux with ``unshare``, ``setpriv`` and ``chroot``: new network namespace (no network at
  all), new IPC namespace (System V objects are the sandbox's own), new PID namespace (every process the
  submission starts dies with it; the child forks first, so the
  submission's code is not the namespace's init, whose default signal actions the kernel drops: see
  ``sandbox_child.run_as_init_parent``), and a new mount namespace in which
  the code is chrooted into an **allow-list** root: an empty read-only tmpfs holding only read-only binds of the
  system folders (``/usr``, ``/etc``, ``/lib*``, ...), the Python installation and virtual environment the child
  runs from, a minimal ``/dev``, a fresh ``/proc``, empty tmpfs at ``/dev/shm`` and ``/tmp`` and its own working
  folder (at ``/sandbox``). The repository, the course (sources, hidden checks, references, gradebook, other
  submissions), ``/home``, ``/root``, the host's ``/tmp`` and every other copy of them simply do not exist
  there. The code runs as a dedicated unprivileged uid per parallel slot with no capabilities and
  ``no_new_privs`` (the fork server keeps two, see ForkServer);
* without root the same is attempted with a user namespace (``unshare -r``) and a capability-free child;
  where neither works, only the limits and the private folder apply and ``isolation_note()`` says so.
"""
from __future__ import annotations

import base64
import ctypes
import fcntl
import json
import math
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from autograder.protocol import PROGRESS_FILE, Job, ProtocolError, RunResult

CHILD_SCRIPT = Path(__file__).with_name("sandbox_child.py")
PROTOCOL_SOURCE = Path(__file__).with_name("protocol.py")
OWN_FILES = ("child.py", "protocol.py", "job.json", "result.json", PROGRESS_FILE,   # not for carried files
             "stdout.txt", "stderr.txt")
REPO_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_UID_BASE = 64000  # uid 64000 + slot; no passwd entry needed
MAX_RESULT_BYTES = 4 * 2**20      # a child's result.json (parsed, JSON takes up to about 25 times its size)
MAX_LOG_BYTES = 20_000
MAX_CARRY_BYTES = 32 * 2**20     # a file carried from one sandbox run to the next (``collect`` / ``files``)


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 20            # RLIMIT_CPU (seconds of CPU time)
    wall_s: float = 30.0       # wall clock, enforced by the parent
    memory_mb: int = 1024      # RLIMIT_AS
    fsize_mb: int = 64         # RLIMIT_FSIZE
    nproc: int = 256           # RLIMIT_NPROC for the sandbox uid (threads count too)


@dataclass
class SandboxResult:
    status: str                 # "ok" | "timeout" | "crashed" | "oom" | "no_result" | "bad_result"
    run: RunResult | None = None    # what the child reported (strictly parsed, still untrusted)
    returncode: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0    # CPU time of the sandbox's processes that were waited for
    progress: str = ""          # the child's progress file: where a killed run had got to (protocol.progress_note)
    stdout: str = ""
    stderr: str = ""
    detail: str = ""            # the reason when status is not "ok"
    isolation: str = ""
    limits: Limits | None = None                               # what the run was allowed
    files: dict[str, bytes] = field(default_factory=dict)      # collected files (see run_job)
    files_missing: dict[str, str] = field(default_factory=dict)  # collected name -> why it was not collected
    setup_fallback: tuple[str, ...] = ()  # names that made the grader rerun with the full setup (autograder.stages)

    def to_json(self) -> dict:
        """Plain JSON (how a cluster worker sends it back, see autograder.cluster); ``files`` as base64."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "run" and value is not None:
                value = {"result": value.to_json(),    # the child's wire format, plus what the grader added
                         "after_reload": [i for i, c in enumerate(value.cases) if c.error and c.error.after_reload]}
            elif f.name == "limits" and value is not None:
                value = asdict(value)
            elif f.name == "files":
                value = {name: base64.b64encode(data).decode("ascii") for name, data in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, obj) -> SandboxResult:
        """Strictly parse :meth:`to_json`'s output; anything malformed raises ProtocolError saying what."""
        names = [f.name for f in fields(cls)]
        if not isinstance(obj, dict) or set(obj) != set(names):
            raise ProtocolError("malformed sandbox result (not an object with exactly the fields of SandboxResult)")
        values = {}
        for f in fields(cls):
            value = obj[f.name]
            if f.name == "run":
                value = None if value is None else _run_from_json(value)
            elif f.name == "limits":
                value = None if value is None else _limits_from_json(value)
            elif f.name == "files":
                value = _files_from_json(value)
            elif not _plain_fits(f.type, value):
                raise ProtocolError(f"malformed sandbox result (field {f.name} is not {f.type})")
            values[f.name] = tuple(value) if isinstance(value, list) else value
        if values["status"] not in STATUSES:
            raise ProtocolError(f"malformed sandbox result (unknown status {str(values['status'])[:40]!r})")
        return cls(**values)


STATUSES = ("ok", "timeout", "crashed", "oom", "no_result", "bad_result")


def _plain_fits(annotation: str, value) -> bool:
    """Whether a plain JSON value fits a field's annotation: str, int, float, bool, ``X | None``,
    ``tuple[X, ...]`` (a JSON list), ``dict[str, X]``."""
    annotation = annotation.strip()
    if " | " in annotation:
        return any(_plain_fits(a, value) for a in annotation.split(" | "))
    if annotation == "None":
        return value is None
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        return isinstance(value, list) and all(_plain_fits(annotation[6:-6], v) for v in value)
    if annotation.startswith("dict[str, ") and annotation.endswith("]"):
        return isinstance(value, dict) and all(type(k) is str and _plain_fits(annotation[10:-1], v)
                                               for k, v in value.items())
    plain = {"str": (str,), "bool": (bool,), "int": (int,), "float": (int, float)}.get(annotation)
    if plain is None:
        return False
    if type(value) not in plain:
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _run_from_json(obj) -> RunResult:
    if not isinstance(obj, dict) or set(obj) != {"result", "after_reload"} or not isinstance(obj["after_reload"], list):
        raise ProtocolError("malformed sandbox result (run)")
    run = RunResult.from_json(obj["result"])
    for i in obj["after_reload"]:
        if type(i) is not int or not 0 <= i < len(run.cases) or run.cases[i].error is None:
            raise ProtocolError("malformed sandbox result (run.after_reload)")
        run.cases[i].error.after_reload = True
    return run


def _limits_from_json(obj) -> Limits:
    names = {f.name: f.type for f in fields(Limits)}
    if not isinstance(obj, dict) or set(obj) != set(names) or not all(_plain_fits(names[k], v) for k, v in obj.items()):
        raise ProtocolError("malformed sandbox result (limits)")
    return Limits(**obj)


def _files_from_json(obj) -> dict[str, bytes]:
    if not isinstance(obj, dict) or not all(type(k) is str and type(v) is str for k, v in obj.items()):
        raise ProtocolError("malformed sandbox result (files)")
    try:
        return {name: base64.b64decode(data, validate=True) for name, data in obj.items()}
    except ValueError:
        raise ProtocolError("malformed sandbox result (files: not base64)") from None


# ---------------------------------------------------------------------------------------------------------
# what the platform allows

def _probe(mode: str) -> bool:
    """Whether a sandbox of this mode can be built here: the real namespace, chroot and privilege-drop command
    line, running ``true`` as the sandboxed program."""
    workdir, new_root = tempfile.mkdtemp(prefix="ag-probe-"), tempfile.mkdtemp(prefix="ag-root-")
    try:
        if mode == "root":
            os.chown(workdir, SANDBOX_UID_BASE, SANDBOX_UID_BASE)
        cmd = _command(workdir, new_root, [], 0, mode=mode)
        cmd = cmd[:cmd.index(interpreter())] + ["/bin/sh", "-c", 'cd "$1" && test ! -e "$2"', "probe",
                                                   _inside(workdir, mode), str(REPO_ROOT / "autograder")]
        return subprocess.run(cmd, env=_environment(workdir, mode), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        _remove_tree(workdir)
        shutil.rmtree(new_root, ignore_errors=True)


@lru_cache(maxsize=None)
def isolation_mode() -> str:
    """``root`` (namespaces + chroot + setuid), ``userns`` (user namespace) or ``limits`` (rlimits only)."""
    if os.environ.get("AUTOGRADER_ISOLATION") in {"root", "userns", "limits"}:
        return os.environ["AUTOGRADER_ISOLATION"]
    if not sys.platform.startswith("linux") or not all(shutil.which(t) for t in ("unshare", "setpriv", "chroot")):
        return "limits"
    if os.geteuid() == 0 and _probe("root"):
        return "root"
    if _probe("userns"):
        return "userns"
    return "limits"


def isolation_note() -> str:
    mode = isolation_mode()
    return {
        "root": "full isolation: unprivileged uid, no network, private PID and mount namespaces, "
                "allow-list root (system, Python and its own folder only), rlimits",
        "userns": "user-namespace isolation: no network, private PID and mount namespaces, allow-list root "
                  "(system, Python and its own folder only), no capabilities, rlimits "
                  "(same uid as the grader outside the namespace)",
        "limits": "reduced isolation: rlimits, scrubbed environment and a private folder only "
                  "(no unshare/setpriv here); hidden files are protected only by not being passed in",
    }[mode]


# ---------------------------------------------------------------------------------------------------------
# slots: one uid per concurrently running sandbox on this machine, so process limits and clean-up never interfere;
# claimed with a lock file each, so that several grading processes (e.g. Dask workers) share them correctly

N_SLOTS = 64
_slot_lock = threading.Lock()
_held_slots: dict[int, int] = {}        # slot -> file descriptor holding its lock


def _slot_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), f"autograder-slots-{os.geteuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _take_slot() -> int:
    """The lowest slot no thread of this process and no other process holds (waits while all are taken)."""
    while True:
        with _slot_lock:
            for slot in range(N_SLOTS):
                if slot in _held_slots:
                    continue
                fd = os.open(os.path.join(_slot_dir(), str(slot)), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                _held_slots[slot] = fd
                return slot
        time.sleep(0.05)


def _give_slot(slot: int) -> None:
    with _slot_lock:
        os.close(_held_slots.pop(slot))      # closing the descriptor releases the lock


def interpreter() -> str:
    """The running interpreter as an absolute path without ``..`` or linked folders, so that it exists inside the
    sandbox's root (``../../.venv/bin/python`` gives ``/cwd/../../.venv/bin/python``, whose folders the root lacks).
    The file itself stays as it is: a virtual environment's ``bin/python`` link finds its ``pyvenv.cfg`` by it."""
    path = Path(os.path.abspath(sys.executable))
    return str(path.parent.resolve() / path.name)


SANDBOX_FOLDER = "/sandbox"     # the working folder inside the sandbox's root (_MOUNT_SCRIPT binds it there)
SERVER_CAPS = "sys_admin,setpcap"     # what the fork server keeps (see _command)
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


def _visible_paths() -> list[str]:
    """What the sandbox's root contains besides its working folder: the system folders (read-only) and the Python
    installation the child runs from (virtual environment and base interpreter, read-only)."""
    wanted = [Path(p) for p in SYSTEM_PATHS if os.path.lexists(p)]
    for prefix in (sys.prefix, sys.base_prefix):
        for p in (Path(prefix), Path(prefix).resolve()):
            if p.is_dir() and not any(p.is_relative_to(w) for w in wanted if not w.is_symlink()):
                wanted.append(p)
    return [str(p) for p in dict.fromkeys(wanted)]


def _hidden_paths(protect: list[Path], visible: list[str]) -> list[str]:
    """Folders that would be visible through an allowed path but must not be: the repository's folders (except
    the virtual environment) and whatever the caller protects, when they lie inside a visible path (for example
    a course kept under ``/usr/local`` or inside the virtual environment). They are covered by an empty tmpfs."""
    python_prefix = Path(sys.prefix).resolve()
    candidates = [e.resolve() for e in REPO_ROOT.iterdir() if e.is_dir() and not e.is_symlink()]
    candidates += [Path(p).resolve() for p in protect if Path(p).is_dir()]
    roots = [Path(v).resolve() for v in visible]
    paths = {p for p in candidates
             if p != python_prefix and not python_prefix.is_relative_to(p)
             and any(p.is_relative_to(r) for r in roots)}
    kept: list[Path] = []    # a folder inside an already covered one is hidden with it
    for p in sorted(paths, key=lambda q: len(q.parts)):
        if not any(p.is_relative_to(k) for k in kept):
            kept.append(p)
    return sorted(str(p) for p in kept)


def _inside(workdir: str, mode: str | None = None) -> str:
    """The working folder's path as the sandboxed code sees it: SANDBOX_FOLDER when it has a root of its own."""
    return workdir if (mode or isolation_mode()) == "limits" else SANDBOX_FOLDER


def _environment(workdir: str, mode: str | None = None) -> dict[str, str]:
    mode = mode or isolation_mode()
    workdir = _inside(workdir, mode)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir if mode == "limits" else "/tmp",    # the sandbox's own tmpfs
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


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1


def _preexec(limits: Limits):
    def apply() -> None:
        os.setsid()
        if _LIBC is not None:   # the sandbox dies with the grading thread that started it (e.g. a killed worker)
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
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


# Runs as (namespace) root inside the new mount namespace, then chroots and drops privileges.
# Arguments: chroot_program new_root workdir n_visible visible... n_hidden hidden... command...
_MOUNT_SCRIPT = r"""
set -eu
chroot="$1"; root="$2"; work="$3"; n="$4"; shift 4
mount -t tmpfs -o size=1m,mode=0755 ag-root "$root"
i=0
while [ "$i" -lt "$n" ]; do
    p="$1"; shift; i=$((i + 1))
    if [ -L "$p" ]; then                     # e.g. /bin -> usr/bin on merged-/usr systems
        mkdir -p "$root$(dirname "$p")"; cp -P "$p" "$root$p"
    elif [ -d "$p" ]; then
        mkdir -p "$root$p"; mount --rbind "$p" "$root$p"; mount -o remount,bind,ro "$root$p"
    fi
done
n="$1"; shift; i=0
while [ "$i" -lt "$n" ]; do
    mount -t tmpfs -o ro,size=4k,mode=0555 ag-hidden "$root$1"; shift; i=$((i + 1))
done
mkdir -p "$root/dev/shm" "$root/tmp" "$root/proc" "$root/sandbox"
for d in null zero full random urandom; do
    touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"
done
ln -s /proc/self/fd "$root/dev/fd"
mount -t tmpfs -o size=64m,mode=1777,nosuid,nodev ag-shm "$root/dev/shm"
mount -t tmpfs -o size=256m,mode=1777,nosuid,nodev ag-tmp "$root/tmp"
mount -t proc proc "$root/proc"
mount --bind "$work" "$root/sandbox"
mount -o remount,ro "$root"
exec "$chroot" "$root" "$@"
"""


def _command(workdir: str, new_root: str, protect: list[Path], slot: int, mode: str | None = None,
             args: tuple[str, ...] = ()) -> list[str]:
    mode = mode or isolation_mode()
    python = [interpreter(), "-I", "-B", os.path.join(_inside(workdir, mode), "child.py"), *args]
    if mode == "limits":
        return python
    uid = SANDBOX_UID_BASE + slot
    # the fork server keeps the capabilities that give each run namespaces of its own; each run drops them all
    # (sandbox_child.fresh_namespaces, drop_capabilities) before any submission code runs
    caps = f"-all,+{SERVER_CAPS.replace(',', ',+')}" if args == ("serve",) else "-all"
    keep = ["--inh-caps=" + caps, "--bounding-set=" + caps] + (["--ambient-caps=" + caps] if caps != "-all" else [])
    ns = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc", "--ipc"]
    if mode == "root":
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", *keep]
    else:
        drop = ["setpriv", "--no-new-privs", *keep,
                "--securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked"]
        ns.insert(1, "-r")
    visible = _visible_paths()
    hidden = _hidden_paths(list(protect), visible)
    return [*ns, "/bin/sh", "-c", _MOUNT_SCRIPT, "sandbox", shutil.which("chroot") or "chroot",
            new_root, workdir, str(len(visible)), *visible,
            str(len(hidden)), *hidden, *drop, *python]


def _remove_tree(path: str) -> None:
    """Remove a folder a sandbox wrote into, also where the submission took away write permission from one of its
    folders (which, under a user namespace, stops the grader's own uid)."""
    def unlock(func, failed, _exc) -> None:
        try:
            for folder in (os.path.dirname(failed), failed):
                if os.path.isdir(folder) and not os.path.islink(folder):
                    os.chmod(folder, 0o700)
            func(failed)
        except OSError:
            pass
    shutil.rmtree(path, onerror=unlock)


def _check_file_name(name: str) -> str:
    """A carried file lives directly in the working folder: a plain name, no path, not hidden, not ours."""
    if (not isinstance(name, str) or not name or "/" in name or "\\" in name or "\0" in name
            or name.startswith(".") or name in OWN_FILES):
        raise ValueError(f"invalid sandbox file name {name!r}")
    return name


def _read_collected(workdir: str, name: str) -> tuple[bytes | None, str]:
    """The bytes of ``workdir/name`` if it is a regular file (not a symlink, FIFO, device, folder) of at most
    MAX_CARRY_BYTES; else None and why. Opened without following links and without blocking."""
    path = os.path.join(workdir, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, "was not written"
    except OSError:
        return None, "is not a regular file"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "is not a regular file"
        if st.st_size > MAX_CARRY_BYTES:
            return None, f"is larger than {MAX_CARRY_BYTES // 2**20} MiB"
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_CARRY_BYTES:
                return None, f"is larger than {MAX_CARRY_BYTES // 2**20} MiB"
            chunks.append(chunk)
        return b"".join(chunks), ""
    finally:
        os.close(fd)


def run_job(job: Job, limits: Limits, protect: list[Path] = (), collect: tuple[str, ...] = (),
            files: dict[str, bytes] | None = None) -> SandboxResult:
    """Run the child on ``job`` in a fresh sandbox; never raises for anything the submission does.

    ``files``: name -> bytes written into the fresh working folder before the run (owned by the sandbox user);
    ``collect``: names read back from the working folder after the run into ``result.files`` (regular files of at
    most MAX_CARRY_BYTES only; why a name was not collected is in ``result.files_missing``). Together they carry a
    file from one sandboxed run to a later, fresh one (e.g. a saved model to reload). Names are plain file names
    (no ``/``, not starting with ``.``); anything else raises ValueError. ``protect``: folders that must not be
    visible inside the sandbox even where they lie inside a visible one (the course).
    """
    files = dict(files or {})
    for name in [*files, *collect]:
        _check_file_name(name)
    slot = _take_slot()
    workdir = tempfile.mkdtemp(prefix="ag-sandbox-")
    new_root = tempfile.mkdtemp(prefix="ag-root-")   # mount point of the sandbox's root (inside its namespace)
    try:
        _stage(workdir, job, files, slot)
        result = _spawn(_command(workdir, new_root, list(protect), slot), workdir, limits)
        return _finish(result, workdir, limits, collect)
    finally:
        _remove_tree(workdir)
        shutil.rmtree(new_root, ignore_errors=True)
        _give_slot(slot)


def _finish(result: SandboxResult, folder: str, limits: Limits, collect: tuple[str, ...]) -> SandboxResult:
    """A run's result once every process of it has ended: progress, collected files, how it ended, its result."""
    result.progress = _read_head(folder, PROGRESS_FILE, 64, "ascii")
    for name in collect:
        data, why = _read_collected(folder, name)
        if data is None:
            result.files_missing[name] = why
        else:
            result.files[name] = data
    result.status, result.detail = _classify_exit(result, limits)
    if result.status == "ok":
        result.status, result.detail, result.run = _read_result(folder, limits, result)
    return result


def _stage(workdir: str, job: Job | None, files: dict[str, bytes], slot: int, program: bool = True) -> None:
    """The working folder before the run: the child and the protocol it reads as source (``program``), the job,
    carried files; owned by the slot's uid in root mode."""
    names = ["", *files]
    if program:
        shutil.copyfile(CHILD_SCRIPT, os.path.join(workdir, "child.py"))
        shutil.copyfile(PROTOCOL_SOURCE, os.path.join(workdir, "protocol.py"))
        names += ["child.py", "protocol.py"]
    if job is not None:
        with open(os.path.join(workdir, "job.json"), "w", encoding="utf-8") as f:
            json.dump(job.to_json(), f)
        names.append("job.json")
    for name, data in files.items():
        with open(os.path.join(workdir, name), "wb") as f:
            f.write(bytes(data))
    if isolation_mode() == "root":
        uid = SANDBOX_UID_BASE + slot
        for name in names:
            os.chown(os.path.join(workdir, name), uid, uid)
    os.chmod(workdir, 0o700)


def _spawn(cmd: list[str], workdir: str, limits: Limits) -> SandboxResult:
    """Start the child, wait at most the wall-clock limit, kill what is left; status "timeout" if it ran out."""
    with tempfile.TemporaryFile() as stdout_f, tempfile.TemporaryFile() as stderr_f:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=workdir, env=_environment(workdir), stdin=subprocess.DEVNULL,
                                stdout=stdout_f, stderr=stderr_f, preexec_fn=_preexec(limits), close_fds=True)
        status, rusage = "ok", None
        delay = 0.002
        while rusage is None:   # wait4, not Popen.wait: its CPU time tells a CPU-limit kill from a crash
            pid, wstatus, rusage = os.wait4(proc.pid, os.WNOHANG)
            if not pid:
                rusage = None
                if time.perf_counter() - started >= limits.wall_s:
                    status = "timeout"
                    _kill_group(proc)
                    _, wstatus, rusage = os.wait4(proc.pid, 0)
                else:
                    time.sleep(delay)
                    delay = min(2 * delay, 0.05)
        proc.returncode = os.waitstatus_to_exitcode(wstatus)
        seconds = time.perf_counter() - started
        _kill_group(proc)  # anything left in the process group (the PID namespace already took the rest)
        stdout_f.seek(0)
        stderr_f.seek(0)
        return SandboxResult(status=status, returncode=proc.returncode, seconds=seconds,
                             cpu_seconds=rusage.ru_utime + rusage.ru_stime,
                             stdout=stdout_f.read(MAX_LOG_BYTES).decode("utf-8", "replace"),
                             stderr=stderr_f.read(MAX_LOG_BYTES).decode("utf-8", "replace"),
                             isolation=isolation_mode(), limits=limits)


def _classify_exit(result: SandboxResult, limits: Limits) -> tuple[str, str]:
    """(status, reason) from how the process ended: timeout, CPU limit, a signal (crash or out of memory); "ok"
    when it exited by itself (its result is read next)."""
    if result.status == "timeout":
        return "timeout", f"timeout: no result within {limits.wall_s:g} s (wall clock)"
    rc = result.returncode
    if rc != 0 and result.cpu_seconds >= limits.cpu_s - 0.1:
        # the CPU limit's end, whatever the exit status says: the child keeps the submission off the PID
        # namespace's init (sandbox_child.run_as_init_parent), so SIGXCPU normally ends it at the soft limit (exit
        # status 128 + 24 through unshare); should it still run on (a handler of its own, a long call in C), the
        # hard limit's SIGKILL ends it and unshare, unable to re-raise SIGKILL, exits 1
        return "timeout", f"timeout: CPU limit of {limits.cpu_s} s exceeded"
    if rc is None or not (rc < 0 or (rc > 128 and isolation_mode() != "limits")):
        return "ok", ""
    signum = -rc if rc < 0 else rc - 128
    if signum == signal.SIGXCPU or signum == signal.SIGKILL and result.seconds >= limits.cpu_s:
        return "timeout", f"timeout: CPU limit of {limits.cpu_s} s exceeded"
    try:
        signame = signal.Signals(signum).name
    except ValueError:
        signame = "?"
    if _looks_like_oom(result.stderr):
        return "oom", f"out of memory: the {limits.memory_mb} MiB memory limit was exceeded ({signame})"
    return "crashed", f"crashed: killed by signal {signum} ({signame})"


def _read_result(workdir: str, limits: Limits, result: SandboxResult) -> tuple[str, str, RunResult | None]:
    """(status, reason, parsed result) from the child's result.json, strictly parsed."""
    path = os.path.join(workdir, "result.json")
    if not os.path.isfile(path) or os.path.islink(path):
        if _looks_like_oom(result.stderr):
            return "oom", f"out of memory: the {limits.memory_mb} MiB memory limit was exceeded", None
        return "no_result", (f"crashed: the process ended (exit status {result.returncode}) before returning a "
                             "result; did the code call os._exit, sys.exit or crash the interpreter?"), None
    if os.path.getsize(path) > MAX_RESULT_BYTES:
        # the size itself is not reported: it varies by a byte or two between runs, and a regrade must be identical
        return "bad_result", f"crashed: result too large: more than the limit of {MAX_RESULT_BYTES} bytes", None
    try:
        with open(path, encoding="utf-8") as f:
            return "ok", "", RunResult.from_text(f.read())
    except UnicodeDecodeError as exc:
        return "bad_result", f"crashed: unreadable result ({exc})", None
    except ProtocolError as exc:
        return "bad_result", f"crashed: {exc}", None


def _read_head(folder: str, name: str, limit: int, encoding: str = "utf-8") -> str:
    """The first ``limit`` bytes of ``folder/name`` if it is a regular file (anything else: "")."""
    try:
        fd = os.open(os.path.join(folder, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        return os.read(fd, limit).decode(encoding, "replace") if stat.S_ISREG(os.fstat(fd).st_mode) else ""
    finally:
        os.close(fd)


MEMORY_ERROR_TYPES = ("MemoryError", "ResourceExhaustedError")     # the latter: TensorFlow's
MEMORY_ERROR_MESSAGES = ("failed to map segment", "cannot allocate memory", "std::bad_alloc", "oom when allocating")


def is_memory_error(etype: str, message: str) -> bool:
    """Whether an exception the submission's code raised means that the memory limit was reached: a MemoryError,
    TensorFlow's ResourceExhaustedError, or an error saying that an allocation, or mapping a shared library (an
    ImportError of ``import tensorflow``), failed."""
    return etype in MEMORY_ERROR_TYPES or any(m in message.lower() for m in MEMORY_ERROR_MESSAGES)


def _looks_like_oom(stderr: str) -> bool:
    return any(s in stderr for s in ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory"))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------------------------------------------------
# the fork server: one sandbox for all the runs of one submission

SERVER_GRACE_S = 10.0       # beyond a run's wall-clock limit: how long the parent waits for the server's report
MAX_REPLY_BYTES = 4096


class SandboxLost(Exception):
    """The fork server ended, stopped answering or answered nonsense before it reported a run; the runs it did
    not report are to be redone in sandboxes of their own."""


def fork_server_supported() -> bool:
    """The fork server needs a PID namespace: between runs it kills every process there but init and itself."""
    return isolation_mode() in ("root", "userns")


class ForkServer:
    """One sandbox (run_job's command: same uid, namespaces, allow-list root) holding a server that runs no
    submission code: it imports numpy (and TensorFlow, configured as ``configure_tensorflow`` does, before the
    first run that needs it) once and forks one child per run. Each child has a fresh folder of its own (its job,
    carried files, result, progress, stdout and stderr), its own rlimits (``run``'s ``limits``, at most the
    sandbox-wide ``envelope``), its wall-clock limit (the server kills it then); after each run the server kills
    every other process in the namespace. The server is non-dumpable (no ptrace, no /proc access by the children)
    and talks to the parent only through pipes the children do not hold; it keeps SERVER_CAPS, with which each
    child makes its own mount and IPC namespaces (fresh /dev/shm, /tmp and home) before dropping every
    capability. ``run`` keeps run_job's contract and raises SandboxLost once the server is gone."""

    def __init__(self, envelope: Limits, protect: list[Path] = (), import_wall_s: float = 150.0):
        self.envelope, self.import_wall_s = envelope, import_wall_s
        self.proc: subprocess.Popen | None = None
        self.tensorflow = False
        self.lost = ""
        self._reply = b""
        self.slot = _take_slot()
        self.workdir = tempfile.mkdtemp(prefix="ag-sandbox-")
        self.new_root = tempfile.mkdtemp(prefix="ag-root-")
        try:
            _stage(self.workdir, None, {}, self.slot)
            cmd = _command(self.workdir, self.new_root, list(protect), self.slot, args=("serve",))
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=_environment(self.workdir),
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         preexec_fn=_preexec(envelope), close_fds=True)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self, force: bool = False) -> None:
        """End the sandbox and remove its folders; idempotent. The server ends at the end of its input; with
        ``force``, or when it does not, the namespace's init is killed, which takes every process of the namespace
        with it before ``unshare`` (which waits for it) exits. Either way nothing of the sandbox is left."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            if force or not _ended(self.proc, SERVER_GRACE_S):
                _kill_namespace_init(self.proc)
                if not _ended(self.proc, SERVER_GRACE_S):
                    _kill_group(self.proc)
                    self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self.slot is not None:
            _remove_tree(self.workdir)
            shutil.rmtree(self.new_root, ignore_errors=True)
            _give_slot(self.slot)
            self.slot = None

    def run(self, job: Job, limits: Limits, collect: tuple[str, ...] = (),
            files: dict[str, bytes] | None = None) -> SandboxResult:
        """run_job's contract, in a child forked by the server (``protect`` was given to the server)."""
        files = dict(files or {})
        for name in [*files, *collect]:
            _check_file_name(name)
        if any(getattr(limits, k) > getattr(self.envelope, k) for k in ("cpu_s", "memory_mb", "fsize_mb")):
            raise ValueError(f"limits {limits} exceed the fork server's {self.envelope}")
        if job.tensorflow and not self.tensorflow:
            if self._request({"op": "tensorflow", "seed": job.seed}, self.import_wall_s) != {"ok": True}:
                self._lose("TensorFlow could not be imported in the server")
            self.tensorflow = True
        folder = tempfile.mkdtemp(prefix="run-", dir=self.workdir)   # a fresh name: nothing was waiting there
        try:
            _stage(folder, job, files, self.slot, program=False)
            reply = self._request({"op": "run", "dir": os.path.basename(folder), "cpu_s": limits.cpu_s,
                                   "memory_mb": limits.memory_mb, "fsize_mb": limits.fsize_mb,
                                   "wall_s": limits.wall_s}, limits.wall_s + SERVER_GRACE_S)
            if (set(reply) != {"returncode", "cpu_s", "seconds", "timed_out", "clean"}
                    or type(reply["returncode"]) is not int or type(reply["timed_out"]) is not bool
                    or not all(type(reply[k]) in (int, float) for k in ("cpu_s", "seconds"))):
                self._lose("malformed report from the server")
            if not reply["clean"]:
                self._lose("processes of a run could not be killed")
            result = SandboxResult(status="timeout" if reply["timed_out"] else "ok", returncode=reply["returncode"],
                                   seconds=float(reply["seconds"]), cpu_seconds=float(reply["cpu_s"]),
                                   stdout=_read_head(folder, "stdout.txt", MAX_LOG_BYTES),
                                   stderr=_read_head(folder, "stderr.txt", MAX_LOG_BYTES),
                                   isolation=isolation_mode(), limits=limits)
            return _finish(result, folder, limits, tuple(collect))
        finally:
            _remove_tree(folder)

    def _lose(self, why: str) -> None:
        self.lost = why
        self.close(force=True)
        raise SandboxLost(why)

    def _request(self, message: dict, wait_s: float) -> dict:
        """Send one request line, wait at most ``wait_s`` for one reply line."""
        if self.lost:
            raise SandboxLost(self.lost)
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            self._lose("the server ended")
        deadline = time.monotonic() + wait_s
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._reply:
            left = deadline - time.monotonic()
            if left <= 0:
                self._lose(f"no report from the server within {wait_s:g} s")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, MAX_REPLY_BYTES)
                if not chunk:
                    self._lose("the server ended")
                self._reply += chunk
                if len(self._reply) > MAX_REPLY_BYTES:
                    self._lose("the server's report is too long")
        line, self._reply = self._reply.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self._lose("malformed report from the server")
        return reply


def _ended(proc: subprocess.Popen, wait_s: float) -> bool:
    try:
        proc.wait(timeout=wait_s)
        return True
    except subprocess.TimeoutExpired:
        return False


def _kill_namespace_init(proc: subprocess.Popen) -> None:
    """SIGKILL to the child of ``unshare --fork``: the sandbox's PID namespace init."""
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        children = []
    for pid in children:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
