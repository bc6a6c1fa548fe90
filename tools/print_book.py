#!/usr/bin/env python3
"""The whole book as printable PDFs, made offline from the built site: a handout and an
instructor's copy.

``python tools/print_book.py [--book .]`` (``tools/build_book.py`` runs it after the site) writes

* ``_build/html/attnbook.pdf``: the **student** edition, without the exercises' solutions;
* ``_build/html/attnbook-instructor.pdf``: the **instructor** edition, the same with every
  solution printed open under its exercise.

How:

1. :func:`compose` joins the article of every page of ``_toc.yml``, in order, into one HTML page
   per edition, ``_build/html/print/book.html`` (student) and ``print/book-instructor.html``
   (one folder deep, like every page, so the pages' relative links to ``_static/`` and
   ``_images/`` hold), with the site's own CSS and MathJax, a title page and a contents page.
   On the way it leaves out the bookkeeping cells (:func:`is_bookkeeping`: a code cell with no
   output that only checks, records or glues — ``rec.finish();``, ``assert ...``,
   ``glue(...)`` — and the assignments only those use), the solutions (student edition), and it
   rewrites every link: to a page of the book, to its place in the PDF; to anything else of the
   site (slides, Colab editions, figures), to the hosted site (``tools/set_repository.py``:
   ``https://OWNER.github.io/NAME/...``). Never to the temporary print server.
2. :func:`print_pdf` serves the site on 127.0.0.1, opens each page in the headless Chromium the
   browser tests use (Playwright; every request to another host is refused) at the width of the
   printed column, opens every folded block, waits for MathJax, the images and the fonts, scales
   every display equation wider than the column down until it fits (:data:`FIT`), and measures
   that nothing (equation, figure, table, code) reaches past the column: anything clipped stops
   the print. It prints twice: the first print gives the page of every chapter and section (the
   PDF's named destinations), which the contents page then shows; the second is the PDF, with
   bookmarks (Chromium's document outline: one per chapter, nested ones per section), page
   numbers and Korean never broken inside a word (``word-break: keep-all``).
3. It checks the PDFs (no link to 127.0.0.1, bookmarks there) and writes what it measured to
   ``_build/html/print/report.json`` (``tests/test_pdf.py`` reads it).

Korean text needs a font with Hangul (``fonts-noto-cjk``; ``tools/ensure_chromium.py`` installs it).
Without Chromium it stops with a message, or, with ``ATTNBOOK_SKIP_BROWSER=1``, skips the PDFs.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import json
import logging
import os
import posixpath
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from attnbook_meta import book_language, code_names, is_bookkeeping, toc_documents  # noqa: E402

PDF_NAME = "attnbook.pdf"                          # the student edition (the site's "book PDF" button)
INSTRUCTOR_PDF_NAME = "attnbook-instructor.pdf"    # the same with the solutions
# edition -> (PDF, print page under _build/html/print/, solutions printed)
EDITIONS: dict[str, tuple[str, str, bool]] = {
    "student": (PDF_NAME, "book.html", False),
    "instructor": (INSTRUCTOR_PDF_NAME, "book-instructor.html", True),
}
REPORT = "report.json"                             # _build/html/print/report.json
# the words the printed book adds, per edition (language) of the book
WORDS = {
    "en": {"contents": "Contents", "instructor": "Instructor edition, with the solutions",
           "student": "Student edition", "online": "The book online, with its code to run: "},
    "ko": {"contents": "차례", "instructor": "강사용 (연습문제 해답 포함)", "student": "학생용",
           "online": "코드를 실행할 수 있는 온라인판: "},
}

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--font-render-hinting=none"]
# A4 with these margins; the page is laid out at the printed column's width (CSS px, 96 per inch)
MARGIN_MM = {"top": 18, "bottom": 20, "left": 16, "right": 16}
COLUMN_PX = int((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96)   # 672

PRINT_CSS = """
/* the printed book: only the articles, no buttons */
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
html, body { background: #fff !important; color: #000 !important; }
body { font-family: "Noto Sans", "DejaVu Sans", "Noto Sans CJK KR", sans-serif; }
/* Korean breaks between words only, never inside one (no effect on other scripts) */
body, .attnbook-print, .attnbook-print * { word-break: keep-all; line-break: strict; }
.attnbook-print { max-width: none; margin: 0; padding: 0; font-size: 10pt; line-height: 1.45; }
.attnbook-print h1 { font-size: 20pt; } .attnbook-print h2 { font-size: 15pt; margin-top: 1.2em; }
.attnbook-print h3 { font-size: 12pt; } .attnbook-print h4 { font-size: 10.5pt; }
.attnbook-print .bd-content, .attnbook-print .bd-article-container, .attnbook-print article.bd-article {
  max-width: none !important; margin: 0 !important; padding: 0 !important; }
.attnbook-print .print-chapter { break-before: page; }
.attnbook-print .print-title { break-after: page; text-align: center; padding-top: 28vh; }
.attnbook-print .print-title h1 { font-size: 26pt; }
.attnbook-print .print-title .print-edition { font-size: 14pt; margin-top: 2em; }
.attnbook-print .print-title .print-site { font-size: 10pt; margin-top: 4em; }
.attnbook-print .print-contents { break-after: page; }
.attnbook-print .print-contents ol { list-style: none; padding-left: 0; margin: 0; }
.attnbook-print .print-contents ol ol { padding-left: 1.6em; font-size: 9pt; }
.attnbook-print .print-contents li.toc-part { font-weight: 600; margin: 0.9em 0 0.2em; font-size: 10pt;
  text-transform: uppercase; letter-spacing: 0.03em; }
.attnbook-print .print-contents li.toc-chapter { margin: 0.35em 0 0.1em; break-inside: avoid; }
.attnbook-print .print-contents a { display: flex; color: #000 !important; text-decoration: none; }
.attnbook-print .print-contents li.toc-chapter > a { font-weight: 600; }
.attnbook-print .print-contents .toc-title { flex: 0 1 auto; }
.attnbook-print .print-contents .toc-dots { flex: 1 1 auto; border-bottom: 1px dotted #777;
  margin: 0 0.4em 0.3em; min-width: 1em; }
.attnbook-print .print-contents .toc-page { flex: 0 0 auto; font-variant-numeric: tabular-nums;
  min-width: 2.2em; text-align: right; }
.headerlink, .toggle-button, button.toggle-button, .copybtn, .sd-tab-set > input,
.prev-next-area, .bd-footer-article, .header-article, .bd-header, .bd-sidebar-primary,
.bd-sidebar-secondary, .cell_input .copybtn { display: none !important; }
.toggle-hidden, .toggle-details__container, details > *:not(summary) { display: block !important;
  visibility: visible !important; opacity: 1 !important; height: auto !important; }
div.cell_output img, img { max-width: 100% !important; height: auto; break-inside: avoid; }
div.highlight pre, div.cell_output pre { white-space: pre-wrap; overflow-wrap: anywhere;
  font-size: 8pt; line-height: 1.35; }
table { font-size: 8.5pt; width: 100% !important; table-layout: auto; }
/* a long code cell, output or table goes on over the page (the theme keeps each whole, which
   leaves an empty box, or a page, behind); a row, a figure or an equation is kept whole */
.attnbook-print div.highlight, .attnbook-print div[class*="highlight-"], .attnbook-print pre,
.attnbook-print div.cell, .attnbook-print div.cell_input, .attnbook-print div.cell_output,
.attnbook-print .admonition, .bd-main .bd-content.bd-content table, .attnbook-print table,
.attnbook-print .pst-scrollable-table-container { break-inside: auto !important; }
.attnbook-print div.highlight, .attnbook-print div[class*="highlight-"] { display: block !important; }
.attnbook-print tr, .attnbook-print figure, .attnbook-print img,
.attnbook-print mjx-container[display="true"] { break-inside: avoid; }
/* a cell wraps between words; Korean words are kept whole, so a narrow column gets wider */
td, th { overflow-wrap: break-word; }
td code span.pre, th code span.pre { white-space: normal !important; }
/* a cell holding a long token (a hash, a URL, a record name) may break it anywhere; the others
   wrap between words, and a Korean word (``.ko-word``) is never broken */
td.print-long, th.print-long, td.print-long *, th.print-long * { overflow-wrap: anywhere !important; }
td.print-long .ko-word, th.print-long .ko-word { overflow-wrap: normal !important; }
/* a table still wider than the column (:data:`FIT` marks it): smaller, and any cell may break */
table.print-squeeze { font-size: 7.5pt; }
table.print-squeeze td, table.print-squeeze th, table.print-squeeze td *, table.print-squeeze th * {
  overflow-wrap: anywhere !important; }
table.print-squeeze .ko-word { overflow-wrap: normal !important; }
.ko-word { white-space: nowrap; }
.pst-scrollable-table-container, .table-wrapper { overflow: visible !important; }
/* display equations: never scrolled (nothing to scroll on paper); FIT scales the wide ones */
mjx-container[display="true"], div.math { overflow: visible !important; }
h1, h2, h3 { break-after: avoid; }
/* the theme's print style hides a page's first h1 (it prints the title in a header instead) */
.attnbook-print h1 { display: block !important; }
.attnbook-print .print-chapter > section > h1, .attnbook-print .print-chapter h1 { margin-top: 0; }
"""


def toc_docs(book: Path) -> list[str]:
    """The documents of the table of contents, in order (``attnbook_meta.toc_documents``)."""
    return toc_documents(book)


def toc_parts(book: Path) -> dict[str, str]:
    """The first document of each part of ``_toc.yml`` -> the part's caption."""
    import yaml

    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8")) or {}
    first = {}
    for part in toc.get("parts") or []:
        chapters = part.get("chapters") or []
        if part.get("caption") and chapters and chapters[0].get("file"):
            first[re.sub(r"\.(md|ipynb)$", "", chapters[0]["file"])] = str(part["caption"])
    return first


def hosted_site(book: Path) -> str:
    """The hosted book's address, ``https://OWNER.github.io/NAME/`` (``tools/set_repository.py``)."""
    spec = importlib.util.spec_from_file_location("set_repository", ROOT / "tools" / "set_repository.py")
    setrepo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setrepo)
    repo, _ = setrepo.configured(book)
    return setrepo.site_url(repo)


ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*?)</article>', re.S)
HEAD = re.compile(r"<head>(.*?)</head>", re.S)


