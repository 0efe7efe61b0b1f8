"""Hidden checks, one module per assignment (instructor side only; never visible inside the sandbox).

Every ``ex*.py`` in this folder is an assignment of that name; it defines ``ASSIGNMENT`` (its own file name),
``SEED``, ``TASKS`` (a list of :class:`autograder.task.Task`, one per graded exercise function) and optionally
``PREAMBLE`` (default: the source notebook's locked setup cells). A course may keep its checks in another folder
(``Course(checks_dir=...)``).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

HIDDEN_DIR = Path(__file__).resolve().parent


def names(folder: Path = HIDDEN_DIR) -> list[str]:
    """The assignments whose hidden checks are in ``folder``: every ``ex*.py``, sorted."""
    return sorted(p.stem for p in Path(folder).glob("ex*.py"))


def load(assignment: str, folder: Path = HIDDEN_DIR):
    """The hidden-checks module of ``assignment``; a module naming another assignment is an error."""
    folder = Path(folder).resolve()
    known = names(folder)
    if assignment not in known:
        raise KeyError(f"unknown assignment {assignment!r}; {folder} has: {', '.join(known)}")
    if folder == HIDDEN_DIR:
        module = importlib.import_module(f"autograder.hidden.{assignment}")
    else:
        name = f"_hidden_checks_{abs(hash(str(folder)))}.{assignment}"
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, folder / f"{assignment}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    if getattr(module, "ASSIGNMENT", None) != assignment:
        raise ValueError(f"{module.__file__}: ASSIGNMENT must be {assignment!r} (the file's name)")
    return module
