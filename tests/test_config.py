"""course_utils.config: modes, seeds, paths and the environment summary."""
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils import config


def test_mode_defaults_to_full(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    assert config.current_mode() == "full"


@pytest.mark.parametrize("raw, mode", [("quick", "quick"), (" QUICK ", "quick"), ("full", "full"), ("", "full")])
def test_mode_is_read_from_the_environment(monkeypatch, raw, mode):
    monkeypatch.setenv("COURSE_MODE", raw)
    assert config.current_mode() == mode


def test_unknown_mode_says_what_to_do(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "fast")
    with pytest.raises(ValueError, match="quick, full|full, quick"):
        config.current_mode()


def test_pick_follows_the_mode():
    assert config.Config(mode="full", seed=0).pick(full=8, quick=1) == 8
    assert config.Config(mode="quick", seed=0).pick(full=8, quick=1) == 1
    assert config.Config(mode="quick", seed=0).quick


def test_only_config_reads_the_mode():
    """Quick mode lives in one place: chapters shrink their data with cfg.pick, never a loader behind their back."""
    root = Path(config.__file__).resolve().parents[1]
    readers = [str(path.relative_to(root)) for package in ("course_utils", "autograder")
               for path in sorted((root / package).rglob("*.py"))
               if re.search(r"COURSE_MODE|current_mode\(", path.read_text(encoding="utf-8"))]
    assert readers == ["course_utils/config.py"]


def test_search_dirs_follow_the_data_contract(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert config.data_search_dirs() == [tmp_path, config.CACHE_DIR, tmp_path / "keras" / "datasets"]
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert config.data_search_dirs()[0] == config.CACHE_DIR


def test_setup_fixes_every_seed(monkeypatch, capsys):
    import tensorflow as tf

    monkeypatch.setenv("COURSE_MODE", "quick")
    draws = []
    for _ in range(2):
        cfg = config.setup(seed=7, verbose=False)
        draws.append((random.random(), np.random.rand(), float(tf.random.uniform(()))))
    assert draws[0] == draws[1]
    assert cfg.mode == "quick" and cfg.seed == 7
    assert capsys.readouterr().out == ""


def test_summary_names_mode_and_versions():
    import keras
    import tensorflow as tf

    text = config.Config(mode="quick", seed=1).summary()
    assert "quick" in text and tf.__version__ in text and keras.__version__ in text


def test_setup_is_quiet_on_stderr():
    """TensorFlow's own pre-initialisation lines (cudart_stub) cannot be silenced; nothing else may appear."""
    proc = subprocess.run([sys.executable, "-c", "import course_utils; course_utils.setup()"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "mode" in proc.stdout
    unexpected = [line for line in proc.stderr.splitlines()
                  if line.strip() and "absl::InitializeLog" not in line and "cudart_stub" not in line]
    assert unexpected == []


def test_startup_filter_drops_only_known_lines(monkeypatch):
    monkeypatch.setattr(config, "USER_TF_LOG_LEVEL", None)
    monkeypatch.setattr(config, "nvidia_driver_present", lambda: False)
    noise = config.startup_noise_pattern()
    assert noise.search("I0000 00:00:1.2 3776 port.cc:153] oneDNN custom operations are on. You may see ...")
    assert noise.search("I0000 00:00:1.2 3776 cudart_stub.cc:31] Could not find cuda drivers on your machine")
    assert not noise.search("E0000 00:00:1.2 3776 some_kernel.cc:12] out of memory allocating 50 GB")
    monkeypatch.setattr(config, "nvidia_driver_present", lambda: True)      # CUDA lines explain a missing GPU
    assert not config.startup_noise_pattern().search("cudart_stub.cc:31] Could not find cuda drivers")


def test_a_lower_log_level_shows_every_startup_line(monkeypatch):
    monkeypatch.setattr(config, "USER_TF_LOG_LEVEL", "0")
    assert config.startup_noise_pattern() is None
