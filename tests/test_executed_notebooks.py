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

import ast
import hashlib
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
    executed = json.loads(copy.read_text(encoding="utf-8"))
    if _code_digest(executed) != _code_digest(json.loads(path.read_text(encoding="utf-8"))):
        pytest.fail(f"{path.name}: its code changed after the build executed it: rebuild (make book)")
    return executed


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _code_digest(nb: dict) -> str:
    """What an execution depends on: the code cells' sources, in order (not file times: a later
    checkout would fail a fresh run, a restored cache would pass a stale one)."""
    sources = ["".join(c["source"]) for c in _code_cells(nb)]
    return hashlib.sha256(json.dumps(sources).encode("utf-8")).hexdigest()


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


# a name or attribute in an assert that reads a clock or a time measured from one
CLOCK_WORDS = re.compile(r"(^|_)(seconds?|secs?|elapsed|wall|time|times|timing|clock|perf_counter|"
                         r"process_time|thread_time|monotonic|speedup|sps|steps_per_s)($|_)|^ratio_vs",
                         re.IGNORECASE)


def clock_asserts(source: str) -> list[str]:
    """The ``assert`` statements of a code cell that read a clock or a measured time.

    Parsed, not matched line by line: comments and strings never count, and an assert split over
    lines is one statement. IPython magics (``%pip``, ``!cmd``) are blanked before parsing."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                      for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        words = [n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)]
        words += [n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)]
        words += [n.value for n in ast.walk(node.test)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)]  # rec["...seconds"]
        parts = [part for w in words for part in re.split(r"[/.\[\]]", w)]
        if any(CLOCK_WORDS.search(part) for part in parts):
            found.append(ast.get_source_segment(code, node) or f"line {node.lineno}")
    return found


def test_clock_asserts_are_found():
    assert clock_asserts("assert time.perf_counter() - t0 < 5")
    assert clock_asserts("assert (elapsed\n  < 2)")
    assert clock_asserts("assert rec['transformer/speedup_vs_rnn'] > 1")
    assert clock_asserts("assert steps_per_s > 10")
    assert not clock_asserts("# assert the seconds\nassert acc > 0.9  # took 3 seconds")
    assert not clock_asserts("%pip install x\nassert loss < 1.0, 'the loss should fall over time'")
    assert not clock_asserts("assert timesteps == 40")


def test_no_notebook_asserts_on_wall_clock_time():
    """Budgets are reported, never enforced: a busy machine must not fail the build."""
    offenders = []
    for path in NOTEBOOKS:
        for i, cell in enumerate(_code_cells(json.loads(path.read_text(encoding="utf-8")))):
            for stmt in clock_asserts("".join(cell["source"])):
                offenders.append(f"{path.name}, code cell {i}: {stmt.strip()[:100]}")
    assert not offenders, "record times, don't assert them:\n" + "\n".join(offenders)
