"""`python -m book.build [--out build/book]`: stage the course's stored notebooks and build the static site."""
import argparse
import shutil
import sys
import time
from pathlib import Path

from sphinx.cmd.build import build_main

from book.pages import REPO, all_pages, publish_sources, stage
from book.sources import BookSourceError, CourseFiles


def build(out: Path, repo: Path = REPO) -> int:
    """Build the book into `out` (sources staged next to it, removed again if the build fails); returns 0, or 1
    after one line naming a source file it cannot use, or Sphinx's exit status (warnings are errors)."""
    staging = out.with_name(out.name + "-src")
    files = CourseFiles(repo)
    if not files.in_git:
        print("book: not a git checkout, so built from the files as they are (a learner's copies under "
              "notebooks/ included)")
    try:
        differing = files.differing(all_pages(repo))
        if differing:
            print(f"book: {len(differing)} file(s) differ from git's copy and go in as git has them (an author "
                  f"publishes a change by `git add`): {', '.join(differing)}")
        stage(staging, repo)
        status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-d", str(staging / ".doctrees"),
                             str(staging), str(out)])
        if status == 0:
            publish_sources(out, repo)
    except BookSourceError as exc:
        print(f"make book: {exc}", file=sys.stderr)
        status = 1
    if status != 0:
        shutil.rmtree(staging, ignore_errors=True)
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "book", help="output folder (default build/book)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    status = build(args.out.resolve())
    if status == 0:
        print(f"book built in {time.perf_counter() - start:.1f} s: {args.out / 'index.html'}; serve it for search to "
              f"work (from file:// the browser blocks it): .venv/bin/python -m http.server -d {args.out} 8000")
    return status


if __name__ == "__main__":
    sys.exit(main())
