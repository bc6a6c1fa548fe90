"""The printed book, ``_build/html/attnbook.pdf`` (``tools/print_book.py``; ``make book`` makes it).

Read with pypdf, no browser: a page per chapter at least; every page of ``_toc.yml`` there by its
title; the Korean glossary terms there as text, set in an embedded CJK font (a missing font would
leave boxes: no CJK font embedded); the math typeset (MathJax's fonts embedded, no raw TeX or
MyST left in the text); the figures embedded. Pages are drawn (pypdfium2) as
``_build/screenshots/pdf_page_<n>.png``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from html import unescape
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
PDF = SITE / "attnbook.pdf"
SCREENSHOTS = SITE.parent / "screenshots"

import print_book  # noqa: E402


def squash(text: str) -> str:
    """Text without whitespace, with typographic ligatures unfolded (the PDF sets "fi" as "ﬁ")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def pdf():
    if not PDF.is_file():
        if os.environ.get("ATTNBOOK_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
            pytest.skip("no PDF: Chromium was skipped (ATTNBOOK_SKIP_BROWSER=1)")
        pytest.fail(f"{PDF} is missing: run `make book` (tools/print_book.py prints it)", pytrace=False)
    from pypdf import PdfReader

    reader = PdfReader(str(PDF))
    pages = [p.extract_text() or "" for p in reader.pages]
    return reader, pages


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
        titles[doc] = unescape(re.sub(r"<[^>]+>", "", m.group(1))).replace("#", "").strip()
    return titles


def test_a_page_at_least_per_chapter(pdf):
    reader, pages = pdf
    docs = print_book.toc_docs(ROOT)
    assert len(pages) >= len(docs) + 1, f"{len(pages)} pages for {len(docs)} chapters and a title page"
    assert len(pages) < 2000


def test_every_chapter_is_there_by_its_title(pdf):
    _, pages = pdf
    text = squash("".join(pages))
    missing = [f"{doc}: {title!r}" for doc, title in page_titles().items() if squash(title) not in text]
    assert not missing, f"chapters missing from the PDF: {missing}"


def test_korean_is_set_in_an_embedded_cjk_font(pdf):
    reader, pages = pdf
    fonts, _ = fonts_and_images(reader)
    cjk = [f for f in fonts if re.search(r"CJK|KR|Nanum|Gothic|Hangul|Batang|Gulim", f, re.I)]
    assert cjk, f"no CJK font embedded (Hangul would be boxes): fonts {sorted(fonts)}"
    assert not [f for f in fonts if "LastResort" in f]
    text = squash("".join(pages))
    assert "\ufffd" not in text, "a character could not be mapped back to text"
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    words = sorted(set(re.findall(r"[\uac00-\ud7a3]+", glossary)))
    assert len(words) > 20
    missing = [w for w in words if w not in text]
    assert not missing, f"Korean glossary words missing from the PDF's text: {missing[:20]}"


def test_math_is_typeset_and_no_markup_is_left(pdf):
    reader, pages = pdf
    fonts, _ = fonts_and_images(reader)
    assert any(f.startswith("MathJax") for f in fonts), f"no MathJax font embedded: {sorted(fonts)}"
    text = "".join(pages)
    for raw in ("$$", "\\frac", "\\begin{", "\\(", "{glue", "{cite}", "{doc}"):
        assert raw not in text, f"raw markup {raw!r} in the PDF's text"


def test_figures_are_embedded(pdf):
    reader, _ = pdf
    _, images = fonts_and_images(reader)
    page = (SITE / "print" / "book.html").read_text(encoding="utf-8")
    figures = set(re.findall(r'<img[^>]+src="(\.\./_images/[^"]+)"', page))
    assert figures, "the print page has no figures"
    assert images >= len(figures) * 0.9, f"{images} images in the PDF for {len(figures)} figures"


def test_screenshots_of_pages(pdf):
    import pypdfium2

    reader, pages = pdf
    doc = pypdfium2.PdfDocument(str(PDF))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    glossary = next((i for i, t in enumerate(pages) if "한국어" in t and "Glossary" in t), 1)
    maths = next((i for i, t in enumerate(pages) if i > 2 and "softmax" in t), 2)
    for i in dict.fromkeys([0, maths, glossary]):
        image = doc[i].render(scale=1.5).to_pil().convert("L")
        lo, hi = image.getextrema()
        assert hi - lo > 128, f"page {i + 1} of the PDF renders blank ({lo}..{hi})"
        image.save(SCREENSHOTS / f"pdf_page_{i + 1}.png")
    doc.close()
