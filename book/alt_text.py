"""Alt text for the notebooks' figures: kept in book/alt_text.yml (notebook -> cell id -> text), applied at build time.

The chapter notebooks stay untouched: the text goes into MyST-NB's `mystnb.image.alt` cell metadata of the staged copy.
"""
from pathlib import Path

import yaml

ALT_TEXT_FILE = Path(__file__).with_name("alt_text.yml")


def load_alt_texts(path: Path = ALT_TEXT_FILE) -> dict[str, dict[str, str]]:
    """{notebook path relative to the repository: {cell id: alt text}}."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def figure_cells(notebook: dict) -> list[str]:
    """Ids of the code cells with at least one image output."""
    return [cell["id"] for cell in notebook["cells"]
            if any(key.startswith("image/") for out in cell.get("outputs", []) for key in out.get("data", {}))]


def problems(name: str, notebook: dict, texts: dict[str, dict[str, str]]) -> list[str]:
    """What is wrong with the alt texts of one notebook: figures without text, texts for cells with no figure."""
    given = texts.get(name, {}) or {}
    figures = figure_cells(notebook)
    found = [f"{name}: the figure of cell {cell_id} has no alt text; add it under {name!r} in {ALT_TEXT_FILE.name}"
             for cell_id in figures if not str(given.get(cell_id, "")).strip()]
    found += [f"{name}: {ALT_TEXT_FILE.name} has alt text for cell {cell_id}, which has no figure (remove it)"
              for cell_id in given if cell_id not in figures]
    return found


def apply_alt_texts(name: str, notebook: dict, texts: dict[str, dict[str, str]]) -> None:
    """Set `mystnb.image.alt` on every figure cell of `notebook` (in place); ValueError if one has no text."""
    found = problems(name, notebook, texts)
    if found:
        raise ValueError("\n".join(found))
    by_id = texts.get(name, {}) or {}
    for cell in notebook["cells"]:
        if cell.get("id") in by_id:
            cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})["alt"] = by_id[cell["id"]]
