#!/usr/bin/env python3
"""The robustness sweep: execute every notebook under nbval at other seed offsets, and report.

Training never repeats bit for bit on another CPU, BLAS build, torch version or a GPU. The sweep
stands in for those machines: it re-runs the notebooks with ``ATTNBOOK_SEED_OFFSET`` = 1, 2, ...
(every experiment's draws move; hand-checked toys do not, see ``attnbook.utils``), each under
nbval (``pytest --nbval-lax``: every cell must run without an error, and cells tagged
``nbval-check-output`` must print what git stores). Offset 0 is the book build itself.

It writes ``_build/robustness/``:

- ``offset<k>/<notebook>.xml`` (nbval's junit report), ``.log`` (its output) and
  ``offset<k>/results/<notebook>.json`` (the records of that run); re-running one chapter
  replaces only its own files;
- ``report.json`` and ``report.md``: for each chapter, pass or fail at each offset with the first
  failing cell and its error; for each recorded figure, its value at each offset (offset 0 read
  from the last book build's ``_build/results`` when it exists) and its spread (max - min).

Usage::

    python tools/robustness.py                       # offsets 1 and 2, every notebook
    python tools/robustness.py notebooks/11_seq2seq.ipynb --offsets 1 3   # notebooks first
    python tools/robustness.py --report-only         # rewrite the report from the last runs
    python tools/robustness.py --report-only --publish   # and write book/robustness.json

``--publish`` writes each figure's values at the sweep's offsets (not 0: the build shows its own)
with the commit and date to ``book/robustness.json``; the results page then shows each figure's
range over those draws ("other draws"), so a reader sees how much their run may differ. Commit it
with the change the sweep checked.

``make robustness`` runs the first form. It is not part of ``make test`` (it costs two book
builds' worth of execution); run it before submitting a change to a notebook or to the package's
training code, and put its table in the change's note. Exit status 1 when a chapter fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "robustness"
BUILD_RESULTS = ROOT / "_build" / "results"
CELL_TIMEOUT = 1800  # seconds; a hang guard, as in the book build
_ANSI = re.compile(r"\x1b\[[0-9;]*m|#x1B\[[0-9;]*m")
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b.*)$", re.M)


@dataclass
class Failure:
    cell: int  # nbval's index: the position among the notebook's code cells, from 0
    source: str  # the cell's first line of code
    error: str  # the exception line, e.g. "AssertionError: and the test error rises"


@dataclass
class ChapterRun:
    notebook: str  # e.g. "11_seq2seq"
    offset: int
    passed: bool
    cells: int  # cells nbval executed
    seconds: float  # sum of the cells' times
    first_failure: Failure | None = None


def _clean(text: str) -> str:
    return _ANSI.sub("", text or "")


def _failure_from_message(cell: int, message: str) -> Failure:
    text = _clean(message)
    source = ""
    m = re.search(r"Input:\n(.*?)(?:\n|$)", text)
    if m:
        source = m.group(1).strip()
    errors = _ERROR_LINE.findall(text)
    error = errors[-1].strip() if errors else (text.strip().splitlines() or [""])[-1]
    return Failure(cell=cell, source=source[:200], error=error[:300])


def parse_junit(path: str | os.PathLike, offset: int) -> list[ChapterRun]:
    """One :class:`ChapterRun` per notebook in an nbval junit report, in the report's order."""
    root = ET.parse(path).getroot()
    runs: dict[str, ChapterRun] = {}
    for case in root.iter("testcase"):
        stem = Path(case.get("classname", "").replace(".ipynb", "").replace(".", "/")).name
        if not stem:
            continue
        run = runs.setdefault(stem, ChapterRun(stem, offset, True, 0, 0.0))
        run.cells += 1
        run.seconds += float(case.get("time", 0) or 0)
        bad = [c for c in case if c.tag in ("failure", "error")]
        if bad:
            run.passed = False
            if run.first_failure is None:
                m = re.search(r"(\d+)", case.get("name", ""))
                cell = int(m.group(1)) if m else -1
                detail = bad[0].get("message", "") + "\n" + (bad[0].text or "")
                run.first_failure = _failure_from_message(cell, detail)
    return list(runs.values())


def read_records(directory: Path) -> dict[str, float]:
    """``{record name: value}`` from a folder of ``attnbook.results`` record files."""
    values: dict[str, float] = {}
    if not directory.is_dir():
        return values
    for f in sorted(directory.glob("*.json")):
        if f.name == "timings.json":
            continue
        try:
            for r in json.loads(f.read_text(encoding="utf-8")):
                values[r["name"]] = float(r["value"])
        except (ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"error: {f} is not a record file of attnbook.results ({e})") from e
    return values


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return f"{x:.4g}"


def build_report(runs: list[ChapterRun], records: dict[int, dict[str, float]]) -> dict:
    """The report as a JSON-able dict: chapters x offsets, figures x offsets with their spread."""
    offsets = sorted({r.offset for r in runs})
    chapters: dict[str, dict[str, dict]] = {}
    for r in sorted(runs, key=lambda r: (r.notebook, r.offset)):
        d = asdict(r)
        chapters.setdefault(r.notebook, {})[str(r.offset)] = d
    figures: dict[str, dict] = {}
    names = sorted(set().union(*(set(v) for v in records.values())) if records else set())
    for name in names:
        vals = {str(k): records[k].get(name) for k in sorted(records)}
        finite = [v for v in vals.values() if v is not None and not math.isnan(v)]
        spread = (max(finite) - min(finite)) if len(finite) >= 2 else None
        figures[name] = {"values": vals, "spread": spread}
    passed = all(r.passed for r in runs)
    return {"offsets": offsets, "record_offsets": sorted(records), "passed": passed,
            "chapters": chapters, "figures": figures}


