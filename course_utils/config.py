"""Course configuration: run mode, seeds, quiet logging and data paths.

Every notebook starts with one setup cell::

    from course_utils import setup
    cfg = setup()                      # fixes seeds, quiets TensorFlow, prints the environment
    EPOCHS = cfg.pick(full=8, quick=1)

``COURSE_MODE=full`` (the default) is what learners run. ``COURSE_MODE=quick`` is what CI runs:
the same code path with less data and fewer epochs.
"""
from __future__ import annotations

import os
import platform
import random
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# A learner who sets TF_CPP_MIN_LOG_LEVEL below 3 (for example to 0) sees all of TensorFlow's start-up messages.
USER_TF_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
# TensorFlow reads this when it is first imported, so it is set as soon as course_utils is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Lines TensorFlow's C++ core writes to fd 2 while it loads, before its log level applies. They depend on the CPU
# (oneDNN is on by default only with AVX-512/AMX) and say nothing a CPU-only learner can act on.
_CPU_STARTUP_LINES = (
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"oneDNN custom operations are on",
    r"cpu_feature_guard\.cc",
    r"To enable the following instructions: .* rebuild TensorFlow",
)
# Messages about CUDA: noise without an NVIDIA driver, the reason a GPU did not load with one (then kept).
_CUDA_STARTUP_LINES = (
    r"cudart_stub\.cc", r"Could not find cuda drivers", r"failed call to cuInit",
    r"Unable to register cu(DNN|FFT|BLAS) factory", r"computation_placer", r"TF-TRT Warning",
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_ROOT / "data" / "cache"
MODES = ("full", "quick")
DEFAULT_SEED = 42


def current_mode() -> str:
    """The run mode from ``COURSE_MODE`` (``full`` when unset)."""
    mode = os.environ.get("COURSE_MODE", "full").strip().lower() or "full"
    if mode not in MODES:
        raise ValueError(
            f"COURSE_MODE={mode!r} is not a mode of this course; use one of {', '.join(MODES)} "
            "(for example `COURSE_MODE=quick make course`)."
        )
    return mode


def keras_cache_dir() -> Path:
    """Where ``keras.utils.get_file`` keeps downloads (``$KERAS_HOME`` or ``~/.keras``)."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets"


def data_search_dirs() -> list[Path]:
    """Folders searched for a dataset, in the data contract's order."""
    dirs = []
    if os.environ.get("COURSE_DATA_DIR"):
        dirs.append(Path(os.environ["COURSE_DATA_DIR"]).expanduser())
    dirs += [CACHE_DIR, keras_cache_dir()]
    return dirs


@dataclass(frozen=True)
class Config:
    """What a notebook needs to know about this run."""

    mode: str
    seed: int

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    def pick(self, *, full, quick):
        """The value for the current mode: ``cfg.pick(full=8, quick=1)``."""
        return quick if self.quick else full

    def claim(self, text: str, holds, **values) -> bool:
        """A conclusion computed from measured ``values``, printed with them; false ones fail full-mode runs.

        ``cfg.claim("the GRU beats persistence", gru_mae < persistence_mae, gru=gru_mae, persistence=...)``;
        see :func:`course_utils.checks.claim`.
        """
        from course_utils.checks import claim

        return claim(text, holds, enforce=not self.quick, **values)

    def compare(self, name_a: str, pred_a, name_b: str, pred_b, y=None, *, kind: str = "accuracy",
                split: str = "test", **options):
        """Decide A against B on the same examples with a paired test, print the verdict line and return it.

        ``cfg.compare("GRU", gru_pred, "persistence", naive_pred, y_test, kind="mae", block=7)``; the verdict is
        "A is better than B", "B is better than A" or "no difference shown" (see
        :func:`course_utils.paired_tests.compare`). Pass it to ``cfg.claim`` when a conclusion ranks the two.
        """
        from course_utils.paired_tests import compare

        verdict = compare(name_a, pred_a, name_b, pred_b, y, kind=kind, split=split,
                          seed=options.pop("seed", self.seed), **options)
        print(verdict)
        return verdict

    @property
    def data_dirs(self) -> list[Path]:
        return data_search_dirs()

    def summary(self) -> str:
        """A few lines describing the environment, for the top of every notebook."""
        import keras
        import numpy as np
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        gpu_text = ", ".join(gpus) if gpus else "none"
        if not gpus and nvidia_driver_present():
            gpu_text += " (an NVIDIA driver is installed: rerun with TF_CPP_MIN_LOG_LEVEL=0 to see why)"
        lines = [
            f"mode        {self.mode} (set COURSE_MODE=quick or full)",
            f"seed        {self.seed}",
            f"python      {platform.python_version()} on {platform.system()} {platform.machine()}",
            f"tensorflow  {tf.__version__}   keras {keras.__version__}   numpy {np.__version__}",
            f"devices     {os.cpu_count()} CPU cores; GPUs: {gpu_text}",
            f"data        {' -> '.join(display_path(d) for d in self.data_dirs)}",
        ]
        return "\n".join(lines)


def display_path(path: Path) -> str:
    """A data folder as a reader should see it: relative to the project or home, else ``$COURSE_DATA_DIR``."""
    path = Path(path)
    for base, label in ((PROJECT_ROOT, ""), (Path.home(), "~/")):
        try:
            return label + str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    if os.environ.get("COURSE_DATA_DIR") and path == Path(os.environ["COURSE_DATA_DIR"]).expanduser():
        return f"$COURSE_DATA_DIR (a folder named {path.name!r})"
    return str(path)


def nvidia_driver_present() -> bool:
    """Whether this machine has an NVIDIA driver, i.e. whether a missing GPU is worth explaining."""
    return os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi") is not None


def startup_noise_pattern() -> re.Pattern | None:
    """The start-up lines to drop, or None when the learner asked to see them (TF_CPP_MIN_LOG_LEVEL below 3)."""
    if USER_TF_LOG_LEVEL is not None and USER_TF_LOG_LEVEL.strip() != "3":
        return None
    lines = _CPU_STARTUP_LINES + (() if nvidia_driver_present() else _CUDA_STARTUP_LINES)
    return re.compile("|".join(lines))


def import_tensorflow():
    """Import TensorFlow with fd 2 captured for the import only; pass on every line that is not known noise.

    TensorFlow's C++ core prints its start-up lines before its log level applies, straight to file descriptor 2,
    so neither ``TF_CPP_MIN_LOG_LEVEL`` nor Python's ``sys.stderr`` can stop them. Anything else printed during
    the import (a real warning or error) is written to ``sys.stderr`` unchanged; later messages are untouched.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    noise = startup_noise_pattern()
    if noise is None:
        import tensorflow as tf
        return tf
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if line.strip() and not noise.search(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
    return tf


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up noise and silence its informational logs."""
    import logging

    tf = import_tensorflow()

    tf.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # absl ships with TensorFlow; tolerate its absence
        pass


def set_seeds(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, numpy and TensorFlow (via ``keras.utils.set_random_seed``)."""
    import keras

    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    keras.utils.set_random_seed(seed)


def setup(seed: int = DEFAULT_SEED, *, verbose: bool = True) -> Config:
    """Fix seeds, quiet TensorFlow, read the mode, and (by default) print the environment summary."""
    cfg = Config(mode=current_mode(), seed=seed)
    quiet_tensorflow()
    set_seeds(seed)
    if verbose:
        print(cfg.summary(), file=sys.stdout)
    return cfg
