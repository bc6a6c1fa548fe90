"""Fixtures shared by the tests: ``one_thread`` for the tests of small models (test_cnn, test_han,
test_limits, test_transformer: ``pytestmark = pytest.mark.usefixtures("one_thread")``), and for the
browser tests (test_browser.py, test_slides.py, test_search.py) the built site served on 127.0.0.1
and one headless Chromium (Playwright) for the whole session.

Chromium: ``$ATTNBOOK_CHROMIUM``, else ``chromium`` on the PATH (``tools/ensure_chromium.py``
installs it). Without it the browser tests are skipped, except with ``CI=true``, where they fail.
``ATTNBOOK_SITE=/path/to/html`` serves another build.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@pytest.fixture(autouse=True)
def _no_seed_offset(monkeypatch):
    """Unit tests pin seeded draws: they run at seed offset 0 whatever the caller's environment
    (the robustness sweep sets ``ATTNBOOK_SEED_OFFSET`` for the notebooks only)."""
    monkeypatch.delenv("ATTNBOOK_SEED_OFFSET", raising=False)


@pytest.fixture
def one_thread():
    """Run a test on one torch thread: small models are faster on one than on two, above all on a
    busy machine (two-thread kernels spin while the other core is taken)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 -- the base class's signature
        pass


@pytest.fixture(scope="session")
def site_url():
    """The built site served on 127.0.0.1 (a free port) from a daemon thread."""
    if not SITE.is_dir():
        pytest.fail(f"the built site {SITE} does not exist: run `make book` first", pytrace=False)
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    # the same lookup as tools/ensure_chromium.py, which `make test` runs first
    spec = importlib.util.spec_from_file_location("ensure_chromium", ROOT / "tools" / "ensure_chromium.py")
    ensure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ensure)
    found = ensure.find()
    if not found:
        _unavailable("Chromium not found (ATTNBOOK_CHROMIUM, chromium or chromium-browser on the PATH): "
                     "install Debian's chromium (python tools/ensure_chromium.py) or set ATTNBOOK_CHROMIUM")
    return shutil.which(found) or found


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for all pages (Playwright gives it a fresh, temporary profile)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        _unavailable(f"the playwright package is not installed ({e}); run `make venv`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()

