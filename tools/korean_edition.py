#!/usr/bin/env python3
"""The Korean edition (한국어판): built from the English build's executed notebooks, never executed again.

``python tools/korean_edition.py [--book .]`` (``tools/build_book.py`` runs it after the English site):

1. checks that every catalogue in ``locale/ko/`` is complete: no empty, fuzzy or stale entry
   (``tools/i18n.py status``); an incomplete one stops the build, naming what is missing;
2. writes the Korean book's sources to ``_build/ko/src``: each chapter is the English build's
   *executed* notebook (``_build/jupyter_execute/notebooks/<chapter>.ipynb``, with the glued
   values myst-nb kept beside it in ``<chapter>.glue.json`` put back) with its markdown cells replaced by the Korean ones. Its code cells must equal
   the English source's byte for byte, or the build stops (an executed copy older than its
   source). Pages (``book/*.md``) are translated block by block; the rest of ``book/`` (the
   bibliography, the extensions, static files, the sweep's figures) is linked, not copied;
3. builds it with ``execute_notebooks: "off"`` (Sphinx ``language: ko``; the project's Korean
   search), then makes its slides, Colab editions and PDF with the same tools as the English
   edition, and moves the site to ``_build/html/ko/``.

Every page then has the same name in both editions (``/notebooks/10_rnn.html`` and
``/ko/notebooks/10_rnn.html``), and the language button of each page leads to the other.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

import i18n  # noqa: E402
import yaml  # noqa: E402
from attnbook_meta import toc_documents  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TITLE = "어텐션: RNN에서 그래프 어텐션 네트워크까지"
FOOTER = ("코드: MIT. 본문, 그림, 슬라이드: CC BY-SA 4.0. 데이터셋: 각각의 라이선스 (데이터 페이지 참고). "
          "이 한국어판은 영어판과 같은 실행 결과로 만들어진다.")
# the parts of the table of contents
CAPTIONS = {
    "Getting started": "시작하기",
    "Part I: Recurrent networks": "1부: 순환 신경망",
    "Part II: Attention": "2부: 어텐션",
    "Part III: Convolutions and the limits of recurrence": "3부: 합성곱과 순환의 한계",
    "Part IV: Self-attention and the Transformer": "4부: 셀프 어텐션과 트랜스포머",
    "Part V: Graph attention networks": "5부: 그래프 어텐션 네트워크",
    "Reference": "참고 자료",
}


class EditionError(RuntimeError):
    """The Korean edition cannot be made as asked (an incomplete catalogue, a stale executed copy)."""


def source_dir(book: Path) -> Path:
    return book / "_build" / "ko" / "src"


def executed_dir(book: Path) -> Path:
    return book / "_build" / "jupyter_execute"


def check_catalogues(book: Path) -> None:
    missing = []
    for doc in toc_documents(book):
        s = i18n.status(doc, book)
        if s["translated"] != s["units"]:
            missing.append(f"{doc}: {s['translated']}/{s['units']} translated"
                           + "".join(f", {s[k]} {k}" for k in ("fuzzy", "untranslated", "stale") if s[k]))
    if missing:
        raise EditionError(
            "the Korean catalogues are not complete (run 'python tools/i18n.py update', then translate "
            "what 'python tools/i18n.py export <doc>' shows):\n  " + "\n  ".join(missing))


def code_cells(nb: dict) -> list[str]:
    return [i18n.cell_text(c) for c in nb["cells"] if c["cell_type"] == "code"]


def translate_notebook(doc: str, book: Path, executed: Path, draft: bool = False) -> dict:
    """The executed English notebook with its markdown cells in Korean."""
    english = json.loads(i18n.source_path(doc, book).read_text(encoding="utf-8"))
    ran = executed / f"{doc}.ipynb"
    if not ran.is_file():
        raise EditionError(f"{ran} not found: the English build executes the notebooks first "
                           "(tools/build_book.py), and the Korean edition never executes one")
    nb = json.loads(ran.read_text(encoding="utf-8"))
    if code_cells(nb) != code_cells(english):
        raise EditionError(f"{ran} was not executed from the current {doc}.ipynb (its code differs): "
                           "build the English book again")
    # the English build tagged the Korean-only cells remove-cell before it executed them (and that
    # copy keeps the tag): each cell gets its source's metadata back, so that this build shows
    # the cells of its own edition
    source_meta = {c.get("id"): c.get("metadata", {}) for c in english["cells"]}
    for cell in nb["cells"]:
        if cell.get("id") in source_meta:
            cell["metadata"] = json.loads(json.dumps(source_meta[cell["id"]]))
    restore_glue(nb, executed / f"{doc}.glue.json")
    table = i18n.translations(doc, book)
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        key = (cell.get("id", ""), i18n.cell_text(cell))
        if key not in table and not draft:
            raise EditionError(f"{doc}: cell {key[0]} has no Korean text matching its English")
        cell["source"] = table.get(key, key[1])
    return nb


def restore_glue(nb: dict, sidecar: Path) -> int:
    """Put the glued values back into the notebook: myst-nb moves them out of the executed copy
    into ``<chapter>.glue.json`` and reads them from a notebook's outputs when it does not
    execute. They go, hidden as glue is, into the first code cell's outputs."""
    if not sidecar.is_file():
        return 0
    glue = json.loads(sidecar.read_text(encoding="utf-8"))
    first = next((c for c in nb["cells"] if c["cell_type"] == "code"), None)
    if first is None:
        raise EditionError(f"{sidecar}: glued values but no code cell to hold them")
    for name, output in glue.items():
        meta = output.get("metadata", {}).get("scrapbook", {})
        if meta.get("name") != name:
            raise EditionError(f"{sidecar}: the entry {name!r} is not a glue output")
        prefix = meta.get("mime_prefix", "")
        first.setdefault("outputs", []).append(
            {**output, "data": {prefix + k: v for k, v in output.get("data", {}).items()}})
    return len(glue)


