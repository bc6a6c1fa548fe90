"""The built site (``_build/html``) works with no network, without a browser.

* no page loads a script, style sheet, font, image or frame from another host (ordinary ``<a href>``
  links to other sites are navigation, not loads, and are allowed), and no CSS file under
  ``_static`` imports or points ``url(...)`` at another host;
* every asset a page loads from the site itself exists;
* MathJax is the local copy, ``_static/mathjax/tex-chtml.js``, on every page that has math;
* every notebook page has a Colab launch link to exactly that notebook's Colab edition on GitHub
  (owner and repository from ``_config.yml``, the ``colab`` branch the workflow writes), a
  download-notebook button (the Colab edition, published at ``colab/notebooks/``), a link to its
  slides and to the book's PDF;
* the Colab install cell (tagged ``remove-cell``) is on no page;
* every notebook cell that shows a figure (``plt.show()``) has its figure on the page;
* every page of ``_toc.yml`` was built.

Run ``make book`` first; ``ATTNBOOK_SITE=/path/to/html`` checks another build.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from attnbook_meta import shown_in, toc_documents

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
MATHJAX = "_static/mathjax/tex-chtml.js"
COLAB = "https://colab.research.google.com/"

# <link rel=...> values that make the browser fetch something (or connect to a host)
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "shortcut",
                "apple-touch-icon", "mask-icon", "manifest", "preconnect", "dns-prefetch"}
# attributes that load something, on any element but <a> and <link>
LOADING_ATTRS = {"src", "srcset", "poster", "data", "background"}
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)


# ----------------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def site() -> Path:
    if not SITE.is_dir():
        pytest.fail(f"the built site {SITE} does not exist: run `make book` first", pytrace=False)
    pages = html_pages()
    if not pages:
        pytest.fail(f"no HTML pages under {SITE}: run `make book` first", pytrace=False)
    return SITE


GENERATED = {"slides", "print"}   # made from the built pages (tools/slides.py, tools/print_book.py)
EDITION_PREFIXES = ("ko/",)          # the Korean edition: the same layout under ko/ (tools/korean_edition.py)


def in_edition(rel: str) -> str:
    """A page's path within its edition: ``ko/notebooks/10_rnn.html`` -> ``notebooks/10_rnn.html``."""
    for prefix in EDITION_PREFIXES:
        if rel.startswith(prefix):
            return rel[len(prefix):]
    return rel


def html_pages() -> list[str]:
    """Every HTML page of the site, as a path relative to it (posix), but _static/ and _sources/
    (the slides and the print page are included: they must not load from another host either)."""
    if not SITE.is_dir():
        return []
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if in_edition(p.relative_to(SITE).as_posix()).split("/")[0]
        not in {"_static", "_sources", "_images", "reports"}
    )


def toc_files() -> list[str]:
    """The documents of ``_toc.yml`` (root and every ``file:``), without suffix."""
    return toc_documents(ROOT)


def is_external(url: str) -> bool:
    """True if fetching ``url`` would leave the site: another host, or a scheme not of the page."""
    url = url.strip()
    if not url or url.startswith("#"):
        return False
    parts = urlsplit(url)
    if parts.scheme.lower() in {"data", "blob", "about"}:
        return False
    return bool(parts.netloc) or bool(parts.scheme) or url.startswith("//")


def srcset_urls(value: str) -> list[str]:
    return [c.strip().split()[0] for c in value.split(",") if c.strip()]


