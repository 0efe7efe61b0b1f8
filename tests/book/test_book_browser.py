"""The built book in a real browser: headless Debian Chromium, driven by Playwright, loads every page over HTTP.

Fails on a JavaScript console error, a request that failed or left the site, an image that did not load, math left
raw, a broken internal link or anchor, a chapter missing from the sidebar, Chinese text drawn with a font that has no
CJK glyphs (the fonts Chromium used, from DevTools), an answer in <details> shown unfolded, a page without its
JupyterLab and download links, previous/next links out of sidebar order, and a search that finds nothing. The checks
themselves are tried on a page with one of every fault. Skips only when Chromium is not installed (`make browser`),
never under CI=true.
"""
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from book.pages import all_pages, html_path

CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
RAW_MATH = re.compile(r"\$[^$\s][^$\n]*\$|\\\(.+?\\\)|\\\[.+?\\\]|\$\$.+?\$\$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# text of the page as a reader sees it, without code, outputs and typeset math (where a "$" is no delimiter)
VISIBLE_PROSE_JS = """() => {
  const copy = document.querySelector('main').cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .cell_output, .output, .highlight')
      .forEach(e => e.remove());
  return copy.textContent;
}"""
BROKEN_IMAGES_JS = """() => [...document.images]
  .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.currentSrc || img.src)"""
UNFOLDED_DETAILS_JS = """() => [...document.querySelectorAll('main details')].filter(d => {
  if (d.open) return true;
  return [...d.children].some(c => c.tagName !== 'SUMMARY' && c.checkVisibility());
}).map(d => (d.querySelector('summary') || d).textContent.trim().slice(0, 60))"""
SIDEWAYS_CODE_JS = """() => [...document.querySelectorAll('main div.cell_input pre')]
  .filter(pre => pre.scrollWidth > pre.clientWidth + 1).map(pre => pre.textContent.trim().slice(0, 60))"""
MARK_CJK_JS = """() => {
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  const marked = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (marked.length >= 40 || parent.hasAttribute('data-cjk')) continue;
    if (!/[\\u3400-\\u9fff\\uf900-\\ufaff]/.test(node.textContent)) continue;
    if (!parent.checkVisibility() || parent.closest('details:not([open])')) continue;
    parent.setAttribute('data-cjk', marked.length);
    marked.push(parent.textContent);
  }
  return marked;
}"""


def _cjk_font_families() -> set[str]:
    """Families of the installed fonts that cover Chinese (fontconfig's view, as Chromium's)."""
    if not shutil.which("fc-list"):
        return set()
    listing = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return {name.strip() for line in listing.splitlines() for name in line.split(",") if name.strip()}


@contextmanager
def _serve(folder: Path):
    """`folder` over HTTP on 127.0.0.1 (a random port), as `python -m http.server` would; yields the base URL."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site_url(built_book):
    with _serve(built_book) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must run `make browser` before `make test`")
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (Debian's chromium and fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


def _page_urls(site_url):
    return [urljoin(site_url, html_path(page)) for page in all_pages()] + [urljoin(site_url, "search.html")]


class PageReport:
    """What one page load showed."""

    def __init__(self, url):
        self.url, self.problems, self.links, self.ids, self.sidebar = url, [], set(), set(), set()
        self.cjk_checked, self.lab_link, self.download_link, self.previous, self.next = 0, None, None, None, None


def _visit(context, url, site_url, cjk_families) -> PageReport:
    report = PageReport(url)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and report.problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: report.problems.append(f"JavaScript exception: {e}"))
    page.on("requestfailed", lambda r: report.problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and report.problems.append(f"HTTP {r.status}: {r.url}"))

    def only_the_site(route):
        if route.request.url.startswith(site_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            report.problems.append(f"request outside the site: {route.request.url}")
            route.abort()

    page.route("**/*", only_the_site)
    page.goto(url, wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => document.fonts.ready.then(() => true)")

    report.problems += [f"image did not load: {src}" for src in page.evaluate(BROKEN_IMAGES_JS)]
    prose = page.evaluate(VISIBLE_PROSE_JS)
    report.problems += [f"math left raw: {m[:60]!r}" for m in RAW_MATH.findall(prose)]
    report.problems += [f"<details> shown unfolded: {s!r}" for s in page.evaluate(UNFOLDED_DETAILS_JS)]
    report.problems += [f"code cell scrolls sideways: {s!r}" for s in page.evaluate(SIDEWAYS_CODE_JS)]
    report.cjk_checked, missing_glyphs = _missing_cjk_glyphs(page, cjk_families)
    report.problems += missing_glyphs
    report.links = set(page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"))
    report.lab_link = page.evaluate("() => document.querySelector('a.btn-open-in-jupyterlab-button')?.href")
    report.download_link = page.evaluate("() => document.querySelector('a.btn-download-source-button')?.href")
    report.previous = page.evaluate("() => document.querySelector('a.left-prev')?.href")
    report.next = page.evaluate("() => document.querySelector('a.right-next')?.href")
    report.ids = set(page.eval_on_selector_all("[id]", "es => es.map(e => e.id)"))
    report.sidebar = set(page.eval_on_selector_all("nav.bd-docs-nav a[href]", "as => as.map(a => a.href)"))
    page.close()
    return report


def _missing_cjk_glyphs(page, cjk_families) -> tuple[int, list[str]]:
    """Every visible element with Chinese text must draw at least as many glyphs with CJK fonts as it has CJK
    characters; the fonts are the ones Chromium actually used (DevTools' CSS.getPlatformFontsForNode)."""
    texts = page.evaluate(MARK_CJK_JS)
    if not texts:
        return 0, []
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    problems = []
    for index, text in enumerate(texts):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f'[data-cjk="{index}"]'})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] in cjk_families)
        if drawn < len(CJK.findall(text)):
            used = ", ".join(f"{f['familyName']} ({f['glyphCount']} glyphs)" for f in fonts)
            problems.append(f"Chinese text drawn without a CJK font ({used}; install fonts-noto-cjk): {text[:40]!r}")
    cdp.detach()
    return len(texts), problems


