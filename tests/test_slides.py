"""The chapters' slides (``tools/slides.py``): how a notebook becomes a deck, and every deck in Chromium.

Unit tests (no build needed): headings start slides, solutions and ``notes`` cells go to the speaker
notes, optional slide tags are respected, the book hides speaker notes, the pinned reveal.js
version is the Makefile's. Browser tests (``make book`` first): every chapter of ``_toc.yml`` has a
deck that opens with no request leaving the machine, no console error, its math typeset, its
figures loaded, speaker notes present and no serious or critical axe-core violation; screenshots of a few slides are saved as
``_build/screenshots/slides_<chapter>_<n>.png``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

import myst_plain  # noqa: E402
import slides  # noqa: E402


def md(source: str, tags=(), **meta) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {"tags": list(tags), **meta}}


def code(source: str, outputs=(), tags=()) -> dict:
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)},
            "outputs": list(outputs), "execution_count": 1}


def deck(cells, tmp_path) -> tuple[str, int]:
    ctx = myst_plain.Context(glue={"acc": "97.5"}, citations={"k": ("Bahdanau et al.", "2015")})
    return slides.build_deck({"cells": cells}, "99_toy", ctx, tmp_path, "The Book")


def sections(html: str) -> list[str]:
    body = html.split('<div class="slides">', 1)[1]
    return re.findall(r"<section[^>]*>.*?</section>", body, re.S)


def test_headings_start_slides_and_the_title_slide_comes_first(tmp_path):
    html, n = deck([md("# Toy chapter\n\nWhat you learn."),
                    code("# Colab", tags=["remove-cell"]),
                    md("## First\n\nText with $x^2$ and {glue:text}`acc` {cite}`k`."),
                    code("print(1)", [{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
                    md("## Second\n\nMore.\n\n### Deeper\n\nEven more.")], tmp_path)
    secs = sections(html)
    assert n == len(secs) == 4, secs
    assert "<h1>Toy chapter</h1>" in secs[0] and "The Book" in secs[0]
    assert "<h2>First</h2>" in secs[1] and "97.5" in secs[1] and "(Bahdanau et al. 2015)" in secs[1]
    assert r"\(x^2\)" in secs[1] and "print(1)" in secs[1] and '<pre class="output">1</pre>' in secs[1]
    assert "<h2>Second</h2>" in secs[2] and "<h3>Deeper</h3>" in secs[3]
    assert "# Colab" not in html, "a remove-cell cell is not on the slides"
    assert "{glue" not in html and "{cite}" not in html


def test_solutions_and_notes_cells_go_to_the_speaker_notes(tmp_path):
    html, _ = deck([md("# T"),
                    md("## Exercises\n\n```{exercise}\n:label: ex-a\nCompute it.\n```\n\n"
                       "```{solution} ex-a\n:class: dropdown\nIt is 42.\n```"),
                    md("Say this aloud.", tags=["notes"]),
                    md("Also aloud.", slideshow={"slide_type": "notes"})], tmp_path)
    ex = sections(html)[1]
    visible, notes = ex.split('<aside class="notes">')
    assert "Exercise 1" in visible and "Compute it." in visible
    assert "42" not in visible and "42" in notes
    assert "Say this aloud." in notes and "Also aloud." in notes


def test_optional_slide_tags_are_respected(tmp_path):
    html, _ = deck([md("# T"), md("## A\n\nOne."),
                    md("Two.", slideshow={"slide_type": "slide"}),
                    md("Three.", tags=["fragment"]),
                    md("Four.", tags=["slides-skip"]),
                    md("Five.", slideshow={"slide_type": "skip"}),
                    md("Six.", tags=["subslide"])], tmp_path)
    secs = sections(html)
    assert "One." in secs[1] and "Two." not in secs[1]
    assert any("Two." in s and 'class="fragment"' in s and "Three." in s for s in secs)
    assert "Four." not in html and "Five." not in html
    # a subslide is a vertical slide: nested in the section of the slide above it
    assert re.search(r"<section><section>.*Two\..*</section><section>.*Six\..*</section></section>",
                     html, re.S)


def test_figures_are_saved_beside_the_deck_with_alt_text(tmp_path):
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
    html, _ = deck([md("# T"), md("## Plot"),
                    code("plt.show()", [{"output_type": "display_data", "metadata": {},
                                         "data": {"image/png": png, "text/plain": "<Figure size 1x1>"}}])],
                   tmp_path)
    assert (tmp_path / "99_toy" / "99_toy-1.png").is_file()
    img = re.search(r"<img[^>]*>", html).group(0)
    assert 'src="99_toy/99_toy-1.png"' in img and 'alt="' in img and 'alt=""' not in img


def test_long_sections_continue_on_a_new_slide(tmp_path):
    long_code = "\n".join(f"x{i} = {i}" for i in range(30))
    html, n = deck([md("# T"), md("## Long\n\n" + "A sentence. " * 60), code(long_code), code(long_code)],
                   tmp_path)
    assert n == 3 and "Long (continued)" in html


def test_the_makefile_fetches_the_pinned_reveal_version():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^REVEAL_VERSION := {re.escape(slides.REVEAL_VERSION)}$", makefile, re.M), (
        f"tools/slides.py expects reveal.js {slides.REVEAL_VERSION}: the Makefile must fetch that version")


def test_the_book_hides_speaker_notes_cells():
    spec = importlib.util.spec_from_file_location("attnbook_publish", ROOT / "book" / "_ext" / "attnbook_publish.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    import json

    class Env:
        def doc2path(self, docname):
            return f"{docname}.ipynb"

    class App:
        env = Env()

    nb = {"cells": [md("seen"), md("aloud", tags=["notes"]),
                    md("aloud too", slideshow={"slide_type": "notes"})]}
    source = [json.dumps(nb)]
    ext.on_source_read(App(), "notebooks/99_toy", source)
    cells = json.loads(source[0])["cells"]
    assert [("remove-cell" in c["metadata"]["tags"]) for c in cells] == [False, True, True]


# -------------------------------------------------------------------------------- browser
from test_browser import (  # noqa: E402  (the same server and Chromium as the site's tests)
    AXE,
    AXE_RUN,
    SCREENSHOTS,
    SITE,
    TIMEOUT_MS,
    WAIT_FOR_IMAGES,
)

DECK_STATE = """async (ms) => {
  const t0 = Date.now();
  while (!(window.attnbookDeckReady && window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > ms) return {error: "the deck or MathJax did not start"};
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  const text = [...document.querySelectorAll(".slides section")].map(s => {
    const c = s.cloneNode(true);
    c.querySelectorAll("pre, code, script, aside, mjx-container").forEach(e => e.remove());
    return c.textContent; }).join(" ");
  return {
    slides: Reveal.getTotalSlides(),
    notes: document.querySelectorAll("aside.notes").length,
    math: document.querySelectorAll("mjx-container").length,
    errors: [...document.querySelectorAll("mjx-merror")].map(e => e.textContent.slice(0, 80)),
    rawTex: (text.match(/\\\\\\(|\\\\\\[|\\$\\$|\\{glue|\\{cite\\}|\\{doc\\}/g) || []).slice(0, 5),
    mathSlides: [...document.querySelectorAll(".slides section")].map((s, i) => [i, s.querySelector("mjx-container") ? 1 : 0]),
  };
}"""


def decks() -> list[str]:
    return slides.toc_chapters(ROOT)


@pytest.mark.browser
@pytest.mark.parametrize("chapter", decks())
def test_deck(chapter, site_url, browser):
    path = SITE / "slides" / f"{chapter}.html"
    if not path.is_file():
        pytest.fail(f"no slides for {chapter}: {path} is missing (make book runs tools/slides.py)",
                    pytrace=False)
    origin = urlsplit(site_url)
    problems, blocked = [], []

    def route(r):
        u = urlsplit(r.request.url)
        if u.scheme in {"data", "blob"} or (u.hostname, u.port) == (origin.hostname, origin.port):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} for {r.url}"))
    try:
        page.goto(f"{site_url}slides/{chapter}.html", wait_until="load")
        state = page.evaluate(DECK_STATE, TIMEOUT_MS)
        if "error" in state:
            pytest.fail(f"{chapter}: {state['error']}", pytrace=False)
        broken = page.evaluate(WAIT_FOR_IMAGES, 15_000)
        problems += [f"image not loaded: {src}" for src in broken]
        if state["slides"] < 3:
            problems.append(f"only {state['slides']} slides")
        source = path.read_text(encoding="utf-8")
        if r"\(" in source or r"\[" in source:
            if not state["math"]:
                problems.append("the deck has math but MathJax typeset none of it")
        problems += [f"TeX error: {e}" for e in state["errors"]]
        problems += [f"raw markup on a slide: {t}" for t in state["rawTex"]]
        if "Exercise" in source and not state["notes"]:
            problems.append("exercises but no speaker notes (their solutions)")
        # accessibility of the title slide (the others are hidden until shown): axe-core
        page.add_script_tag(path=str(AXE))
        problems += [f"axe: {v['impact']} {v['id']} ({v['help']}): " + "; ".join(v["nodes"])
                     for v in page.evaluate(AXE_RUN, None)]
        # screenshots: the title slide, the first slide with math after it, the first with a figure
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        wanted = [0]
        wanted += [i for i, has in state["mathSlides"] if has and i > 0][:1]
        figure = page.evaluate("""() => [...document.querySelectorAll(".slides > section")]
                                   .findIndex(s => s.querySelector("img.figure"))""")
        if figure > 0:
            wanted.append(figure)
        for i in dict.fromkeys(wanted):
            page.evaluate(f"Reveal.slide({i})")
            page.wait_for_timeout(150)
            page.screenshot(path=str(SCREENSHOTS / f"slides_{chapter}_{i}.png"))
    finally:
        context.close()
    problems = [f"request to another host blocked: {u}" for u in blocked] + problems
    if problems:
        pytest.fail(f"slides/{chapter}.html: {len(problems)} problem(s):\n  " + "\n  ".join(problems),
                    pytrace=False)
