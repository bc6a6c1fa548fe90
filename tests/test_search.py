"""The site's search finds Korean terms (``book/_ext/attnbook_publish.py``), tested in Chromium.

Sphinx's English search indexes whole words, and only query words of 3 or more letters match part
of a word, so a two-syllable Korean word that the text writes with a particle (노트의) could not be
found by the word itself (노트). In the built site's own search page, with its own index and
JavaScript:

* every Korean term of the glossary finds the glossary page, bare and with a particle after it
  (어텐션 and 어텐션을);
* every Korean word the pages write with a particle is found, by its stem, on that page;
* English search still works;
* the search page itself shows the glossary for a Korean word; its screenshot is
  ``_build/screenshots/search_korean.png``.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from test_browser import (  # the fixtures are in conftest.py
    SCREENSHOTS,
    SITE,
    TIMEOUT_MS,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
PARTICLES = ("을", "를", "의", "은", "는", "에서", "으로")

RUN = """async (queries) => {
  const t0 = Date.now();
  while (!(typeof Search !== "undefined" && Search.hasIndex())) {
    if (Date.now() - t0 > 20000) return null;
    await new Promise(r => setTimeout(r, 50));
  }
  const out = {};
  for (const q of queries) {
    const parsed = Search._parseQuery(q);
    out[q] = [...new Set(Search._performSearch(...parsed).map(r => r[0]))];
  }
  return out;
}"""


def glossary_korean_terms() -> list[str]:
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    words = []
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and HANGUL_WORD.search(cells[1]):
            words += HANGUL_WORD.findall(cells[1])
    return sorted(set(words))


def words_with_particles() -> dict[str, str]:
    """``stem -> page``: Korean words some page writes only with a particle after them."""
    found: dict[str, str] = {}
    for page in sorted(SITE.glob("*/*.html")):
        if page.parts[-2] not in {"book", "notebooks"}:
            continue
        m = re.search(r'<article class="bd-article".*?</article>', page.read_text(encoding="utf-8"), re.S)
        text = unescape(re.sub(r"<[^>]+>", " ", m.group(0))) if m else ""
        words = set(HANGUL_WORD.findall(text))
        for w in sorted(words):
            for p in PARTICLES:
                stem = w[: -len(p)]
                if w.endswith(p) and len(stem) >= 2 and stem not in found:
                    found[stem] = page.relative_to(SITE).with_suffix("").as_posix()
    return found


@pytest.fixture(scope="module")
def search(site_url, browser):
    if not (SITE / "search.html").is_file():
        pytest.fail(f"{SITE / 'search.html'} is missing: run `make book`", pytrace=False)
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site_url}search.html", wait_until="load")

    def run(queries: list[str]) -> dict[str, list[str]]:
        result = page.evaluate(RUN, queries)
        assert result is not None, "the search index did not load"
        return result

    yield run
    context.close()


def test_every_glossary_term_is_found_bare_and_with_a_particle(search):
    terms = glossary_korean_terms()
    assert len(terms) > 20, f"only {len(terms)} Korean terms found in book/glossary.md"
    queries = terms + [t + ("을" if (ord(t[-1]) - 0xAC00) % 28 else "를") for t in terms]
    results = search(queries)
    missing = [q for q in queries if "book/glossary" not in results[q]]
    assert not missing, f"{len(missing)} Korean queries do not find the glossary: {missing[:30]}"


def test_a_word_written_with_a_particle_is_found_by_its_stem(search):
    stems = words_with_particles()
    assert stems, "no Korean word with a particle on any page: nothing to test"
    results = search(list(stems))
    missing = [f"{s} (on {page})" for s, page in stems.items() if page not in results[s]]
    assert not missing, f"Korean words not found on the page that has them: {missing}"


def test_english_search_still_works(search):
    results = search(["attention", "softmax", "glossary"])
    assert "book/glossary" in results["glossary"]
    assert results["attention"] and results["softmax"]


def test_the_search_page_shows_korean_results(site_url, browser):
    term = "노트" if "노트" in words_with_particles() else glossary_korean_terms()[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{site_url}search.html?q={term}", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=TIMEOUT_MS)
        page.wait_for_timeout(500)
        links = page.eval_on_selector_all("#search-results ul.search li a",
                                          "els => els.map(e => e.getAttribute('href'))")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "search_korean.png"), full_page=True)
    finally:
        context.close()
    assert any("glossary" in (h or "") for h in links), f"searching {term} shows {links}"
