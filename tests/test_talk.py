"""The notes' own talk (``tools/talk.py``, ``book/talk/attention_to_gat.ko.md``).

Unit tests (no build needed): the source parses into 25 to 35 slides that follow the lecture
notes' ten points in their order, each with speaker notes, a link to a chapter section and at most
a slide's words; the results the talk is built on each have their figure; every figure names a code
cell of ``notebooks/<chapter>.ipynb`` and every link an English heading's anchor; quotations of
the notes are word for word; the Korean terms are the glossary's. The parser and the figure
reader fail loudly on a mistake (a missing cell, a cell without an image, a part out of order),
and a deck built from a small book links its sections and holds its figures. With the site built
(``site``): every anchor is a section of the built English page. The browser checks of the deck
(``ko/slides/talk.html``: it fits 1280x800, no raw TeX, at most 80 words a slide, axe) are
``tests/test_slides.py::test_deck[ko-talk]``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import i18n
import pytest
import slides
import talk

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / talk.SOURCE
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
# the lecture notes (not in the repository): ATTNBOOK_NOTES, else the project's shared copy
NOTES = Path(os.environ.get("ATTNBOOK_NOTES") or "/work/shared/notes/000_42a3b80dc654d71b.txt")

# the book's measured results the talk is built on: each needs one of these figures (chapter, cell)
RESULTS = {
    "the bottleneck curve": {("11_seq2seq", "4e673112")},
    "an alignment heatmap": {("21_attention_seq2seq", "e84c8a8d")},
    "sqrt(D) saturation": {("22_similarity", "f5d720d4")},
    "salient-sentence attention": {("23_han", "adefd8b9"), ("24_han_imdb", "bf58365d")},
    "copy at distance": {("31_limits", "943cb21b")},
    "the length race": {("41_transformer", "b6aab40e")},
    "a GAT attention picture": {("51_gat_inside", "f30d8fa2"), ("51_gat_inside", "d16613f6"),
                                ("51_gat_inside", "b9e3ef43"), ("50_gat", "6913ed19")},
}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def deck() -> talk.Talk:
    return talk.read(SOURCE)


def notebook(chapter: str) -> dict:
    return json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))


def test_the_talk_follows_the_notes_ten_points_in_25_to_35_slides(deck):
    assert 25 <= len(deck.slides) <= 35, len(deck.slides)
    assert [n for n, _ in deck.parts] == list(range(1, 11))
    parts = [s.part for s in deck.slides]
    assert parts[0] == 0 and parts[1:] == sorted(parts[1:]), "the title slide, then the parts in order"
    assert set(parts[1:]) == set(range(1, 11)), "every point has a slide"


def test_every_slide_has_notes_a_section_and_few_words(deck):
    for s in deck.slides:
        where = f"{s.title!r} (line {s.line})"
        assert s.notes_text(), f"{where}: no speaker notes"
        assert re.search(r"[\uac00-\ud7a3]", s.notes_text()), f"{where}: the notes are in Korean"
        assert s.section, f"{where}: no section"
        assert s.words() <= talk.MAX_WORDS <= 80, f"{where}: {s.words()} words"
        assert len(s.lines()) <= talk.MAX_LINES and len(s.equations()) <= 1, where
        if s.figure:
            assert s.alt.strip(), f"{where}: a figure without alt text"


def test_the_listed_results_have_their_figures(deck):
    used = {s.figure[:2] for s in deck.slides if s.figure}
    missing = [name for name, cells in RESULTS.items() if not cells & used]
    assert not missing, f"no figure for {missing}"


def test_figures_name_code_cells_and_sections_name_headings_of_the_chapters(deck):
    for s in deck.slides:
        where = f"{s.title!r} (line {s.line})"
        if s.figure:
            chapter, cell_id, _ = s.figure
            cell = next((c for c in notebook(chapter)["cells"] if c.get("id") == cell_id), None)
            assert cell is not None, f"{where}: no cell {cell_id} in notebooks/{chapter}.ipynb"
            assert cell["cell_type"] == "code", f"{where}: cell {cell_id} is not a code cell"
        anchors = [talk.anchor_of(h) for h in talk.notebook_headings(notebook(s.chapter))]
        assert s.anchor in anchors, f"{where}: {s.section} is not a heading of notebooks/{s.chapter}.ipynb"


def test_quotations_of_the_notes_are_word_for_word(deck):
    quotes = [(s.title, q) for s in deck.slides for q in s.quotes()]
    assert len(quotes) >= 10, "the talk quotes the notes"
    if not NOTES.is_file():
        pytest.skip(f"the lecture notes are not here ({NOTES}; set ATTNBOOK_NOTES)")
    text = NOTES.read_text(encoding="utf-8")
    wrong = [(t, q) for t, q in quotes if q not in text]
    assert not wrong, f"not in the notes as written: {wrong}"


def test_the_korean_terms_are_the_glossarys(deck):
    refused = i18n.glossary_refused(ROOT)
    assert refused, "the glossary lists the forms the Korean edition does not use"
    problems = []
    for s in deck.slides:
        # the notes' quotations stay as written; the rest is held to the glossary
        text = "\n".join([s.title, s.part_title, s.alt, s.notes_text()] + s.lines())
        text = i18n.QUOTED.sub("", text)   # '> ...' lines and "...": the notes as written
        for variant, used in refused.items():
            rest = text.replace(used, "") if used.startswith(variant) else text
            if variant in rest:
                problems.append(f"{s.title!r}: {variant!r} (the glossary's form: {used!r})")
    assert not problems, problems


SMALL = """# 제목
section: 99_toy#toy