def translate_page(doc: str, book: Path, draft: bool = False) -> str:
    table = i18n.translations(doc, book)
    out = []
    for block in i18n.split_blocks(i18n.source_path(doc, book).read_text(encoding="utf-8")):
        if i18n.needs_translation(block):
            if ("", block) not in table and not draft:
                raise EditionError(f"{doc}: a block has no Korean text: {block[:60]!r}")
            out.append(table.get(("", block), block))
        else:
            out.append(block)
    return "\n\n".join(out) + "\n"


def translate_toc(book: Path) -> dict:
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        caption = part.get("caption")
        if caption is not None:
            if caption not in CAPTIONS:
                raise EditionError(f"_toc.yml: the part {caption!r} has no Korean caption in "
                                   "tools/korean_edition.py (CAPTIONS)")
            part["caption"] = CAPTIONS[caption]
    return toc


def translate_config(book: Path) -> dict:
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = TITLE
    config.setdefault("execute", {})["execute_notebooks"] = "off"   # never executed again
    config.setdefault("html", {})["extra_footer"] = FOOTER
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["language"] = "ko"
    # Sphinx has no Korean search: the book's English + Korean splitter (attnbook_publish)
    sphinx["html_search_language"] = "en"
    sphinx["html_css_files"] = list(sphinx.get("html_css_files", [])) + ["korean.css"]
    sphinx["attnbook_edition"] = "ko"
    # the prompt over a collapsed bookkeeping cell (hide-input: its asserts, glue and records)
    sphinx["nb_code_prompt_show"] = "본문을 뒷받침하는 검증 코드 보기"
    sphinx["nb_code_prompt_hide"] = "검증 코드 숨기기"
    return config


def make_tree(book: Path, out: Path | None = None, executed: Path | None = None, draft: bool = False) -> Path:
    """Write the Korean book's sources; returns their folder. ``draft``: English wherever the
    Korean is missing (to look at a translation in progress; the book's build never uses it)."""
    book = book.resolve()
    out = out or source_dir(book)
    executed = executed or executed_dir(book)
    if not draft:
        check_catalogues(book)
    if out.exists():
        shutil.rmtree(out)
    (out / "book").mkdir(parents=True)
    (out / "notebooks").mkdir(parents=True)
    for doc in toc_documents(book):
        src = i18n.source_path(doc, book)
        dest = out / src.relative_to(book)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".ipynb":
            nb = translate_notebook(doc, book, executed, draft)
            dest.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        else:
            dest.write_text(translate_page(doc, book, draft), encoding="utf-8")
    # everything else the pages use (extensions, static files, bibliography, sweep figures): linked
    for item in sorted((book / "book").iterdir()):
        if not (out / "book" / item.name).exists():
            (out / "book" / item.name).symlink_to(item)
    # the front-end assets fetched once by the Makefile (reveal.js for the slides)
    if (book / ".cache").is_dir():
        (out / ".cache").symlink_to(book / ".cache")
    (out / "_toc.yml").write_text(yaml.safe_dump(translate_toc(book), allow_unicode=True, sort_keys=False),
                                  encoding="utf-8")
    (out / "_config.yml").write_text(yaml.safe_dump(translate_config(book), allow_unicode=True,
                                                    sort_keys=False), encoding="utf-8")
    return out


SECTION_ID = re.compile(r'(<section\b[^>]*\bid=")([^"]+)(")')
NOT_HEADINGS = {"exercise-content", "solution-content"}   # sphinx-exercise's own sections


def section_ids(html: str) -> list[str]:
    return [m.group(2) for m in SECTION_ID.finditer(html) if m.group(2) not in NOT_HEADINGS]


