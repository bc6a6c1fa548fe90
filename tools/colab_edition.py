#!/usr/bin/env python3
"""The Colab edition of each chapter: the notebook as Colab (or plain Jupyter) shows it well.

``python tools/colab_edition.py [--book .]`` writes ``_build/html/colab/notebooks/<chapter>.ipynb``
for every notebook of ``_toc.yml`` (``tools/build_book.py`` runs it after the site is built):

* markdown cells in plain markdown (``tools/myst_plain.py``): glued numbers replaced by the values
  this build computed, ``{cite}`` by author–year text, ``{doc}`` by links to the hosted book,
  exercises numbered, solutions folded in ``<details>``;
* the install cell kept (it installs the book's package wherever it is missing: Colab, Kaggle,
  local Jupyter, VS Code), from the repository named in ``_config.yml`` *at the commit the edition
  was built from* (``$GITHUB_SHA`` in the workflow, else ``git rev-parse HEAD``), so an edition
  and its package always match; the other code cells unchanged, no outputs; speaker-notes cells
  left out;
* a line under the title linking the chapter on the hosted site.

The site publishes them (the download button of a chapter page), and the publishing workflow
pushes them to the ``colab`` branch of the repository, which the Colab buttons open.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

import myst_plain  # noqa: E402
import set_repository  # noqa: E402
from attnbook_meta import is_notes_cell, toc_chapters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def built_commit(book: Path) -> str | None:
    """The commit the book is built from: ``$GITHUB_SHA`` (the workflow), else git's HEAD."""
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if not sha:
        try:
            sha = subprocess.run(["git", "-C", str(book), "rev-parse", "HEAD"], capture_output=True,
                                 text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            sha = ""
    return sha if re.fullmatch(r"[0-9a-f]{40}", sha) else None


def pin_install(source: str, repo: str, commit: str | None) -> str:
    """The install cell's ``git+https://github.com/OWNER/NAME`` pinned to ``@commit``."""
    if not commit:
        return source
    return re.sub(rf"(git\+https://github\.com/{re.escape(repo)})(?:@[0-9a-zA-Z._/-]+)?(?=[\"'\s])",
                  rf"\1@{commit}", source)


def colab_edition(source: dict, chapter: str, ctx: myst_plain.Context, book_title: str,
                  repo: str, commit: str | None = None) -> dict:
    """The Colab edition of one notebook (a new notebook dict); ``commit`` pins the install."""
    nb = copy.deepcopy(source)
    cells = []
    first_markdown = True
    first_code = True
    for cell in nb["cells"]:
        if is_notes_cell(cell):
            continue
        cell.get("metadata", {}).pop("slideshow", None)
        if cell["cell_type"] == "markdown":
            text = myst_plain.to_plain("".join(cell["source"]), ctx)
            if first_markdown:
                first_markdown = False
                page = f"{ctx.site_url}notebooks/{chapter}.html" if ctx.site_url else ""
                lines = text.split("\n", 1)
                note = (f"\n\n*A chapter of [{book_title}]({page}) — this is its Colab edition. "
                        "Run the first code cell to install the book's package.*"
                        if page else "")
                text = lines[0] + note + ("\n" + lines[1] if len(lines) > 1 else "")
            cell["source"] = text
        elif cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            if first_code:  # the install cell
                first_code = False
                cell["source"] = pin_install("".join(cell["source"]), repo, commit)
        cells.append(cell)
    nb["cells"] = cells
    meta = nb.setdefault("metadata", {})
    meta.pop("widgets", None)
    meta["colab"] = {"name": f"{chapter}.ipynb", "provenance": [], "toc_visible": True}
    meta["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    meta["attnbook"] = {"edition": "colab", "chapter": chapter, "repository": repo, "commit": commit,
                        "unfilled_glue": sorted(ctx.unfilled)}
    return nb


def main(argv: list[str] | None = None) -> int:
    import argparse

    import yaml

    ap = argparse.ArgumentParser(description="Write the Colab editions (see the docstring).")
    ap.add_argument("--book", type=Path, default=ROOT)
    ap.add_argument("--out", type=Path, help="default: <book>/_build/html/colab/notebooks")
    args = ap.parse_args(argv)
    book = args.book.resolve()
    out = args.out or book / "_build" / "html" / "colab" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    repo, _ = set_repository.configured(book)
    citations = myst_plain.load_citations(book / "book" / "references.bib")
    title = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8")).get("title", "")
    chapters = toc_chapters(book)
    commit = built_commit(book)
    for stale in out.glob("*.ipynb"):  # a chapter no longer in the book
        if stale.stem not in chapters:
            stale.unlink()
    for chapter in chapters:
        source = myst_plain.read_json(book / "notebooks" / f"{chapter}.ipynb")
        executed = myst_plain.read_json(book / "_build" / "jupyter_execute" / "notebooks" / f"{chapter}.ipynb")
        ctx = myst_plain.Context(glue=myst_plain.glue_values(executed, book / "_build" / "jupyter_execute" / "notebooks" / f"{chapter}.glue.json"), citations=citations,
                                 site_url=set_repository.site_url(repo), docname=f"notebooks/{chapter}")
        nb = colab_edition(source, chapter, ctx, title, repo, commit)
        target = out / f"{chapter}.ipynb"
        target.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"colab edition: {target}{'' if executed else ' (not executed: glued numbers shown as …)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
