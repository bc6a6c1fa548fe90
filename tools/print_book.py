#!/usr/bin/env python3
"""The whole book as one printable PDF, made offline from the built site.

``python tools/print_book.py [--book .]`` (``tools/build_book.py`` runs it after the site):

1. joins the article of every page of ``_toc.yml``, in order, into one HTML page,
   ``_build/html/print/book.html`` (one folder deep, like every page, so the pages' relative links
   to ``_static/`` and ``_images/`` hold), with the site's own CSS and MathJax and a title page;
2. serves the site on 127.0.0.1, opens that page in the headless Chromium the browser tests use
   (Playwright; every request to another host is refused), opens every folded solution, waits for
   MathJax and the images, and prints it to ``_build/html/attnbook.pdf`` (A4, page numbers).

Korean text needs a font with Hangul (``fonts-noto-cjk``; ``tools/ensure_chromium.py`` installs it).
Without Chromium it stops with a message, or, with ``ATTNBOOK_SKIP_BROWSER=1``, skips the PDF.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from attnbook_meta import toc_documents  # noqa: E402

PDF_NAME = "attnbook.pdf"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--font-render-hinting=none"]

PRINT_CSS = """
/* the printed book: only the articles, solutions unfolded, no buttons */
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
html, body { background: #fff !important; color: #000 !important; }
body { font-family: "Noto Sans", "DejaVu Sans", "Noto Sans CJK KR", sans-serif; }
.attnbook-print { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
.attnbook-print .print-chapter { break-before: page; }
.attnbook-print .print-title { break-after: page; text-align: center; padding-top: 30vh; }
.attnbook-print .print-title h1 { font-size: 26pt; }
.headerlink, .toggle-button, button.toggle-button, .copybtn, .sd-tab-set > input,
.prev-next-area, .bd-footer-article, .header-article, .bd-header, .bd-sidebar-primary,
.bd-sidebar-secondary, .cell_input .copybtn { display: none !important; }
.toggle-hidden, .toggle-details__container, details > *:not(summary) { display: block !important;
  visibility: visible !important; opacity: 1 !important; height: auto !important; }
div.cell_output img, img { max-width: 100% !important; break-inside: avoid; }
div.highlight pre { white-space: pre-wrap; font-size: 8.5pt; }
table { font-size: 8.5pt; width: 100% !important; table-layout: auto; }
td, th { overflow-wrap: anywhere; }
td code, th code { white-space: normal !important; word-break: break-all; }
.pst-scrollable-table-container, .table-wrapper { overflow: visible !important; }
h1, h2, h3 { break-after: avoid; }
/* the theme's print style hides a page's first h1 (it prints the title in a header instead) */
.attnbook-print h1 { display: block !important; }
.attnbook-print .print-chapter > section > h1, .attnbook-print .print-chapter h1 { margin-top: 0; }
"""


def toc_docs(book: Path) -> list[str]:
    """The documents of the table of contents, in order (``attnbook_meta.toc_documents``)."""
    return toc_documents(book)


ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*?)</article>', re.S)
HEAD = re.compile(r"<head>(.*?)</head>", re.S)


def article(page_html: str, doc: str) -> str:
    m = ARTICLE.search(page_html)
    if not m:
        raise SystemExit(f"error: no <article class=\"bd-article\"> in {doc}.html: has the theme changed?")
    body = m.group(1)
    # a page's ids become unique in the book: prefix them with the page
    prefix = doc.replace("/", "-") + "--"
    body = re.sub(r'\bid="([^"]+)"', lambda i: f'id="{prefix}{i.group(1)}"', body)
    body = re.sub(r'href="#([^"]+)"', lambda i: f'href="#{prefix}{i.group(1)}"', body)
    return body


def compose(book: Path) -> Path:
    """Write ``_build/html/print/book.html``; returns its path."""
    import yaml

    site = book / "_build" / "html"
    docs = toc_docs(book)
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    first = (site / f"{docs[0]}.html").read_text(encoding="utf-8")
    depth = docs[0].count("/")
    if depth != 1 or any(d.count("/") != 1 for d in docs):
        raise SystemExit("error: print_book expects every page one folder deep (book/, notebooks/)")
    head = HEAD.search(first).group(1)
    head = re.sub(r"<title>.*?</title>", f"<title>{html.escape(config.get('title', ''))}</title>", head,
                  flags=re.S)
    parts = [f'<section class="print-title"><h1>{html.escape(config.get("title", ""))}</h1>'
             f'<p>{html.escape(config.get("author", ""))}, {html.escape(str(config.get("copyright", "")))}</p>'
             "</section>"]
    for doc in docs:
        page = (site / f"{doc}.html").read_text(encoding="utf-8")
        parts.append(f'<section class="print-chapter" id="{doc.replace("/", "-")}">'
                     f"{article(page, doc)}</section>")
    out = site / "print" / "book.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f'<!DOCTYPE html>\n<html lang="en" data-content_root="../" data-theme="light">\n<head>{head}'
        f"<style>{PRINT_CSS}</style></head>\n"
        f'<body data-bs-theme="light"><main class="bd-main attnbook-print" id="main-content">'
        f'<div class="bd-content"><div class="bd-article-container"><article class="bd-article">'
        f"{''.join(parts)}</article></div></div></main></body>\n</html>\n",
        encoding="utf-8")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 -- the base class's signature
        pass


def find_chromium() -> str | None:
    spec = importlib.util.spec_from_file_location("ensure_chromium", ROOT / "tools" / "ensure_chromium.py")
    ensure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ensure)
    return ensure.find()


PREPARE = """async (ms) => {
  document.querySelectorAll("details").forEach(d => d.open = true);
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > ms) return "MathJax did not start";
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.filter(i => !i.complete).map(
      i => new Promise(r => { i.addEventListener("load", r); i.addEventListener("error", r); })));
  await document.fonts.ready;
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
  return broken.length ? "images not loaded: " + broken.join(", ") : "ok";
}"""


def print_pdf(book: Path, page: Path, pdf: Path) -> None:
    from playwright.sync_api import sync_playwright

    site = book / "_build" / "html"
    chromium = find_chromium()
    if not chromium:
        raise FileNotFoundError("Chromium")
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    blocked: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1000, "height": 1400},
                                          color_scheme="light", service_workers="block")

            def route(r):
                u = urlsplit(r.request.url)
                if u.scheme in {"data", "blob"} or f"{u.scheme}://{u.netloc}" == origin:
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            p = context.new_page()
            p.set_default_timeout(180_000)
            p.goto(f"{origin}/{page.relative_to(site).as_posix()}", wait_until="load")
            p.emulate_media(media="print", color_scheme="light")
            state = p.evaluate(PREPARE, 120_000)
            if state != "ok":
                raise SystemExit(f"error: printing the book: {state}")
            p.pdf(path=str(pdf), format="A4", print_background=True, display_header_footer=True,
                  header_template="<span></span>",
                  footer_template='<div style="font-size:8px;width:100%;text-align:center;">'
                                  '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
                  margin={"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"})
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if blocked:
        raise SystemExit(f"error: printing the book asked another host for: {blocked[:5]}")


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Print the book to PDF (see the docstring).")
    ap.add_argument("--book", type=Path, default=ROOT)
    book = ap.parse_args(argv).book.resolve()
    t0 = time.time()
    page = compose(book)
    pdf = book / "_build" / "html" / PDF_NAME
    try:
        print_pdf(book, page, pdf)
    except FileNotFoundError:
        if os.environ.get("ATTNBOOK_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
            print("note: Chromium not found: the PDF is not made (ATTNBOOK_SKIP_BROWSER=1)")
            return 0
        print("error: the PDF is printed by Chromium, which was not found: run "
              "'python tools/ensure_chromium.py' (or set ATTNBOOK_SKIP_BROWSER=1 to skip the PDF)",
              file=sys.stderr)
        return 1
    print(f"pdf: {pdf} ({pdf.stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
