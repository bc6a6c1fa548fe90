#!/usr/bin/env python3
"""A reveal.js slide deck per chapter, generated from the executed notebook.

``python tools/slides.py [--book .]`` writes ``_build/html/slides/<chapter>.html`` for every
notebook of ``_toc.yml`` (``tools/build_book.py`` runs it after the site is built). Everything a
deck loads is on the site: reveal.js (``slides/_reveal/``, fetched by the Makefile from npm at a
pinned version), MathJax (``_static/mathjax/``) and the fonts reveal.js ships.

A slide is not a page. How a notebook becomes slides, with no tags needed:

* every markdown heading starts a slide (the chapter title makes the title slide); a section
  goes on as continuation slides under the same heading;
* a slide shows its title, **one** figure, equation, table or short piece of code, and a few
  short lines: the *first sentence* of each paragraph (cut at a clause if it is long), at most
  ``MAX_WORDS`` words and ``MAX_POINTS`` points. The rest of each paragraph goes to the speaker
  notes (press ``S``) as talking points, with any ``notes`` cell of the section;
* a code cell that draws a figure shows the figure, not its code; other code is shown cut to
  ``CODE_LINES`` lines, with its text output cut to ``OUTPUT_LINES``; display math stands
  alone; a long table continues on the next slide;
* setup and bookkeeping never reach a slide: a cell of imports and settings, a cell whose
  statements are all ``glue(...)``, ``rec.record(...)``, ``rec.finish()``, ``assert`` (or
  assignments that only feed them), and such statements inside the code that is shown. This is
  read from the code, not from a list of cells;
* each exercise gets a slide of its own, titled with its number and title, its solution in that
  slide's notes (with the full statement when the slide shows only its start);
* figures shrink to the room left on their slide; a slide that still overflows has its type
  scaled down (to 70 % at most) and wide display math is scaled to the slide's width (the
  ``attnbookFit`` script); the browser test measures every slide at 1280×800;
* MyST is rewritten as on the Colab edition (glued numbers, author–year citations).

Optional, per cell (Jupyter's slideshow metadata ``slide_type``, or a tag of the same name):
``slide`` (start a new slide here), ``subslide`` (start a slide below the current one),
``fragment`` (appear on the next key press), ``skip`` (leave out of the slides; also the tag
``slides-skip``), ``notes`` (speaker notes only: the book does not show such a cell).
"""

from __future__ import annotations

import ast
import base64
import html
import math
import re
import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

import myst_plain  # noqa: E402
from attnbook_meta import book_language, is_check, is_notes_cell, shown_in, toc_chapters  # noqa: E402,F401  (toc_chapters: tools' and tests' entry)

ROOT = Path(__file__).resolve().parent.parent
REVEAL_VERSION = "5.2.1"
REVEAL_CACHE = Path(".cache") / "vendor" / f"reveal.js@{REVEAL_VERSION}"   # the Makefile fetches it
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes"}

# What a slide holds (the browser test allows 80 words of prose; the count here is a little rougher)
MAX_WORDS = 60           # words of prose on one slide
MAX_POINTS = 4           # short lines (first sentences) on one slide
SENTENCE_WORDS = 36      # a first sentence longer than this is cut at a clause, "…"
CODE_LINES = 14          # code shown on a slide (longer code is cut, with a line saying so)
OUTPUT_LINES = 10        # lines of a text output (6 under a figure)
TABLE_ROWS = 10          # a longer table goes on over several slides
# Heights in CSS pixels of the 1280×800 slide (estimates; attnbookFit catches what they miss)
BUDGET = 620             # below the title
FIGURE_MIN = 300         # a figure takes the room left on its slide, at least this much
FIGURE_ZOOM = 1.6        # and at most this many times its own size


# ------------------------------------------------------------------------------- markdown
def _md():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


_MD = None
# inline math may wrap onto the next line (not across a blank line)
INLINE_MATH = r"(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?![ \t]*\n))+?)(?<!\s)\$(?!\d)"
MATH = re.compile(r"\$\$(.+?)\$\$|" + INLINE_MATH + r"|(\\begin\{(\w+\*?)\}.+?\\end\{\4\})", re.S)


def render_markdown(text: str) -> str:
    """Markdown with ``$`` math as HTML, the math left for MathJax (``\\(..\\)``, ``\\[..\\]``)."""
    global _MD
    if _MD is None:
        _MD = _md()
    stash: list[str] = []

    def keep(m: re.Match) -> str:
        if m.group(1) is not None:
            stash.append(f"\\[{m.group(1)}\\]")
        elif m.group(2) is not None:
            stash.append(f"\\({m.group(2)}\\)")
        else:
            stash.append(f"\\[{m.group(3)}\\]")
        return f"MATHSTASH{len(stash) - 1}X"

    # math outside code spans and fences
    parts = re.split(r"(```.*?```|`[^`\n]*`)", text, flags=re.S)
    text = "".join(p if i % 2 else MATH.sub(keep, p) for i, p in enumerate(parts))
    out = _MD.render(text)
    return re.sub(r"MATHSTASH(\d+)X", lambda m: html.escape(stash[int(m.group(1))], quote=False), out)


