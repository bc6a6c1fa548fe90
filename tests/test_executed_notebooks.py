"""The notebooks as this build executed them: each one once, validated here.

``make test`` executes every notebook exactly once, in the book build (``tools/build_book.py``,
``execute_notebooks: force``); myst-nb writes each executed notebook, with all its outputs, to
``_build/jupyter_execute/notebooks/``. These tests read those copies instead of executing the
notebooks a second time (nbval executes them again only in the robustness sweep,
``tools/robustness.py``, at other seed offsets):

- every notebook in ``notebooks/`` was executed by the build, after its last change, without an error;
- the cells tagged ``nbval-check-output`` printed the same text as the output stored in git
  (small outputs that cannot depend on training or the seed offset, such as a hand-checkable toy;
  the comparison nbval's ``--nbval-lax`` makes in the sweep);
- every notebook wrote its records (``_build/results/<stem>.json``) and the build timed it;
- no page shows bookkeeping: no ``Record(...)`` repr, no bare number left by a last line such as
  ``rec.finish()``;
- no figure lost a glyph (Hangul drawn as boxes: matplotlib warns "Glyph ... missing from font").

The claims of each chapter are ``assert`` statements in the notebook itself: a failed assert is an
error output, which fails the build and these tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXECUTED = ROOT / "_build" / "jupyter_execute" / "notebooks"
RESULTS = ROOT / "_build" / "results"
CHECK_TAG = "nbval-check-output"

pytestmark = pytest.mark.site


def _text(outputs: list[dict]) -> str:
    """The text a checked cell shows: stdout and plain-text results, in order."""
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            t = o.get("text", "")
        elif o.get("output_type") in ("execute_result", "display_data"):
            t = o.get("data", {}).get("text/plain", "")
        else:
            continue
        parts.append("".join(t) if isinstance(t, list) else t)
    return "\n".join(line.rstrip() for line in "".join(parts).strip().splitlines())


def _executed(path: Path) -> dict:
    copy = EXECUTED / path.name
    if not copy.is_file():
        pytest.fail(f"{copy} does not exist: run the book build first (make book), which executes "
                    f"every notebook once")
    if copy.stat().st_mtime < path.stat().st_mtime:
        pytest.fail(f"{path.name} changed after the build executed it: rebuild (make book)")
    return json.loads(copy.read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_without_errors(path):
    nb = _executed(path)
    for i, cell in enumerate(_code_cells(nb)):
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", (
                f"{path.name}, code cell {i}: {o.get('ename')}: {o.get('evalue')}")
    # every code cell ran (an interrupted execution leaves cells without an execution count)
    unrun = [i for i, c in enumerate(_code_cells(nb))
             if c.get("execution_count") is None and "".join(c["source"]).strip()
             and "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    assert not unrun, f"{path.name}: code cells {unrun} were not executed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_outputs_match_the_stored_ones(path):
    stored = _code_cells(json.loads(path.read_text(encoding="utf-8")))
    fresh = _code_cells(_executed(path))
    assert len(stored) == len(fresh)
    for i, (s, f) in enumerate(zip(stored, fresh, strict=True)):
        if CHECK_TAG not in s.get("metadata", {}).get("tags", []):
            continue
        assert _text(f.get("outputs", [])) == _text(s.get("outputs", [])), (
            f"{path.name}, code cell {i}: the output differs from the one stored in git\n"
            f"--- stored\n{_text(s.get('outputs', []))}\n--- this build\n{_text(f.get('outputs', []))}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_results_recorded_and_timed(path):
    records = RESULTS / f"{path.stem}.json"
    assert records.is_file(), f"{path.name} recorded no figures in this build ({records})"
    assert json.loads(records.read_text(encoding="utf-8")), f"{records} is empty"
    timings = json.loads((RESULTS / "timings.json").read_text(encoding="utf-8"))
    assert f"notebooks/{path.name}" in timings, f"the build did not time {path.name}"


BOOKKEEPING = re.compile(r"^(Record\(|-?\d+(\.\d+)?$)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_bookkeeping_on_the_page(path):
    nb = _executed(path)
    for i, cell in enumerate(_code_cells(nb)):
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags or "remove-output" in tags:
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") != "execute_result":
                continue
            text = "".join(o.get("data", {}).get("text/plain", "")).strip()
            assert not BOOKKEEPING.match(text), (
                f"{path.name}, code cell {i} shows {text[:60]!r} on the page: end the line with ';' "
                f"or print what the reader should see")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_missing_glyphs(path):
    nb = _executed(path)
    for i, cell in enumerate(_code_cells(nb)):
        for o in cell.get("outputs", []):
            text = "".join(o.get("text", "")) if o.get("output_type") == "stream" else ""
            assert "missing from font" not in text, (
                f"{path.name}, code cell {i}: a figure lost glyphs (drawn as boxes): {text.strip()[:200]}")


def test_no_notebook_asserts_on_wall_clock_time():
    """Budgets are reported, never enforced: a busy machine must not fail the build."""
    pattern = re.compile(r"^\s*assert\b.*\b(seconds|elapsed|wall|time\(|perf_counter|/pyg|ratio_vs)",
                         re.MULTILINE)
    offenders = []
    for path in NOTEBOOKS:
        for i, cell in enumerate(_code_cells(json.loads(path.read_text(encoding="utf-8")))):
            for m in pattern.finditer("".join(cell["source"])):
                offenders.append(f"{path.name}, code cell {i}: {m.group(0).strip()[:80]}")
    assert not offenders, "record times, don't assert them:\n" + "\n".join(offenders)