def doc_id(doc: str) -> str:
    """The id of a page's section in the print page (``notebooks/50_gat`` -> ``notebooks-50_gat``)."""
    return doc.replace("/", "-")


def prefix(doc: str) -> str:
    """What a page's ids are prefixed with in the print page, to be unique in the book."""
    return doc_id(doc) + "--"


# ------------------------------------------------------------------------- bookkeeping cells
# which cells are bookkeeping: attnbook_meta.is_bookkeeping (shared with the slides and nbpolicy)


def _introduced(cell) -> bool:
    """The prose just above ends with a colon: it shows the reader this cell ("and they are
    ``attend(X, X, X)``:"), which is then part of the text, not bookkeeping."""
    before = cell.find_previous_sibling()
    return before is not None and before.name == "p" and before.get_text().rstrip().endswith(":")


def drop_bookkeeping(soup) -> list[str]:
    """Remove the bookkeeping cells of a page (a parsed article), except one the prose above
    introduces; returns their code."""
    cells = []
    for cell in soup.select("div.cell"):
        pre = cell.select_one("div.cell_input pre")
        cells.append((cell, pre.get_text() if pre is not None else "", cell.select_one("div.cell_output")))
    names = [code_names(code) for _, code, _ in cells]
    alive = [True] * len(cells)
    removed: list[str] = []
    # to a fixed point: a cell whose names only a removed cell used is bookkeeping too
    changed = True
    while changed:
        changed = False
        for i, (cell, code, output) in enumerate(cells):
            if not alive[i] or output is not None or not code.strip() or _introduced(cell):
                continue
            # the names the cells below use (what this cell binds matters to them only)
            used = set().union(*(n for j, n in enumerate(names) if j > i and alive[j]))
            if is_bookkeeping(code, used):
                removed.append(code.strip())
                alive[i] = False
                cell.decompose()
                changed = True
    return removed