def render_inline(text: str) -> str:
    """One line of markdown as inline HTML (no ``<p>``): "1. Title" stays a title, not a list."""
    text = re.sub(r"^(\s*)(\d+)([.)])(\s)", r"\1\2\\\3\4", text)
    text = re.sub(r"^(\s*)([-+*>#])(\s)", r"\1\\\2\3", text)
    out = render_markdown(text).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", out, flags=re.S)


# ------------------------------------------------------------------------- sentences, words
# spans a sentence never ends inside: inline math, code, links, HTML tags
SPANS = re.compile(INLINE_MATH + r"|`[^`\n]*`|\[[^\]\n]*\]\([^)\n]*\)|<[^>\n]+>")
ABBREVIATIONS = {"e.g.", "i.e.", "al.", "cf.", "vs.", "fig.", "eq.", "sec.", "no.", "approx.",
                 "etc.", "resp.", "ch.", "ref.", "p.", "pp."}


def _mask(text: str) -> tuple[str, list[str]]:
    stash: list[str] = []

    def keep(m: re.Match) -> str:
        stash.append(m.group(0))
        return f"\x00{len(stash) - 1}\x01"

    return SPANS.sub(keep, text), stash


def _unmask(text: str, stash: list[str]) -> str:
    return re.sub("\x00(\\d+)\x01", lambda m: stash[int(m.group(1))], text)


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph of markdown (math, code and links kept whole)."""
    masked, stash = _mask(" ".join(text.split()))
    out, start = [], 0
    for m in re.finditer(r"[.!?][\"”’)\]*_]*\s+", masked):
        before = masked[start:m.start() + 1].split()
        nxt = masked[m.end():m.end() + 1]
        if not before or before[-1].lower() in ABBREVIATIONS:
            continue
        if not (nxt.isupper() or nxt.isdigit() or nxt in "\"“(*_\x00[" or not nxt):
            continue
        out.append(masked[start:m.end()].strip())
        start = m.end()
    if masked[start:].strip():
        out.append(masked[start:].strip())
    return [_unmask(s, stash) for s in out]


def count_words(text: str) -> int:
    """Words of prose as the browser test counts them (math and code count as one)."""
    masked, _ = _mask(text)
    masked = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", masked)
    return sum(1 for w in masked.split() if re.search(r"\w|\x00", w))


def _balance(text: str) -> str:
    """Close the emphasis a cut left open."""
    masked, stash = _mask(text)
    if masked.count("**") % 2:
        masked += "**"
    if masked.replace("**", "").count("*") % 2:
        masked += "*"
    return _unmask(masked, stash)


def shorten(sentence: str, limit: int = SENTENCE_WORDS) -> tuple[str, bool]:
    """The sentence, or its start cut at a clause (or a word) with "…" when it is long."""
    if count_words(sentence) <= limit:
        return sentence, False
    masked, stash = _mask(sentence)
    words = masked.split()
    cut = limit - 4
    for i in range(limit - 4, limit // 3, -1):     # the last clause boundary before the limit
        if re.search(r"[,;:]$", words[i - 1]) or words[i] in {"--", "—", "–"}:
            cut = i
            break
    short = " ".join(words[:cut]).rstrip(",;:")
    opened = [m.start() for m in re.finditer(r"\(", short)]
    for _ in range(short.count(")")):   # an unclosed "(": cut before it, or close it
        if opened:
            opened.pop()
    if opened:
        keep = short[:opened[-1]].rstrip(" ,;:")
        short = keep if len(keep.split()) >= limit // 3 else short + ")"
    return _balance(_unmask(short, stash)) + " …", True


# --------------------------------------------------------------------------------- code
def _is_bookkeeping(stmt: ast.stmt) -> bool:
    """An assert, a glue or a record (:func:`attnbook_meta.is_check`), a ``pass`` or a bare string."""
    return (isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
            or is_check(stmt))


def _names(node: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _binds(stmt: ast.stmt) -> set[str]:
    """The names a statement binds or changes (``x =``, ``x[k] =``, ``x.append(...)``, ``def x``)."""
    out = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name)):
            out.add(node.func.value.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def _only_binds(stmt: ast.stmt) -> bool:
    """Does the statement only compute names (no printing, no drawing, no bare call)?"""
    if _is_bookkeeping(stmt) or isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.FunctionDef)):
        return True
    if isinstance(stmt, ast.Expr):   # x.append(...), d.setdefault(...): changes x
        v = stmt.value
        return (isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
                and isinstance(v.func.value, ast.Name))
    if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With)):
        return all(_only_binds(s) for s in stmt.body + getattr(stmt, "orelse", []))
    return False


def _parse(src: str) -> list[ast.stmt]:
    """A code cell's statements (IPython magics and shell lines read as ``pass``)."""
    try:
        return ast.parse("\n".join("pass" if re.match(r"\s*[%!]", ln) else ln
                                   for ln in src.splitlines())).body
    except SyntaxError:
        return []


