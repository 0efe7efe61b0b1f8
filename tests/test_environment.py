"""The course's environment is consistent: every installed package has its requirements (`make test` runs
`pip check` first as well; this names the problem inside a plain pytest run too)."""
import subprocess
import sys


def test_pip_check_finds_no_broken_requirements():
    run = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