# --------------------------------------------------------------------------------- compose
def _article(page_html: str, doc: str):
    from bs4 import BeautifulSoup

    m = ARTICLE.search(page_html)
    if not m:
        raise SystemExit(f"error: no <article class=\"bd-article\"> in {doc}.html: has the theme changed?")
    return BeautifulSoup(m.group(1), "html.parser")


def _prefix_ids(soup, doc: str) -> None:
    p = prefix(doc)
    for el in soup.find_all(id=True):
        el["id"] = p + el["id"]


def _rewrite_links(soup, doc: str, docs: set[str], ids: set[str], site: str) -> None:
    """Every link to a page of the book goes to its place in the PDF, anything else of the site to
    the hosted site; links to other hosts stay."""
    for a in soup.find_all("a", href=True):
        parts = urlsplit(a["href"])
        if parts.scheme or parts.netloc:
            continue                                        # another host (or mailto:)
        path, frag = parts.path, parts.fragment
        target = posixpath.normpath(posixpath.join(posixpath.dirname(doc), path)) if path else f"{doc}.html"
        page = target[:-5] if target.endswith(".html") else None
        if page in docs:
            anchor = prefix(page) + frag if frag else doc_id(page)
            if anchor in ids:
                a["href"] = "#" + anchor
                continue
        # not in the PDF (slides, Colab editions, figures, a solution left out): the hosted site
        while target.startswith("../"):
            target = target[3:]
        a["href"] = site + target.lstrip("/") + (f"#{frag}" if frag else "")


