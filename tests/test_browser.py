"""The built site in headless Chromium, with no network.

``_build/html`` is served on 127.0.0.1 (``http.server``, a free port) and every page is opened in
Debian's Chromium driven by Playwright. Every request to another host is aborted and makes the page
fail. On each page: no console error and no uncaught exception, no local request failing, every
image loaded, the math typeset by MathJax (no raw TeX and no TeX error left), on notebook pages
the Colab launch link pointing at that notebook's Colab edition, and accessibility: axe-core (npm,
pinned in the Makefile, injected from ``.cache/vendor``) finds no serious or critical violation, in
the light theme and, for contrast, in the dark one; every image has alt text that is not a file
name. A full-page screenshot of each page is saved as ``_build/screenshots/<page path with / as
_>.png``. The search (Korean words included) is tested in ``tests/test_search.py``, the slides in
``tests/test_slides.py``, the PDF in ``tests/test_pdf.py``.

Chromium: ``$ATTNBOOK_CHROMIUM``, else ``/usr/bin/chromium`` (``tools/ensure_chromium.py``
installs it). Without it the tests are skipped, except with ``CI=true``, where they fail.
``ATTNBOOK_SITE=/path/to/html`` checks another build (screenshots then go next to it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
SCREENSHOTS = SITE.parent / "screenshots"
COLAB = "https://colab.research.google.com/"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
TIMEOUT_MS = 30_000
NO_BUILD = "(no build)"


def browser_pages() -> list[str]:
    """The book's pages: every HTML file of the site but the index, search, redirects and assets."""
    if not SITE.is_dir():
        return []
    pages = []
    for p in sorted(SITE.rglob("*.html")):
        rel = p.relative_to(SITE).as_posix()
        parts = p.relative_to(SITE).parts
        if parts[0] == "ko" and len(parts) > 1:   # the Korean edition: the same layout under ko/
            parts = parts[1:]
        top = parts[0]
        if top in {"_static", "_sources", "_images", "reports", "slides", "print", "colab"} \
                or top.startswith("."):
            continue
        if "/".join(parts) in {"genindex.html", "search.html", "py-modindex.html"}:
            continue
        head = p.read_text(encoding="utf-8", errors="replace")[:2000]
        if re.search(r"""<meta[^>]+http-equiv=["']?refresh""", head, re.I):
            continue  # a redirect (the root index.html)
        pages.append(rel)
    return pages


def pytest_generate_tests(metafunc):
    if "page_path" in metafunc.fixturenames:
        pages = browser_pages() or [NO_BUILD]
        metafunc.parametrize("page_path", pages, ids=pages)


# The fixtures site_url, chromium_path and browser are in conftest.py: one server and one Chromium
# for every browser test (test_slides.py and test_search.py use them too).


# --------------------------------------------------------------------------------- page checks
WAIT_FOR_MATHJAX = """async (ms) => {
  const mj = document.querySelector('script[src*="mathjax" i]');
  if (!mj) return "no-mathjax";
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > ms) return "MathJax did not start (" + mj.src + ")";
    await new Promise(r => setTimeout(r, 50));
  }
  const timeout = new Promise(r => setTimeout(() => r("MathJax did not finish in " + ms + " ms"), ms));
  return await Promise.race([MathJax.startup.promise.then(() => "done"), timeout]);
}"""

WAIT_FOR_IMAGES = """async (ms) => {
  const imgs = [...document.images];
  imgs.forEach(i => { if (i.loading === "lazy") i.loading = "eager"; });
  const pending = imgs.filter(i => !i.complete).map(
      i => new Promise(r => { i.addEventListener("load", r); i.addEventListener("error", r); }));
  await Promise.race([Promise.all(pending), new Promise(r => setTimeout(r, ms))]);
  if (document.fonts) await Promise.race([document.fonts.ready, new Promise(r => setTimeout(r, ms))]);
  return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
}"""

MATH_STATE = """() => {
  const math = [...document.querySelectorAll(".math")];
  return {
    math: math.length,
    dollars: (() => {  // $$ outside code
      const body = document.body.cloneNode(true);
      body.querySelectorAll("pre, code, script").forEach(e => e.remove());
      return body.textContent.includes("$$");
    })(),
    containers: document.querySelectorAll("mjx-container").length,
    untypeset: math.filter(e => !e.querySelector("mjx-container"))
                   .map(e => e.textContent.trim().slice(0, 80)),
    // TeX errors, and undefined macros (MathJax's noundefined shows them as red text)
    errors: [...document.querySelectorAll(
                 'mjx-merror, mjx-assistive-mml merror, mjx-assistive-mml mtext[mathcolor="red"]')]
                .map(e => e.getAttribute("data-mjx-error") || e.textContent.slice(0, 80)),
  };
}"""