@pytest.fixture(scope="module")
def reports(browser, site_url):
    cjk_families = _cjk_font_families()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    visited = [_visit(context, url, site_url, cjk_families) for url in _page_urls(site_url)]
    context.close()
    return visited


def test_every_page_loads_cleanly(reports):
    problems = [f"{urlparse(r.url).path}: {p}" for r in reports for p in r.problems]
    assert not problems, "\n".join(problems)


def test_chinese_text_of_chapter_7_is_checked(reports):
    chapter7 = next(r for r in reports if r.url.endswith("07_text_generation.html"))
    assert chapter7.cjk_checked >= 5, f"only {chapter7.cjk_checked} elements with Chinese text found in chapter 7"
    assert _cjk_font_families(), "no font with Chinese glyphs installed: run `make browser` (fonts-noto-cjk)"


def _broken_links(reports, site_url) -> list[str]:
    """Links from the visited pages to site files that do not exist, or to anchors their page does not have."""
    ids_by_page = {urldefrag(r.url).url: r.ids for r in reports}
    broken = []
    for report in reports:
        for link in sorted(report.links):
            target, anchor = urldefrag(link)
            if not target.startswith(site_url):
                continue
            path = urlparse(target).path
            if target not in ids_by_page:
                if target.endswith("/") or not Path(path).suffix:
                    target = urljoin(target, "index.html")
                if target not in ids_by_page and not _exists(site_url, target):
                    broken.append(f"{urlparse(report.url).path}: link to missing {path}")
                    continue
            if anchor and target in ids_by_page and anchor not in ids_by_page[target]:
                broken.append(f"{urlparse(report.url).path}: link to missing anchor {path}#{anchor}")
    return broken


