"""Whether ``python -m autograder check`` runs in the course's environment, and the command that does.

The check runs the exercise's setup cell with the interpreter it was started with; a Python without the course's
packages (the system ``python3`` in a terminal, a ``!python`` cell) would report the setup cell's
``ModuleNotFoundError`` as if it were the learner's mistake. The setup cells are the course's own code, so a module
they import that this interpreter cannot find means the wrong Python, and the learner is told which one to use.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import shlex
import sys
from pathlib import Path

from autograder.paths import REPO_ROOT   # standard library only: this module must work under any Python

COURSE_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


def imported_modules(code: str) -> list[str]:
    """The top-level modules a cell imports (``import a.b`` and ``from a import b`` give ``a``), in order; relative
    imports and code that does not parse give nothing (the check then reports the cell as it is)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module.split(".")[0])
    return list(dict.fromkeys(names))


def missing_modules(setup_code: list[str]) -> list[str]:
    """The modules the setup cells import that this interpreter cannot find."""
    wanted = [name for code in setup_code for name in imported_modules(code)]
    return [name for name in dict.fromkeys(wanted) if importlib.util.find_spec(name) is None]


def check_command(notebook: Path) -> str:
    """The command that checks ``notebook`` in the course's environment, from the repository's folder."""
    path = Path(os.path.abspath(notebook))
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    return f"make check NB={shlex.quote(str(shown))}"


def outside_message(missing: list[str], notebook: Path | None = None) -> str:
    """What to tell someone whose Python lacks ``missing``: that it is not the course's environment, and the
    command to use instead (for the learner's check of ``notebook``, or any ``python -m autograder`` command)."""
    if notebook is not None:
        what = f"{notebook}: not checked (your notebook was not run)"
        args = f"check {shlex.quote(os.path.abspath(notebook))}"
        in_repo = f"    {check_command(notebook)}\nor from anywhere:\n"
    else:
        what = "python -m autograder cannot run"
        args = shlex.join(sys.argv[1:]) or "--help"
        in_repo = ""
    return (f"{what}: this Python ({sys.executable}) is not the course's environment; it lacks "
            f"{', '.join(missing)}.\n"
            f"Use the course's Python instead{', from the repository folder ' + str(REPO_ROOT) if in_repo else ''}:\n"
            f"{in_repo}    {shlex.quote(str(COURSE_PYTHON))} -m autograder {args}\n"
            f"(no .venv yet? `make .venv/.installed` in {REPO_ROOT} creates it)")