def render_markdown(report: dict) -> str:
    offsets = report["offsets"]
    lines = ["# Robustness sweep", "",
             "Every notebook executed under nbval (`pytest --nbval-lax`) with `ATTNBOOK_SEED_OFFSET` "
             "set to each offset; offset 0 is the book build.", "",
             "## Chapters", "",
             "| chapter | " + " | ".join(f"offset {k}" for k in offsets) + " |",
             "|---|" + "---|" * len(offsets)]
    failures = []
    for nb, per in report["chapters"].items():
        cells = []
        for k in offsets:
            r = per.get(str(k))
            if r is None:
                cells.append("not run")
            elif r["passed"]:
                cells.append(f"pass ({r['seconds']:.0f} s)")
            else:
                f = r["first_failure"] or {}
                cells.append(f"**FAIL** at cell {f.get('cell', '?')} ({r['seconds']:.0f} s)")
                failures.append(f"- `{nb}` at offset {k}, cell {f.get('cell', '?')}: "
                                f"`{f.get('source', '')}` → {f.get('error', '')}")
        lines.append(f"| {nb} | " + " | ".join(cells) + " |")
    if failures:
        lines += ["", "First failing cells:", "", *failures]
    rec_offsets = report["record_offsets"]
    lines += ["", "## Figures", "",
              "| figure | " + " | ".join(f"offset {k}" for k in rec_offsets) + " | spread |",
              "|---|" + "---|" * (len(rec_offsets) + 1)]
    for name, f in report["figures"].items():
        vals = [_fmt(f["values"].get(str(k))) for k in rec_offsets]
        lines.append(f"| `{name}` | " + " | ".join(vals) + f" | {_fmt(f['spread'])} |")
    return "\n".join(lines) + "\n"


def run_notebook(offset: int, notebook: str, out: Path) -> Path:
    """Execute one notebook under nbval at ``offset``; returns its junit report's path.

    Each notebook has its own report and record file per offset, so re-running one chapter
    replaces only that chapter's rows.
    """
    stem = Path(notebook).stem
    d = out / f"offset{offset}"
    results = d / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{stem}.json").unlink(missing_ok=True)
    junit = d / f"{stem}.xml"
    junit.unlink(missing_ok=True)
    env = dict(os.environ, ATTNBOOK_SEED_OFFSET=str(offset), ATTNBOOK_RESULTS_DIR=str(results),
               ATTNBOOK_PROGRESS="0")
    cmd = [sys.executable, "-m", "pytest", "--nbval-lax", f"--nbval-cell-timeout={CELL_TIMEOUT}",
           "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", notebook]
    print(f"== offset {offset}: {notebook}", flush=True)
    with open(d / f"{stem}.log", "w", encoding="utf-8") as log:
        rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if not junit.is_file():
        raise SystemExit(f"error: pytest wrote no report for {notebook} at offset {offset} (exit {rc}); "
                         f"see {d / (stem + '.log')}")
    return junit


def collect(out: Path, offsets: list[int] | None = None) -> dict:
    """Read every ``offset<k>`` folder under ``out`` (or only ``offsets``) and build the report."""
    runs: list[ChapterRun] = []
    records: dict[int, dict[str, float]] = {}
    for d in sorted(out.glob("offset*")):
        m = re.fullmatch(r"offset(\d+)", d.name)
        if not m:
            continue
        k = int(m.group(1))
        if offsets is not None and k not in offsets:
            continue
        for junit in sorted(d.glob("*.xml")):
            runs += parse_junit(junit, k)
        records[k] = read_records(d / "results")
    if BUILD_RESULTS.is_dir() and 0 not in records:
        records[0] = read_records(BUILD_RESULTS)
    return build_report(runs, records)


def publish(report: dict, path: Path) -> Path:
    """Write the sweep's figures at its offsets (offset 0, the build, left out) for the results page."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "notebooks", "src"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    offsets = [k for k in report["offsets"] if k != 0]
    figures = {name: {str(k): f["values"].get(str(k)) for k in offsets}
               for name, f in report["figures"].items()}
    data = {"commit": commit + ("+" if dirty else ""), "date": time.strftime("%Y-%m-%d"),
            "offsets": offsets, "figures": figures}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: every notebook)")
    ap.add_argument("--offsets", type=int, nargs="+", default=[1, 2], help="seed offsets (default: 1 2)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"report folder (default: {OUT.relative_to(ROOT)})")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the report from earlier runs")
    ap.add_argument("--publish", action="store_true",
                    help="also write book/robustness.json for the results page (every chapter must pass)")
    args = ap.parse_args(argv)
    if any(k < 0 for k in args.offsets):
        ap.error("offsets must be non-negative integers")
    notebooks = args.notebooks or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.ipynb"))
    missing = [n for n in notebooks if not (ROOT / n).is_file() and not Path(n).is_file()]
    if missing:
        ap.error(f"no such notebook: {', '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for k in args.offsets:
            for nb in notebooks:
                run_notebook(k, nb, args.out)
    report = collect(args.out)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    md = render_markdown(report)
    (args.out / "report.md").write_text(md, encoding="utf-8")
    print(md)
    print(f"report: {args.out / 'report.md'}")
    if args.publish:
        if not report["passed"]:
            print("error: not published: a chapter fails at some offset", file=sys.stderr)
            return 1
        path = publish(report, ROOT / "book" / "robustness.json")
        print(f"published: {path.relative_to(ROOT)}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
