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
import sys
from dataclasses import dataclass
from pathlib import Path

# TensorFlow reads this when it is first imported, so it is set as soon as course_utils is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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

    @property
    def data_dirs(self) -> list[Path]:
        return data_search_dirs()

    def summary(self) -> str:
        """A few lines describing the environment, for the top of every notebook."""
        import keras
        import numpy as np
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        lines = [
            f"mode        {self.mode} (set COURSE_MODE=quick or full)",
            f"seed        {self.seed}",
            f"python      {platform.python_version()} on {platform.system()} {platform.machine()}",
            f"tensorflow  {tf.__version__}   keras {keras.__version__}   numpy {np.__version__}",
            f"devices     {os.cpu_count()} CPU cores; GPUs: {', '.join(gpus) if gpus else 'none'}",
            f"data        {' -> '.join(str(d) for d in self.data_dirs)}",
        ]
        return "\n".join(lines)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's informational logs (its C++ logs are quieted at import)."""
    import logging

    import tensorflow as tf

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