def later_names(cells: list[dict]) -> list[set[str]]:
    """For each cell, the names a later code cell reads before a cell in between binds them again."""
    flow = []   # per code cell: (names read before bound in it, names it binds)
    for cell in cells:
        reads, bound = set(), set()
        if cell.get("cell_type") == "code":
            for stmt in _parse("".join(cell.get("source", ""))):
                reads |= _names(stmt, ast.Load) - bound
                bound |= _names(stmt, ast.Store) | {n.name for n in ast.walk(stmt)
                                                    if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        flow.append((reads, bound))
    out = []
    for k in range(len(cells)):
        live, rebound = set(), set()
        for reads, bound in flow[k + 1:]:
            live |= reads - rebound
            rebound |= bound
        out.append(live)
    return out


def split_code(src: str, used_later: set[str] | frozenset = frozenset(),
               quiet: bool = True) -> tuple[str, str]:
    """``(kind, code to show)``: kind ``"setup"`` (imports and settings), ``"bookkeeping"`` or
    ``"code"``. Bookkeeping: ``glue``/``record``/``finish`` calls and ``assert``, and what only
    computes names for them; a ``quiet`` cell (it shows nothing) of such statements and
    assignments is bookkeeping as a whole. The code to show is the source without its bookkeeping
    statements (and the comments just above them); ``used_later``: the names later cells read
    (a statement that computes them stays)."""
    lines = src.splitlines()
    stmts = _parse(src)
    if not stmts:
        return "code", src
    hidden = [_is_bookkeeping(s) for s in stmts]
    changed = True
    while changed:  # what only computes names for hidden statements is hidden too
        changed = False
        read_hidden = set().union(*(_names(t, ast.Load) for j, t in enumerate(stmts) if hidden[j]))
        for i, s in enumerate(stmts):
            if hidden[i] or not _only_binds(s):
                continue
            binds = _binds(s)
            read_shown = set().union(*(_names(t, ast.Load) for j, t in enumerate(stmts)
                                       if not hidden[j] and j != i))
            if binds & read_hidden and not binds & (read_shown | set(used_later)):
                hidden[i] = changed = True
                read_hidden |= _names(s, ast.Load)
    if all(hidden) or (quiet and any(hidden) and all(_only_binds(s) for s in stmts)):
        return "bookkeeping", ""
    kinds = {type(s) for s, h in zip(stmts, hidden, strict=True) if not h}
    if any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmts) and kinds <= {
            ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.Expr}:
        return "setup", ""
    def nested(stmt: ast.stmt) -> list[ast.stmt]:   # bookkeeping inside a loop, an if, a def
        out = []
        for body in ("body", "orelse", "finalbody"):
            block = getattr(stmt, body, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                keep = [x for x in block if not _is_bookkeeping(x)]
                if keep:   # a block cannot be empty: one left as it is
                    out += [x for x in block if _is_bookkeeping(x)]
                for x in keep:
                    out += nested(x)
        return out

    drop_stmts = [s for s, h in zip(stmts, hidden, strict=True) if h]
    for s, h in zip(stmts, hidden, strict=True):
        if not h:
            drop_stmts += nested(s)
    drop: set[int] = set()
    for s in drop_stmts:
        first = s.lineno - 1
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1
        drop.update(range(first, s.end_lineno))
    shown = [ln for k, ln in enumerate(lines) if k not in drop]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(shown)).strip("\n")
    return "code", text


def _wrapped(lines: list[str], width: int) -> int:
    return sum(max(1, math.ceil(len(ln) / width)) for ln in lines)


# --------------------------------------------------------------------------------- items
@dataclass
class Item:
    """What goes on a slide: a point (a short line of prose), a visual, an exercise, notes, a break."""

    kind: str                 # "point", "visual", "exercise", "notes", "break"
    html: str = ""            # shown on the slide
    notes: str = ""           # to the speaker notes
    words: int = 0
    height: float = 0
    fragment: bool = False
    vertical: bool = False    # a break that starts a slide below the current one
    exercise: int = 0         # its index in the deck's exercises
    text: str = ""            # a point's whole paragraph (markdown)


@dataclass
class Exercise:
    number: int
    title: str                # plain markdown
    body: str                 # plain markdown
    solutions: list[str] = field(default_factory=list)


def _point(text: str, notes_rest: bool = True) -> Item:
    """A paragraph: its first sentence on the slide, the rest in the notes."""
    sents = sentences(text)
    if not sents:
        return Item("point")
    # a bold lead-in ("**Label smoothing.** It ...") is not a sentence of its own
    while len(sents) > 1 and re.fullmatch(r"[*_]{2}[^*_]{1,60}[*_]{2}[.:]?|[*_]{2}[^*_]{1,60}[.:][*_]{2}", sents[0]):
        sents[:2] = [sents[0] + " " + sents[1]]
    first, cut = shorten(sents[0])
    rest = text if cut else " ".join(sents[1:])
    chars = len(re.sub(r"\$[^$]*\$", "xxxx", first))
    return Item("point", html=render_inline(first), words=count_words(first), text=text,
                height=math.ceil(chars / 75) * 40 + 10,
                notes=render_inline(rest) if rest.strip() and notes_rest else "")


def _code_item(code: str, language: str = "python") -> Item:
    rows = code.splitlines()
    if len(rows) > CODE_LINES:
        more = len(rows) - (CODE_LINES - 1)
        note = "# ⋯" if language in {"python", "py", ""} else "⋯"
        rows = rows[:CODE_LINES - 1] + [f"{note} ({more} more lines in the chapter)"]
    return Item("visual", html=f'<pre class="code"><code>{html.escape(chr(10).join(rows))}</code></pre>',
                height=_wrapped(rows, 110) * 21 + 30)