HANGUL_WORD = re.compile(r"[^\s<>&]*[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af][^\s<>&]*")
NO_KOREAN_SPANS = {"pre", "code", "script", "style", "kbd", "samp", "textarea"}


def keep_korean_words(soup) -> int:
    """Wrap every word holding Hangul in ``<span class="ko-word" lang="ko">`` (the print CSS sets it
    ``white-space: nowrap``): a narrow table column may break a Latin word anywhere (record names
    are long), never a Korean one ("어텐션 스코/어"). Returns the number of words wrapped."""
    from bs4 import NavigableString

    n = 0
    for text in list(soup.find_all(string=HANGUL_WORD)):
        if type(text) is not NavigableString or any(
                p.name in NO_KOREAN_SPANS or "math" in (p.get("class") or []) for p in text.parents):
            continue
        pieces, last = [], 0
        for m in HANGUL_WORD.finditer(str(text)):
            pieces.append(html.escape(str(text)[last:m.start()], quote=False))
            pieces.append(f'<span class="ko-word" lang="ko">{html.escape(m.group(0), quote=False)}</span>')
            last = m.end()
            n += 1
        pieces.append(html.escape(str(text)[last:], quote=False))
        from bs4 import BeautifulSoup

        new = BeautifulSoup("".join(pieces), "html.parser")
        text.replace_with(*list(new.contents))
    return n


LONG_TOKEN = 24     # characters: a cell with a longer unbreakable token may break it anywhere


def mark_long_cells(soup) -> int:
    """Give the table cells holding a token of :data:`LONG_TOKEN` characters or more the class
    ``print-long``; returns how many."""
    n = 0
    for cell in soup.find_all(["td", "th"]):
        text = " ".join(t for t in cell.find_all(string=True)
                        if not any("math" in (p.get("class") or []) for p in t.parents))
        if any(len(t) >= LONG_TOKEN for t in text.split()):
            cell["class"] = [*(cell.get("class") or []), "print-long"]
            n += 1
    return n


def _contents(chapters: list[tuple[str, str, list[tuple[str, str]]]], parts: dict[str, str],
              heading: str = "Contents") -> str:
    """The contents page: every chapter and its sections, with a page number (filled in by the
    second print; ``000`` keeps the place)."""
    def entry(anchor: str, title: str) -> str:
        return (f'<a href="#{anchor}"><span class="toc-title">{html.escape(title)}</span>'
                f'<span class="toc-dots"></span><span class="toc-page" data-target="{anchor}">000</span></a>')

    items = []
    for doc, title, sections in chapters:
        if doc in parts:
            items.append(f'<li class="toc-part">{html.escape(parts[doc])}</li>')
        subs = "".join(f"<li>{entry(a, t)}</li>" for a, t in sections)
        items.append(f'<li class="toc-chapter">{entry(doc_id(doc), title)}'
                     + (f"<ol>{subs}</ol>" if subs else "") + "</li>")
    return (f'<section class="print-contents" id="print-contents"><h1>{html.escape(heading)}</h1>'
            f'<ol>{"".join(items)}</ol></section>')


