r"""The chapters' slides (``tools/slides.py``): how a notebook becomes a deck, and every deck in Chromium.

Unit tests (no build needed): headings start slides, a slide holds one figure/equation/code and the
first sentences of the paragraphs (the rest goes to the speaker notes), setup and bookkeeping code
never reaches a slide, each exercise has a slide with its solution in the notes, solutions and
``notes`` cells go to the speaker notes, optional slide tags are respected, the book hides speaker
notes, the pinned reveal.js version is the Makefile's. Browser tests (``make book`` first): every
chapter of ``_toc.yml`` has a deck that opens with no request leaving the machine, no console
error, its math typeset, its figures loaded, speaker notes present and no serious or critical
axe-core violation, and **every slide** measured at 1280×800: nothing past its edges, no raw TeX
(``$``, ``\(``), at most 80 words of prose, no setup or bookkeeping code, notes (the solution) on
every exercise slide. Screenshots of a few slides are saved as
``_build/screenshots/slides_<chapter>_<n>.png``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

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


def visible(section: str) -> str:
    return section.split('<aside class="notes">')[0]


def notes(section: str) -> str:
    parts = section.split('<aside class="notes">')
    return parts[1] if len(parts) > 1 else ""


def test_a_slide_shows_first_sentences_and_one_visual_the_rest_goes_to_the_notes(tmp_path):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    figure = {"output_type": "display_data", "metadata": {}, "data": {"image/png": png, "text/plain": "<Figure>"}}
    html, _ = deck([md("# T"),
                    md("## Model\n\nThe encoder reads the source. It has $N$ layers, each with two "
                       "sub-layers.\n\nThe decoder writes the target. It attends to the encoder.\n\n"
                       "$$\ny = f(x)\n$$\n\nwhere $f$ is the model. More words here.\n\n$$\nz = g(y)\n$$"),
                    code("fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()", [figure])], tmp_path)
    secs = sections(html)[1:]
    assert "<h2>Model</h2>" in secs[0]
    shown = visible(secs[0])
    assert "The encoder reads the source." in shown and "The decoder writes the target." in shown
    assert "each with two" not in shown and "each with two" in notes(secs[0]), "the rest of a paragraph: notes"
    for s in secs:   # one figure, equation or piece of code per slide
        v = visible(s)
        assert v.count('class="equation"') + v.count("<img") + v.count('class="code"') <= 1, v
    assert sum('class="equation"' in s for s in secs) == 2 and sum("<img" in s for s in secs) == 1
    assert "Model (continued)" in html
    assert "plt.subplots" not in html, "a figure's slide shows the figure, not the code that draws it"


def test_a_long_first_sentence_is_cut_at_a_clause_and_kept_whole_in_the_notes(tmp_path):
    long = ("The attention RNN of chapter 21 is trained exactly as the task trains it, with batches of "
            "64 and Adam, and it is scored every 25 steps on the held-out examples, by greedy decoding "
            "of each of them, in one pass, until it reaches the target or its budget runs out.")
    html, _ = deck([md("# T"), md(f"## Race\n\n{long}")], tmp_path)
    sec = sections(html)[1]
    assert "…" in visible(sec) and "budget runs out" not in visible(sec)
    assert "budget runs out" in notes(sec)
    assert slides.count_words(re.sub(r"<[^>]+>", " ", visible(sec))) <= slides.SENTENCE_WORDS + 4


def test_sentences_keep_math_code_and_abbreviations_whole():
    assert slides.sentences("See e.g. the $x. Y$ score (Vaswani et al. 2017). Then `a. B` runs. Done") == [
        "See e.g. the $x. Y$ score (Vaswani et al. 2017).", "Then `a. B` runs.", "Done"]


def test_inline_math_that_wraps_onto_a_new_line_is_math(tmp_path):
    html, _ = deck([md("# The chapter\n\nIt uses $\\mathcal{N}(i)\n\\cup \\{i\\}$ and $a +\nb$ twice.")],
                   tmp_path)
    text = re.sub(r"\\\(.*?\\\)", "", visible(sections(html)[0]), flags=re.S)
    assert "$" not in text, text


def test_setup_and_bookkeeping_code_never_reaches_a_slide(tmp_path):
    setup = ("import torch\nfrom attnbook.results import glue\n\nseed_everything(0)\n"
             "rec = results.Recorder('99_toy')\ntorch.set_num_threads(1)")
    checks = ("ratio = a / b\nassert ratio > 2, ratio\nfor k, v in PAPER.items():\n"
              "    glue(f'paper_{k}', v, display=False)\nrec.record('toy/ratio', ratio)")
    mixed = ("model = train(data)\nacc = score(model)\n# the claim below\nassert acc > 0.9\n"
             "glue('acc', acc)\nprint(model)")
    out = [{"output_type": "stream", "name": "stdout", "text": "Model()\n"}]
    html, n = deck([md("# T"), code(setup), md("## A\n\nText."), code(checks), code(mixed, out),
                    code("print(model)", out), code("rec.finish();")], tmp_path)
    for word in ("import", "seed_everything", "glue(", "assert", "rec.record", "rec.finish", "ratio",
                 "the claim below"):
        assert word not in html, word
    assert "model = train(data)" in html and "print(model)" in html, "the code that teaches stays"
    assert "acc = score(model)" not in html, "an assignment that only feeds a check is bookkeeping"
    kind, shown = slides.split_code(mixed, used_later={"acc"})
    assert kind == "code" and "acc = score(model)" in shown, "unless a later cell reads it"
    assert slides.split_code(setup)[0] == "setup" and slides.split_code(checks)[0] == "bookkeeping"


def test_each_exercise_has_its_slide_with_its_solution_in_the_notes(tmp_path):
    html, _ = deck([md("# T"), md("## Exercises"),
                    md("```{exercise} 99.1 · Count ★\n:label: ex-a\n:nonumber:\nCount the weights.\n```\n\n"
                       "```{exercise} 99.2 · Scale ★★\n:label: ex-b\n:nonumber:\nWhy scale?\n```"),
                    md("```{solution} ex-b\n:class: dropdown\nBecause of the variance.\n```\n\n"
                       "```{solution} ex-a\n:class: dropdown\nThere are 42.\n```"),
                    md("## Summary\n\nDone.")], tmp_path)
    secs = sections(html)
    ex = [s for s in secs if 'class="exercise"' in s]
    assert len(ex) == 2
    assert "Exercise 99.1 · Count ★" in visible(ex[0]) and "Count the weights." in visible(ex[0])
    assert "There are 42." in notes(ex[0]) and "Solution to Exercise 99.1 · Count ★" in notes(ex[0])
    assert "Because of the variance." in notes(ex[1]) and "42" not in ex[1]
    summary = next(s for s in secs if "<h2>Summary</h2>" in s)
    assert "Solution" not in summary


def test_long_code_and_long_tables_are_cut_or_continued(tmp_path):
    long_code = "\n".join(f"x{i} = f({i})" for i in range(40))
    table = "| a | b |\n|---|---|\n" + "\n".join(f"| {i} | {i * i} |" for i in range(25))
    html, _ = deck([md("# T"), md("## Code"), code(long_code), md("## Table\n\n" + table)], tmp_path)
    assert "x12 = f(12)" in html and "x30 = f(30)" not in html and "more lines in the chapter" in html
    tables = [s for s in sections(html) if "<table>" in s]
    assert len(tables) == 3 and all(s.count("<tr>") <= slides.TABLE_ROWS + 1 for s in tables)


def test_the_makefile_fetches_the_pinned_reveal_version():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^REVEAL_VERSION := {re.escape(slides.REVEAL_VERSION)}$", makefile, re.M), (
        f"tools/slides.py expects reveal.js {slides.REVEAL_VERSION}: the Makefile must fetch that version")


def test_the_book_hides_speaker_notes_cells_and_the_other_editions_cells():
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
                    md("aloud too", slideshow={"slide_type": "notes"}),
                    md("English labels", tags=["lang-en"]), md("한국어 레이블", tags=["lang-ko"])]}
    source = [json.dumps(nb)]
    ext.on_source_read(App(), "notebooks/99_toy", source)
    cells = json.loads(source[0])["cells"]
    assert [("remove-cell" in c["metadata"]["tags"]) for c in cells] == [False, True, True, False, True]

    class Config:
        attnbook_edition = "ko"

    class KoreanApp(App):
        config = Config()

    source = [json.dumps(nb)]
    ext.on_source_read(KoreanApp(), "notebooks/99_toy", source)
    cells = json.loads(source[0])["cells"]
    assert [("remove-cell" in c["metadata"]["tags"]) for c in cells] == [False, True, True, True, False]


# -------------------------------------------------------------------------------- browser
from test_browser import (  # noqa: E402  (the same server and Chromium as the site's tests)
    AXE,
    AXE_RUN,
    SCREENSHOTS,
    SITE,
    TIMEOUT_MS,
    WAIT_FOR_IMAGES,
    offline_page,
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


# Every slide of a deck, shown one after the other at 1280x800 (after the deck's own fit script):
# how far what is seen goes past the slide's edges (MathJax's hidden MathML for screen readers is
# not seen), the words of prose (headings, code, tables and display math left out; inline math
# counts as one word), raw TeX or MyST left in the text, whether it is an exercise slide and what
# its speaker notes say, and the code it shows.
EVERY_SLIDE = r"""async () => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const out = [];
  for (const s of Reveal.getSlides()) {
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v);
    await frame();
    if (window.attnbookFit) await window.attnbookFit(s);
    const box = s.getBoundingClientRect(), scale = box.height / s.offsetHeight;
    let over = 0, what = "";
    for (const e of s.querySelectorAll("*")) {
      if (e.closest("aside, mjx-assistive-mml")) continue;
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height) continue;   // nothing seen (MathJax leaves empty glyph boxes below a stretched delimiter)
      const o = Math.max(r.bottom - box.bottom, r.right - box.right, box.left - r.left, box.top - r.top) / scale;
      if (o > over) { over = o; what = e.tagName.toLowerCase() + (e.className ? "." + e.className : ""); }
    }
    const c = s.cloneNode(true);
    c.querySelectorAll("aside, script, pre, code, h1, h2, h3, table, .output-html, mjx-container[display], mjx-assistive-mml")
      .forEach(e => e.remove());
    c.querySelectorAll("mjx-container").forEach(e => e.replaceWith(" x "));
    const text = c.textContent;
    const notes = s.querySelector("aside.notes");
    const h = s.querySelector("h1, h2, h3");
    out.push({n: out.length, title: h ? h.textContent.trim().slice(0, 50) : "", over: Math.round(over), what,
              fit: s.style.fontSize || "100%",
              words: (text.match(/[\p{L}\p{N}][\p{L}\p{N}'’.,:;%-]*/gu) || []).length,
              raw: (text.match(/\$|\\\(|\\\[|\\begin|\\frac|\{glue|\{cite|\{doc\}|\{ref\}|```/g) || []).slice(0, 3),
              exercise: s.classList.contains("exercise"),
              notes: notes ? notes.textContent : "",
              code: [...s.querySelectorAll("pre.code")].map(e => e.textContent).join("\n")});
  }
  Reveal.slide(0, 0);
  await frame();
  return out;
}"""
MAX_PROSE_WORDS = 80
BOOKKEEPING = re.compile(r"^\s*(import |from \S+ import |glue\(|rec\.record\(|rec\.finish\(|assert )", re.M)


def slide_problems(chapter: str, measured: list[dict]) -> list[str]:
    """What is wrong with the slides of a deck, as measured by ``EVERY_SLIDE``."""
    problems = []
    for m in measured:
        where = f"slide {m['n'] + 1} ({m['title']!r})"
        if m["over"] > 1:
            problems.append(f"{where}: {m['what']} goes {m['over']} px past the 1280x800 slide")
        if m["raw"]:
            problems.append(f"{where}: raw markup {m['raw']}")
        if m["words"] > MAX_PROSE_WORDS:
            problems.append(f"{where}: {m['words']} words of prose (at most {MAX_PROSE_WORDS})")
        if m["exercise"] and not any(w in m["notes"] for w in ("Solution", "no solution", "해답")):
            problems.append(f"{where}: an exercise slide without its solution in the notes")
        bad = BOOKKEEPING.search(m["code"])
        if bad:
            problems.append(f"{where}: setup or bookkeeping code on the slide: {bad.group(0).strip()!r}")
    return problems


def decks() -> list[str]:
    return slides.toc_chapters(ROOT)


TALK = "talk"   # the notes' own talk (tools/talk.py): ko/slides/talk.html, held to the same checks
DECKS = [(edition, chapter) for edition in ("", "ko/") for chapter in decks()] + [("ko/", TALK)]


@pytest.mark.browser
@pytest.mark.parametrize(("edition", "chapter"), DECKS,
                         ids=[f"{'ko' if e else 'en'}-{c}" for e, c in DECKS])
def test_deck(edition, chapter, site_url, browser):
    """Every deck of both editions (the Korean under ko/), and the Korean talk."""
    path = SITE / edition / "slides" / f"{chapter}.html"
    if not path.is_file():
        tool = "tools/talk.py" if chapter == TALK else "tools/slides.py"
        pytest.fail(f"no slides for {chapter}: {path} is missing (make book runs {tool})",
                    pytrace=False)
    context, page, problems, blocked = offline_page(browser, site_url, {"width": 1280, "height": 800})
    try:
        page.goto(f"{site_url}{edition}slides/{chapter}.html", wait_until="load")
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
        if ("Exercise" in source or "연습" in source) and not state["notes"]:
            problems.append("exercises but no speaker notes (their solutions)")
        # every slide: fits 1280x800, no raw TeX, <= 80 words, no bookkeeping, solutions in place
        measured = page.evaluate(EVERY_SLIDE)
        problems += slide_problems(chapter, measured)
        notebook = ROOT / "notebooks" / f"{chapter}.ipynb"
        if notebook.is_file() and not any(m["exercise"] for m in measured) and "{exercise}" in (
                notebook.read_text(encoding="utf-8")):
            problems.append("the chapter has exercises but the deck has no exercise slide")
        if chapter == TALK:   # a talk: speaker notes on every slide
            problems += [f"slide {m['n'] + 1} ({m['title']!r}): no speaker notes"
                         for m in measured if not m["notes"].strip()]
        # accessibility of the title slide (the others are hidden until shown): axe-core
        page.add_script_tag(path=str(AXE))
        problems += [f"axe: {v['impact']} {v['id']} ({v['help']}): " + "; ".join(v["nodes"])
                     for v in page.evaluate(AXE_RUN, None)]
        # screenshots: the title slide, the first slide with math after it, the first with a figure
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        wanted = [0]
        wanted += [i for i, has in state["mathSlides"] if has and i > 0][:1]
        for selector in ("img.figure", ".exercise"):   # the first figure, the first exercise
            found = page.evaluate(f"""() => [...document.querySelectorAll(".slides > section")]
                                      .findIndex(s => s.matches("{selector}") || s.querySelector("{selector}"))""")
            if found > 0:
                wanted.append(found)
        for i in dict.fromkeys(wanted):
            page.evaluate(f"Reveal.slide({i})")
            page.wait_for_timeout(150)
            page.evaluate("window.attnbookFit && window.attnbookFit(Reveal.getCurrentSlide())")
            page.screenshot(path=str(SCREENSHOTS / f"slides_{edition.strip('/') + '_' if edition else ''}{chapter}_{i}.png"))
    finally:
        context.close()
    problems = [f"request to another host blocked: {u}" for u in blocked] + problems
    if problems:
        pytest.fail(f"{edition}slides/{chapter}.html: {len(problems)} problem(s):\n  " + "\n  ".join(problems),
                    pytrace=False)
