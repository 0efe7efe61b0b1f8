"""Saving and loading course models with clear errors.

    model.save("sentiment.keras")
    model = load_model("sentiment.keras")   # a readable ValueError when the file is missing or not a Keras model

Importing this module registers the course's custom objects (``course_utils.text.standardize_text``,
``course_utils.attention.AttentionLayer``, ``course_utils.truncation.KeepLastTokens``), so models that use them
load without ``custom_objects``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import keras

import course_utils.attention  # noqa: F401  (registers AttentionLayer)
import course_utils.text  # noqa: F401  (registers standardize_text)
import course_utils.truncation  # noqa: F401  (registers KeepLastTokens)

__all__ = ["load_model"]


def load_model(path, *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model file; raise a ``ValueError`` that says what is wrong when it is not one.

    A ``.keras`` file is a zip archive holding ``config.json`` (the architecture) and the weights. A missing file,
    another kind of file (a CSV, a notebook, a legacy ``.h5``), or a damaged archive each give a one-line message
    naming the file, instead of a traceback from deep inside Keras.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no model file at {path}: save one first with model.save({str(path)!r})")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a model file; Keras 3 models are single .keras files")
    if path.suffix != ".keras":
        raise ValueError(f"{path} is not a .keras file (suffix {path.suffix or 'none'!r}); Keras 3 saves models "
                         "as .keras files: model.save('name.keras')")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras model: a .keras file is a zip archive and this file is not one "
                         f"({path.stat().st_size} bytes; was it truncated or overwritten?)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    if "config.json" not in names:
        raise ValueError(f"{path} is a zip archive but not a Keras model: it has no config.json "
                         f"(it holds {sorted(names)[:5]})")
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # damaged weights, unknown custom layers, version mismatch
        raise ValueError(f"{path} looks like a Keras model but could not be loaded: "
                         f"{type(error).__name__}: {error}") from error