def _heading_text(h) -> str:
    for a in h.select("a.headerlink"):
        a.decompose()
    return " ".join(h.get_text(" ").split())


def compose(book: Path, edition: str = "student") -> Path:
    """Write the print page of an edition (``_build/html/print/book.html`` for the student's,
    ``book-instructor.html`` for the instructor's); returns its path. What it left out and
    rewrote is in :data:`LAST_COMPOSE` (for the report)."""
    import yaml

    _, page_name, solutions = EDITIONS[edition]
    words = WORDS[book_language(book)]
    site = book / "_build" / "html"
    docs = toc_docs(book)
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    first = (site / f"{docs[0]}.html").read_text(encoding="utf-8")
    if any(d.count("/") != 1 for d in docs):
        raise SystemExit("error: print_book expects every page one folder deep (book/, notebooks/)")
    hosted = hosted_site(book)
    head = HEAD.search(first).group(1)
    title = str(config.get("title", ""))
    head = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", head, flags=re.S)

    soups, chapters = [], []
    removed_cells: dict[str, list[str]] = {}
    n_solutions = korean = 0
    for doc in docs:
        soup = _article((site / f"{doc}.html").read_text(encoding="utf-8"), doc)
        for a in soup.select("a.headerlink"):
            a.decompose()
        for s in soup.select("div.solution"):
            n_solutions += 1
            if not solutions:
                s.decompose()
        dropped = drop_bookkeeping(soup)
        if dropped:
            removed_cells[doc] = dropped
        _prefix_ids(soup, doc)
        korean += keep_korean_words(soup)
        mark_long_cells(soup)
        h1 = soup.find("h1")
        sections = []
        for sec in soup.find_all("section", id=True):
            h2 = sec.find("h2", recursive=False)
            if h2 is not None:
                sections.append((sec["id"], _heading_text(h2)))
        chapters.append((doc, _heading_text(h1) if h1 else doc, sections))
        soups.append((doc, soup))

    ids = {doc_id(d) for d in docs} | {el["id"] for _, s in soups for el in s.find_all(id=True)}
    parts = [f'<section class="print-title" id="print-title"><h1>{html.escape(title)}</h1>'
             f'<p>{html.escape(str(config.get("author", "")))}, {html.escape(str(config.get("copyright", "")))}</p>'
             f'<p class="print-edition">{words["instructor"] if solutions else words["student"]}</p>'
             f'<p class="print-site">{words["online"]}'
             f'<a href="{html.escape(hosted)}">{html.escape(hosted)}</a></p></section>',
             _contents(chapters, toc_parts(book), words["contents"])]
    for doc, soup in soups:
        _rewrite_links(soup, doc, set(docs), ids, hosted)
        parts.append(f'<section class="print-chapter" id="{doc_id(doc)}">{soup}</section>')
    out = site / "print" / page_name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f'<!DOCTYPE html>\n<html lang="en" data-content_root="../" data-theme="light">\n<head>{head}'
        f"<style>{PRINT_CSS}</style></head>\n"
        f'<body data-bs-theme="light"><main class="bd-main attnbook-print" id="main-content">'
        f'<div class="bd-content"><div class="bd-article-container"><article class="bd-article">'
        f"{''.join(parts)}</article></div></div></main></body>\n</html>\n",
        encoding="utf-8")
    LAST_COMPOSE[edition] = {"solutions_in_book": n_solutions,
                             "solutions_printed": n_solutions if solutions else 0,
                             "bookkeeping_cells_left_out": sum(len(v) for v in removed_cells.values()),
                             "bookkeeping_by_page": {d: len(v) for d, v in removed_cells.items()},
                             "contents_entries": sum(1 + len(s) for _, _, s in chapters),
                             "korean_words_kept_whole": korean}
    return out


LAST_COMPOSE: dict[str, dict] = {}


# ----------------------------------------------------------------------------------- print
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 -- the base class's signature
        pass


def find_chromium() -> str | None:
    spec = importlib.util.spec_from_file_location("ensure_chromium", ROOT / "tools" / "ensure_chromium.py")
    ensure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ensure)
    return ensure.find()


