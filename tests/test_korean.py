"""The Korean edition (issue 21): its catalogues, its sources and its built site.

* every chapter and page has a complete catalogue (``locale/ko``): no empty, fuzzy or stale entry;
  each translation keeps its English's roles, formulas, code and labels, and the glossary's terms;
* the catalogue tool marks a changed English cell fuzzy and keeps the old text for the translator;
* the Korean sources are the English build's executed notebooks with Korean prose: code cells
  byte for byte the English ones, never executed again (a stale executed copy stops the build);
* the built site has every page under ``/ko/`` with the same name, a language button and
  ``hreflang`` links both ways, ``lang="ko"``, the Korean font served by the site, Korean slides,
  Colab editions and PDF; Korean search finds a term written with a particle (browser).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from html import unescape
from pathlib import Path

import i18n  # tools/ and book/_ext are on pytest's pythonpath (pyproject.toml)
import korean_edition
import pytest
from attnbook_meta import toc_chapters, toc_documents

ROOT = Path(__file__).resolve().parent.parent

SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
KO = SITE / "ko"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# ----------------------------------------------------------------------------- catalogues

@pytest.mark.parametrize("doc", toc_documents(ROOT))
def test_every_document_is_translated_and_up_to_date(doc):
    s = i18n.status(doc)
    assert s["units"] > 0, f"{doc}: nothing to translate?"
    assert s["translated"] == s["units"], (
        f"{doc}: {s['translated']}/{s['units']} translated, {s['fuzzy']} fuzzy, {s['untranslated']} "
        f"untranslated, {s['stale']} stale: run 'python tools/i18n.py update' and translate what "
        f"'python tools/i18n.py export {doc}' shows")


@pytest.mark.parametrize("doc", toc_documents(ROOT))
def test_translations_keep_roles_formulas_code_and_the_glossary_terms(doc):
    problems = i18n.lint(doc)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("doc", toc_documents(ROOT))
def test_translations_are_korean(doc):
    po = i18n.load(doc)
    entries = [e for e in po if not e.obsolete and e.msgstr.strip()]
    hangul = sum(len(HANGUL.findall(e.msgstr)) for e in entries)
    letters = sum(len(re.findall(r"[A-Za-z]", e.msgid)) for e in entries)
    # about one syllable for every four letters of English (a page of a title only has few)
    assert entries and hangul >= min(50, letters / 8), f"{doc}: {hangul} Hangul syllables in its translation"


def test_lint_catches_a_lost_role_formula_code_span_and_a_refused_term():
    english = "See {cite}`a` and $x^2$ with `foo`.\n\n## 2. Next"
    ok = "{cite}`a` 와 $x^2$ 그리고 `foo`를 본다.\n\n## 2. 다음"
    assert i18n.lint_entry(english, ok, {"레이어": "층"}) == []
    bad = "{cite}`b` 와 $x^3$ 그리고 레이어.\n\n# 2. 다음"
    problems = "\n".join(i18n.lint_entry(english, bad, {"레이어": "층"}))
    for what in ("role", "math", "inline code", "headings", "'레이어'"):
        assert what in problems, (what, problems)
    # a quotation of the notes keeps the notes' own words
    assert i18n.lint_entry("Quote.", '노트는 "가중치 소실"이라고 쓴다.', {"가중치 소실": "기울기 소실"}) == []


def test_page_blocks_never_cut_a_fenced_block():
    text = "Intro line.\n\n```{exercise} 1 · T\n:label: x\n\nbody\n\nmore\n```\n\nAfter."
    blocks = i18n.split_blocks(text)
    assert blocks == ["Intro line.", "```{exercise} 1 · T\n:label: x\n\nbody\n\nmore\n```", "After."]


def _copy_book(tmp_path: Path) -> Path:
    book = tmp_path / "book_copy"
    book.mkdir()
    for name in ("_toc.yml", "_config.yml"):
        shutil.copy(ROOT / name, book / name)
    shutil.copytree(ROOT / "notebooks", book / "notebooks")
    shutil.copytree(ROOT / "locale", book / "locale")
    shutil.copytree(ROOT / "book", book / "book", ignore=shutil.ignore_patterns("_static"))
    return book


def test_a_changed_english_cell_becomes_fuzzy_with_the_old_text_kept(tmp_path):
    book = _copy_book(tmp_path)
    doc = next(f"notebooks/{c}" for c in toc_chapters(ROOT) if i18n.complete(f"notebooks/{c}"))
    path = book / f"{doc}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    old = i18n.cell_text(cell)
    cell["source"] = old + "\nOne more sentence."
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    counts = i18n.sync(doc, book)
    assert counts["changed"] == 1
    entry = next(e for e in i18n.load(doc, book) if e.msgctxt == cell["id"])
    assert "fuzzy" in entry.flags and entry.previous_msgid == old and entry.msgstr
    assert i18n.status(doc, book)["fuzzy"] == 1
    with pytest.raises(korean_edition.EditionError, match="not complete"):
        korean_edition.check_catalogues(book)
    # the translator's working file shows the change; importing it clears the flag
    work = tmp_path / "work.md"
    work.write_text(i18n.export(doc, book).replace("@@@ ko\n" + entry.msgstr, "@@@ ko\n" + entry.msgstr + " 한 문장 더."),
                    encoding="utf-8")
    assert "@@@ was\n" + old in work.read_text(encoding="utf-8")
    assert i18n.import_file(doc, work, book)["filled"] >= 1
    assert i18n.status(doc, book)["fuzzy"] == 0


def test_the_korean_sources_keep_every_code_cell_and_translate_every_markdown_cell(tmp_path):
    book = _copy_book(tmp_path)
    executed = tmp_path / "executed"
    shutil.copytree(ROOT / "notebooks", executed / "notebooks")   # stands in for the executed copies
    for path in (executed / "notebooks").glob("*.ipynb"):   # as the English build leaves them
        nb = json.loads(path.read_text(encoding="utf-8"))
        for c in nb["cells"]:
            if "lang-ko" in c.get("metadata", {}).get("tags", []):
                c["metadata"]["tags"].append("remove-cell")
        path.write_text(json.dumps(nb), encoding="utf-8")
    out = korean_edition.make_tree(book, tmp_path / "ko", executed)
    korean_cells = 0
    for chapter in toc_chapters(ROOT):
        en = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        ko = json.loads((out / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        assert [c["cell_type"] for c in ko["cells"]] == [c["cell_type"] for c in en["cells"]]
        assert korean_edition.code_cells(ko) == korean_edition.code_cells(en), chapter
        for c in ko["cells"]:
            if c["cell_type"] == "markdown":
                assert HANGUL.search(i18n.cell_text(c)), f"{chapter} cell {c['id']} is not Korean"
            tags = c.get("metadata", {}).get("tags", [])
            if "lang-ko" in tags:   # the Korean diagrams are shown in the Korean edition
                korean_cells += 1
                assert "remove-cell" not in tags, (chapter, c["id"])
    assert korean_cells >= 5
    config = (out / "_config.yml").read_text(encoding="utf-8")
    assert "execute_notebooks: 'off'" in config or 'execute_notebooks: "off"' in config \
        or "execute_notebooks: off" in config
    assert "language: ko" in config


def test_a_stale_executed_notebook_stops_the_korean_edition(tmp_path):
    book = _copy_book(tmp_path)
    executed = tmp_path / "executed"
    shutil.copytree(ROOT / "notebooks", executed / "notebooks")
    chapter = toc_chapters(ROOT)[0]
    path = executed / "notebooks" / f"{chapter}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    next(c for c in nb["cells"] if c["cell_type"] == "code")["source"] = "print('old code')"
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(korean_edition.EditionError, match="code differs"):
        korean_edition.make_tree(book, tmp_path / "ko", executed)


def test_every_part_of_the_contents_has_a_korean_caption():
    korean_edition.translate_toc(ROOT)   # raises on a caption without a Korean one


def test_the_glossary_has_one_korean_form_per_term_and_refuses_listed_variants():
    refused = i18n.glossary_refused()
    assert {"레이어", "멀티 헤드", "일반 어텐션"} <= set(refused)
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8").split("## Forms", 1)[0]
    forms = []
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 4 and HANGUL.search(cells[1]):
            forms.append(cells[1])
    assert len(forms) == len(set(forms)), "a Korean form is listed twice in the glossary"
    used = " ".join(forms)
    for variant, instead in refused.items():
        assert instead in used, f"'{instead}' (used instead of '{variant}') is not a term of the glossary"
        assert variant not in [f.split(" (")[0] for f in forms], f"'{variant}' is both refused and a term"


# ------------------------------------------------------------------------- the built site

site = pytest.mark.site


def _pages(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for d in ("book", "notebooks") for p in (root / d).glob("*.html")} | {"index.html"}


def _need_site():
    if not (KO / "index.html").is_file():
        pytest.fail(f"{KO / 'index.html'} is missing: run `make book`", pytrace=False)


@site
def test_every_page_exists_in_both_editions_with_the_same_name():
    _need_site()
    assert _pages(SITE) == _pages(KO)
    for doc in toc_documents(ROOT):
        assert (KO / f"{doc}.html").is_file(), doc


@site
def test_the_language_button_and_hreflang_links_lead_both_ways():
    _need_site()
    problems = []
    for root, lang, other in ((SITE, "en", "ko"), (KO, "ko", "en")):
        for rel in sorted(_pages(root) - {"index.html"}):
            page = root / rel
            html = page.read_text(encoding="utf-8")
            if f'<html lang="{lang}"' not in html:
                problems.append(f"{page}: not <html lang=\"{lang}\">")
            links = dict(re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)"', html))
            if set(links) != {"en", "ko"}:
                problems.append(f"{page}: hreflang links {sorted(links)}")
                continue
            target = (page.parent / links[other]).resolve()
            if target != ((KO if other == "ko" else SITE) / rel).resolve() or not target.is_file():
                problems.append(f"{page}: the {other} link goes to {links[other]}")
            if "language-button" not in html:
                problems.append(f"{page}: no language button")
    assert not problems, "\n".join(problems[:20])


@site
def test_korean_pages_are_korean_and_code_is_the_english_code():
    _need_site()
    for chapter in toc_chapters(ROOT):
        ko = (KO / "notebooks" / f"{chapter}.html").read_text(encoding="utf-8")
        en = (SITE / "notebooks" / f"{chapter}.html").read_text(encoding="utf-8")
        article = re.search(r'<article class="bd-article".*?</article>', ko, re.S).group(0)
        text = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<pre.*?</pre>", " ", article, flags=re.S)))
        assert len(HANGUL.findall(text)) > 1000, chapter
        def code(h):   # each edition shows its own diagram cell: lang="ko" there, lang="en" here
            cells = re.findall(r'<div class="cell_input.*?<pre>(.*?)</pre>', h, re.S)
            return [c.replace('lang</span><span class="o">=</span><span class="s2">"ko"',
                              'lang</span><span class="o">=</span><span class="s2">"en"') for c in cells]

        assert code(ko) == code(en), f"{chapter}: the code shown differs between the editions"
        # figures and glued numbers come from the same executed notebook
        assert len(re.findall(r"<img ", ko)) == len(re.findall(r"<img ", en)), chapter


@site
def test_a_section_has_the_same_anchor_in_both_editions():
    _need_site()
    for doc in toc_documents(ROOT):
        en = korean_edition.section_ids((SITE / f"{doc}.html").read_text(encoding="utf-8"))
        ko = korean_edition.section_ids((KO / f"{doc}.html").read_text(encoding="utf-8"))
        assert ko == en, f"{doc}: sections {ko[:5]} in Korean, {en[:5]} in English"


@site
def test_the_korean_build_executed_nothing():
    log = SITE.parent / "ko" / "build.log"
    if not log.is_file():
        pytest.fail(f"{log} is missing: run `make book`", pytrace=False)
    assert "Executing notebook" not in log.read_text(encoding="utf-8")


@site
def test_the_korean_font_is_served_and_used():
    _need_site()
    css = (KO / "_static" / "korean.css").read_text(encoding="utf-8")
    assert "Pretendard" in css and "keep-all" in css and "1.75" in css
    fonts = KO / "_static" / "fonts" / "pretendard"
    faces = (fonts / "pretendardvariable-dynamic-subset.css").read_text(encoding="utf-8")
    for url in re.findall(r"url\(\./([^)]+)\)", faces):
        assert (fonts / url).is_file(), url
    assert "korean.css" in (KO / "notebooks" / f"{toc_chapters(ROOT)[0]}.html").read_text(encoding="utf-8")


@site
def test_korean_slides_colab_editions_and_pdf_exist():
    _need_site()
    for chapter in toc_chapters(ROOT):
        deck = KO / "slides" / f"{chapter}.html"
        assert deck.is_file() and HANGUL.search(deck.read_text(encoding="utf-8")), deck
        colab = KO / "colab" / "notebooks" / f"{chapter}.ipynb"
        nb = json.loads(colab.read_text(encoding="utf-8"))
        md = " ".join(i18n.cell_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert len(HANGUL.findall(md)) > 500, colab
        en = json.loads((SITE / "colab" / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        # the same code, but each edition's own diagram cells (lang="ko" here, lang="en" there)
        as_english = [c.replace('lang="ko"', 'lang="en"') for c in korean_edition.code_cells(nb)]
        assert as_english == korean_edition.code_cells(en), colab
    pdf = KO / "attnbook.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 100_000


@site
def test_the_korean_pdfs_pass_the_same_tests_as_the_english():
    """tests/test_pdf.py, run on the Korean site: contents, bookmarks, links, no bookkeeping, the
    solutions only in the instructor's edition, Korean whole and embedded, math, figures."""
    _need_site()
    import subprocess

    env = dict(os.environ, ATTNBOOK_SITE=str(KO), ATTNBOOK_SCREENSHOTS=str(SITE.parent / "screenshots" / "ko"))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "site",
                        str(ROOT / "tests" / "test_pdf.py")], env=env, capture_output=True, text=True,
                       cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


