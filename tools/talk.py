#!/usr/bin/env python3
"""The notes' own talk, "어텐션에서 그래프 어텐션까지", as one Korean reveal.js deck.

``python tools/talk.py [--book .] [--source FILE]`` writes ``<book>/_build/html/slides/talk.html``
and its figures (``slides/talk/``) from the talk's source, ``book/talk/attention_to_gat.ko.md``.
``tools/korean_edition.py`` runs it on the Korean tree after ``tools/slides.py``, so the deck is
``/ko/slides/talk.html`` on the site. It reuses the chapters' decks' machinery
(``tools/slides.py``: the page template ``DECK`` with its fit script, the stylesheet ``CSS``,
reveal.js, the markdown and math rendering, the ``Slide``) and adds only what a talk needs.

The source (a plain text file; everything below is checked, and a mistake stops the build):

* ``# Title`` -- the deck's title; the lines under it and its notes make the title slide;
* ``## N. Part`` -- a part of the talk: ``N`` is the point of the lecture notes (1 to 10, in order);
* ``### Slide title`` -- a slide, followed at once by its fields, one a line:

  - ``section: <chapter>#<anchor>`` (required): the chapter section the slide comes from, by the
    English page's anchor (``22_similarity#why-divide-by-sqrt-d``); the Korean edition gives its
    sections the English anchors, so the slide links to ``../notebooks/<chapter>.html#<anchor>``;
  - ``figure: <chapter> <cell id> | <alt text>`` (optional): the image that code cell drew in the
    build (the ``image/png`` output of the cell in ``<book>/_build/jupyter_execute/notebooks/
    <chapter>.ipynb``; ``<cell id>/2`` for its second image). A missing notebook, a missing cell
    or a cell without an image is an error: a slide is never dropped in silence;

  then its text: at most ``MAX_LINES`` short lines (a ``-`` list, or ``>`` for a quotation of the
  lecture notes, word for word) and at most one display equation (``$$ ... $$``), together at most
  ``MAX_WORDS`` words; then a line ``???`` and the speaker notes (markdown; required).

Text outside these (a paragraph before the first part, say) is an error, so is a slide without
notes or a section, a section whose anchor is not a heading of the English chapter, and a part
out of order.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

import slides  # noqa: E402  (the chapters' decks: template, stylesheet, reveal.js, rendering)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("book") / "talk" / "attention_to_gat.ko.md"
NAME = "talk"                # slides/talk.html, slides/talk/ for its figures
PARTS = 10                   # the lecture notes' ten points
MAX_LINES = 4                # short lines on a slide (list items, quotations)
MAX_WORDS = 60               # words of prose on a slide, its footer included (the browser test allows 80)
NOT_HEADINGS = {"exercise-content", "solution-content"}

TALK_CSS = """/* the talk (tools/talk.py): the chapters' slides.css, and a footer with the part and the link */
.reveal .slides section.talk-slide { display: flex; }
.reveal .talk-foot { margin-top: auto; margin-right: 130px; padding-top: 0.3em; display: flex;
                     justify-content: space-between; gap: 1em; font-size: 0.55em; color: #444;
                     border-top: 1px solid #ddd; }   /* right: room for reveal's arrows */
.reveal .slides section.title-slide > h1 { margin-top: auto; }
.reveal .talk-slide .equation { font-size: 1.3em; margin: 0.6em 0; }
.reveal .talk-foot a { text-align: right; }
.reveal blockquote { width: auto; margin: 0.3em 0; padding: 0.3em 0.8em; font-style: normal;
                     background: #f6f6f6; border-left: 4px solid #1a5fb4; box-shadow: none; font-size: 0.9em; }
.reveal blockquote p, .reveal blockquote p:first-child, .reveal blockquote p:last-child { margin: 0; display: block; }
.reveal .title-slide .subtitle { color: #333; }
.reveal { word-break: keep-all; }
"""


class TalkError(ValueError):
    """The talk's source is wrong, or a figure it names is not in the build."""


@dataclass
class TalkSlide:
    title: str
    line: int                          # where it starts in the source
    part: int = 0                      # the notes' point; 0 for the title slide
    part_title: str = ""
    section: str = ""                  # "<chapter>#<anchor>"
    figure: tuple[str, str, int] | None = None   # (chapter, cell id, index of its image)
    alt: str = ""
    body: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def chapter(self) -> str:
        return self.section.split("#", 1)[0]

    @property
    def anchor(self) -> str:
        return self.section.split("#", 1)[1] if "#" in self.section else ""

    def text(self) -> str:
        return "\n".join(self.body).strip()

    def notes_text(self) -> str:
        return "\n".join(self.notes).strip()

    def equations(self) -> list[str]:
        return re.findall(r"\$\$(.+?)\$\$", self.text(), re.S)

    def lines(self) -> list[str]:
        """The short lines: list items and quotations (the equation left out)."""
        text = re.sub(r"\$\$.+?\$\$", "", self.text(), flags=re.S)
        return [ln.strip() for ln in text.splitlines() if ln.strip()]

    def quotes(self) -> list[str]:
        return [re.sub(r"^>\s?", "", ln) for ln in self.lines() if ln.startswith(">")]

    def words(self) -> int:
        """Words of prose on the slide: its lines (inline math as one word) and its footer."""
        prose = " ".join(re.sub(r"^([-*>]|\d+[.)])\s+", "", ln) for ln in self.lines())
        return slides.count_words(prose) + slides.count_words(f"{self.part}. {self.part_title}") + 4


@dataclass
class Talk:
    title: str
    slides: list[TalkSlide]
    parts: list[tuple[int, str]]


FIELD = re.compile(r"^(section|figure):\s*(.*?)\s*$")


def parse(text: str, where: str = "talk") -> Talk:
    """The talk's source as slides (see the module docstring); :class:`TalkError` on any mistake."""
    title, slides_, parts = "", [], []
    cur: TalkSlide | None = None
    in_notes = in_fields = False
    in_comment = False
    for n, raw in enumerate(text.splitlines(), 1):
        ln = raw.rstrip()
        if in_comment or ln.lstrip().startswith("<!--"):
            in_comment = "-->" not in ln
            continue
        h = re.match(r"^(#{1,3})\s+(.*?)\s*$", ln)
        if h and not (in_notes and len(h.group(1)) > 3):
            level, head = len(h.group(1)), h.group(2)
            if level == 1:
                if title:
                    raise TalkError(f"{where}:{n}: a second title ('# ...')")
                title = head
                cur = TalkSlide(title=head, line=n)
                slides_.append(cur)
            elif level == 2:
                m = re.match(r"^(\d+)\.\s+(.+)$", head)
                if not m:
                    raise TalkError(f"{where}:{n}: a part is '## N. title' (N: the notes' point), not {head!r}")
                number = int(m.group(1))
                if number != len(parts) + 1:
                    raise TalkError(f"{where}:{n}: part {number} comes after part {len(parts)}: "
                                    f"the notes' {PARTS} points go in their order")
                parts.append((number, m.group(2)))
                cur = None
            else:
                if not parts:
                    raise TalkError(f"{where}:{n}: a slide before the first part ('## 1. ...')")
                cur = TalkSlide(title=head, line=n, part=parts[-1][0], part_title=parts[-1][1])
                slides_.append(cur)
            in_notes, in_fields = False, level != 2
            continue
        if cur is None:
            if ln.strip():
                raise TalkError(f"{where}:{n}: text outside a slide: {ln.strip()[:50]!r}")
            continue
        if ln.strip() == "???":
            if in_notes:
                raise TalkError(f"{where}:{n}: a second '???' on one slide")
            in_notes, in_fields = True, False
            continue
        if in_notes:
            cur.notes.append(raw)
            continue
        f = FIELD.match(ln) if in_fields else None
        if f:
            key, value = f.groups()
            if key == "section":
                if not re.fullmatch(r"\d\d_\w+#[a-z0-9][a-z0-9-]*", value):
                    raise TalkError(f"{where}:{n}: section is '<chapter>#<anchor>', not {value!r}")
                cur.section = value
            else:
                m = re.fullmatch(r"(\d\d_\w+)\s+([\w-]+?)(?:/(\d+))?\s*\|\s*(.+)", value)
                if not m:
                    raise TalkError(f"{where}:{n}: figure is '<chapter> <cell id> | <alt text>', not {value!r}")
                cur.figure = (m.group(1), m.group(2), int(m.group(3) or 1))
                cur.alt = m.group(4)
            continue
        in_fields = False
        cur.body.append(raw)
    if not title:
        raise TalkError(f"{where}: no title ('# ...')")
    if len(parts) != PARTS:
        raise TalkError(f"{where}: {len(parts)} parts: the talk follows the notes' {PARTS} points")
    for s in slides_:
        at = f"{where}:{s.line} ({s.title!r})"
        if not s.section:
            raise TalkError(f"{at}: no 'section:' (the chapter section the slide links to)")
        if not s.notes_text():
            raise TalkError(f"{at}: no speaker notes (after a line '???')")
        if len(s.equations()) > 1:
            raise TalkError(f"{at}: more than one equation")
        if len(s.lines()) > MAX_LINES:
            raise TalkError(f"{at}: {len(s.lines())} lines (at most {MAX_LINES})")
        if s.words() > MAX_WORDS:
            raise TalkError(f"{at}: {s.words()} words (at most {MAX_WORDS})")
        bad = [ln for ln in s.lines() if not re.match(r"^([-*>]|\d+[.)])\s", ln)] if s.part else []
        if bad:
            raise TalkError(f"{at}: a slide's lines are '- ...' or '> ...' (a quotation), not {bad[0][:40]!r}")
    for number, _ in parts:
        if not any(s.part == number for s in slides_):
            raise TalkError(f"{where}: part {number} has no slide")
    return Talk(title=title, slides=slides_, parts=parts)


def read(path: Path) -> Talk:
    return parse(path.read_text(encoding="utf-8"), str(path))


# ------------------------------------------------------------------------------ the book
def notebook_headings(nb: dict) -> list[str]:
    """The headings of a notebook's markdown cells, in order (as Sphinx makes its sections)."""
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for _, head, _ in slides._split_at_headings("".join(cell.get("source", ""))):
            if head:
                out.append(head)
    return out


def anchor_of(heading: str) -> str:
    """The id Sphinx gives a section with this (English) heading."""
    from docutils.nodes import make_id

    return make_id(heading)


def english_book(book: Path) -> Path:
    """The English book of a Korean tree (``<book>/_build/ko/src``), else the book itself."""
    if book.parts[-3:] == ("_build", "ko", "src"):
        return book.parents[2]
    return book


def figure_png(executed: Path, chapter: str, cell_id: str, index: int = 1) -> bytes:
    """The ``index``-th image a code cell drew in the build; :class:`TalkError` if there is none."""
    path = executed / f"{chapter}.ipynb"
    if not path.is_file():
        raise TalkError(f"figure {chapter} {cell_id}: {path} not found (the talk is built from "
                        "the executed notebooks: build the book first)")
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next((c for c in nb.get("cells", []) if c.get("id") == cell_id), None)
    if cell is None:
        raise TalkError(f"figure {chapter} {cell_id}: no cell {cell_id!r} in {path}")
    if cell.get("cell_type") != "code":
        raise TalkError(f"figure {chapter} {cell_id}: cell {cell_id!r} is not a code cell")
    pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    if len(pngs) < index:
        raise TalkError(f"figure {chapter} {cell_id}: cell {cell_id!r} of {path} has "
                        f"{len(pngs) or 'no'} image output{'s' if len(pngs) != 1 else ''}"
                        + (f", not {index}" if pngs else ""))
    return base64.b64decode("".join(pngs[index - 1]))


class Book:
    """What the deck reads from the book: figures, chapter titles, section headings."""

    def __init__(self, book: Path):
        self.book = book
        self.english = english_book(book)
        self.executed = book / "_build" / "jupyter_execute" / "notebooks"
        self._cache: dict[str, tuple[str, dict[str, str]]] = {}

    def _notebook(self, folder: Path, chapter: str) -> dict | None:
        p = folder / f"{chapter}.ipynb"
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None

    def chapter(self, chapter: str) -> tuple[str, dict[str, str]]:
        """The chapter's title in this book's language and ``{English anchor: heading}``."""
        if chapter not in self._cache:
            english = next((nb for nb in (self._notebook(d / "notebooks", chapter)
                                          for d in (self.english, ROOT)) if nb), None)
            if english is None:
                raise TalkError(f"section {chapter}#...: no notebook notebooks/{chapter}.ipynb")
            en = notebook_headings(english)
            local = self._notebook(self.book / "notebooks", chapter) or english
            heads = notebook_headings(local)
            if len(heads) != len(en):
                heads = en        # the translation's headings do not line up: the English ones
            sections = {anchor_of(e): h for e, h in zip(en, heads, strict=True)}
            self._cache[chapter] = (heads[0] if heads else chapter, sections)
        return self._cache[chapter]

    def section_title(self, section: str) -> tuple[str, str]:
        chapter, anchor = section.split("#", 1)
        title, sections = self.chapter(chapter)
        if anchor not in sections:
            raise TalkError(f"section {section}: no heading of notebooks/{chapter}.ipynb has the "
                            f"anchor {anchor!r} (its anchors: {', '.join(sections)})")
        return title, sections[anchor]


# ------------------------------------------------------------------------------- the deck
def slide_html(s: TalkSlide, book: Book, figures: Path) -> str:
    chapter_title, heading = book.section_title(s.section)
    number = s.chapter.split("_", 1)[0]
    label = heading if heading != chapter_title else chapter_title
    link = (f'<a href="../notebooks/{s.chapter}.html#{s.anchor}">'
            f'{number}장 · {slides.render_inline(label)}</a>')
    part = f"<span>{s.part}. {html.escape(s.part_title)}</span>" if s.part else "<span></span>"
    # each quoted line a paragraph of its own (markdown would join consecutive '>' lines)
    text = re.sub(r"\$\$.+?\$\$", "", s.text(), flags=re.S).strip()
    text = re.sub(r"^(>[^\n]*\S[^\n]*)\n(?=>)", "\\1\n>\n", text, flags=re.M)
    body = [slides.render_markdown(text)] if text else []
    body += [f'<div class="equation">\\[{html.escape(tex.strip(), quote=False)}\\]</div>' for tex in s.equations()]
    if s.figure:
        chapter, cell_id, index = s.figure
        png = figure_png(book.executed, chapter, cell_id, index)
        name = f"{chapter}-{cell_id}" + (f"-{index}" if index > 1 else "") + ".png"
        (figures / name).write_bytes(png)
        w, h = struct.unpack(">II", png[16:24]) if png[12:16] == b"IHDR" else (640, 480)
        body.append(f'<img class="figure" src="{figures.name}/{name}" alt="{html.escape(s.alt, quote=True)}" '
                    f'width="{w}" height="{h}" style="max-height: {round(slides.FIGURE_ZOOM * h)}px">')
    body.append(f'<div class="talk-foot">{part}{link}</div>')
    out = slides.Slide(title=slides.render_inline(s.title), level=1 if not s.part else 2, body=body,
                       notes=[slides.render_markdown(s.notes_text())],
                       classes=["talk-slide"] + ([] if s.part else ["title-slide"]))
    return out.html()


def build(talk: Talk, book: Path, out: Path) -> tuple[str, int]:
    """The deck's HTML (figures written to ``out/talk/``) and its number of slides."""
    figures = out / NAME
    shutil.rmtree(figures, ignore_errors=True)
    figures.mkdir(parents=True)
    b = Book(book)
    body = "\n".join(slide_html(s, b, figures) for s in talk.slides)
    deck = slides.DECK.format(title=html.escape(re.sub(r"<[^>]+>", "", talk.title)), slides=body)
    for old, new in (('<html lang="en">', '<html lang="ko">'),
                     ('<link rel="stylesheet" href="slides.css">',
                      '<link rel="stylesheet" href="slides.css">\n<link rel="stylesheet" href="talk.css">'),
                     (" (slides)</title>", " (발표)</title>")):
        if old not in deck:
            raise TalkError(f"tools/slides.py's DECK no longer has {old!r}: update tools/talk.py")
        deck = deck.replace(old, new, 1)
    return deck, len(talk.slides)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the talk's deck (see the module docstring).")
    ap.add_argument("--book", type=Path, default=ROOT)
    ap.add_argument("--source", type=Path, default=None,
                    help=f"the talk's source (default: <book>/{SOURCE}, else this repository's)")
    args = ap.parse_args(argv)
    book = args.book.resolve()
    source = args.source or next((p for p in (book / SOURCE, ROOT / SOURCE) if p.is_file()), ROOT / SOURCE)
    out = book / "_build" / "html" / "slides"
    if not out.parent.is_dir():
        raise SystemExit(f"error: {out.parent} does not exist: build the site first")
    out.mkdir(parents=True, exist_ok=True)
    try:
        talk = read(source)
        deck, n = build(talk, book, out)
    except (TalkError, OSError) as e:
        print(f"error: the talk was not built: {e}", file=sys.stderr)
        return 1
    if not (out / "_reveal" / "dist" / "reveal.js").is_file():
        slides.copy_reveal(book, out)
    if not (out / "slides.css").is_file():
        (out / "slides.css").write_text(slides.CSS, encoding="utf-8")
    (out / "talk.css").write_text(TALK_CSS, encoding="utf-8")
    (out / f"{NAME}.html").write_text(deck, encoding="utf-8")
    print(f"talk: {out / (NAME + '.html')} ({n} slides, from {source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