def _table_items(block: str) -> list[Item]:
    rows = block.splitlines()
    head, body = rows[:2], rows[2:]
    out = []
    for k in range(0, max(len(body), 1), TABLE_ROWS):
        chunk = body[k:k + TABLE_ROWS]
        out.append(Item("visual", html=f'<div class="table">{render_markdown(chr(10).join(head + chunk))}</div>',
                        height=(len(chunk) + 1) * 32 + 30))
    return out


def _equation_item(tex: str) -> Item:
    tex = tex.strip()
    tex = tex[2:-2].strip() if tex.startswith("$$") and tex.endswith("$$") else tex
    rows = 1 + tex.count("\\\\")
    tall = 20 if re.search(r"\\(frac|sum|prod|int|begin)", tex) else 0
    return Item("visual", html=f'<div class="equation">\\[{html.escape(tex, quote=False)}\\]</div>',
                height=rows * (50 + tall) + 30)


LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")


def markdown_items(md: str, exercise_token: re.Pattern) -> list[Item]:
    """A section's markdown (no headings) as items: points, equations, tables, code, exercises."""
    # display math on a paragraph of its own
    stash: list[str] = []

    def keep(m: re.Match) -> str:
        if m.group(2) is not None:   # inline math (which may hold a \begin{smallmatrix}) stays
            return m.group(0)
        stash.append(m.group(0) if m.group(3) else f"$${m.group(1)}$$")
        return f"\n\nDISPLAYMATH{len(stash) - 1}X\n\n"

    parts = re.split(r"(^[ \t]*(?:```|~~~).*?^[ \t]*(?:```|~~~)[ \t]*$)", md, flags=re.S | re.M)
    md = "".join(p if i % 2 else MATH.sub(keep, p) for i, p in enumerate(parts))
    items: list[Item] = []
    lines = md.splitlines()
    i, para = 0, []

    def flush() -> None:
        if para:
            items.extend(_block_items("\n".join(para), stash, exercise_token))
            para.clear()

    while i < len(lines):
        ln = lines[i]
        fence = re.match(r"^\s*(`{3,}|~{3,})(.*)$", ln)
        if fence:
            flush()
            body, i = [], i + 1
            while i < len(lines) and not lines[i].strip().startswith(fence.group(1)):
                body.append(lines[i])
                i += 1
            i += 1
            items.append(_code_item("\n".join(body), fence.group(2).strip().lower()))
            continue
        if not ln.strip():
            flush()
        else:
            para.append(ln)
        i += 1
    flush()
    return items


def _block_items(block: str, stash: list[str], exercise_token: re.Pattern) -> list[Item]:
    text = block.strip()
    m = re.fullmatch(r"DISPLAYMATH(\d+)X", text)
    if m:
        return [_equation_item(stash[int(m.group(1))])]
    m = exercise_token.fullmatch(text)
    if m:
        return [Item("exercise", exercise=int(m.group(1)))]
    text = re.sub(r"DISPLAYMATH(\d+)X", lambda m: stash[int(m.group(1))], text)
    lines = text.splitlines()
    if all(ln.lstrip().startswith("|") for ln in lines) and len(lines) >= 2:
        return _table_items(text)
    if lines[0].lstrip().startswith(">"):   # a quote or an admonition: its text, as prose
        inner = "\n".join(re.sub(r"^\s*>\s?", "", ln) for ln in lines)
        paras = [p for p in re.split(r"\n\s*\n", inner) if p.strip()]
        if len(paras) > 1 and re.fullmatch(r"\*\*[^*]+\*\*", paras[0].strip()):
            paras = [paras[0].strip().rstrip("*") + ".** " + paras[1]] + paras[2:]
        return [_point(p) for p in paras]
    if re.fullmatch(r"!\[[^\]]*\]\([^)]*\)", text):
        return [Item("visual", html=render_inline(text), height=FIGURE_MIN)]
    if LIST_ITEM.match(lines[0]):
        indent = len(LIST_ITEM.match(lines[0]).group(1))
        entries: list[list[str]] = []
        for ln in lines:
            lm = LIST_ITEM.match(ln)
            if lm and len(lm.group(1)) <= indent:
                entries.append([ln[lm.end():]])
            elif entries:
                entries[-1].append(ln.strip())
        return [_point(" ".join(e)) for e in entries]
    return [_point(text)]


# --------------------------------------------------------------------------------- slides
@dataclass
class Slide:
    title: str = ""           # HTML of the heading
    level: int = 2
    body: list[str] = field(default_factory=list)
    points: list[str] = field(default_factory=list)   # HTML of the short lines (before a visual)
    notes: list[str] = field(default_factory=list)
    talking: list[str] = field(default_factory=list)  # talking points (rest of the paragraphs)
    words: int = 0
    height: float = 0
    visual: bool = False
    vertical: bool = False    # a subslide: below the previous slide
    classes: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.body or self.points)

    def flush_points(self) -> None:
        if self.points:
            self.body.append(f'<ul class="points">{"".join(self.points)}</ul>')
            self.points = []

    def html(self) -> str:
        self.flush_points()
        tag = f"h{min(self.level, 3)}"
        heading = f"<{tag}>{self.title}</{tag}>" if self.title else ""
        notes = list(self.notes)
        if self.talking:
            notes.append("<p><strong>Talking points</strong></p><ul>"
                         + "".join(f"<li>{t}</li>" for t in self.talking) + "</ul>")
        aside = f'<aside class="notes">{"".join(notes)}</aside>' if notes else ""
        cls = f' class="{" ".join(self.classes)}"' if self.classes else ""
        return f"<section{cls}>{heading}{''.join(self.body)}{aside}</section>"


