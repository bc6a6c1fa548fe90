#!/usr/bin/env python3
"""MyST markdown -> plain markdown (CommonMark + ``$`` math + HTML), for readers without Sphinx.

The notebooks' markdown uses MyST: ``{glue:text}`name``` for numbers computed by the notebook,
``{cite}`key``` for citations, ``{doc}`path``` for links to other pages, and fenced directives
(```` ```{exercise} ````, ```` ```{solution} ````, admonitions). Colab, plain Jupyter and the slides
show none of that. :func:`to_plain` rewrites one markdown cell:

* glue -> the glued value (from the executed notebook; "…" when it is unknown);
* ``{cite}`` -> author–year text, "(Bahdanau et al. 2015; Luong et al. 2015)";
  ``{cite:t}`` -> "Bahdanau et al. (2015)";
* ``{doc}``, ``{ref}``, ``{term}``, ``{numref}`` -> a link to the hosted site (or the text);
  ``{math}`` -> ``$...$``; any other role -> its text;
* exercise -> "**Exercise n.** ..."; solution -> ``<details><summary>Solution</summary>…</details>``
  (folded); admonitions -> a quoted block with their title; other directives -> their body.

Used by ``tools/colab_edition.py`` (the Colab edition of each notebook) and ``tools/slides.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROLE = re.compile(r"\{(?P<name>[a-zA-Z][\w:+-]*)\}`(?P<body>[^`]*)`")
FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:+-]+)\}[ \t]*(?P<arg>.*)$")
OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
               "error", "seealso", "admonition"}


@dataclass
class Context:
    """What the rewriting needs to know: glued values, the bibliography, where the site lives."""

    glue: dict[str, str] = field(default_factory=dict)
    citations: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (authors, year)
    site_url: str = ""          # the hosted book, e.g. https://owner.github.io/name/ ("" = no links)
    docname: str = ""           # the page being rewritten, e.g. notebooks/20_soft_dictionary
    exercise_count: int = 0
    exercises: dict[str, int] = field(default_factory=dict)  # label -> number
    on_solution: Callable[[str], str] | None = None  # override how a solution is written
    # (the slides) override how an exercise is written: (number, title, body) -> text
    on_exercise: Callable[[int, str, str], str] | None = None
    # (the slides) override how a solution is written, told its exercise's number (None: no label)
    on_solution_to: Callable[[int | None, str], str] | None = None
    unfilled: set[str] = field(default_factory=set)  # glue keys with no value (shown as …)
    lang: str = "en"            # the edition: the words the rewriting adds are in its language


# the words the rewriting adds, per edition
WORDS = {
    "en": {"exercise": "Exercise", "solution": "Solution", "solution_to": "Solution to exercise {n}",
           "solution_head": "Solution to {t}", "continued": "(continued)",
           "more_lines": "more lines", "more_lines_chapter": "more lines in the chapter",
           "full_statement": "(the full statement is in the notes)", "no_solution": "the book gives no solution."},
    "ko": {"exercise": "연습", "solution": "해답", "solution_to": "연습 {n}의 해답",
           "solution_head": "해답 — {t}", "continued": "(계속)",
           "more_lines": "줄 더", "more_lines_chapter": "줄 더: 본문 참고",
           "full_statement": "(전체 문제는 발표자 노트에)", "no_solution": "이 책은 해답을 싣지 않는다."},
}


def words(ctx: Context) -> dict[str, str]:
    return WORDS.get(ctx.lang, WORDS["en"])


# ------------------------------------------------------------------------------ bibliography
def _latex_to_text(s: str) -> str:
    """BibTeX's LaTeX as the text the site shows: accents as Unicode ("Veli{\\v{c}}kovi{\\'c}" ->
    "Veličković", as sphinxcontrib-bibtex prints it), other commands and braces dropped."""
    import codecs
    import unicodedata

    import latexcodec  # noqa: F401  (registers the "ulatex" codec; a dependency of pybtex)

    s = unicodedata.normalize("NFC", codecs.decode(s, "ulatex"))
    s = re.sub(r"\\[a-zA-Z]+\s*", "", s)
    return s.replace("{", "").replace("}", "").replace("--", "–").strip()


def load_citations(bib: Path) -> dict[str, tuple[str, str]]:
    """``key -> (authors for an author–year citation, year)`` from a BibTeX file."""
    from pybtex.database import parse_file

    out = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [_latex_to_text(" ".join(p.prelast_names + p.last_names)) for p in people]
        if not last:
            names = _latex_to_text(entry.fields.get("title", key))
        elif len(last) == 1:
            names = last[0]
        elif len(last) == 2:
            names = f"{last[0]} and {last[1]}"
        else:
            names = f"{last[0]} et al."
        out[key] = (names, _latex_to_text(entry.fields.get("year", "n.d.")))
    # the same authors and year twice: 2014a, 2014b (in the order of the keys)
    groups: dict[tuple[str, str], list[str]] = {}
    for key in sorted(out):
        groups.setdefault(out[key], []).append(key)
    for (names, year), keys in groups.items():
        if len(keys) > 1:
            for i, key in enumerate(keys):
                out[key] = (names, f"{year}{chr(ord('a') + i)}")
    return out


# ------------------------------------------------------------------------------------- glue
def glue_values(executed: dict | None, glue_file: Path | None = None) -> dict[str, str]:
    """The values an executed notebook glued, as the text they show.

    myst-nb takes the glue outputs out of its executed copy and writes them to
    ``_build/jupyter_execute/<doc>.glue.json``: ``glue_file``; glue outputs still in the notebook
    (executed elsewhere) count too.
    """
    values: dict[str, str] = {}
    outputs = [out for cell in (executed or {}).get("cells", []) for out in cell.get("outputs", [])]
    if glue_file is not None and glue_file.is_file():
        outputs += list(json.loads(glue_file.read_text(encoding="utf-8")).values())
    for out in outputs:
            meta = out.get("metadata", {}).get("scrapbook") or {}
            name = meta.get("name")
            if not name:
                continue
            data = out.get("data", {})
            text = None
            for mime, value in data.items():
                if mime.endswith("text/plain"):
                    text = "".join(value) if isinstance(value, list) else str(value)
            if text is not None:
                if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
                    text = text[1:-1]  # a glued str shows its repr
                values[name] = text
    return values


# ------------------------------------------------------------------------------------ roles
def _link(ctx: Context, target: str, text: str) -> str:
    if not ctx.site_url:
        return text
    base = Path(ctx.docname).parent.as_posix() if ctx.docname else ""
    path = target if target.startswith("/") else f"{base}/{target}" if base else target
    parts: list[str] = []
    for p in path.strip("/").split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p and p != ".":
            parts.append(p)
    return f"[{text}]({ctx.site_url.rstrip('/')}/{'/'.join(parts)}.html)"


def _title_and_target(body: str) -> tuple[str | None, str]:
    m = re.fullmatch(r"\s*(.*?)\s*<([^<>]+)>\s*", body, re.S)
    return (m.group(1), m.group(2)) if m else (None, body.strip())


def _role(ctx: Context, name: str, body: str) -> str:
    if name in {"glue", "glue:", "glue:text", "glue:md", "glue:any"}:
        key = body.split(":")[0].strip()
        if key not in ctx.glue:
            ctx.unfilled.add(key)
        return ctx.glue.get(key, "…")
    if name.startswith("cite"):
        keys = [k.strip() for k in body.split(",") if k.strip()]
        cites = [ctx.citations.get(k, (k, "")) for k in keys]
        if name in {"cite:t", "cite:ts", "cite:ct"}:
            return "; ".join(f"{a} ({y})" for a, y in cites)
        inner = "; ".join(f"{a} {y}".strip() for a, y in cites)
        return inner if name in {"cite:alp", "cite:yearpar"} else f"({inner})"
    if name == "math":
        return f"${body}$"
    if name in {"doc", "ref", "numref", "term", "eq", "download"}:
        title, target = _title_and_target(body)
        if name == "doc":
            return _link(ctx, target, title or Path(target).name.replace("_", " "))
        if name == "eq":
            return f"({target})"
        return title or target
    if name in {"sub", "sup"}:
        return f"<{name}>{body}</{name}>"
    if name in {"kbd", "code", "samp", "file", "command", "program"}:
        return f"`{body}`"
    return _title_and_target(body)[0] or body


def rewrite_roles(text: str, ctx: Context) -> str:
    """Replace every ``{role}`body``` outside inline code."""
    out, pos = [], 0
    ticks = re.compile(r"`+")
    while pos < len(text):
        role = ROLE.match(text, pos)
        if role:
            out.append(_role(ctx, role.group("name"), role.group("body")))
            pos = role.end()
            continue
        run = ticks.match(text, pos)
        if run:  # a code span: copied as it is, up to the closing run of as many backticks
            close = re.compile(rf"(?<!`){run.group(0)}(?!`)").search(text, run.end())
            end = close.end() if close else run.end()
            out.append(text[pos:end])
            pos = end
            continue
        nxt = min((i for i in (text.find("{", pos + 1), text.find("`", pos + 1)) if i >= 0),
                  default=len(text))
        out.append(text[pos:nxt])
        pos = nxt
    return "".join(out)


# ------------------------------------------------------------------------------- directives
def _split_directive(lines: list[str], start: int) -> tuple[dict, int]:
    """The directive opened at ``lines[start]``: name, argument, options, body; the next line."""
    m = FENCE_OPEN.match(lines[start])
    assert m
    fence = m.group("fence")
    char, n = fence[0], len(fence)
    depth, i = 0, start + 1
    body: list[str] = []
    while i < len(lines):
        line = lines[i]
        inner = FENCE_OPEN.match(line)
        if inner and inner.group("fence")[0] == char and len(inner.group("fence")) == n:
            depth += 1
        elif re.fullmatch(rf"[ \t]*{re.escape(char)}{{{n},}}[ \t]*", line):
            if depth == 0:
                break
            depth -= 1
        body.append(line)
        i += 1
    options: dict[str, str] = {}
    while body and OPTION.match(body[0]):
        o = OPTION.match(body[0])
        options[o.group("key")] = o.group("value").strip()
        body.pop(0)
    # YAML-style options block (--- ... ---)
    if body and body[0].strip() == "---":
        end = next((k for k in range(1, len(body)) if body[k].strip() == "---"), None)
        if end is not None:
            for opt in body[1:end]:
                if ":" in opt:
                    k, v = opt.split(":", 1)
                    options[k.strip()] = v.strip()
            body = body[end + 1:]
    while body and not body[0].strip():
        body.pop(0)
    return {"name": m.group("name"), "arg": m.group("arg").strip(), "options": options,
            "body": "\n".join(body).rstrip(), "indent": m.group("indent")}, i + 1


def _quote(text: str) -> str:
    return "\n".join(f"> {ln}" if ln.strip() else ">" for ln in text.splitlines())


def _directive(ctx: Context, d: dict) -> str:
    name, arg, body = d["name"], d["arg"], to_plain(d["body"], ctx)
    if name == "exercise":
        ctx.exercise_count += 1
        label = d["options"].get("label")
        if label:
            ctx.exercises[label] = ctx.exercise_count
        if ctx.on_exercise is not None:
            return ctx.on_exercise(ctx.exercise_count, rewrite_roles(arg, ctx) if arg else "", body)
        title = f" ({rewrite_roles(arg, ctx)})" if arg else ""
        return f"**{words(ctx)['exercise']} {ctx.exercise_count}{title}.** {body}"
    if name == "solution":
        number = ctx.exercises.get(arg.strip())
        if ctx.on_solution_to is not None:
            return ctx.on_solution_to(number, body)
        if ctx.on_solution is not None:
            return ctx.on_solution(body)
        summary = words(ctx)["solution_to"].format(n=number) if number else words(ctx)["solution"]
        return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>"
    if name in ADMONITIONS:
        title = rewrite_roles(arg, ctx) if name == "admonition" and arg else name.capitalize()
        if name == "seealso":
            title = "See also"
        return _quote(f"**{title}**\n\n{body}")
    if name in {"math", "equation"}:
        return f"$$\n{d['body']}\n$$"
    if name in {"figure", "image"}:
        alt = d["options"].get("alt", body.splitlines()[0] if body else "")
        img = f"![{alt}]({arg})"
        return f"{img}\n\n{body}" if name == "figure" and body else img
    if name in {"code-block", "code", "code-cell", "sourcecode"}:
        return f"```{arg}\n{d['body']}\n```"
    if name in {"bibliography", "tableofcontents", "toctree", "glossary"} or name.startswith("attnbook"):
        return ""
    return body


def to_plain(text: str, ctx: Context) -> str:
    """One MyST markdown text as plain markdown (see the module docstring)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    in_code: str | None = None
    while i < len(lines):
        line = lines[i]
        plain_fence = re.match(r"^[ \t]*(`{3,}|~{3,})(?!\{)", line)
        if in_code is not None:
            out.append(line)
            if re.fullmatch(rf"[ \t]*{re.escape(in_code[0])}{{{len(in_code)},}}[ \t]*", line):
                in_code = None
            i += 1
            continue
        if FENCE_OPEN.match(line):
            d, i = _split_directive(lines, i)
            out.append(_directive(ctx, d))
            continue
        if plain_fence:
            in_code = plain_fence.group(1)
            out.append(line)
            i += 1
            continue
        out.append(line)
        i += 1
    # roles outside fenced code blocks
    result, block, in_code = [], [], None
    for line in "\n".join(out).splitlines():
        fence = re.match(r"^[ \t]*(`{3,}|~{3,})", line)
        if in_code is None and fence:
            result.append(rewrite_roles("\n".join(block), ctx))
            block, in_code = [], fence.group(1)
            result.append(line)
        elif in_code is not None:
            result.append(line)
            if re.fullmatch(rf"[ \t]*{re.escape(in_code[0])}{{{len(in_code)},}}[ \t]*", line):
                in_code = None
        else:
            block.append(line)
    result.append(rewrite_roles("\n".join(block), ctx))
    return "\n".join(r for r in result if r is not None).strip("\n") + ("\n" if text.endswith("\n") else "")


# --------------------------------------------------------------------------- leftovers check
LEFTOVERS = [
    (re.compile(r"\{[a-zA-Z][\w:+-]*\}`"), "a MyST role"),
    (re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{", re.M), "a MyST directive"),
    (re.compile(r"^[ \t]*:(?:label|class|name|dropdown):", re.M), "a directive option"),
]


def leftovers(rendered_text: str) -> list[str]:
    """MyST syntax left in text a reader sees (the text of the rendered markdown)."""
    found = []
    for rx, what in LEFTOVERS:
        for m in rx.finditer(rendered_text):
            around = rendered_text[max(0, m.start() - 30): m.end() + 30].replace("\n", " ")
            found.append(f"{what}: ...{around}...")
    return found


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
