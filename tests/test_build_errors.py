"""Bad input to the book build: a failing notebook cell (a missing module), a cell that hangs past
the timeout and a broken cross-reference stop the build with a message that names each problem and
where it is. The build deletes only record files from the results folder."""

import importlib.util
import json
import os
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
  timeout: 20
"""
TOC = """\
format: jb-book
root: intro
chapters:
  - file: chapter
  - file: hang
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
    hang = notebook(["import time\ntime.sleep(600)  # the cell that hangs"])
    hang["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "# Hang"})
    (tmp_path / "hang.ipynb").write_text(json.dumps(hang))
    # isolated: the caller's results folder (e.g. the repository's) must not be touched
    env = {k: v for k, v in os.environ.items() if k != "ATTNBOOK_RESULTS_DIR"}
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--book", str(tmp_path)],
                       capture_output=True, text=True, timeout=600, env=env)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "The book did NOT build" in r.stderr
    assert "intro.md" in r.stderr and "no_such_page" in r.stderr, r.stderr  # the broken reference, and where
    assert "chapter.ipynb" in r.stderr, r.stderr  # the failing notebook
    assert "ModuleNotFoundError" in r.stderr and "module_that_does_not_exist_xyz" in r.stderr, r.stderr
    # the hang: named as a timeout, with its length and the cell that ran
    assert "hang" in r.stderr and "longer than the cell timeout of 20 s" in r.stderr, r.stderr
    assert "the cell that hangs" in r.stderr, r.stderr


def test_build_deletes_only_record_files(tmp_path):
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    build_book = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_book)
    (tmp_path / "20_x.json").write_text("[]")
    (tmp_path / "timings.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "y.json").write_text("[]")
    removed = build_book.clear_records(tmp_path)
    assert sorted(p.name for p in removed) == ["20_x.json", "timings.json"]
    assert (tmp_path / "notes.txt").read_text() == "keep me" and (tmp_path / "sub" / "y.json").exists()
    assert build_book.clear_records(tmp_path / "missing") == []


def test_not_a_book_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--book", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "_config.yml" in r.stderr and "not found" in r.stderr
