"""Bad input to the book build: a failing notebook cell (a missing module) and a broken
cross-reference stop the build with a message that names each problem and where it is."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
title: broken book
only_build_toc_files: true
execute:
  execute_notebooks: force
  raise_on_error: false
  timeout: 60
"""
TOC = """\
format: jb-book
root: intro
chapters:
  - file: chapter
"""


def notebook(cells):
    return {
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": src} for src in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.mark.slow
def test_failing_cell_and_broken_reference_are_named(tmp_path):
    (tmp_path / "_config.yml").write_text(CONFIG)
    (tmp_path / "_toc.yml").write_text(TOC)
    (tmp_path / "intro.md").write_text("# Intro\n\nSee {doc}`no_such_page`.\n")
    nb = notebook(["x = 1", "import module_that_does_not_exist_xyz"])
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "# Chapter"})
    (tmp_path / "chapter.ipynb").write_text(json.dumps(nb))
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--book", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "The book did NOT build" in r.stderr
    assert "intro.md" in r.stderr and "no_such_page" in r.stderr, r.stderr  # the broken reference, and where
    assert "chapter.ipynb" in r.stderr, r.stderr  # the failing notebook
    assert "ModuleNotFoundError" in r.stderr and "module_that_does_not_exist_xyz" in r.stderr, r.stderr


def test_not_a_book_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--book", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "_config.yml" in r.stderr and "not found" in r.stderr
