"""What a reader sees in the stored chapter notebooks: no grading markers in the code, no author's machine paths,
no stray object reprs (``<matplotlib.legend.Legend at 0x...>``, ``Text(0.5, 1.0, '...')``) under a figure."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(/work/|/home/[a-z]|/root/|/tmp/|[A-Z]:\\\\Users)")
STRAY_REPR = re.compile(r"^(Text\(|<matplotlib\.|\[<matplotlib\.|<Figure size \d+x\d+ with \d+ Axes>$)")


def _code_cells(path):
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_nbval_markers_are_cell_tags_not_comments(notebook):
    commented = [i for i, c in enumerate(_code_cells(notebook)) if "".join(c["source"]).lstrip().startswith("# NBVAL")]
    assert not commented, f"code cells {commented} start with a '# NBVAL_...' comment: use the cell tag instead"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_no_cell_asks_nbval_for_two_things(notebook):
    tags = [{t for t in c["metadata"].get("tags", []) if t.startswith("nbval-")} for c in _code_cells(notebook)]
    torn = [i for i, t in enumerate(tags) if len(t) > 1]
    assert not torn, f"code cells {torn} carry more than one nbval tag (nbval uses the last): keep the one meant"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_no_machine_paths_or_stray_reprs_in_outputs(notebook):
    problems = []
    for i, cell in enumerate(_code_cells(notebook)):
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            if MACHINE_PATH.search(text):
                problems.append(f"code cell {i}: a machine path in {text[:80]!r}")
            only_text = output["output_type"] == "execute_result" and set(output.get("data", {})) == {"text/plain"}
            if only_text and STRAY_REPR.match(text.strip()):
                problems.append(f"code cell {i}: a stray repr {text.strip()[:60]!r} (end the line with ';')")
    assert not problems, "\n".join(problems)
