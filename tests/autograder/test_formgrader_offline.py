"""Formgrader's manual-grading page in headless Chromium with no way out of 127.0.0.1 (an offline classroom): every
request it makes is answered by the instructor's JupyterLab, MathJax (2.7.9, from the jupyter-server-mathjax package)
is defined and typesets the notebook's math, and nothing raises. Skips only without Chromium (`make browser`),
never under CI=true."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograder import grader
from autograder.demo import make_course_copy
from autograder.paths import EXAMPLES_DIR
from lab_server import make_target

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
EXERCISE = "ex1_rnn_cells"


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must run `make browser` before `make test`")
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser`")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def _graded_course(root: Path):
    """A course copy with alice's example submission of ex1 released, collected and graded."""
    course = make_course_copy(root)
    course.release(EXERCISE)
    target = course.submitted_dir() / "alice" / EXERCISE
    shutil.copytree(EXAMPLES_DIR / "submitted" / "alice" / EXERCISE, target)
    grader.grade_assignment(course, EXERCISE, students=["alice"], jobs=1)
    return course


def _font_probe_or_repeat(message: str) -> bool:
    """MathJax 2's HTML-CSS output declares a blank font at `about:blank` to detect fonts (its SVG output is not in
    jupyter-server-mathjax), which Chromium logs as a CORS error; "Failed to load resource" repeats a failure the
    request handlers already report with its URL."""
    return "'about:blank'" in message or message.startswith("Failed to load resource")


def test_the_manual_grading_page_works_offline(tmp_path, chromium):
    course = _graded_course(tmp_path / "course")
    with make_target("formgrader", tmp_path / "formgrader.log", COURSE=str(course.root)) as lab:
        [submission] = lab.get_json(f"/formgrader/api/submitted_notebooks/{EXERCISE}/{EXERCISE}")
        problems: list[str] = []
        page = chromium.new_context().new_page()
        page.on("console", lambda m: m.type == "error" and not _font_probe_or_repeat(m.text)
                and problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"JavaScript exception: {e}"))
        page.on("requestfailed", lambda r: r.url != "about:blank"
                and problems.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))

        def offline(route):
            if route.request.url.startswith(lab.url) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                problems.append(f"request outside the server: {route.request.url}")
                route.abort("internetdisconnected")

        page.route("**/*", offline)
        page.goto(f"{lab.url}/formgrader/submissions/{submission['id']}/?token={lab.token}", wait_until="load")
        version = page.evaluate("() => window.MathJax && MathJax.version")
        page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
        typeset = page.evaluate("() => document.querySelectorAll('.MathJax, .MathJax_Display').length")
        page.wait_for_timeout(500)           # late requests (fonts) and errors
    assert not problems, "\n".join(problems)
    assert version == "2.7.9"
    assert typeset > 0, "MathJax typeset no math on the page"
    feedback = course.feedback(EXERCISE)
    assert feedback.get("success"), feedback.get("error")      # feedback keeps nbgrader's own template