def _slide_type(cell: dict) -> str | None:
    meta = cell.get("metadata", {})
    st = (meta.get("slideshow") or {}).get("slide_type")
    tags = set(meta.get("tags", []))
    if "slides-skip" in tags:
        return "skip"
    if st in SLIDE_TYPES:
        return st
    if is_notes_cell(cell):
        return "notes"
    for t in ("slide", "subslide", "fragment", "skip"):
        if t in tags:
            return t
    return None


HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _split_at_headings(text: str) -> list[tuple[int, str, str]]:
    """``(level, heading, body)`` chunks; level 0 for text before the first heading."""
    chunks: list[tuple[int, str, str]] = []
    level, title, body = 0, "", []
    fence = None
    for ln in text.splitlines():
        f = re.match(r"^\s*(`{3,}|~{3,})", ln)
        if f and fence is None:
            fence = f.group(1)
        elif f and fence and ln.strip().startswith(fence):
            fence = None
        m = HEADING.match(ln) if fence is None else None
        if m:
            if body or title:
                chunks.append((level, title, "\n".join(body)))
            level, title, body = len(m.group(1)), m.group(2), []
        else:
            body.append(ln)
    if body or title:
        chunks.append((level, title, "\n".join(body)))
    return chunks


def _outputs(cell: dict, figures: Path, stem: str, counter: list[int]) -> list[Item]:
    """A code cell's outputs as visuals: each figure (saved beside the deck) with the short text
    printed before it, or the text alone."""
    items: list[Item] = []
    text_rows: list[str] = []
    html_parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.get("metadata", {}).get("scrapbook"):
            continue  # a glue output: shown in the text, not here
        kind = out.get("output_type")
        if kind == "stream":
            if out.get("name") == "stderr":
                continue
            text = "".join(out.get("text", ""))
        elif kind in {"execute_result", "display_data"}:
            data = out.get("data", {})
            if "image/png" in data:
                counter[0] += 1
                name = f"{stem}-{counter[0]}.png"
                png = base64.b64decode("".join(data["image/png"]))
                (figures / name).write_bytes(png)
                w, h = struct.unpack(">II", png[16:24]) if png[12:16] == b"IHDR" else (640, 480)
                alt = html.escape("".join(data.get("text/plain", "")) or "figure", quote=True)
                alt = "a figure" if alt.startswith("&lt;Figure") else alt
                pre = _pre(text_rows, 6)
                items.append(Item("visual", html=f'{pre}<img class="figure" src="{figures.name}/{name}" alt="{alt}" width="{w}" height="{h}" '
                                            f'style="max-height: {round(FIGURE_ZOOM * h)}px">',
                                  height=FIGURE_MIN + (min(len(text_rows), 7) * 17 + 20 if text_rows else 0)))
                text_rows = []
                continue
            if "text/html" in data and len("".join(data["text/html"])) < 20_000:
                html_parts.append(f'<div class="output-html">{"".join(data["text/html"])}</div>')
                continue
            text = "".join(data.get("text/plain", ""))
        else:
            continue  # errors cannot be here: the build fails on them
        if text.strip():
            # a progress line rewritten in place (\r) shows as its last state
            text_rows += [ln.rsplit("\r", 1)[-1] for ln in text.rstrip("\n").splitlines()]
    if text_rows:
        n = min(len(text_rows), OUTPUT_LINES + 1)
        items.append(Item("visual", html=_pre(text_rows, OUTPUT_LINES), height=_wrapped(text_rows[:n], 120) * 19 + 24))
    items += [Item("visual", html=h, height=300) for h in html_parts]
    return items


def _pre(rows: list[str], limit: int) -> str:
    if not rows:
        return ""
    if len(rows) > limit:
        rows = rows[:limit - 1] + [f"… ({len(rows) - limit + 1} more lines)"]
    return f'<pre class="output">{html.escape(chr(10).join(rows))}</pre>'


def _exercise_title(ex: Exercise, lang: str = "en") -> str:
    word = myst_plain.WORDS[lang]["exercise"]
    if re.match(r"\d+\.\d+", ex.title):
        return f"{word} {ex.title}"
    return f"{word} {ex.number}" + (f" · {ex.title}" if ex.title else "")