PREPARE = """async (ms) => {
  document.querySelectorAll("details").forEach(d => d.open = true);
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > ms) return "MathJax did not start";
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.filter(i => !i.complete).map(
      i => new Promise(r => { i.addEventListener("load", r); i.addEventListener("error", r); })));
  await document.fonts.ready;
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
  return broken.length ? "images not loaded: " + broken.join(", ") : "ok";
}"""

# Scale every display equation wider than its column down (MathJax's CHTML output is sized in em:
# a smaller font-size on its container scales all of it), then measure what reaches past the column.
FIT = """() => {
  const texOf = c => {
    try { return MathJax.startup.document.getMathItemsWithin(c)[0].math; } catch (e) { return ""; }
  };
  // a wide equation's container grows past its block (to both sides): compare with the block
  const avail = c => Math.min(c.parentElement.clientWidth, colWidth);
  const need = c => {
    let w = Math.max(c.scrollWidth, c.getBoundingClientRect().width);
    for (const k of c.querySelectorAll("mjx-math, mjx-table, mjx-mtable"))
      w = Math.max(w, k.getBoundingClientRect().width);
    return w;
  };
  const art = document.querySelector("article.bd-article").getBoundingClientRect();
  const colWidth = art.width;
  const eqs = [...document.querySelectorAll('mjx-container[display="true"]')];
  const scaled = [];
  for (const c of eqs) {
    for (let i = 0; i < 6; i++) {
      const a = avail(c), w = need(c);
      if (w <= a + 0.5) break;
      const size = parseFloat(c.style.fontSize || "100") || 100;
      const f = a / w * 0.98;
      c.style.fontSize = (size * f).toFixed(2) + "%";
      c.dataset.printScale = ((parseFloat(c.dataset.printScale || "1")) * f).toFixed(3);
    }
    if (c.dataset.printScale) scaled.push({tex: texOf(c).slice(0, 120), scale: +c.dataset.printScale});
  }
  // a table wider than the column: smaller type, and its cells may break anywhere
  const squeezed = [];
  for (const t of document.querySelectorAll("article.bd-article table")) {
    if (t.getBoundingClientRect().right > art.right + 1 || t.scrollWidth > colWidth + 1) {
      t.classList.add("print-squeeze");
      squeezed.push((t.querySelector("th, td") || t).textContent.trim().slice(0, 60));
    }
  }
  const over = [];
  const describe = el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  for (const c of eqs) {
    const w = need(c), r = c.getBoundingClientRect(), m = c.querySelector("mjx-math").getBoundingClientRect();
    if (w > avail(c) + 0.5 || Math.max(r.right, m.right) > art.right + 0.5 || Math.min(r.left, m.left) < art.left - 0.5)
      over.push({what: "equation", tex: texOf(c).slice(0, 120), width: Math.round(w), column: avail(c)});
  }
  const sel = 'mjx-container:not([display="true"]), img, svg, table, pre, figure, div.cell_output > *, ' +
              'div.highlight, p, li, dl, blockquote';
  for (const el of document.querySelectorAll("article.bd-article " + sel)) {
    if (el.closest('mjx-container[display="true"]') || (el.tagName === "svg" && el.closest("mjx-container")))
      continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.right > art.right + 1 || r.left < art.left - 1 || el.scrollWidth > el.clientWidth + 1 &&
        getComputedStyle(el).overflowX !== "visible")
      over.push({what: describe(el), text: (el.textContent || el.getAttribute("src") || "").trim().slice(0, 80),
                 right: Math.round(r.right - art.left), column: Math.round(art.width)});
  }
  return {equations: eqs.length, scaled: scaled, tables_squeezed: squeezed, overflow: over,
          column: Math.round(art.width)};
}"""

FILL_CONTENTS = """(pages) => {
  let n = 0;
  for (const s of document.querySelectorAll(".print-contents .toc-page")) {
    const p = pages[s.dataset.target];
    if (p !== undefined) { s.textContent = String(p); n++; }
  }
  return n;
}"""

# the contents page as the PDF's bookmarks: [level, title, target id] (part 0, chapter 1, section 2)
OUTLINE = """() => [...document.querySelectorAll(".print-contents li")].map(li => {
  const level = li.classList.contains("toc-part") ? 0 : li.classList.contains("toc-chapter") ? 1 : 2;
  const a = li.querySelector(":scope > a");
  const title = (a ? a.querySelector(".toc-title") : li).textContent.replace(/\\s+/g, " ").trim();
  return [level, title, a ? a.getAttribute("href").slice(1) : null];
})"""


