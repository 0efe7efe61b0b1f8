"""Opening a stored notebook in the course's JupyterLab changes nothing: its metadata is what the course's kernel
writes (a kernelspec that differs makes JupyterLab rewrite the file on open, and `git pull` then conflicts)."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from run_notebooks import course_kernelspec  # noqa: E402

NOTEBOOKS = sorted(ROOT.glob("notebooks/**/*.ipynb")) + sorted(ROOT.glob("autograder/course/source/*/*.ipynb"))


def test_the_course_kernel_is_the_one_jupyterlab_shows():
    assert course_kernelspec() == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_notebooks_carry_the_course_kernels_metadata(notebook):
    metadata = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("kernelspec") == course_kernelspec(), \
        f"{notebook.name}: kernelspec {metadata.get('kernelspec')}; JupyterLab would rewrite it on open"