def align_anchors(english: str, korean: str) -> tuple[str, int]:
    """Give the Korean page's sections the English page's ids (Sphinx makes ids from a heading's
    text, and Korean text gives ``id3``): a link to a section, ``#making-the-lookup-soft``, then
    works in both editions. Sections are matched in order; a page whose sections differ in
    number is left as it is (returns 0)."""
    en, ko = section_ids(english), section_ids(korean)
    if len(en) != len(ko):
        return korean, 0
    rename = {k: e for k, e in zip(ko, en, strict=True) if k != e}
    if set(rename.values()) & (set(re.findall(r'\bid="([^"]+)"', korean)) - set(rename)):
        return korean, 0   # an English id already used by something else on the Korean page
    out = SECTION_ID.sub(lambda m: m.group(1) + rename.get(m.group(2), m.group(2)) + m.group(3), korean)
    out = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{rename.get(m.group(1), m.group(1))}"', out)
    return out, len(rename)


def align_site(english_site: Path, korean_site: Path) -> int:
    """:func:`align_anchors` on every page both editions have; returns the sections renamed."""
    n = 0
    for ko in sorted(korean_site.glob("*/*.html")):
        en = english_site / ko.relative_to(korean_site)
        if ko.parent.name in {"book", "notebooks"} and en.is_file():
            text, k = align_anchors(en.read_text(encoding="utf-8"), ko.read_text(encoding="utf-8"))
            if k:
                ko.write_text(text, encoding="utf-8")
                n += k
    return n


def build(book: Path, env: dict | None = None, draft: bool = False) -> int:
    """Make the tree, build it (no execution), its slides, Colab editions and PDF; move the site
    to ``_build/html/ko``. Returns an exit status."""
    start = time.time()
    book = book.resolve()
    try:
        tree = make_tree(book, draft=draft)
    except EditionError as e:
        print(f"error: the Korean edition was not built: {e}", file=sys.stderr)
        return 1
    env = dict(env or os.environ)
    env.setdefault("ATTNBOOK_RESULTS_DIR", str(book / "_build" / "results"))
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(tree), "--all", "-W", "-n", "--keep-going"]
    print("$ jupyter-book", " ".join(cmd[1:]), flush=True)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    log = r.stdout + r.stderr
    (book / "_build" / "ko").mkdir(parents=True, exist_ok=True)
    (book / "_build" / "ko" / "build.log").write_text(log, encoding="utf-8")
    problems = [ln for ln in log.splitlines() if "WARNING" in ln or "ERROR" in ln or "Traceback" in ln]
    if r.returncode != 0 or "build finished with problems" in log or problems:
        print("The Korean edition did NOT build. Problems:\n  " + "\n  ".join(problems[-40:] or log.splitlines()[-30:]),
              file=sys.stderr)
        return r.returncode or 1
    if "Executing notebook" in log:  # never: execute_notebooks is off
        print("error: the Korean build executed a notebook", file=sys.stderr)
        return 1
    renamed = align_site(book / "_build" / "html", tree / "_build" / "html")
    print(f"{renamed} Korean sections given their English anchors")
    # the slides and the Colab editions read a chapter's executed notebook and its glued values
    # from <book>/_build/jupyter_execute: the Korean notebooks (the English outputs, Korean prose)
    # and the English build's glue files
    ran = tree / "_build" / "jupyter_execute" / "notebooks"
    ran.mkdir(parents=True, exist_ok=True)
    for nb in sorted((tree / "notebooks").glob("*.ipynb")):
        shutil.copy2(nb, ran / nb.name)
        glue = executed_dir(book) / "notebooks" / f"{nb.stem}.glue.json"
        if glue.is_file():
            shutil.copy2(glue, ran / glue.name)
    for tool in ("slides.py", "talk.py", "colab_edition.py", "print_book.py"):   # talk.py: the notes' talk
        t = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--book", str(tree)], env=env)
        if t.returncode != 0:
            print(f"The Korean site is built, but tools/{tool} failed on it (exit {t.returncode}).", file=sys.stderr)
            return t.returncode
    site = book / "_build" / "html" / "ko"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(tree / "_build" / "html", site)
    # the Colab editions go to the colab branch with the English ones (the workflow publishes
    # _build/html/colab): the Korean under ko/, where the Korean pages' Colab buttons point
    colab = book / "_build" / "html" / "colab" / "ko"
    if colab.exists():
        shutil.rmtree(colab)
    shutil.copytree(site / "colab", colab)
    print(f"The Korean edition is built ({time.time() - start:.0f} s): {site / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the Korean edition (see the module docstring).")
    ap.add_argument("--book", type=Path, default=ROOT)
    ap.add_argument("--tree-only", action="store_true", help="write the Korean sources, do not build")
    ap.add_argument("--draft", action="store_true",
                    help="English wherever the Korean is missing (a translation in progress; not for publishing)")
    args = ap.parse_args(argv)
    if args.tree_only:
        try:
            print(make_tree(args.book, draft=args.draft))
        except EditionError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return 0
    return build(args.book, draft=args.draft)


if __name__ == "__main__":
    sys.exit(main())
