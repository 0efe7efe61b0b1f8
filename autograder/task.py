"""What a hidden check is: one :class:`Task` per graded exercise function, with the limits its sandbox runs under.

Each ``autograder/hidden/<assignment>.py`` defines ``ASSIGNMENT``, ``SEED`` and ``TASKS``. A task makes hidden
inputs (seeded, in the trusted parent), the sandbox calls the learner's function on them (or runs a harness), and
``judge`` decides in the parent (default: equal to the reference solution's outputs, see autograder.compare).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograder.sandbox import Limits

NUMERIC_LIMITS = Limits(cpu_s=20, wall_s=40, memory_mb=1024)
KERAS_LIMITS = Limits(cpu_s=240, wall_s=300, memory_mb=4096)
# a numpy function rerun with a setup that imports Keras: importing TensorFlow alone maps ~2.5 GB of address space
# and takes seconds of CPU
KERAS_IMPORT_LIMITS = Limits(cpu_s=90, wall_s=150, memory_mb=4096)


@dataclass
class Task:
    function: str                       # the exercise function (reported by this name)
    solution_cell: str                  # grade_id of the solution cell that defines it
    test_cell: str                      # grade_id of the autograded test cell whose points it earns
    make_cases: Callable[[np.random.Generator], tuple[list[Any], Any]]   # -> (payloads for the child, secret)
    judge: Callable[[list[Any], list[Any] | None, Any], str | None] | None = None  # raises Mismatch; None: reference
    harness: str | None = None          # code run in the child defining run(ns, payload); None: call function
    # the name that must be callable after the solution cells (default: function, or nothing with a harness)
    requires: str | None = None
    # optional second stage, in a FRESH sandbox with the same cells: ``reload_harness`` defines run(ns, payload)
    # like ``harness`` and finds the files named in ``carry`` (written by the first stage) in its working folder;
    # the two stages' result dicts are merged per case (an error in either stage wins), e.g. save, then reload
    reload_harness: str | None = None
    carry: tuple[str, ...] = ()
    # with ``rebuild``, the second stage runs none of the notebook's cells: the first stage saves the trained model
    # (carry[0], a .keras file), the trusted process reads its config (autograder.saved_model) and refuses a class
    # that is not Keras' own, and ``reload_harness`` rebuilds the model from the file alone to predict; the judge
    # reads the architecture from the case's ``saved_config``. ``rebuild_only``: payload keys (e.g. the hidden
    # test inputs) that only that fresh stage receives, so that no learner code ever sees them
    rebuild: bool = False
    rebuild_only: tuple[str, ...] = ()
    # optional light preamble used instead of the notebook's setup cell (e.g. "import numpy as np" for numpy-only
    # functions of an exercise whose setup imports Keras); on a NameError for a name only the full setup defines,
    # the function is rerun with the full setup under ``setup_limits``, so using the setup's imports is never
    # penalised
    preamble: str | None = None
    setup_limits: Limits | None = None  # limits of that rerun (default: limits)
    tensorflow: bool = False            # the child seeds TensorFlow and makes it single-threaded
    use_reference: bool = True          # compare with the reference solution's outputs
    limits: Limits = NUMERIC_LIMITS
    rtol: float = 1e-4
    atol: float = 1e-5

    def limits_for(self, full_setup: bool) -> Limits:
        """The limits of a run with the notebook's full setup (True) or with the task's own preamble (False)."""
        if full_setup and self.preamble is not None and self.setup_limits is not None:
            return self.setup_limits
        return self.limits
