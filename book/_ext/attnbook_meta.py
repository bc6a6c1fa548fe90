"""What the book's tools and its Sphinx extensions read the same way: the table of contents, the
speaker-notes cells, the cells shown in one edition (language) only, and the bookkeeping code (the
asserts, glue and records behind the prose, which the pages collapse and the slides and the printed
book leave out).

One module for both sides: ``book/_ext`` is on ``sys.path`` in the Sphinx build (a local
extension folder), for pytest (``pythonpath`` in ``pyproject.toml``) and for the scripts in
``tools/`` (each adds it). Only the standard library and PyYAML.
"""

from __future__ import annotations

import ast
from pathlib import Path

NOTES_TAGS = {"notes", "speaker-notes"}
# a cell shown in one edition only (a diagram drawn with English or with Korean labels)
LANG_TAGS = {"lang-en": "en", "lang-ko": "ko"}


def is_notes_cell(cell: dict) -> bool:
    """A speaker-notes cell (tag ``notes``/``speaker-notes`` or slide type ``notes``): shown on
    the slides only, never on the book's pages or in the Colab edition."""
    meta = cell.get("metadata", {})
    return bool(NOTES_TAGS & set(meta.get("tags", []))) or (
        (meta.get("slideshow") or {}).get("slide_type") == "notes")


def cell_language(cell: dict) -> str | None:
    """``"en"``/``"ko"`` for a cell tagged ``lang-en``/``lang-ko`` (shown in that edition only), else None."""
    langs = {LANG_TAGS[t] for t in cell.get("metadata", {}).get("tags", []) if t in LANG_TAGS}
    if len(langs) > 1:
        raise ValueError(f"cell {cell.get('id')} is tagged for two editions: {sorted(langs)}")
    return langs.pop() if langs else None


def shown_in(cell: dict, lang: str) -> bool:
    """Whether the edition ``lang`` shows the cell (its page, slides and Colab edition)."""
    return cell_language(cell) in (None, lang)


def book_language(book: Path) -> str:
    """The edition a book folder builds: ``sphinx.config.attnbook_edition`` of its ``_config.yml``."""
    import yaml

    config = yaml.safe_load((Path(book) / "_config.yml").read_text(encoding="utf-8")) or {}
    return ((config.get("sphinx") or {}).get("config") or {}).get("attnbook_edition", "en")


def toc_documents(book: Path) -> list[str]:
    """Every document of ``<book>/_toc.yml`` (the root and each ``file:``), in order, without suffix."""
    import yaml

    toc = yaml.safe_load((Path(book) / "_toc.yml").read_text(encoding="utf-8"))
    docs: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    docs.append(Path(node[key]).with_suffix("").as_posix())
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    return docs


def toc_chapters(book: Path) -> list[str]:
    """The chapters (notebooks) of the table of contents, in order, by stem: ``["10_rnn", ...]``."""
    return [Path(d).name for d in toc_documents(book) if d.startswith("notebooks/")]


# ------------------------------------------------------------------------------ bookkeeping
CHECK_CALLS = {"glue", "glue_many"}   # glue("name", value), glue_many(name=value, ...): numbers for the prose
CHECK_OBJECTS = {"rec"}               # rec.record(...), rec.finish(): the chapter's results.Recorder
# the tags under which a page does not show a cell's code (collapsed or removed)
CODE_HIDING_TAGS = {"hide-input", "remove-input", "hide-cell", "remove-cell"}


def is_check_call(node: ast.AST) -> bool:
    """``glue(...)``, ``glue_many(...)`` or a call on the Recorder ``rec`` (``rec.record(...)``)."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Name):
        return f.id in CHECK_CALLS
    while isinstance(f, ast.Attribute):
        f = f.value
        if isinstance(f, ast.Name) and f.id in CHECK_OBJECTS:
            return True
        if isinstance(f, ast.Call):
            f = f.func
    return False


def is_check(stmt: ast.stmt) -> bool:
    """A statement that only checks or records: an ``assert``, a check call (:func:`is_check_call`),
    or a loop, ``if`` or ``with`` of such statements (and of the assignments they need)."""
    if isinstance(stmt, ast.Assert):
        return True
    if isinstance(stmt, ast.Expr):
        return is_check_call(stmt.value)
    if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With)):
        body = stmt.body + getattr(stmt, "orelse", [])
        return any(is_check(s) for s in body) and all(
            is_check(s) or isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)) for s in body)
    return False


def _bound_names(*targets: ast.AST) -> set[str]:
    """The names an assignment binds (its targets: not a comprehension's variables)."""
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _kind(stmt: ast.stmt, used_elsewhere: set[str]) -> str:
    """``check`` (an assert, a glue or a record), ``support`` (binds only names that no cell below
    uses, or is a bare string), ``code`` (anything else)."""
    if isinstance(stmt, ast.Assert) or (isinstance(stmt, ast.Expr) and is_check_call(stmt.value)):
        return "check"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):   # a bare string
        return "support"
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
        if stmt.value is not None and is_check_call(stmt.value):
            return "check"
        names = _bound_names(*(stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]))
        return "support" if names and not names & used_elsewhere else "code"
    if isinstance(stmt, ast.For | ast.If | ast.While):   # a loop's variable counts for nothing
        kinds = {_kind(s, used_elsewhere) for s in [*stmt.body, *stmt.orelse]}
        if "code" in kinds:
            return "code"
        return "check" if "check" in kinds else "support"
    return "code"


def is_bookkeeping(code: str, used_elsewhere: set[str]) -> bool:
    """A cell whose code only checks, records or glues: every statement is an ``assert``, a
    ``glue(...)``/``glue_many(...)``, a ``rec.…(...)``, or binds names that no cell below uses
    (``used_elsewhere``: the values those checks are made of), and at least one checks."""
    try:
        tree = ast.parse(code)
    except SyntaxError:                 # IPython syntax (%magic, !shell): not bookkeeping
        return False
    kinds = [_kind(s, used_elsewhere) for s in tree.body]
    return bool(kinds) and "code" not in kinds and "check" in kinds


def code_names(code: str) -> set[str]:
    """The names a cell's code mentions (variables and attributes)."""
    import re

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(re.findall(r"[A-Za-z_]\w*", code))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def bookkeeping_cells(cells: list[dict]) -> list[int]:
    """The indices of a notebook's bookkeeping code cells (:func:`is_bookkeeping`, with the names
    that the code cells below use), except a cell that the markdown just above introduces (it ends
    with a colon: the cell is then part of the text)."""
    codes = ["".join(c.get("source", "")) if c.get("cell_type") == "code" else "" for c in cells]
    names = [code_names(c) if c else set() for c in codes]
    out = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or not codes[i].strip():
            continue
        above = "".join(cells[i - 1].get("source", "")).rstrip() if i and cells[i - 1].get("cell_type") == "markdown" else ""
        if above.endswith(":"):
            continue
        if is_bookkeeping(codes[i], set().union(*names[i + 1:])):
            out.append(i)
    return out