class Page(HTMLParser):
    """The loads (tag, attribute, URL), links and text of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str, str]] = []  # (tag, what, url)
        self.links: list[str] = []                   # <a href>
        self.math = 0                                 # elements of class "math" (Sphinx's math)
        self.styles: list[str] = []                   # inline <style> and style="" text
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if "math" in a.get("class", "").split():
            self.math += 1
        if a.get("style"):
            self.styles.append(a["style"])
        if tag == "style":
            self._in_style = True
        if tag == "a":
            if "href" in a:
                self.links.append(a["href"])
            return
        if tag == "link":
            rels = set(a.get("rel", "").lower().split())
            if rels & LOADING_RELS and a.get("href"):
                self.loads.append((tag, f"rel={a.get('rel')}", a["href"]))
            return
        for attr in LOADING_ATTRS & a.keys():
            if attr == "data" and tag != "object":
                continue
            urls = srcset_urls(a[attr]) if attr == "srcset" else [a[attr]]
            self.loads.extend((tag, attr, u) for u in urls if u.strip())
        # SVG <image href>, <use href> load what they point to
        if tag in {"image", "use", "feimage"}:
            for attr in ("href", "xlink:href"):
                if a.get(attr) and not a[attr].startswith("#"):
                    self.loads.append((tag, attr, a[attr]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


_parsed: dict[str, tuple[Page, str]] = {}


def parse(rel: str) -> tuple[Page, str]:
    if rel not in _parsed:
        text = (SITE / rel).read_text(encoding="utf-8")
        page = Page()
        page.feed(text)
        page.close()
        _parsed[rel] = (page, text)
    return _parsed[rel]


def css_urls(text: str) -> list[str]:
    found = [next(g for g in m.groups() if g is not None) for m in CSS_URL.finditer(text)]
    found += [m.group(1) or m.group(2) for m in CSS_IMPORT.finditer(text)]
    return found


def local_target(page_rel: str, url: str) -> str:
    """The site-relative path a local URL of page ``page_rel`` points at (no query, no fragment)."""
    path = unquote(urlsplit(url).path)
    if path.startswith("/"):
        return posixpath.normpath(path.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_rel), path))


def repository() -> tuple[str, str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?", url)
    assert m, f"_config.yml: repository.url should be https://github.com/OWNER/REPO, is {url!r}"
    return m.group(1), m.group(2), str(repo.get("branch") or "main")


def report(problems: list[str], what: str) -> None:
    if problems:
        shown = "\n  ".join(problems[:60])
        more = f"\n  ... and {len(problems) - 60} more" if len(problems) > 60 else ""
        pytest.fail(f"{len(problems)} {what}:\n  {shown}{more}", pytrace=False)


# ------------------------------------------------------------------------------------- tests
def test_no_page_loads_from_another_host(site):
    problems = []
    for rel in html_pages():
        page, _ = parse(rel)
        for tag, what, url in page.loads:
            if is_external(url):
                problems.append(f"{rel}: <{tag} {what}> loads {url}")
        for style in page.styles:
            for url in css_urls(style):
                if is_external(url):
                    problems.append(f"{rel}: inline style loads {url}")
    report(problems, "loads from another host (the site must work with no network)")


def test_no_css_loads_from_another_host(site):
    problems = []
    sheets = sorted((site / "_static").rglob("*.css"))
    assert sheets, f"no CSS under {site / '_static'}: is the build complete?"
    for css in sheets:
        text = css.read_text(encoding="utf-8", errors="replace")
        for url in css_urls(text):
            if is_external(url):
                problems.append(f"{css.relative_to(site).as_posix()}: {url}")
    report(problems, "CSS references to another host (fonts, images or @import)")


def test_every_local_asset_exists(site):
    problems = []
    for rel in html_pages():
        page, _ = parse(rel)
        for tag, what, url in page.loads:
            if is_external(url) or url.startswith(("data:", "blob:", "about:", "#")):
                continue
            target = local_target(rel, url)
            if not (site / target).exists():
                problems.append(f"{rel}: <{tag} {what}> {url} -> {target} is missing")
    report(problems, "assets missing from the site")


def test_mathjax_is_local(site):
    mathjax = site / MATHJAX
    assert mathjax.is_file(), f"{mathjax} is missing (the Makefile fetches MathJax: run `make book`)"
    problems, pages_with_math = [], 0
    for rel in html_pages():
        page, _ = parse(rel)
        scripts = [url for tag, what, url in page.loads if tag == "script" and what == "src"]
        mj = [u for u in scripts if "mathjax" in u.lower()]
        own = rel[: len(rel) - len(in_edition(rel))] + MATHJAX   # the edition's own copy (ko/_static/...)
        for url in mj:
            if is_external(url) or local_target(rel, url) != own:
                problems.append(f"{rel}: MathJax from {url}, not the site's own {MATHJAX}")
        if page.math:
            pages_with_math += 1
            if not mj:
                problems.append(f"{rel}: {page.math} math elements but no MathJax script")
    report(problems, "pages without the local MathJax")
    assert pages_with_math, "no page has math: the MathJax check checked nothing (is the build complete?)"


def test_notebook_pages_have_their_colab_link(site):
    owner, repo, _ = repository()
    branch = "colab"  # the Colab editions (book/_ext/attnbook_publish.py, the workflow)
    pages = [p for p in html_pages() if p.startswith("notebooks/")]
    assert pages, f"no notebook pages under {site / 'notebooks'}"
    problems = []
    for rel in pages:
        name = Path(rel).stem
        if not (ROOT / "notebooks" / f"{name}.ipynb").is_file():
            problems.append(f"{rel}: no notebooks/{name}.ipynb in the repository for its Colab link")
        expected = f"{COLAB}github/{owner}/{repo}/blob/{branch}/notebooks/{name}.ipynb"
        page, _ = parse(rel)
        colab = sorted({u for u in page.links if u.startswith(COLAB)})
        if not colab:
            problems.append(f"{rel}: no Colab launch link (expected {expected})")
        elif colab != [expected]:
            problems.append(f"{rel}: Colab link(s) {colab}, expected exactly {expected}")
    report(problems, "notebook pages with a missing or wrong Colab link")


def test_colab_install_cell_is_hidden(site):
    # the cell's first comment, which highlighting keeps in one piece
    problems = [rel for rel in html_pages() if "package where it is missing" in parse(rel)[1]]
    report(problems, "pages showing the Colab install cell (it must be tagged remove-cell)")


SHOWS_FIGURE = re.compile(r"^\s*(?:plt|fig|figure)\.show\(\)", re.M)
HIDDEN_OUTPUT = {"remove-cell", "remove-output", "remove_cell", "remove_output"}


def test_notebook_figures_are_on_the_page(site):
    problems = []
    pages = [p for p in html_pages() if in_edition(p).startswith("notebooks/")]
    for rel in pages:
        source = ROOT / "notebooks" / f"{Path(rel).stem}.ipynb"
        if not source.is_file():
            continue  # reported by test_notebook_pages_have_their_colab_link
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        lang = "ko" if rel.startswith("ko/") else "en"
        showing = [
            i for i, c in enumerate(cells)
            if c.get("cell_type") == "code" and shown_in(c, lang)   # a diagram shows in its edition only
            and not HIDDEN_OUTPUT & set(c.get("metadata", {}).get("tags", []))
            and SHOWS_FIGURE.search("".join(c.get("source", [])))
        ]
        page, _ = parse(rel)
        figures = [url for tag, what, url in page.loads if tag == "img" and what == "src"
                   and ("_images/" in url or url.startswith("data:image/"))]
        if len(figures) < len(showing):
            problems.append(f"{rel}: {len(showing)} cells show a figure (cells {showing} of "
                            f"{source.name}) but the page has {len(figures)} figure images")
    report(problems, "notebook pages with missing figures")


def test_every_toc_entry_is_built(site):
    files = toc_files()
    assert files, "_toc.yml lists no files"
    built = set(html_pages())
    report([f"{f} -> {f}.html" for f in files if f"{f}.html" not in built],
           "pages of _toc.yml that were not built")


def test_no_stray_pages(site):
    """Every page is in the toc (or is Sphinx's index, search or a redirect): a page left over from
    an earlier build (a renamed chapter, a folder built before it was excluded) is still served."""
    expected = {f"{f}.html" for f in toc_files()} | {"genindex.html", "search.html", "py-modindex.html"}
    stray = []
    for rel in html_pages():
        if in_edition(rel) in expected or in_edition(rel).split("/")[0] in GENERATED:
            continue
        if re.search(r"""<meta[^>]+http-equiv=["']?refresh""", parse(rel)[1][:2000], re.I):
            continue  # a redirect (the root index.html)
        stray.append(rel)
    report(stray, "pages not in _toc.yml (left over from an earlier build? "
                  "delete _build/html and run `make book`)")


def test_notebook_pages_have_download_slides_and_pdf_buttons(site):
    """A chapter page offers its notebook (the Colab edition), its slides and the book's PDF, and
    each of them is on the site."""
    pages = [p for p in html_pages() if p.startswith("notebooks/")]
    assert pages, f"no notebook pages under {site / 'notebooks'}"
    problems = []
    for rel in pages:
        name = Path(rel).stem
        page, _ = parse(rel)
        wanted = {"download-notebook button": f"../colab/notebooks/{name}.ipynb",
                  "slides button": f"../slides/{name}.html",
                  "book PDF button": "../attnbook.pdf"}
        for what, href in wanted.items():
            if href not in page.links:
                problems.append(f"{rel}: no {what} (a link to {href})")
            elif not (site / local_target(rel, href)).is_file() and not (
                    href.endswith(".pdf") and os.environ.get("ATTNBOOK_SKIP_BROWSER") == "1"
                    and os.environ.get("CI") != "true"):  # no Chromium, no PDF
                problems.append(f"{rel}: its {what} points at {href}, which is not on the site")
    report(problems, "notebook pages without their download, slides or PDF button")


def test_no_page_links_to_unpublished_sources(site):
    """The site does not publish ``_sources/``: no button may point there."""
    problems = [f"{rel}: {u}" for rel in html_pages() for u in parse(rel)[0].links
                if "_sources/" in u and not (site / local_target(rel, u)).exists()]
    report(problems, "links to files that are not published")
