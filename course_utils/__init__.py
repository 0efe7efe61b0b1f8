"""Helpers for the RNN course notebooks: configuration, datasets, text, plots and numeric checks.

Start every notebook with ``cfg = course_utils.setup()``.
"""
from course_utils.config import Config, setup  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL on import)
from course_utils.checks import assert_close  # noqa: F401

__all__ = ["Config", "setup", "assert_close"]
