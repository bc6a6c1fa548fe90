#!/usr/bin/env python3
"""A reveal.js slide deck per chapter, generated from the executed notebook.

``python tools/slides.py [--book .]`` writes ``_build/html/slides/<chapter>.html`` for every
notebook of ``_toc.yml`` (``tools/build_book.py`` runs it after the site is built). Everything a
deck loads is on the site: reveal.js (``slides/_reveal/``, fetched by the Makefile from npm at a
pinned version), MathJax (``_static/mathjax/``) and the fonts reveal.js ships.

How a notebook becomes slides, with no tags needed:

* every markdown heading starts a slide (the chapter title makes the title slide);
* text and code follow on the slide; a code cell that would overflow the slide, or that draws a
  figure after a good deal of text, starts a continuation slide under the same heading;
* figures and short text outputs of the executed notebook are shown; the Colab cell (tagged
  ``remove-cell``) is not;
* exercises are shown, and their solutions go to the speaker notes (press ``S``);
* MyST is rewritten as on the Colab edition (glued numbers, author–year citations).

Optional, per cell (Jupyter's slideshow metadata ``slide_type``, or a tag of the same name):
``slide`` (start a new slide here), ``subslide`` (start a slide below the current one),
``fragment`` (appear on the next key press), ``skip`` (leave out of the slides; also the tag
``slides-skip``), ``notes`` (speaker notes only: the book does not show such a cell).
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

import myst_plain  # noqa: E402
from attnbook_meta import is_notes_cell, toc_chapters  # noqa: E402,F401  (toc_chapters: tools' and tests' entry)

ROOT = Path(__file__).resolve().parent.parent
REVEAL_VERSION = "5.2.1"
REVEAL_CACHE = Path(".cache") / "vendor" / f"reveal.js@{REVEAL_VERSION}"   # the Makefile fetches it
MAX_LINES = 22           # about what fits on a 1280x800 slide at the deck's font size
FIGURE_LINES = 12
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes"}


# ------------------------------------------------------------------------------- markdown
def _md():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


_MD = None
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)|"
                  r"(\\begin\{(\w+\*?)\}.+?\\end\{\4\})", re.S)


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


# --------------------------------------------------------------------------------- slides
@dataclass
class Slide:
    title: str = ""           # HTML of the heading
    level: int = 2
    body: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: float = 0
    vertical: bool = False    # a subslide: below the previous slide
    classes: list[str] = field(default_factory=list)

    def html(self) -> str:
        heading = f"<h{min(self.level, 3)}>{self.title}</h{min(self.level, 3)}>" if self.title else ""
        notes = f'<aside class="notes">{"".join(self.notes)}</aside>' if self.notes else ""
        cls = f' class="{" ".join(self.classes)}"' if self.classes else ""
        return f"<section{cls}>{heading}{''.join(self.body)}{notes}</section>"


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


def _estimate_lines(markdown: str) -> int:
    n = 0
    for ln in markdown.splitlines():
        n += 1 + len(ln) // 95
    return n


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


def _outputs(cell: dict, figures: Path, stem: str, counter: list[int]) -> tuple[list[str], int]:
    """The HTML of a code cell's outputs (figures saved beside the deck), and its height in lines."""
    parts, lines = [], 0
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
                (figures / name).write_bytes(base64.b64decode("".join(data["image/png"])))
                alt = html.escape("".join(data.get("text/plain", "")) or "figure", quote=True)
                alt = "a figure" if alt.startswith("&lt;Figure") else alt
                parts.append(f'<img class="figure" src="{figures.name}/{name}" alt="{alt}">')
                lines += FIGURE_LINES
                continue
            if "text/html" in data and len("".join(data["text/html"])) < 20_000:
                parts.append(f'<div class="output-html">{"".join(data["text/html"])}</div>')
                lines += 8
                continue
            text = "".join(data.get("text/plain", ""))
        else:
            continue  # errors cannot be here: the build fails on them
        if not text.strip():
            continue
        rows = text.rstrip("\n").splitlines()
        if len(rows) > 12:
            rows = rows[:12] + ["…"]
        parts.append(f'<pre class="output">{html.escape(chr(10).join(rows))}</pre>')
        lines += len(rows)
    return parts, lines


