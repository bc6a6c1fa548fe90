#!/usr/bin/env python3
"""Make sure headless Chromium is there for the browser tests (``tests/test_browser.py``).

Uses ``$ATTNBOOK_CHROMIUM`` or ``chromium`` on the PATH. System packages are installed only when
asked: ``--install`` (``make system-deps``) or in CI (``CI=true``, set by the workflow and by
``.ci/run``), as root on a Debian-like system, with apt-get. Otherwise a missing Chromium is
explained (the command for this system) and the exit status is non-zero — unless
``ATTNBOOK_SKIP_BROWSER=1``, in which case the browser tests are skipped (never in CI).
``make book`` runs this before the long pip install, so nothing is installed in vain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def find() -> str | None:
    exe = os.environ.get("ATTNBOOK_CHROMIUM")
    if exe:
        return exe if shutil.which(exe) or os.path.isfile(exe) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def has_korean_font() -> bool | None:
    """Whether a font with Hangul is installed (the Korean diagrams, the PDFs and the screenshots
    need one); None when it cannot be told (no fontconfig: the diagrams then check for themselves)."""
    if not shutil.which("fc-list"):
        return None
    out = subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True).stdout
    return bool(out.strip())


def apt_install(packages: list[str]) -> bool:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        r = subprocess.run(cmd, env=env)
        if r.returncode != 0:
            print(f"error: '{' '.join(cmd)}' failed (exit {r.returncode})", file=sys.stderr)
            return False
    return True


def install_hint() -> str:
    """The command that installs Chromium here."""
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            release = f.read().lower()
    except OSError:
        release = ""
    if "ubuntu" in release:
        return "sudo snap install chromium   (Ubuntu packages Chromium as a snap)"
    if shutil.which("apt-get"):
        return "make system-deps   (runs: sudo apt-get install chromium fonts-noto-cjk)"
    if sys.platform == "darwin":
        return "brew install --cask chromium   (then ATTNBOOK_CHROMIUM=/Applications/Chromium.app/Contents/MacOS/Chromium)"
    return "install Chromium with your system's package manager"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    asked = "--install" in args or os.environ.get("CI") == "true"
    can_apt = asked and os.geteuid() == 0 and shutil.which("apt-get") is not None
    if has_korean_font() is False:
        # the Korean edition's diagrams are drawn with Hangul labels (and the PDFs set Korean)
        if can_apt:
            print("Installing a Korean font (apt-get) ...", flush=True)
            apt_install(["fonts-noto-cjk"])
        if has_korean_font() is False:
            print("error: no font with Hangul is installed: the Korean edition's diagrams and PDF need one.\n"
                  f"  Install it: {install_hint()}", file=sys.stderr)
            return 1
    if find():
        return 0
    if os.environ.get("ATTNBOOK_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
        print("note: Chromium not found; browser tests will be skipped (ATTNBOOK_SKIP_BROWSER=1)")
        return 0
    if can_apt:
        print("Installing Debian's chromium for the browser tests (apt-get) ...", flush=True)
        if not apt_install(["chromium", "fonts-dejavu-core", "fonts-noto-cjk"]):
            return 1
        if find():
            return 0
    if "--install" in args and os.geteuid() != 0:
        print("error: installing system packages needs root: sudo make system-deps", file=sys.stderr)
        return 1
    print(
        "error: the PDF and the browser tests need Chromium, and it was not found.\n"
        f"  Install it: {install_hint()}\n"
        "  or point at one: ATTNBOOK_CHROMIUM=/path/to/chromium\n"
        "  To build and test everything else without it: ATTNBOOK_SKIP_BROWSER=1 make book (or make test)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