def build_deck(nb: dict, chapter: str, ctx: myst_plain.Context, out_dir: Path,
               book_title: str) -> tuple[str, int]:
    """The deck's HTML and its number of slides."""
    figures = out_dir / chapter
    shutil.rmtree(figures, ignore_errors=True)
    figures.mkdir(parents=True)
    counter = [0]
    exercises: list[Exercise] = []
    token = re.compile(r"EXERCISESTASH(\d+)X")

    def on_exercise(number: int, title: str, body: str) -> str:
        exercises.append(Exercise(number, title, body))
        return f"\n\nEXERCISESTASH{len(exercises) - 1}X\n\n"

    def on_solution_to(number: int | None, body: str) -> str:
        target = next((e for e in exercises if e.number == number), exercises[-1] if exercises else None)
        if target is not None:
            target.solutions.append(body)
        return ""

    ctx.on_exercise, ctx.on_solution_to = on_exercise, on_solution_to

    # 1. the notebook as sections of items
    sections: list[tuple[str, int, list[Item]]] = [("", 1, [])]   # the title slide's section first
    chapter_title = ""

    def add(items: list[Item], fragment: bool) -> None:
        for it in items:
            it.fragment = fragment
        sections[-1][2].extend(items)

    used_later = later_names(nb.get("cells", []))
    for index, cell in enumerate(nb.get("cells", [])):
        if not shown_in(cell, ctx.lang):
            continue   # a cell of the other edition (a diagram with labels in the other language)
        tags = set(cell.get("metadata", {}).get("tags", []))
        st = _slide_type(cell)
        src = "".join(cell.get("source", ""))
        if st == "skip" or not src.strip():
            continue
        if st == "notes":
            note = (render_markdown(myst_plain.to_plain(src, ctx)) if cell["cell_type"] == "markdown"
                    else f"<pre>{html.escape(src)}</pre>")
            sections[-1][2].append(Item("notes", notes=note))
            continue
        if {"remove-cell", "remove_cell"} & tags:
            continue
        if st in {"slide", "subslide"}:
            sections[-1][2].append(Item("break", vertical=st == "subslide"))
        fragment = st == "fragment"
        if cell["cell_type"] == "markdown":
            plain = myst_plain.to_plain(src, ctx)
            for level, title, body in _split_at_headings(plain):
                if level:
                    title_html = render_inline(title)
                    if level == 1 and not chapter_title:
                        chapter_title = title_html
                    else:
                        sections.append((title_html, min(level, 3), []))
                if body.strip():
                    add(markdown_items(body, token), fragment)
        elif cell["cell_type"] == "code":
            show_input = not ({"remove-input", "remove_input"} & tags)
            show_output = not ({"remove-output", "remove_output"} & tags)
            outs = _outputs(cell, figures, chapter, counter) if show_output else []
            kind, code = split_code(src, used_later[index], quiet=not outs)
            if any("<img" in o.html for o in outs):
                add(outs, fragment)          # a figure: the figure, not the code that draws it
            elif show_input and kind == "code" and code.strip():
                item = _code_item(code)
                for o in outs:               # the code and what it prints, as one visual
                    item.html += o.html
                    item.height += o.height
                add([item], fragment)
            else:
                add(outs, fragment)

    # 2. the items laid out on slides
    slides: list[Slide] = []
    title_slide = Slide(title=chapter_title, level=1, classes=["title-slide"])
    slides.append(title_slide)
    cur, limit_words, limit_points = title_slide, MAX_WORDS - 20, 2
    continued = ["", 2]   # the title and level of a continuation slide

    def new(vertical: bool = False) -> Slide:
        nonlocal cur, limit_words, limit_points
        cur.flush_points()
        cur = Slide(title=continued[0], level=continued[1], vertical=vertical)
        limit_words, limit_points = MAX_WORDS, MAX_POINTS
        slides.append(cur)
        return cur

    for s_index, (title, level, items) in enumerate(sections):
        if s_index == 0:
            base = re.sub(r"<[^>]+>", "", chapter_title)
            continued[:] = [(html.escape(base) if base else "") + " " + myst_plain.WORDS[ctx.lang]["continued"], 2]
        else:
            cur = Slide(title=title, level=level)
            slides.append(cur)
            limit_words, limit_points = MAX_WORDS, MAX_POINTS
            continued[:] = [f"{title} {myst_plain.WORDS[ctx.lang]['continued']}", level]
        for k, it in enumerate(items):
            if it.kind == "break":
                if not cur.empty() or it.vertical:
                    new(vertical=it.vertical)
                continue
            if it.kind == "notes":
                cur.notes.append(it.notes)
                continue
            if it.kind == "exercise":
                ex = exercises[it.exercise]
                cur.flush_points()
                if cur.empty() and cur is not title_slide and cur.title == title and not cur.notes:
                    slides.remove(cur)       # a heading with nothing before its first exercise
                cur = exercise_slide(ex, min(level + 1, 3), ctx.lang)
                slides.append(cur)
                limit_words = limit_points = 0   # what follows goes on a new slide
                continue
            frag = ' class="fragment"' if it.fragment else ""
            if it.kind == "point":
                if not it.html:
                    continue
                rest = [x.kind for x in items[k + 1:] if x.kind != "notes"]
                visual_next = next((x for x in rest if x != "point"), None) == "visual"
                if "exercise" in cur.classes or (not cur.empty() and (
                        (cur.visual and visual_next) or cur.words + it.words > limit_words
                        or len(cur.points) + 1 > limit_points or cur.height + it.height > BUDGET)):
                    new()
                cur.points.append(f"<li{frag}>{it.html}</li>")
                cur.words += it.words
                cur.height += it.height
                if it.notes:
                    cur.talking.append(it.notes)
            elif it.kind == "visual":
                if cur is title_slide or "exercise" in cur.classes or (not cur.empty() and (
                        cur.visual or cur.height + it.height > BUDGET)):
                    new()
                cur.flush_points()
                cur.body.append(f"<div{frag}>{it.html}</div>" if it.fragment else it.html)
                cur.visual = True
                cur.height += it.height
        cur.flush_points()
    # the title slide: the book's name and where the chapter is
    title_slide.flush_points()
    title_slide.body.append(f'<p class="book-title">{html.escape(book_title)}</p>'
                            f'<p class="chapter-link"><a href="../notebooks/{chapter}.html">'
                            "the chapter in the book</a></p>")
    groups: list[list[Slide]] = []
    for s in slides:
        if s.vertical and groups:
            groups[-1].append(s)
        else:
            groups.append([s])
    body = "\n".join(g[0].html() if len(g) == 1 else f"<section>{''.join(s.html() for s in g)}</section>"
                     for g in groups)
    title_text = re.sub(r"<[^>]+>", "", title_slide.title) or chapter
    deck = DECK.format(title=html.escape(title_text), slides=body)
    return deck.replace('<html lang="en">', f'<html lang="{ctx.lang}">', 1), len(slides)