def _destinations(pdf: Path) -> tuple[dict[str, tuple[int, float | None]], int]:
    """The page (0-based) and height of every named destination of a PDF (Chromium names them by
    the id of each link target), and its page count."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)   # Chromium's trailer size: harmless
    reader = PdfReader(str(pdf))
    places = {}
    for name, dest in reader.named_destinations.items():
        try:
            places[str(name).lstrip("/")] = (reader.get_destination_page_number(dest),
                                             float(dest.top) if dest.top is not None else None)
        except Exception:  # noqa: BLE001 -- a destination pypdf cannot place: left out
            continue
    return places, len(reader.pages)


def add_bookmarks(pdf: Path, outline: list, places: dict, title: str, author: str,
                  contents: str = "Contents") -> int:
    """Bookmarks from the contents page: each part, its chapters (closed) and their sections,
    each at its heading; the viewer opens with them shown. Returns how many."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import Fit

    writer = PdfWriter(clone_from=PdfReader(str(pdf)))
    n = 0

    def add(text, target, parent, is_open=True, page=None):
        nonlocal n
        if target is not None:
            page, top = places[target]
            fit = Fit.xyz(left=0, top=top) if top is not None else Fit.fit()
        else:
            fit = Fit.fit()
        n += 1
        return writer.add_outline_item(title=text, page_number=page, parent=parent, fit=fit, is_open=is_open)

    add(contents, None, None, page=1)
    part = chapter = None
    for i, (level, text, target) in enumerate(outline):
        if level == 0:      # a part opens at its first chapter
            first = next((t for lv, _, t in outline[i + 1:] if lv == 1), None)
            part = add(text, first, None)
            chapter = None
        elif level == 1:
            chapter = add(text, target, part, is_open=False)
        else:
            add(text, target, chapter if chapter is not None else part)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({"/Title": title, "/Author": author})
    with open(pdf, "wb") as f:
        writer.write(f)
    return n