부제

???
노트.

## 1. 하나

### 슬라이드
section: 99_toy#first-section
figure: 99_toy abc123 | 그림

- 한 줄

$$x = 1$$

???
노트.
"""


def test_the_parser_refuses_mistakes():
    assert len(talk.parse(parts_of(SMALL), "toy").slides) == 11
    bad = {
        "speaker notes": SMALL.replace("???\n노트.\n", "", 1),
        "section:": SMALL.replace("section: 99_toy#first-section\n", ""),
        "in their order": SMALL.replace("## 1. 하나", "## 2. 둘"),
        "figure is": SMALL.replace("figure: 99_toy abc123 | 그림", "figure: 99_toy"),
        "outside a slide": SMALL.replace("## 1. 하나\n", "## 1. 하나\n떠도는 글\n"),
        "lines": SMALL.replace("- 한 줄", "- 1\n- 2\n- 3\n- 4\n- 5"),
        "more than one equation": SMALL.replace("$$x = 1$$", "$$x = 1$$\n\n$$y = 2$$"),
        "words": SMALL.replace("- 한 줄", "- " + "낱말 " * 70),
    }
    for what, text in bad.items():
        with pytest.raises(talk.TalkError, match=re.escape(what)):
            talk.parse(parts_of(text), what)
    # a talk of one part only is not the notes' talk
    with pytest.raises(talk.TalkError, match="10 points"):
        talk.parse(SMALL, "toy")


def parts_of(text: str) -> str:
    """The small talk with the notes' ten parts (one slide each), so that it parses."""
    extra = "".join(f"\n## {n}. 부분 {n}\n\n### 슬라이드 {n}\nsection: 99_toy#first-section\n\n- 줄\n\n???\n노트.\n"
                    for n in range(2, 11))
    return text + extra


