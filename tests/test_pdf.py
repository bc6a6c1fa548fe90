"""The printed book (``tools/print_book.py``; ``make book`` makes it): a student edition,
``_build/html/attnbook.pdf``, and an instructor edition with the solutions,
``_build/html/attnbook-instructor.pdf``.

Read with pypdf, no browser: a page per chapter at least; every page of ``_toc.yml`` there by its
title; a contents page and bookmarks (each chapter, at its page, with its sections); no link to the
temporary print server (links go inside the PDF or to the hosted site); no bookkeeping cell
(``rec.finish();``, the asserts and glue behind the prose) and no page left nearly empty; the
solutions left out of the student edition and all there in the instructor's; the Korean glossary
terms there as text, whole (never broken inside a word), set in an embedded CJK font; the math
typeset (MathJax's fonts embedded, no raw TeX or MyST left in the text); the figures embedded.
Nothing clipped: ``print_book.py`` measures the print page in Chromium before printing and stops on
anything wider than the column (its ``print/report.json`` says what it scaled); the browser test
here measures the print page again. Pages are drawn (pypdfium2) as
``_build/screenshots/pdf_<edition>_<what>.png``.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from html import unescape
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
SCREENSHOTS = Path(os.environ.get("ATTNBOOK_SCREENSHOTS") or SITE.parent / "screenshots")

import print_book  # noqa: E402

EDITIONS = list(print_book.EDITIONS)            # student, instructor
PDF = SITE / print_book.PDF_NAME                # the student edition (the site's "book PDF" button)
FOOTER = re.compile(r"^\s*\d+\s*/\s*\d+\s*$", re.M)


def site_language() -> str:
    """The edition the site is (the Korean one is tested with ATTNBOOK_SITE=_build/html/ko)."""
    first = SITE / f"{print_book.toc_docs(ROOT)[0]}.html"
    return "ko" if first.is_file() and '<html lang="ko"' in first.read_text(encoding="utf-8")[:3000] else "en"


LANG = site_language()
CONTENTS = print_book.WORDS[LANG]["contents"]
# how sphinx-exercise titles a solution and an exercise, in the site's language
SOLUTION = {"en": "SolutiontoExercise", "ko": "해답연습"}[LANG]
EXERCISE = {"en": r"(?<!to)Exercise\(\d+\.\d+", "ko": r"(?<!해답)연습\(\d+\.\d+"}[LANG]


def squash(text: str) -> str:
    """Text without whitespace, with typographic ligatures unfolded (the PDF sets "fi" as "ﬁ")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_path(edition: str) -> Path:
    return SITE / print_book.EDITIONS[edition][0]


_READ: dict[str, tuple] = {}


