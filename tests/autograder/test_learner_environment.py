"""The learner's check from anywhere: a relative interpreter path, and a Python without the course's packages."""
from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course_environment, sandbox
from autograder.learner_check import check_notebook
from autograder.paths import REPO_ROOT

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")


def test_the_sandboxed_interpreter_has_no_dotdot_and_is_the_same_file(monkeypatch, tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    detour = tmp_path / "a" / "b" / os.path.relpath(sys.executable, tmp_path / "a" / "b")
    assert ".." in detour.parts
    monkeypatch.setattr(sys, "executable", str(detour))
    path = Path(sandbox.interpreter())
    assert path.is_absolute() and ".." not in path.parts
    assert path.name == Path(sys.executable).name and path.samefile(detour)


def test_check_with_a_relative_interpreter_path_from_the_notebooks_folder(kit, tmp_path):
    """`../../.venv/bin/python -m autograder check ex1_rnn_cells.ipynb` from notebooks/09_exercises used to give
    "crashed ... exit status 127" for every function (the sandbox's root has no `..` detour)."""
    (tmp_path / "ex1_rnn_cells.ipynb").write_text(json.dumps(kit.released("ex1_rnn_cells")))
    python = os.path.relpath(sys.executable, tmp_path)
    assert python.startswith("..")
    run = subprocess.run([python, "-m", "autograder", "check", "ex1_rnn_cells.ipynb"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert out.count("TODO") == 5 and "crashed" not in out, out


def test_check_without_the_course_packages_names_the_environment_and_the_command(kit, tmp_path):
    """The interpreter without its site-packages (`-S`: the standard library only), as a system python3 is."""
    notebook = tmp_path / "ex1_rnn_cells.ipynb"
    notebook.write_text(json.dumps(kit.released("ex1_rnn_cells")))
    run = subprocess.run([sys.executable, "-S", "-m", "autograder", "check", str(notebook)], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "not the course's environment" in out and "lacks numpy" in out, out
    assert str(course_environment.COURSE_PYTHON) in out and "-m autograder check" in out, out
    assert "ModuleNotFoundError" not in out and "Traceback" not in out, out


def test_any_command_without_the_course_packages_says_which_python_to_use():
    run = subprocess.run([sys.executable, "-S", "-m", "autograder", "info"], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "not the course's environment" in run.stderr and "Traceback" not in run.stderr
    assert f"{course_environment.COURSE_PYTHON} -m autograder info" in run.stderr


def test_a_setup_import_this_python_lacks_is_not_reported_as_the_learners_error(kit, tmp_path):
    """ex2 under a Python with numpy but without keras used to say "cell setup ERROR ModuleNotFoundError"."""
    nb = copy.deepcopy(kit.released("ex1_rnn_cells"))     # the kit's copy is shared by the session
    setup = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup")
    setup["source"] = "import numpy as np\nfrom course_package_not_here.layers import Dense\n"
    path = tmp_path / "ex1_rnn_cells.ipynb"
    path.write_text(json.dumps(nb))
    out = io.StringIO()
    assert check_notebook(path, stream=out) == 2
    text = out.getvalue()
    assert "lacks course_package_not_here" in text and "ERROR" not in text
    assert "make check NB=" in text


def test_the_make_command_is_relative_to_the_repository():
    nb = REPO_ROOT / "notebooks" / "09_exercises" / "ex2_text_classification.ipynb"
    assert course_environment.check_command(nb) == "make check NB=notebooks/09_exercises/ex2_text_classification.ipynb"


def test_imported_modules_of_a_setup_cell():
    code = "import numpy as np\nimport keras\nfrom keras import layers, ops\nimport os.path\nfrom . import x\n"
    assert course_environment.imported_modules(code) == ["numpy", "keras", "os"]
    assert course_environment.imported_modules("def (:") == []
