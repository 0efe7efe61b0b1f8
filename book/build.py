"""`python -m book.build [--out build/book]`: stage the course's stored notebooks and build the static site."""
import argparse
import sys
import time
from pathlib import Path

from sphinx.cmd.build import build_main

from book.pages import REPO, publish_sources, stage


def build(out: Path) -> int:
    """Build the book into `out` (sources staged next to it); returns Sphinx's exit status (warnings are errors)."""
    staging = out.with_name(out.name + "-src")
    stage(staging)
    status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-d", str(staging / ".doctrees"),
                         str(staging), str(out)])
    if status == 0:
        publish_sources(out)
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "book", help="output folder (default build/book)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    status = build(args.out.resolve())
    if status == 0:
        print(f"book built in {time.perf_counter() - start:.1f} s: open {args.out / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