def read(edition: str):
    if edition not in _READ:
        path = pdf_path(edition)
        if not path.is_file():
            if os.environ.get("ATTNBOOK_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
                pytest.skip("no PDF: Chromium was skipped (ATTNBOOK_SKIP_BROWSER=1)")
            pytest.fail(f"{path} is missing: run `make book` (tools/print_book.py prints it)", pytrace=False)
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        _READ[edition] = (reader, [p.extract_text() or "" for p in reader.pages])
    return _READ[edition]


@pytest.fixture(scope="module", params=EDITIONS)
def pdf(request):
    return read(request.param)


@pytest.fixture(scope="module")
def student():
    return read("student")


@pytest.fixture(scope="module")
def instructor():
    return read("instructor")


def fonts_and_images(reader) -> tuple[set[str], int]:
    fonts: set[str] = set()
    images: set[int] = set()

    def walk(res):
        if not res:
            return
        res = res.get_object()
        for f in (res.get("/Font") or {}).values():
            f = f.get_object()
            names = [f.get("/BaseFont")]
            if f.get("/FontDescriptor"):
                names.append(f["/FontDescriptor"].get_object().get("/FontName"))
            for d in f.get("/DescendantFonts") or []:
                names.append(d.get_object().get("/BaseFont"))
            fonts.update(str(n).split("+")[-1] for n in names if n)
        for ref in (res.get("/XObject") or {}).values():
            x = ref.get_object()
            if x.get("/Subtype") == "/Image":
                images.add(ref.idnum if hasattr(ref, "idnum") else id(x))
            walk(x.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return fonts, len(images)


def page_titles() -> dict[str, str]:
    titles = {}
    for doc in print_book.toc_docs(ROOT):
        html = (SITE / f"{doc}.html").read_text(encoding="utf-8")
        m = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        assert m, f"{doc}.html has no <h1>"
        titles[doc] = " ".join(unescape(re.sub(r"<[^>]+>", "", m.group(1))).replace("#", "").split())
    return titles


def bookmarks(reader) -> list[tuple[int, str, int]]:
    """``(depth, title, page index)`` of every bookmark, in order."""
    out = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return out


def uris(reader) -> list[str]:
    found = []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            action = a.get("/A")
            if a.get("/Subtype") == "/Link" and action is not None and action.get_object().get("/URI"):
                found.append(str(action.get_object()["/URI"]))
    return found


def report() -> dict:
    path = SITE / "print" / print_book.REPORT
    assert path.is_file(), f"{path} is missing: tools/print_book.py writes it with the PDFs"
    return json.loads(path.read_text(encoding="utf-8"))


def test_both_editions_are_printed():
    for edition in EDITIONS:
        read(edition)
    assert print_book.PDF_NAME == "attnbook.pdf"   # the site's "book PDF" button points at it


def test_a_page_at_least_per_chapter(pdf):
    reader, pages = pdf
    docs = print_book.toc_docs(ROOT)
    assert len(pages) >= len(docs) + 2, f"{len(pages)} pages for {len(docs)} chapters, a title and a contents page"
    assert len(pages) < 2000


def test_every_chapter_is_there_by_its_title(pdf):
    _, pages = pdf
    text = squash("".join(pages))
    missing = [f"{doc}: {title!r}" for doc, title in page_titles().items() if squash(title) not in text]
    assert not missing, f"chapters missing from the PDF: {missing}"


def test_contents_page_and_bookmarks(pdf):
    """Page 2 is the contents, with every chapter and the page it starts on; each chapter is a
    bookmark that opens at that page (its title is there), with its sections under it."""
    reader, pages = pdf
    marks = bookmarks(reader)
    titles = page_titles()
    assert squash(pages[1]).startswith(CONTENTS), f"page 2 is not the contents: {pages[1][:80]!r}"
    contents = squash("".join(p for p in pages[1:6] if CONTENTS in p or "....." not in p))
    by_title = {squash(t): (d, i) for d, t, i in marks}
    problems = []
    for doc, title in titles.items():
        if squash(title) not in by_title:
            problems.append(f"{doc}: no bookmark {title!r}")
            continue
        _, page = by_title[squash(title)]
        if squash(title) not in squash(pages[page]):
            problems.append(f"{doc}: its bookmark opens page {page + 1}, which does not show {title!r}")
        if squash(title) + str(page + 1) not in contents:
            problems.append(f"{doc}: the contents do not give {title!r} page {page + 1}")
    assert not problems, "\n".join(problems)
    chapters = {i for i, (d, t, _) in enumerate(marks) if squash(t) in {squash(x) for x in titles.values()}}
    nested = [i for i in chapters if i + 1 < len(marks) and marks[i + 1][0] > marks[i][0]]
    assert len(nested) >= len([d for d in titles if d.startswith("notebooks/")]), \
        "every chapter's bookmark should hold its sections"
    assert len(marks) > 3 * len(titles), f"only {len(marks)} bookmarks for {len(titles)} pages"


def test_links_go_inside_the_pdf_or_to_the_hosted_site(pdf):
    reader, _ = pdf
    links = uris(reader)
    local = [u for u in links if re.match(r"https?://(127\.0\.0\.1|localhost|\[::1\])", u)]
    assert not local, f"{len(local)} links to the temporary print server, e.g. {local[:3]}"
    hosted = print_book.hosted_site(ROOT)
    ours = [u for u in links if ".github.io/" in u]
    assert all(u.startswith(hosted) for u in ours), f"links to another site than {hosted}: {ours[:3]}"
    inside = sum(1 for p in reader.pages for a in p.get("/Annots") or []
                 if a.get_object().get("/Subtype") == "/Link" and a.get_object().get("/Dest") is not None)
    assert inside > 100, f"only {inside} links inside the PDF (cross references, citations, contents)"


def test_no_bookkeeping_and_no_empty_page(pdf):
    """No ``rec.finish();`` or other bookkeeping-only cell; no page (but the title page) with
    hardly anything on it, such as a page holding one line of code."""
    _, pages = pdf
    text = "".join(pages)
    assert "rec.finish()" not in text
    # a page with little on it is fine when it is the tail of the contents or of a table; what
    # must never happen is a page that is empty, or holds only a line of code (``rec.finish();``)
    code_line = re.compile(r"^\s*(?:[\w.]+\(.*\)|\w+\s*=.*)\s*;?\s*$")
    bare = []
    for i, p in enumerate(pages):
        body = FOOTER.sub("", p).strip()
        lines = [line for line in body.splitlines() if line.strip()]
        if i > 0 and (len(body) < 10 or (len(body) < 120 and all(code_line.match(x) for x in lines))):
            bare.append((i + 1, body[:60]))
    assert not bare, f"empty pages, or pages holding only code: {bare}"


def test_the_print_page_holds_no_bookkeeping_cell():
    from bs4 import BeautifulSoup

    page = (SITE / "print" / print_book.EDITIONS["student"][1]).read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert print_book.drop_bookkeeping(soup) == [], "tools/print_book.py left a bookkeeping cell in"
    assert report()["student"]["bookkeeping_cells_left_out"] > 0


def test_solutions_only_in_the_instructor_edition(student, instructor):
    site = sum(len(re.findall(r'class="solution\b', (SITE / f"{d}.html").read_text(encoding="utf-8")))
               for d in print_book.toc_docs(ROOT))
    assert site > 0, "no solutions on the site"
    exercises = sum(len(re.findall(r'class="exercise\b', (SITE / f"{d}.html").read_text(encoding="utf-8")))
                    for d in print_book.toc_docs(ROOT))

    def count(pages, what):
        return len(re.findall(what, squash("".join(pages))))

    assert count(student[1], SOLUTION) == 0, "the student edition prints solutions"
    assert count(instructor[1], SOLUTION) == site, "the instructor edition misses solutions"
    for name, (_, pages) in {"student": student, "instructor": instructor}.items():
        shown = count(pages, EXERCISE)
        assert shown >= exercises, f"the {name} edition shows {shown} of {exercises} exercises"
    assert len(instructor[1]) > len(student[1])


def test_korean_is_whole_and_set_in_an_embedded_cjk_font(pdf):
    reader, pages = pdf
    fonts, _ = fonts_and_images(reader)
    cjk = [f for f in fonts if re.search(r"CJK|KR|Nanum|Gothic|Hangul|Batang|Gulim", f, re.I)]
    assert cjk, f"no CJK font embedded (Hangul would be boxes): fonts {sorted(fonts)}"
    assert not [f for f in fonts if "LastResort" in f]
    assert "\ufffd" not in "".join(pages), "a character could not be mapped back to text"
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    words = sorted(set(re.findall(r"[\uac00-\ud7a3]+", glossary)))
    assert len(words) > 20
    text = "\n".join(pages)
    missing = [w for w in words if w not in squash(text)]
    assert not missing, f"Korean glossary words missing from the PDF's text: {missing[:20]}"
    # no Korean word of the book broken across two lines ("어텐션 스코/어"): of all the words of
    # the print page, none is found split at a line break (unless both halves are words too)
    page = (SITE / "print" / print_book.EDITIONS["student"][1]).read_text(encoding="utf-8")
    every = set(words) | set(re.findall(r"[\uac00-\ud7a3]+", page))
    lines = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    # (a word at a line's end and another at the next line's start are two words: the split must
    # have no Hangul before it or after it, as a word of its own would)
    hangul = "\uac00-\ud7a3"
    broken = [f"{w[:k]}/{w[k:]}" for w in sorted(every) for k in range(1, len(w))
              if f"{w[:k]}\n{w[k:]}" in lines and not (w[:k] in every and w[k:] in every)
              and re.search(f"(?<![{hangul}]){re.escape(w[:k])}\n{re.escape(w[k:])}(?![{hangul}])", lines)]
    assert not broken, f"Korean words broken across lines: {broken[:20]}"


def test_math_is_typeset_and_no_markup_is_left(pdf):
    reader, pages = pdf
    fonts, _ = fonts_and_images(reader)
    assert any(f.startswith("MathJax") for f in fonts), f"no MathJax font embedded: {sorted(fonts)}"
    text = "".join(pages)
    for raw in ("$$", "\\frac", "\\begin{", "\\(", "{glue", "{cite}", "{doc}"):
        assert raw not in text, f"raw markup {raw!r} in the PDF's text"


def test_nothing_was_clipped():
    """What print_book.py measured in Chromium before printing: every display equation fits the
    column (the wide ones scaled down, not too far), nothing else reaches past it."""
    facts = report()
    for edition in EDITIONS:
        r = facts[edition]
        assert r["equations"] > 10, f"{edition}: only {r['equations']} display equations measured"
        assert r["overflow"] == [], f"{edition}: clipped: {r['overflow'][:5]}"
        small = [e for e in r["equations_scaled"] if e["scale"] < 0.5]
        assert not small, f"{edition}: equations scaled below half size (split them): {small}"
        assert os.path.getmtime(SITE / print_book.PDF_NAME) <= os.path.getmtime(SITE / "print" / print_book.REPORT)


@pytest.mark.browser
def test_the_print_page_fits_its_column(site_url, browser):
    """The same measure, again, in Chromium: the print page laid out at the printed column's width."""
    page = browser.new_page(viewport={"width": print_book.COLUMN_PX, "height": 1000})
    try:
        page.set_default_timeout(180_000)
        page.emulate_media(media="print")
        page.goto(f"{site_url}print/{print_book.EDITIONS['instructor'][1]}", wait_until="load")
        assert page.evaluate(print_book.PREPARE, 120_000) == "ok"
        fit = page.evaluate(print_book.FIT)
    finally:
        page.close()
    assert fit["equations"] > 10
    assert fit["overflow"] == [], f"wider than the column: {fit['overflow'][:5]}"


def test_figures_are_embedded(pdf):
    reader, _ = pdf
    _, images = fonts_and_images(reader)
    page = (SITE / "print" / "book.html").read_text(encoding="utf-8")
    figures = set(re.findall(r'<img[^>]+src="(\.\./_images/[^"]+)"', page))
    assert figures, "the print page has no figures"
    assert images >= len(figures) * 0.9, f"{images} images in the PDF for {len(figures)} figures"


def test_screenshots_of_pages(student, instructor):
    import pypdfium2

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for edition, (reader, pages) in {"student": student, "instructor": instructor}.items():
        marks = bookmarks(reader)
        gat = next((i for _, t, i in marks if "The GAT layer" in t), None)
        shots = {"title": 0, "contents": 1,
                 "equation": gat if gat is not None else next(
                     (i for i, t in enumerate(pages) if i > 2 and "softmax" in t), 2),
                 "glossary": next((i for _, t, i in marks if "Glossary" in t), 1)}
        if edition == "instructor":
            shots["solution"] = next((i for i, t in enumerate(pages) if "Solution to" in t), 2)
        doc = pypdfium2.PdfDocument(str(pdf_path(edition)))
        for what, i in shots.items():
            image = doc[i].render(scale=1.5).to_pil().convert("L")
            lo, hi = image.getextrema()
            assert hi - lo > 128, f"page {i + 1} of the {edition} PDF renders blank ({lo}..{hi})"
            image.save(SCREENSHOTS / f"pdf_{edition}_{what}.png")
        doc.close()