def check_pdf(pdf: Path) -> dict:
    """What the PDF holds: pages, bookmarks (top level and all), links by kind."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    links = {"inside": 0, "hosted": 0, "other": 0, "print server": 0}
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/Subtype") != "/Link":
                continue
            action = a.get("/A")
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            if not uri:
                links["inside"] += 1
            elif urlsplit(uri).hostname in {"127.0.0.1", "localhost"}:
                links["print server"] += 1
            elif ".github.io/" in uri:
                links["hosted"] += 1
            else:
                links["other"] += 1

    def count(items) -> int:
        return sum(count(i) if isinstance(i, list) else 1 for i in items)

    outline = reader.outline
    return {"pages": len(reader.pages), "links": links, "bookmarks": count(outline),
            "top_bookmarks": [str(o.title) for o in outline if not isinstance(o, list)]}


def print_pdf(book: Path, jobs: list[tuple[str, Path, Path]]) -> dict:
    """Print each ``(edition, print page, pdf)``; returns what was measured, by edition."""
    import yaml
    from playwright.sync_api import sync_playwright

    site = book / "_build" / "html"
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    chromium = find_chromium()
    if not chromium:
        raise FileNotFoundError("Chromium")
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    blocked: list[str] = []
    measured: dict[str, dict] = {}
    footer = ('<div style="font-size:8px;width:100%;text-align:center;">'
              '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
    options = dict(format="A4", print_background=True, display_header_footer=True,
                   header_template="<span></span>", footer_template=footer,
                   margin={k: f"{v}mm" for k, v in MARGIN_MM.items()})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            # laid out at the printed column's width, in print media: what is measured is what prints
            context = browser.new_context(viewport={"width": COLUMN_PX, "height": 1000},
                                          color_scheme="light", service_workers="block")

            def route(r):
                u = urlsplit(r.request.url)
                if u.scheme in {"data", "blob"} or f"{u.scheme}://{u.netloc}" == origin:
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            for edition, page, pdf in jobs:
                t0 = time.time()
                p = context.new_page()
                p.set_default_timeout(300_000)
                p.emulate_media(media="print", color_scheme="light")
                p.goto(f"{origin}/{page.relative_to(site).as_posix()}", wait_until="load")
                state = p.evaluate(PREPARE, 120_000)
                if state != "ok":
                    raise SystemExit(f"error: printing the book ({edition}): {state}")
                fit = p.evaluate(FIT)
                if fit["overflow"]:
                    shown = "\n  ".join(json.dumps(o, ensure_ascii=False) for o in fit["overflow"][:15])
                    raise SystemExit(f"error: the {edition} edition would be clipped: {len(fit['overflow'])} "
                                     f"thing(s) wider than the {fit['column']} px column:\n  {shown}")
                outline = p.evaluate(OUTLINE)
                # first print: the page of every chapter and section, for the contents page
                with tempfile.TemporaryDirectory() as tmp:
                    draft = Path(tmp) / "draft.pdf"
                    p.pdf(path=str(draft), **options)
                    places, n_draft = _destinations(draft)
                missing = [t for _, _, t in outline if t is not None and t not in places]
                if missing:
                    raise SystemExit(f"error: contents entries not found in the {edition} PDF: {missing[:5]}")
                p.evaluate(FILL_CONTENTS, {k: v[0] + 1 for k, v in places.items()})
                p.pdf(path=str(pdf), **options)
                final, n_final = _destinations(pdf)
                moved = [k for k in places if final.get(k, (None,))[0] != places[k][0]]
                if n_final != n_draft or moved:
                    raise SystemExit(f"error: the {edition} PDF moved between its two prints "
                                     f"({n_draft} -> {n_final} pages; {moved[:5]})")
                p.close()
                bookmarks = add_bookmarks(pdf, outline, final, str(config.get("title", "")),
                                          str(config.get("author", "")),
                                          WORDS[book_language(book)]["contents"])
                measured[edition] = {"equations": fit["equations"], "equations_scaled": fit["scaled"],
                                     "tables_squeezed": fit["tables_squeezed"],
                                     "column_px": fit["column"], "overflow": fit["overflow"],
                                     "bookmarks_added": bookmarks, "seconds": round(time.time() - t0)}
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if blocked:
        raise SystemExit(f"error: printing the book asked another host for: {blocked[:5]}")
    return measured


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Print the book to PDF (see the docstring).")
    ap.add_argument("--book", type=Path, default=ROOT)
    ap.add_argument("--edition", choices=[*EDITIONS, "all"], default="all")
    args = ap.parse_args(argv)
    book = args.book.resolve()
    t0 = time.time()
    site = book / "_build" / "html"
    editions = list(EDITIONS) if args.edition == "all" else [args.edition]
    jobs = [(e, compose(book, e), site / EDITIONS[e][0]) for e in editions]
    try:
        measured = print_pdf(book, jobs)
    except FileNotFoundError:
        if os.environ.get("ATTNBOOK_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
            print("note: Chromium not found: the PDFs are not made (ATTNBOOK_SKIP_BROWSER=1)")
            return 0
        print("error: the PDF is printed by Chromium, which was not found: run "
              "'python tools/ensure_chromium.py' (or set ATTNBOOK_SKIP_BROWSER=1 to skip the PDF)",
              file=sys.stderr)
        return 1
    report = {}
    for edition, page, pdf in jobs:
        facts = check_pdf(pdf)
        if facts["links"]["print server"]:
            raise SystemExit(f"error: {pdf.name} links to the print server {facts['links']['print server']} times")
        if not facts["bookmarks"]:
            raise SystemExit(f"error: {pdf.name} has no bookmarks (Chromium's outline)")
        report[edition] = {"pdf": pdf.name, "print_page": page.relative_to(site).as_posix(),
                           **LAST_COMPOSE[edition], **measured[edition], **facts}
        print(f"pdf: {pdf} ({edition}: {facts['pages']} pages, {facts['bookmarks']} bookmarks, "
              f"links {facts['links']}, {len(measured[edition]['equations_scaled'])} of "
              f"{measured[edition]['equations']} display equations scaled to fit, "
              f"{report[edition]['bookkeeping_cells_left_out']} bookkeeping cells left out, "
              f"{report[edition]['solutions_printed']} solutions; {pdf.stat().st_size / 1e6:.1f} MB)")
    path = site / "print" / REPORT
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    path.write_text(json.dumps({**old, **report}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"print_book: {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