# The page's text without code (raw TeX there is fine: it is code). textContent rather than
# innerText: it includes the hidden parts too (closed solution dropdowns), which MathJax also typesets.
TEXT_WITHOUT_CODE = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll("pre, code, script, style, textarea, noscript, template, mjx-assistive-mml")
      .forEach(e => e.remove());
  return body.textContent;
}"""

# Known, understood errors, tolerated only on a page whose HTML shows their cause; add an entry
# (regex, cause) only for an error understood to be harmless, and delete it when its cause is fixed.
KNOWN_ERRORS: list = []

# ------------------------------------------------------------------------------ accessibility
AXE_VERSION = re.search(r"^AXE_VERSION := (\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"),
                        re.M).group(1)
AXE = ROOT / ".cache" / "vendor" / f"axe-core@{AXE_VERSION}" / "axe.min.js"
# Highlighted code and typeset math are thousands of <span>s (MathJax: one per glyph) sharing a few
# colours: axe checks the page without them, then the first few of each; seconds, not a minute.
AXE_RUN = """async (only) => {
  const options = {resultTypes: ["violations"], preload: false};  // no refetching of CSS
  if (only) options.runOnly = {type: "rule", values: only};
  else options.runOnly = {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                  "best-practice"]};
  const code = [...document.querySelectorAll("div.highlight")].slice(0, 4).concat(
      [...document.querySelectorAll("mjx-container")].slice(0, 4));
  const page = await axe.run({exclude: [["div.highlight"], ["mjx-container"]]}, options);
  const violations = page.violations;
  if (code.length) {
    const some = await axe.run({include: code}, options);
    for (const v of some.violations) {
      const same = violations.find(w => w.id === v.id);
      if (same) same.nodes.push(...v.nodes); else violations.push(v);
    }
  }
  return violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + (n.failureSummary ?
        " -- " + n.failureSummary.split("\\n").slice(1).join(" ").slice(0, 160) : "")),
    count: v.nodes.length}));
}"""
IMAGES_WITHOUT_ALT = """() => [...document.querySelectorAll("img")]
  .filter(i => i.getAttribute("role") !== "presentation")
  .filter(i => { const a = (i.getAttribute("alt") || "").trim();
                 return !a || /\\.(png|jpe?g|svg|gif)$/i.test(a) || /^[.\\/]/.test(a); })
  .map(i => i.getAttribute("src"))"""


def _axe_problems(violations: list, mode: str) -> list[str]:
    return [f"axe ({mode}): {v['impact']} {v['id']} ({v['help']}), {v['count']} element(s): "
            + "; ".join(v["nodes"]) for v in violations]


def accessibility(page) -> list[str]:
    """axe-core's serious and critical violations, light theme and (contrast) dark theme; images
    without real alt text."""
    if not AXE.is_file():
        return [f"{AXE} is missing: run `make test` (the Makefile fetches axe-core {AXE_VERSION})"]
    page.add_script_tag(path=str(AXE))
    problems = _axe_problems(page.evaluate(AXE_RUN, None), "light")
    # the dark theme, switched without its colour transitions (axe would read colours half-way)
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    page.evaluate("""() => { document.documentElement.dataset.theme = "dark";
                             document.documentElement.dataset.mode = "dark"; }""")
    page.wait_for_timeout(50)
    problems += _axe_problems(page.evaluate(AXE_RUN, ["color-contrast", "link-in-text-block"]), "dark")
    page.evaluate("""() => { document.documentElement.dataset.theme = "light";
                             document.documentElement.dataset.mode = "light"; }""")
    problems += [f"image without alt text (or a file name as its alt): {src}"
                 for src in page.evaluate(IMAGES_WITHOUT_ALT)]
    return problems


RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\(?:frac|sum)(?![A-Za-z])")


def colab_expected(page_path: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", str(repo.get("url", "")))
    assert m, f"_config.yml: repository.url is not https://github.com/OWNER/REPO: {repo.get('url')!r}"
    name = Path(page_path).stem
    # the chapter's Colab edition, on the branch the publishing workflow writes
    return f"{COLAB}github/{m.group(1)}/{m.group(2)}/blob/colab/notebooks/{name}.ipynb"


def test_page(page_path, site_url, browser):
    if page_path == NO_BUILD:
        pytest.fail(f"no pages in {SITE}: run `make book` first", pytrace=False)
    # a new context per page: empty storage, so every page is a reader's first visit
    context, page, problems, blocked = offline_page(browser, site_url, {"width": 1280, "height": 900},
                                                    failed_requests=True)
    try:
        page.goto(site_url + page_path, wait_until="load")

        state = page.evaluate(WAIT_FOR_MATHJAX, TIMEOUT_MS)
        if state not in {"done", "no-mathjax"}:
            problems.append(state)

        broken = page.evaluate(WAIT_FOR_IMAGES, 15_000)
        problems += [f"image not loaded: {src}" for src in broken]

        math = page.evaluate(MATH_STATE)
        if math["math"] or math["dollars"]:
            if state == "no-mathjax":
                problems.append(f"{math['math']} math elements but no MathJax on the page")
            elif not math["containers"]:
                problems.append("math on the page but nothing typeset (no mjx-container)")
            problems += [f"math not typeset: {t!r}" for t in math["untypeset"][:10]]
        problems += [f"TeX error from MathJax: {e}" for e in math["errors"][:10]]

        if page_path.startswith("notebooks/"):
            links = page.eval_on_selector_all(
                f'a[href^="{COLAB}"]', "els => els.map(e => e.getAttribute('href'))")
            expected = colab_expected(page_path)
            if not links:
                problems.append(f"no Colab launch link (expected {expected})")
            problems += [f"Colab link {h} is not {expected}" for h in sorted(set(links)) if h != expected]

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / (page_path.removesuffix(".html").replace("/", "_") + ".png")
        page.screenshot(path=str(shot), full_page=True, animations="disabled")

        problems += accessibility(page)

        text = page.evaluate(TEXT_WITHOUT_CODE)
        for m in list(RAW_TEX.finditer(text))[:10]:
            around = " ".join(text[max(0, m.start() - 40): m.end() + 40].split())
            problems.append(f"raw TeX in the text: ...{around}...")
    finally:
        context.close()
    html = (SITE / page_path).read_text(encoding="utf-8", errors="replace")
    problems = [p for p in problems
                if not any(rx.search(p) and cause(html) for rx, cause in KNOWN_ERRORS)]
    problems = [f"request to another host blocked: {u}" for u in blocked] + problems
    if problems:
        pytest.fail(f"{page_path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems),
                    pytrace=False)


# ------------------------------------------------------------------------------------- phone
PHONE = {"width": 390, "height": 844}
PHONE_PAGES = ["notebooks/41_transformer.html", "book/glossary.html", "book/teaching.html"]
# what is wider than the phone: anything but code, equations and tables in their scroll boxes
WIDE_THINGS = """() => {
  const w = document.documentElement.clientWidth;
  const inScrollBox = (e) => {
    for (let p = e.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === "auto" || o === "scroll") && p.clientWidth <= w) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 1; })
    .filter(e => !inScrollBox(e))
    .filter(e => !e.classList.contains("skip-link"))  // off-screen until focused
    .filter(e => !e.closest("dialog, .bd-sidebar-primary, .bd-sidebar-secondary, mjx-assistive-mml"))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + "." + [...e.classList].join("."));
}"""


def offline_page(browser, site_url: str, viewport: dict, failed_requests: bool = False):
    """A reader's first visit, offline: a new context (empty storage, no service worker) whose
    requests to any host but the site's are blocked. Returns ``(context, page, problems, blocked)``:
    ``problems`` collects console errors, uncaught exceptions and HTTP errors (and, with
    ``failed_requests``, requests that failed other than by the block); ``blocked`` the blocked URLs.
    The caller closes the context."""
    origin = urlsplit(site_url)
    problems: list[str] = []
    blocked: list[str] = []

    def route(r):
        u = urlsplit(r.request.url)
        if u.scheme in {"data", "blob"} or (u.scheme, u.hostname, u.port) == (
                origin.scheme, origin.hostname, origin.port):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context = browser.new_context(viewport=viewport, service_workers="block")
    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: m.type == "error" and problems.append(
        f"console error: {m.text} (at {m.location.get('url')}:{m.location.get('lineNumber')})"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} for {r.url}"))
    if failed_requests:
        page.on("requestfailed", lambda r: r.url not in blocked and problems.append(
            f"request failed: {r.url} ({r.failure})"))
    return context, page, problems, blocked


@pytest.mark.parametrize("phone_page", PHONE_PAGES)
def test_phone_menu_opens_and_nothing_overflows(phone_page, site_url, browser):
    page_path = phone_page
    """At 390 px the ☰ opens the chapter menu, and only code and equations scroll sideways."""
    if not (SITE / page_path).is_file():
        pytest.fail(f"{page_path} was not built: run `make book` first", pytrace=False)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(site_url) else r.abort())
        page.goto(site_url + page_path, wait_until="load", timeout=TIMEOUT_MS)
        page.evaluate(WAIT_FOR_MATHJAX, TIMEOUT_MS)
        toggle = [t for t in page.query_selector_all(".primary-toggle") if t.is_visible()]
        assert toggle, f"{page_path}: no visible ☰ at {PHONE['width']} px"
        toggle[0].click()
        page.wait_for_timeout(300)
        opened = page.evaluate("""() => { const d = document.querySelector('#pst-primary-sidebar-modal');
            return d ? {open: d.open, links: d.querySelectorAll('a.reference').length} : null; }""")
        assert opened and opened["open"], f"{page_path}: the ☰ did not open the chapter menu ({opened})"
        assert opened["links"] >= 13, f"{page_path}: the menu shows {opened['links']} links, not the chapters"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"phone_menu_{Path(page_path).stem}.png"))
        page.keyboard.press("Escape")
        wide = page.evaluate(WIDE_THINGS)
        assert not wide, f"{page_path}: wider than the phone, outside a scroll box: {wide}"
    finally:
        context.close()