def exercise_slide(ex: Exercise, level: int, lang: str = "en") -> Slide:
    """An exercise's slide: the start of its statement (and one equation or piece of code, if it
    fits), the solution in the notes with the exercise's title."""
    title = _exercise_title(ex, lang)
    ui = myst_plain.WORDS[lang]
    slide = Slide(title=render_inline(title), level=level, classes=["exercise"])
    items = markdown_items(ex.body, re.compile(r"(?!)"))
    shown_all, words = True, 0
    for it in items:
        if it.kind == "point":
            # the statement's sentences in order, as far as the budget goes
            for sent in sentences(it.text):
                w = count_words(sent)
                if words + w > MAX_WORDS:
                    shown_all = False
                    break
                slide.points.append(f"<li>{render_inline(sent)}</li>")
                words += w
            else:
                continue
            break
        elif it.kind == "visual":
            if slide.visual or slide.height + it.height > BUDGET - 200:
                shown_all = False
                break
            slide.flush_points()
            slide.body.append(it.html)
            slide.visual = True
            slide.height += it.height
    slide.flush_points()
    if not shown_all:
        slide.body.append(f'<p class="more">{ui["full_statement"]}</p>')
        slide.notes.append(f"<p><strong>{render_inline(title)}</strong></p>{render_markdown(ex.body)}")
    if ex.solutions:
        slide.notes.append(f"<p><strong>{ui['solution_head'].format(t=render_inline(title))}</strong></p>"
                           + "".join(render_markdown(s) for s in ex.solutions))
    else:
        slide.notes.append(f"<p><strong>{render_inline(title)}</strong>: {ui['no_solution']}</p>")
    return slide


