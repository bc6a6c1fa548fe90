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
* a line under the title linking the chapter on the hosted site;
* the hidden cells that check an exercise's solution (code cells tagged to be removed or hidden on
  the site, right after a markdown cell holding a ``{solution}``) moved to the end of the notebook,
  under a heading "Checks of the solutions (run after trying the exercises)", each collapsed to
  its title (Colab's ``#@title`` form, ``cellView: form``; ``source_hidden`` for JupyterLab). On the
  site the folded solution hides the answer and the check is not shown; in Colab every cell is
  shown, and an ``assert`` with the expected numbers right under the exercise would give the answer
  away. They are moved, not dropped: they still check the solutions against the reader's run. A
  check cell only reads what the chapter computed before it, and nothing after it but the last
  ``rec.finish()`` depends on it (``tests/test_colab.py`` checks both), so it runs as well at the end.

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
from attnbook_meta import book_language, is_notes_cell, shown_in, toc_chapters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

HIDING_TAGS = {"remove-cell", "remove-input", "hide-cell", "hide-input"}
SOLUTION = re.compile(r"^[ \t]*(`{3,}|:{3,})\{solution\}", re.MULTILINE)
CHECKS_HEADING = "Checks of the solutions (run after trying the exercises)"
CHECK_TITLE = "Check of a solution above: run it after trying the exercise"


def is_hidden_code(cell: dict) -> bool:
    """A code cell the site removes or hides (by its tags)."""
    tags = set(cell.get("metadata", {}).get("tags") or [])
    return cell["cell_type"] == "code" and bool(tags & HIDING_TAGS)


def solution_checks(cells: list[dict]) -> list[int]:
    """Indices of the hidden code cells that follow a markdown cell holding a ``{solution}``
    (with only other such hidden code cells between): the checks of the solution."""
    out, after_solution = [], False
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            after_solution = bool(SOLUTION.search("".join(cell["source"])))
        elif after_solution and is_hidden_code(cell):
            out.append(i)
        else:
            after_solution = False
    return out


def collapsed_check(cell: dict) -> dict:
    """A check cell as the Colab edition shows it: folded to its title until the reader opens it."""
    source = "".join(cell["source"])
    cell["source"] = f"#@title {CHECK_TITLE}\n" + source
    meta = cell.setdefault("metadata", {})
    meta["cellView"] = "form"  # Colab: show the #@title, hide the code
    meta.setdefault("jupyter", {})["source_hidden"] = True  # JupyterLab, VS Code
    return cell


CHECKS_TEXT = {
    "en": (f"## {CHECKS_HEADING}\n\nThese cells check the exercises' solutions against this "
           "run: on the book's site they are hidden, and here they are collapsed and kept "
           "at the end so that they do not give the answers away. Try the exercises first, "
           "then run them (each shows only its title until you open it)."),
    "ko": ("## 해답 확인 (연습문제를 풀어 본 뒤에 실행)\n\n이 셀들은 연습문제의 해답을 이번 실행의 결과로 "
           "확인한다. 책의 사이트에서는 숨겨져 있고, 여기서는 답을 미리 보여 주지 않도록 접어서 끝에 "
           "모아 두었다. 연습문제를 먼저 풀고 나서 실행하라 (열기 전에는 제목만 보인다)."),
}


def checks_heading(lang: str = "en") -> dict:
    return {"cell_type": "markdown", "id": "colab-solution-checks", "metadata": {},
            "source": CHECKS_TEXT[lang]}


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


NOTE = {"en": ("*A chapter of [{title}]({page}) — this is its Colab edition. "
               "Run the first code cell to install the book's package.*"),
        "ko": ("*[{title}]({page})의 한 장을 Colab에서 실행하는 판이다. "
               "첫 코드 셀을 실행하면 이 책의 패키지가 설치된다.*")}


def colab_edition(source: dict, chapter: str, ctx: myst_plain.Context, book_title: str,
                  repo: str, commit: str | None = None, lang: str = "en") -> dict:
    """The Colab edition of one notebook (a new notebook dict); ``commit`` pins the install;
    ``lang``: the edition (cells tagged for the other one are left out)."""
    nb = copy.deepcopy(source)
    cells, checks = [], []
    first_markdown = True
    first_code = True
    check_ids = set(solution_checks(nb["cells"]))
    for i, cell in enumerate(nb["cells"]):
        if is_notes_cell(cell) or not shown_in(cell, lang):
            continue
        cell.get("metadata", {}).pop("slideshow", None)
        if cell["cell_type"] == "markdown":
            text = myst_plain.to_plain("".join(cell["source"]), ctx)
            if first_markdown:
                first_markdown = False
                page = f"{ctx.site_url}notebooks/{chapter}.html" if ctx.site_url else ""
                lines = text.split("\n", 1)
                note = "\n\n" + NOTE[lang].format(title=book_title, page=page) if page else ""
                text = lines[0] + note + ("\n" + lines[1] if len(lines) > 1 else "")
            cell["source"] = text
        elif cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            if first_code:  # the install cell
                first_code = False
                cell["source"] = pin_install("".join(cell["source"]), repo, commit)
            elif i in check_ids:
                checks.append(collapsed_check(cell))
                continue
        cells.append(cell)
    if checks:
        cells += [checks_heading(lang), *checks]
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
    lang = book_language(book)
    executed_dir = book / "_build" / "jupyter_execute" / "notebooks"   # the glued values
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
        executed = myst_plain.read_json(executed_dir / f"{chapter}.ipynb")
        site = set_repository.site_url(repo)
        ctx = myst_plain.Context(glue=myst_plain.glue_values(executed, executed_dir / f"{chapter}.glue.json"),
                                 citations=citations, site_url=site + ("ko/" if site and lang == "ko" else ""),
                                 docname=f"notebooks/{chapter}")
        nb = colab_edition(source, chapter, ctx, title, repo, commit, lang)
        target = out / f"{chapter}.ipynb"
        target.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"colab edition: {target}{'' if executed else ' (not executed: glued numbers shown as …)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
