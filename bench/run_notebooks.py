"""Execute course notebooks top to bottom, time each one, and record the times.

    python bench/run_notebooks.py --mode full --inplace          # what `make course` runs: refresh stored outputs
    python bench/run_notebooks.py --mode quick notebooks/01_*.ipynb   # time quick mode; stored outputs untouched

Times are merged into bench/results/notebook_times_<mode>.json (one entry per notebook, with the machine).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def course_kernelspec() -> dict:
    """The notebook metadata JupyterLab writes for the course's kernel (python3 in the course's environment)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {"display_name": spec.display_name, "language": spec.language, "name": "python3"}


def execute(path: Path, mode: str, inplace: bool, timeout: int) -> float:
    """Run one notebook in its own folder; return wall seconds. Writes back only with ``inplace``."""
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_MODE"] = mode
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata["kernelspec"] = course_kernelspec()    # what opening the notebook in `make lab` would write
    if inplace:
        # write atomically so an interrupted run never leaves a half-written notebook
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".ipynb", delete=False,
                                         encoding="utf-8") as tmp:
            nbformat.write(nb, tmp)
        os.replace(tmp.name, path)
    return seconds


def record(mode: str, times: dict[str, float]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"notebook_times_{mode}.json"
    data = json.loads(out.read_text()) if out.exists() else {}
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    for name, seconds in times.items():
        data[name] = {"seconds": round(seconds, 1), "machine": machine,
                      "date": time.strftime("%Y-%m-%d")}
    out.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    parser.add_argument("--mode", choices=("full", "quick"), default="full")
    parser.add_argument("--inplace", action="store_true", help="store the outputs in the notebook")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    times = {}
    for path in notebooks:
        print(f"{path.name}: running in {args.mode} mode ...", flush=True)
        times[path.name] = execute(path, args.mode, args.inplace, args.timeout)
        print(f"{path.name}: {times[path.name]:.1f} s", flush=True)
    out = record(args.mode, times)
    print(f"times recorded in {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