DECK = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title} (slides)</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="_reveal/dist/reset.css">
<link rel="stylesheet" href="_reveal/dist/reveal.css">
<link rel="stylesheet" href="_reveal/dist/theme/white.css">
<link rel="stylesheet" href="slides.css">
<script>
window.MathJax = {{
  tex: {{inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]], processEscapes: true}},
  options: {{ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process"}},
  startup: {{typeset: true}}
}};
</script>
<script defer src="../_static/mathjax/tex-chtml.js"></script>
</head>
<body>
<main class="reveal" aria-label="slides">
<div class="slides">
{slides}
</div>
</main>
<script src="_reveal/dist/reveal.js"></script>
<script src="_reveal/plugin/notes/notes.js"></script>
<script>
// Fit a slide to 1280x800: wide display math scaled to the slide's width, then, if the slide
// still overflows, its type made smaller (down to 70 %). Figures shrink by themselves (CSS).
// (What overflows is measured on what is seen: MathJax's hidden MathML for screen readers is not.)
window.attnbookOverflow = (slide) => {{
  const box = slide.getBoundingClientRect(), scale = box.height / (slide.offsetHeight || 1);
  let over = 0;
  for (const e of slide.querySelectorAll(":scope > :not(aside), mjx-container, img, pre, table")) {{
    if (e.closest("mjx-assistive-mml, aside")) continue;
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    over = Math.max(over, (r.bottom - box.bottom) / scale, (r.right - box.right) / scale);
  }}
  return over;
}};
window.attnbookFit = async (slide) => {{
  if (!slide) return;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  slide.style.fontSize = "";
  for (const m of slide.querySelectorAll("mjx-container[display]")) {{
    m.style.fontSize = "";
    const math = m.firstElementChild, avail = m.getBoundingClientRect().width;
    const wide = math ? math.getBoundingClientRect().width : 0;
    if (wide > avail && avail > 0) m.style.fontSize = Math.floor(100 * avail / wide) + "%";
  }}
  for (let f = 95; f >= 70 && window.attnbookOverflow(slide) > 1; f -= 5) {{
    slide.style.fontSize = f + "%";
  }}
}};
Reveal.on("slidechanged", (e) => window.attnbookFit(e.currentSlide));
Reveal.initialize({{
  hash: true, slideNumber: "c/t", center: false, width: 1280, height: 800, margin: 0.04,
  display: "flex", transition: "none", plugins: [RevealNotes]
}}).then(() => {{
  window.attnbookDeckReady = true;
  window.attnbookFit(Reveal.getCurrentSlide());
}});
</script>
</body>
</html>
"""

CSS = """/* attnbook slides: reveal.js white theme; a slide is a column, its figure takes the room left */
.reveal {
  font-family: "Source Sans Pro", "Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo",
               "Malgun Gothic", Helvetica, sans-serif;
  font-size: 30px;
}
.reveal .slides section:not(.stack) {
  text-align: left; height: 100%; box-sizing: border-box; padding: 12px 8px;
  flex-direction: column; overflow: hidden;
}
.reveal .slides section > * { flex: 0 0 auto; }
.reveal .slides section.title-slide { justify-content: center; }
.reveal h1 { font-size: 1.9em; text-transform: none; }
.reveal h2, .reveal h3 { font-size: 1.3em; text-transform: none; color: #1a1a1a; margin-bottom: 0.4em; }
.reveal p, .reveal li { line-height: 1.3; }
.reveal ul.points { margin: 0 0 0.4em 1.1em; }
.reveal ul.points li { margin-bottom: 0.35em; }
.reveal pre { width: 100%; box-sizing: border-box; font-size: 0.55em; box-shadow: none; margin: 0.3em 0; }
.reveal li code, .reveal p code { font-size: 0.8em; }
.reveal pre code { max-height: none; padding: 0.5em; background: #f4f4f4; color: #1a1a1a;
                   white-space: pre-wrap; overflow: visible; }
.reveal pre.output { background: #fff; border-left: 3px solid #888; padding: 0.3em 0.6em;
                     font-size: 0.5em; color: #1a1a1a; white-space: pre-wrap; overflow: visible; }
.reveal .slides section > img.figure, .reveal .slides section > div > img.figure { flex: 1 1 0; }
.reveal img.figure { display: block; min-height: 0; width: 100%; height: auto; max-width: 100%;
                     object-fit: contain; margin: 0.3em auto; border: 0; box-shadow: none; }
.reveal .slides section > div.fragment { display: flex; flex-direction: column; min-height: 0; flex: 0 1 auto; }
.reveal .equation { margin: 0.3em 0; }
.reveal mjx-container[display="true"] { overflow: visible; }
.reveal .table table, .reveal .output-html table { font-size: 0.6em; margin: 0.3em auto; }
.reveal .output-html { font-size: 0.8em; }
.reveal p.more { font-size: 0.6em; color: #555; font-style: italic; }
.reveal .title-slide .book-title { color: #444; font-style: italic; }
.reveal a { color: #1a5fb4; }
.reveal .slide-number { color: #1a1a1a; background: #fff; }
"""


# ------------------------------------------------------------------------------- the book
def context_for(book: Path, chapter: str, executed: dict | None) -> myst_plain.Context:
    import set_repository

    repo, _ = set_repository.configured(book)
    return myst_plain.Context(
        glue=myst_plain.glue_values(executed, book / "_build" / "jupyter_execute" / "notebooks" / f"{chapter}.glue.json"),
        citations=myst_plain.load_citations(book / "book" / "references.bib"),
        site_url=set_repository.site_url(repo) + ("ko/" if book_language(book) == "ko" else ""),
        docname=f"notebooks/{chapter}", lang=book_language(book))


def copy_reveal(book: Path, out: Path) -> None:
    src = book / REVEAL_CACHE
    if not (src / "dist" / "reveal.js").is_file():
        raise SystemExit(f"error: {src / 'dist' / 'reveal.js'} is missing: run 'make book' "
                         f"(it fetches reveal.js {REVEAL_VERSION} with npm)")
    dest = out / "_reveal"
    shutil.rmtree(dest, ignore_errors=True)
    for part in ("dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css",
                 "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "LICENSE"):
        s, d = src / part, dest / part
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d)
        elif s.is_file():
            shutil.copy2(s, d)


def main(argv: list[str] | None = None) -> int:
    import argparse

    import yaml

    ap = argparse.ArgumentParser(description="Build the chapters' slides (see the docstring).")
    ap.add_argument("--book", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    book = args.book.resolve()
    html_dir = book / "_build" / "html"
    out = html_dir / "slides"
    if not html_dir.is_dir():
        raise SystemExit(f"error: {html_dir} does not exist: build the site first")
    out.mkdir(parents=True, exist_ok=True)
    copy_reveal(book, out)
    (out / "slides.css").write_text(CSS, encoding="utf-8")
    book_title = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8")).get("title", "")
    chapters = toc_chapters(book)
    for stale in out.glob("*.html"):  # a deck of a chapter no longer in the book
        if stale.stem not in chapters and stale.stem != "talk":   # talk.html: tools/talk.py's
            stale.unlink()
            shutil.rmtree(out / stale.stem, ignore_errors=True)
    for chapter in chapters:
        executed = myst_plain.read_json(book / "_build" / "jupyter_execute" / "notebooks" / f"{chapter}.ipynb")
        nb = executed or myst_plain.read_json(book / "notebooks" / f"{chapter}.ipynb")
        deck, n = build_deck(nb, chapter, context_for(book, chapter, executed), out, book_title)
        (out / f"{chapter}.html").write_text(deck, encoding="utf-8")
        print(f"slides: {out / (chapter + '.html')} ({n} slides"
              f"{'' if executed else ', from the unexecuted notebook: no figures'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
