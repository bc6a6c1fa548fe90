"""What the book's tools and its Sphinx extensions read the same way: the table of contents, the
speaker-notes cells and the cells shown in one edition (language) only.

One module for both sides: ``book/_ext`` is on ``sys.path`` in the Sphinx build (a local
extension folder), for pytest (``pythonpath`` in ``pyproject.toml``) and for the scripts in
``tools/`` (each adds it). Only the standard library and PyYAML.
"""

from __future__ import annotations

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
