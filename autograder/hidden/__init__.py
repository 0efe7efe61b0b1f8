"""Hidden checks, one module per assignment (instructor side only; never visible inside the sandbox).

Each module defines ``ASSIGNMENT``, ``SEED`` and optionally ``PREAMBLE`` (default: the source notebook's locked setup cells)
``TASKS`` (a list of :class:`autograder.spec.Task`, one per graded exercise function).
"""
from __future__ import annotations

import importlib

ASSIGNMENTS = ("ex1_rnn_cells", "ex2_text_classification", "ex3_time_series", "ex4_text_generation", "ex5_attention")


def load(assignment: str):
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"autograder.hidden.{assignment}")


def available() -> list[str]:
    out = []
    for name in ASSIGNMENTS:
        try:
            load(name)
        except ModuleNotFoundError:
            continue
        out.append(name)
    return out
