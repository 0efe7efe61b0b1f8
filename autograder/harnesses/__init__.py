"""Code that runs inside the sandbox next to a submission, kept as real Python files and sent as text.

Each harness defines ``run(ns, payload)``: ``ns`` is the namespace after the submission's solution cells,
``payload`` the decoded inputs of one case; it returns plain values only (labels and thresholds stay in the
parent). Nothing here is secret. A harness may use what an earlier file of the same :func:`source` call defines.
"""
from __future__ import annotations

from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent


def source(*names: str) -> str:
    """The text of ``<name>.py`` for each name, joined in order (e.g. ``source("layer_names", "train_binary")``)."""
    return "\n".join((HARNESS_DIR / f"{name}.py").read_text(encoding="utf-8") for name in names)
