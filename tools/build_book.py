#!/usr/bin/env python3
"""Build the book: execute every notebook and build the site into ``_build/html``.

Runs ``jupyter-book build . -W -n --keep-going`` (any warning fails the build, but every problem is
reported, not only the first), then makes the slides (``tools/slides.py``), the Colab editions
(``tools/colab_edition.py``) and the PDF (``tools/print_book.py``) from the built site, and the Korean
edition (``tools/korean_edition.py``, under ``_build/html/ko``) from the notebooks this build executed. It
summarises what went wrong — which notebook cell failed, which cross-reference is broken, which
module is missing — with the file and line, and exits non-zero. On success it prints where the site is.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ["jupyter_book", "myst_nb", "sphinx_book_theme", "sphinx_exercise", "sphinxcontrib.bibtex", "torch", "attnbook"]


def check_dependencies(book: Path) -> None:
    missing = []
    for mod in REQUIRED:
        try:
            importlib.import_module(mod)
        except ImportError as e:
            missing.append(f"{mod} ({e})")
    if missing:
        sys.exit(
            "error: missing dependencies: " + ", ".join(missing)
            + "\n  run 'make book' (it installs them into .venv), or "
            "'pip install -c constraints.txt -r requirements.txt'"
        )
    config = (book / "_config.yml").read_text(encoding="utf-8") if (book / "_config.yml").is_file() else ""
    if not config:
        sys.exit(f"error: {book / '_config.yml'} not found: is {book} a Jupyter Book?")
    mathjax = book / "book" / "_static" / "mathjax" / "tex-chtml.js"
    if "mathjax/tex-chtml.js" in config and not mathjax.is_file():
        sys.exit(f"error: {mathjax} is missing: run 'make book' (it fetches MathJax with npm)")


def clear_records(results: Path) -> list[Path]:
    """Delete the record files (``*.json``) directly in ``results``, and nothing else.

    The folder may be one a user named with ``$ATTNBOOK_RESULTS_DIR``: other files and folders in
    it are left alone, and so is a folder that is not there.
    """
    removed = []
    if results.is_dir():
        for f in sorted(results.glob("*.json")):
            if f.is_file() and not f.is_symlink():
                f.unlink()
                removed.append(f)
    return removed


TIMEOUT = re.compile(r"CellTimeoutError|A cell timed out while it was being executed, after (\d+) seconds")


def summarise(log: str, book: Path) -> list[str]:
    """The lines of a Sphinx log that name a problem, and the notebook error logs they point to."""
    problems = []
    for line in ANSI.sub("", log).splitlines():
        if SPHINX_PROBLEM.search(line) or re.search(r"Exception occurred|Traceback|^\S*Error:", line):
            problems.append(line.strip())
    for report in sorted((book / "_build" / "html" / "reports").glob("**/*.err.log")):
        if report.stat().st_mtime < START:
            continue
        text = ANSI.sub("", report.read_text(encoding="utf-8", errors="replace")).strip().splitlines()
        # the failing cell's source and the exception are at the end of the log
        tail = [ln for ln in text if ln.strip()][-25:]
        timed_out = TIMEOUT.search("\n".join(text))
        if timed_out:
            seconds = [m.group(1) for m in TIMEOUT.finditer("\n".join(text)) if m.group(1)]
            problems.append(
                f"--- {report}: a cell ran longer than the cell timeout"
                f"{' of ' + seconds[0] + ' s' if seconds else ''} (execute.timeout in _config.yml). "
                "The timeout only guards against a hang; the preview below shows which cell. "
                "If the machine is just slow, raise execute.timeout.")
        problems.append(f"--- {report} (notebook execution log), last lines:")
        problems.extend("    " + ln for ln in tail)
    return problems


START = time.time()
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Sphinx's own warnings ("path:line: WARNING: ..."), not the kernel's log lines ("[IPKernelApp] WARNING | ...")
SPHINX_PROBLEM = re.compile(r"(WARNING|ERROR|CRITICAL|SEVERE):")


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Build the book (see the module docstring).")
    ap.add_argument("--book", type=Path, default=ROOT, help="the book's folder (default: this repository)")
    book = ap.parse_args(argv).book.resolve()
    os.chdir(book)
    check_dependencies(book)
    env = dict(os.environ)
    env.setdefault("ATTNBOOK_RESULTS_DIR", str(book / "_build" / "results"))
    # Every notebook is executed by this build (execute_notebooks: force) and re-records its
    # figures: start from an empty folder, so the site can only show what this build computed.
    clear_records(Path(env["ATTNBOOK_RESULTS_DIR"]))
    # The notebook kernels must draw inline figures: a headless backend such as Agg (which a shell
    # or the Makefile may export) would make plt.show() draw nothing on the pages.
    env.pop("MPLBACKEND", None)
    # the Korean edition's diagrams (cells tagged lang-ko) must have a font with Hangul: without
    # one the build stops with the package to install, instead of drawing English labels
    env["ATTNBOOK_STRICT_FONTS"] = "1"
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.is_file():
        sys.exit(f"error: {jb} not found: the environment is incomplete; delete .venv and run 'make book'")
    # --all: re-read every page, so every generated table is made afresh
    cmd = [str(jb), "build", ".", "--all", "-W", "-n", "--keep-going"]
    print("$ jupyter-book", " ".join(cmd[1:]), flush=True)
    log_path = book / "_build" / "build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as p:
        assert p.stdout is not None
        for line in p.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            out.append(line)
    log = "".join(out)
    log_path.write_text(log, encoding="utf-8")
    minutes = (time.time() - START) / 60
    if p.returncode != 0 or re.search(r"build finished with problems", log) or SPHINX_PROBLEM.search(ANSI.sub("", log)):
        print("\n" + "=" * 72, file=sys.stderr)
        print(f"The book did NOT build (exit {p.returncode}, {minutes:.1f} min). Problems:", file=sys.stderr)
        for line in summarise(log, book) or ["(no warning lines found; see the full log)"]:
            print("  " + line, file=sys.stderr)
        print(f"Full log: {log_path}", file=sys.stderr)
        return p.returncode or 1
    # what is made from the built site: the slides, the Colab editions, the PDF (issue 13)
    for tool in ("slides.py", "colab_edition.py", "print_book.py"):
        r = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--book", str(book)], env=env)
        if r.returncode != 0:
            print(f"\nThe site is built, but tools/{tool} failed (exit {r.returncode}): see above.",
                  file=sys.stderr)
            return r.returncode
    # the Korean edition, from this build's executed notebooks: nothing is executed again (issue 21)
    english_minutes = (time.time() - START) / 60
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "korean_edition.py"), "--book", str(book)], env=env)
    if r.returncode != 0:
        print(f"\nThe English site is built, but the Korean edition failed (exit {r.returncode}): see above.",
              file=sys.stderr)
        return r.returncode
    minutes = (time.time() - START) / 60
    print(f"English edition {english_minutes:.1f} min, Korean edition {minutes - english_minutes:.1f} min "
          f"({100 * (minutes - english_minutes) / max(english_minutes, 1e-9):.0f} % more)")
    index = book / "_build" / "html" / "index.html"
    print(f"\nThe book is built ({minutes:.1f} min): {index}\n  open it, or serve it: "
          f"python -m http.server -d {index.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
