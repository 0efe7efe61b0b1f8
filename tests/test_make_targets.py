"""What the Makefile's targets run, read from `make -n` (nothing is started or installed)."""
from __future__ import annotations

import re
import shlex
import subprocess

from lab_server import REPO_ROOT


def _dry_run(target: str, **variables: str) -> list[str]:
    """The shell commands `make TARGET` would run, one string each (continuation lines joined)."""
    out = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(REPO_ROOT), target,
                          *(f"{k}={v}" for k, v in variables.items())],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return out.replace("\\\n", " ").splitlines()


def _option(target: str, option: str, **variables: str) -> str:
    server = next(line for line in _dry_run(target, **variables) if re.search(r"jupyter\"? lab\b", line))
    values = [word.split("=", 1)[1] for word in shlex.split(server.split("&&")[-1]) if word.startswith(option + "=")]
    assert len(values) == 1, f"{option} given {len(values)} times in: {server}"
    return values[0]


def test_the_learner_and_the_instructor_keep_separate_saved_layouts():
    learner = _option("lab", "--LabApp.workspaces_dir")
    instructor = _option("formgrader", "--LabApp.workspaces_dir")
    assert learner != instructor
    assert learner.endswith("/learner") and instructor.endswith("/instructor")


def test_make_solution_passes_force_through():
    assert "--force" in _dry_run("solution", EX="ex1_rnn_cells", FORCE="1")[-1]
    assert "--force" not in _dry_run("solution", EX="ex1_rnn_cells")[-1]


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), *args], capture_output=True,
                          text=True, timeout=300)


def test_a_failing_check_is_the_checks_answer_not_makes_error():
    run = _make("check", "NB=notebooks/09_exercises/ex1_rnn_cells.ipynb")      # the blank notebook: all TODO
    assert run.returncode == 0, run.stdout + run.stderr
    assert "TODO" in run.stdout and "Error" not in run.stderr
    missing = _make("check", "NB=notebooks/09_exercises/nope.ipynb")
    assert missing.returncode == 2 and "does not exist" in missing.stdout


def test_the_exported_gradebook_of_the_readme_is_git_ignored():
    readme = (REPO_ROOT / "autograder" / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"autograder export --to (\S+)", readme)
    assert targets
    for target in [*targets, "grades.csv"]:
        ignored = subprocess.run(["git", "-C", str(REPO_ROOT), "check-ignore", "-q", target])
        assert ignored.returncode == 0, f"{target} would be an untracked file in git status"