def build_deck(nb: dict, chapter: str, ctx: myst_plain.Context, out_dir: Path,
               book_title: str) -> tuple[str, int]:
    """The deck's HTML and its number of slides."""
    figures = out_dir / chapter
    shutil.rmtree(figures, ignore_errors=True)
    figures.mkdir(parents=True)
    counter = [0]
    slides: list[Slide] = []
    title_slide = Slide(level=1, classes=["title-slide"])
    current = title_slide
    slides.append(title_slide)
    section_title, section_level = "", 2
    solutions: list[str] = []

    def start(title: str, level: int, vertical: bool = False) -> Slide:
        nonlocal current
        current = Slide(title=title, level=level, vertical=vertical)
        slides.append(current)
        return current

    def on_solution(body: str) -> str:
        solutions.append(render_markdown(body))
        return ""

    ctx.on_solution = on_solution
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        st = _slide_type(cell)
        src = "".join(cell.get("source", ""))
        if st == "skip" or not src.strip():
            continue
        if st == "notes":
            current.notes.append(render_markdown(myst_plain.to_plain(src, ctx))
                                 if cell["cell_type"] == "markdown" else f"<pre>{html.escape(src)}</pre>")
            continue
        if {"remove-cell", "remove_cell"} & tags:
            continue
        if st in {"slide", "subslide"}:
            start(section_title + (" (continued)" if section_title else ""), section_level,
                  vertical=st == "subslide")
        fragment = ' class="fragment"' if st == "fragment" else ""
        if cell["cell_type"] == "markdown":
            solutions.clear()
            plain = myst_plain.to_plain(src, ctx)
            for level, title, body in _split_at_headings(plain):
                if level:
                    title_html = render_markdown(title).strip()
                    title_html = re.sub(r"^<p>(.*)</p>$", r"\1", title_html, flags=re.S)
                    if level == 1 and current is title_slide and not title_slide.title:
                        title_slide.title = title_html
                    else:
                        section_title, section_level = title_html, min(level, 3)
                        start(title_html, min(level, 3))
                if body.strip():
                    n = _estimate_lines(body)
                    if current.lines and current.lines + n > MAX_LINES and current is not title_slide:
                        start(section_title + " (continued)", section_level)
                    current.body.append(f"<div{fragment}>{render_markdown(body)}</div>")
                    current.lines += n
            for s in solutions:
                current.notes.append(f"<p><strong>Solution.</strong></p>{s}")
            solutions.clear()
        elif cell["cell_type"] == "code":
            show_input = not ({"remove-input", "remove_input"} & tags)
            show_output = not ({"remove-output", "remove_output"} & tags)
            code_lines = src.count("\n") + 1 if show_input else 0
            parts, out_lines = (_outputs(cell, figures, chapter, counter) if show_output else ([], 0))
            if not code_lines and not parts:
                continue
            has_figure = any(p.startswith("<img") for p in parts)
            code_height = min(code_lines, 14) * 0.6   # code is set smaller than text
            too_full = current.lines + code_height + out_lines > MAX_LINES
            if current is title_slide or (current.lines and (too_full or (has_figure and current.lines > 6))):
                start(section_title + (" (continued)" if current is not title_slide and section_title
                                       else ""), section_level)
            if show_input:
                current.body.append(f'<pre class="code{" fragment" if fragment else ""}"><code>'
                                    f"{html.escape(src)}</code></pre>")
            current.body.extend(f"<div{fragment}>{p}</div>" for p in parts)
            current.lines += code_height + out_lines
    # title slide: the book's name and where the chapter is
    title_slide.body.append(f'<p class="book-title">{html.escape(book_title)}</p>'
                            f'<p class="chapter-link"><a href="../notebooks/{chapter}.html">'
                            "the chapter in the book</a></p>")
    sections, vertical_group = [], []
    for s in slides:
        if s.vertical and vertical_group:
            vertical_group.append(s)
            continue
        if vertical_group:
            sections.append(vertical_group)
        vertical_group = [s]
    if vertical_group:
        sections.append(vertical_group)
    body = "\n".join(g[0].html() if len(g) == 1 else f"<section>{''.join(s.html() for s in g)}</section>"
                     for g in sections)
    title_text = re.sub(r"<[^>]+>", "", title_slide.title) or chapter
    return DECK.format(title=html.escape(title_text), slides=body), len(slides)


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
Reveal.initialize({{
  hash: true, slideNumber: "c/t", center: false, width: 1280, height: 800, margin: 0.04,
  transition: "none", plugins: [RevealNotes]
}}).then(() => {{ window.attnbookDeckReady = true; }});
</script>
</body>
</html>
"""

CSS = """/* attnbook slides: reveal.js white theme, denser text, figures that fit */
.reveal {
  font-family: "Source Sans Pro", "Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo",
               "Malgun Gothic", Helvetica, sans-serif;
  font-size: 30px;
}
.reveal .slides section { text-align: left; height: 100%; overflow-y: auto; }
.reveal h1 { font-size: 1.9em; text-transform: none; }
.reveal h2, .reveal h3 { font-size: 1.3em; text-transform: none; color: #1a1a1a; }
.reveal p, .reveal li { line-height: 1.3; }
.reveal pre { width: 100%; font-size: 0.5em; box-shadow: none; margin: 0.4em 0; }
.reveal pre code { max-height: 420px; padding: 0.5em; background: #f4f4f4; color: #1a1a1a; }
.reveal pre.output { background: #fff; border-left: 3px solid #888; padding: 0.3em 0.6em;
                     font-size: 0.45em; color: #1a1a1a; white-space: pre-wrap; }
.reveal img.figure { display: block; max-height: 520px; max-width: 100%; margin: 0.3em auto;
                     border: 0; box-shadow: none; }
.reveal table { font-size: 0.6em; }
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
        site_url=set_repository.site_url(repo), docname=f"notebooks/{chapter}")


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
        if stale.stem not in chapters:
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