def small_book(tmp_path: Path, outputs: list[dict]) -> Path:
    cells = [{"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Toy\n\n## First section\n\nText."},
             {"cell_type": "code", "id": "abc123", "metadata": {}, "source": "plt.show()",
              "outputs": outputs, "execution_count": 1}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for folder in (tmp_path / "notebooks", tmp_path / "_build" / "jupyter_execute" / "notebooks"):
        folder.mkdir(parents=True)
        (folder / "99_toy.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "_build" / "html" / "slides").mkdir(parents=True)
    return tmp_path


def test_a_deck_links_its_sections_and_holds_its_figures(tmp_path):
    figure = {"output_type": "display_data", "metadata": {}, "data": {"image/png": PNG, "text/plain": "<Figure>"}}
    book = small_book(tmp_path, [figure])
    out = book / "_build" / "html" / "slides"
    html, n = talk.build(talk.parse(parts_of(SMALL), "toy"), book, out)
    assert n == 11
    assert '<html lang="ko">' in html and 'href="talk.css"' in html
    assert 'href="../notebooks/99_toy.html#first-section"' in html and "99장 · First section" in html
    assert 'src="talk/99_toy-abc123.png"' in html and 'alt="그림"' in html
    assert (out / "talk" / "99_toy-abc123.png").read_bytes() == base64.b64decode(PNG)
    assert html.count('<aside class="notes">') == n
    assert r"\[x = 1\]" in html


def test_a_figure_without_an_image_or_a_missing_cell_stops_the_build(tmp_path):
    text = {"output_type": "stream", "name": "stdout", "text": "no figure\n"}
    book = small_book(tmp_path, [text])
    out = book / "_build" / "html" / "slides"
    with pytest.raises(talk.TalkError, match="no image"):
        talk.build(talk.parse(parts_of(SMALL), "toy"), book, out)
    with pytest.raises(talk.TalkError, match="no cell"):
        talk.build(talk.parse(parts_of(SMALL.replace("abc123", "zzz999")), "toy"), book, out)
    with pytest.raises(talk.TalkError, match="anchor"):
        talk.build(talk.parse(parts_of(SMALL.replace("#first-section", "#no-such-section", 1)), "toy"),
                   book, out)
    assert talk.main(["--book", str(book), "--source", str(tmp_path / "missing.md")]) == 1


def test_the_korean_edition_builds_the_talk_after_the_slides():
    source = (ROOT / "tools" / "korean_edition.py").read_text(encoding="utf-8")
    tools = re.search(r"for tool in \(([^)]*)\)", source).group(1)
    names = re.findall(r'"([\w.]+)"', tools)
    assert "talk.py" in names and names.index("talk.py") > names.index("slides.py")


def test_the_talk_reuses_the_chapters_deck_template():
    assert talk.slides is slides and "attnbookFit" in slides.DECK
    assert "DECK =" not in (ROOT / "tools" / "talk.py").read_text(encoding="utf-8")


@pytest.mark.site
def test_every_anchor_is_a_section_of_the_built_english_page(deck):
    missing = []
    for s in deck.slides:
        page = SITE / "notebooks" / f"{s.chapter}.html"
        if not page.is_file():
            pytest.fail(f"{page} is missing: run `make book` first", pytrace=False)
        ids = re.findall(r'<section\b[^>]*\bid="([^"]+)"', page.read_text(encoding="utf-8"))
        if s.anchor not in ids:
            missing.append(s.section)
    assert not missing, f"no such section on the English page: {missing}"


def test_the_teaching_guide_times_the_talk_at_45_minutes(deck):
    """The guide's plan (book/teaching.md) matches the deck: its slide count, each row's slides are
    the slides of its points, and the minutes add up to about 45."""
    text = (ROOT / "book" / "teaching.md").read_text(encoding="utf-8")
    section = text.split("## The notes' talk in 45 minutes", 1)[1].split("\n## ", 1)[0]
    n = re.search(r"on (\d+)\s+slides", section)
    assert n and int(n.group(1)) == len(deck.slides), "the guide says how many slides the talk has"
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \| (\d+)–(\d+) \|", section, re.M)
    assert rows, "the guide has a plan, part by part"
    assert 40 <= sum(int(r[0]) for r in rows) <= 50
    covered = []
    for _, points, first, last in rows:
        parts = {int(p) for p in re.findall(r"(?:^|; )(\d+) ", points)}
        slides_ = [k + 1 for k, s in enumerate(deck.slides) if s.part in parts or (s.part == 0 and 1 in parts)]
        assert (int(first), int(last)) == (min(slides_), max(slides_)), (points, first, last, slides_)
        covered += sorted(parts)
    assert covered == list(range(1, 11)), "every point of the notes, in order"