def test_internal_links_and_anchors_resolve(reports, site_url):
    broken = _broken_links(reports, site_url)
    assert not broken, "\n".join(broken)


def test_every_page_links_its_notebook_in_jupyterlab_and_for_download(reports, site_url):
    sources = {urljoin(site_url, html_path(page)): page for page in all_pages()}
    wrong = []
    for report in reports:
        if report.url not in sources:
            continue
        path, source = urlparse(report.url).path, sources[report.url]
        if not (report.lab_link or "").endswith("/lab/tree/" + source):
            wrong.append(f"{path}: JupyterLab link {report.lab_link}, expected one ending in /lab/tree/{source}")
        if not report.download_link or not _exists(site_url, report.download_link):
            wrong.append(f"{path}: no download link that works ({report.download_link})")
    assert not wrong, "\n".join(wrong)


def test_previous_and_next_links_follow_the_sidebar(reports, site_url):
    order = [urljoin(site_url, html_path(page)) for page in all_pages()]
    by_url = {r.url: r for r in reports}
    wrong = [f"{urlparse(a).path} -> {urlparse(b).path}: next {by_url[a].next}, previous {by_url[b].previous}"
             for a, b in zip(order, order[1:]) if by_url[a].next != b or by_url[b].previous != a]
    assert not wrong, "\n".join(wrong)


def test_search_finds_the_chapters(browser, site_url):
    page = browser.new_page()
    page.goto(urljoin(site_url, "search.html?q=forget+gate"))
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    found = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    page.close()
    assert any("03_lstm_gru" in link for link in found), found


def _exists(site_url, url) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(url) as response:
            return response.status == 200
    except OSError:
        return False


def test_every_chapter_and_exercise_is_in_the_sidebar_of_every_page(reports, site_url):
    expected = {urljoin(site_url, html_path(p)) for p in all_pages() if p.startswith("notebooks/")}
    missing = []
    for report in reports:
        lacking = sorted(urlparse(u).path for u in expected - {urldefrag(link).url for link in report.sidebar})
        if lacking:
            missing.append(f"{urlparse(report.url).path}: the sidebar lacks {', '.join(lacking)}")
    assert not missing, "\n".join(missing)


BROKEN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="https://cdn.example.invalid/x.css"></head><body>
<nav class="bd-docs-nav"><a href="present.html">present</a></nav>
<main><p>raw math $W_{hh}$ here</p><img src="missing.png" alt="gone">
<a href="absent.html">absent</a> <a href="present.html#nowhere">no anchor</a>
<details open><summary>Answer</summary><p>shown</p></details>
<p>床前明月光</p><div class="cell_input"><pre style="width: 10em; overflow-x: auto; white-space: pre">x = 'a very long line of code that does not fit'</pre></div>
<script>console.error("boom")</script></main></body></html>"""


def test_the_checks_catch_each_fault(browser, tmp_path):
    """A page with one of every fault: each check must report its own."""
    (tmp_path / "present.html").write_text("<!DOCTYPE html><html><body><main id='x'>ok</main></body></html>")
    (tmp_path / "broken.html").write_text(BROKEN_PAGE, encoding="utf-8")
    with _serve(tmp_path) as base:
        context = browser.new_context()
        broken = _visit(context, base + "broken.html", base, cjk_families=set())
        present = _visit(context, base + "present.html", base, cjk_families=set())
        context.close()
        text = "\n".join(broken.problems)
        for expected in ("console error: boom", "image did not load", "HTTP 404", "math left raw: '$W_{hh}$'",
                         "<details> shown unfolded", "Chinese text drawn without a CJK font",
                         "code cell scrolls sideways: \"x = 'a very long",
                         "request outside the site: https://cdn.example.invalid/x.css"):
            assert expected in text, f"{expected!r} not reported; got:\n{text}"
        assert _broken_links([broken, present], base) == [
            "/broken.html: link to missing /absent.html", "/broken.html: link to missing anchor /present.html#nowhere"]