@pytest.mark.browser
def test_korean_search_finds_a_term_written_with_a_particle(site_url, browser):
    _need_site()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    try:
        page.goto(f"{site_url}ko/search.html?q=어텐션을", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=30_000)
        page.wait_for_timeout(500)
        links = page.eval_on_selector_all("#search-results ul.search li a",
                                          "els => els.map(e => e.getAttribute('href'))")
        shots = SITE.parent / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "ko_search.png"))
        page.goto(f"{site_url}ko/notebooks/20_soft_dictionary.html", wait_until="load")
        page.screenshot(path=str(shots / "ko_chapter.png"))
        # the language button opens the same page in English, and back
        with page.expect_navigation():   # in this tab (the theme opens header links in a new one)
            page.click("a.btn-language-button")
        page.wait_for_load_state("load")
        assert page.url.endswith("/notebooks/20_soft_dictionary.html") and "/ko/" not in page.url
        assert page.evaluate("document.documentElement.lang") == "en"
    finally:
        context.close()
    assert any("notebooks/20_soft_dictionary" in (h or "") for h in links), links


def test_lint_finds_a_refused_form_wrapped_over_two_lines():
    problems = i18n.lint_entry("the sub-layer", "각 하위\n  층의 뒤", {"하위 층": "서브층"})
    assert problems == ["'하위 층': the glossary's form is '서브층'"]
