"""Headline numbers, recorded by the notebooks that compute them.

Every figure the book states is recorded here by the notebook that computed it; the results page
and the execution-time table are generated from these records at build time, so the scoreboard can
never disagree with the notebooks.

The record format is a fixed contract that tools outside the book read too:

- one JSON file per notebook, ``_build/results/<notebook stem>.json``: a list of objects with keys
  ``name`` (slash-separated, e.g. ``attention/pooling/test_mse``), ``value`` (a number), ``unit``
  (a short string), ``paper`` (the paper's value or ``null``), ``source`` (a citation key of
  ``book/references.bib`` or ``null``) and ``seconds`` (the runtime behind the figure), and
  optionally ``description`` (a plain-language sentence for the results page's scoreboard);
- ``_build/results/timings.json``: ``{notebook path: seconds}`` for every notebook the book build
  executed, the path relative to the repository root (e.g. ``notebooks/20_soft_dictionary.ipynb``).
  The build writes it (``book/_ext/attnbook_sphinx.py``) from myst-nb's own measurement of each
  notebook's execution, kernel start to last cell; a notebook does not time itself.

The build empties ``_build/results`` and executes every notebook, so what the site shows is what
this build computed; records left by an interactive run are replaced.

The folder is ``$ATTNBOOK_RESULTS_DIR`` if set, else ``_build/results`` under the repository root
(found by walking up from the working directory), else ``_build/results`` in the working directory
(e.g. in Colab).

Usage in a notebook::

    rec = results.Recorder("20_soft_dictionary")
    with rec.stopwatch() as sw:
        mse = ...
    rec.record("attention/pooling/test_mse", mse, unit="MSE", seconds=sw.seconds)
    ...
    rec.finish()   # last cell: checks the records are on disk; shows nothing
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Record", "Recorder", "Stopwatch", "results_dir", "load_all", "load_timings", "write_timings", "glue"]

_NAME = re.compile(r"^[a-z0-9_.+-]+(/[a-z0-9_.+-]+)+$")
_KEYS = ("name", "value", "unit", "paper", "source", "seconds")
_OPTIONAL_KEYS = ("description",)


@dataclass(frozen=True)
class Record:
    """One headline figure."""

    name: str
    value: float
    unit: str
    paper: float | None = None
    source: str | None = None
    seconds: float | None = None
    description: str | None = None


def _repo_root(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / "_config.yml").is_file() and (d / "src" / "attnbook").is_dir():
            return d
    return None


def results_dir(start: str | os.PathLike | None = None) -> Path:
    """The folder the records go to (see the module docstring).

    ``start`` is where the search for the repository root begins: the working directory by
    default; the book's Sphinx extension passes the book's own folder.
    """
    env = os.environ.get("ATTNBOOK_RESULTS_DIR")
    if env:
        return Path(env)
    here = Path(start) if start is not None else Path.cwd()
    root = _repo_root(here.resolve())
    return (root if root is not None else here) / "_build" / "results"


def _atomic_write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, sort_keys=False)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; records are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _as_number(x, what: str) -> float:
    try:
        v = float(x)  # accepts Python numbers, numpy scalars and 0-d tensors
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be a number, got {type(x).__name__}: {x!r}") from e
    if not math.isfinite(v):
        raise ValueError(f"{what} must be finite, got {v}")
    return v


class Stopwatch:
    """Measures wall-clock seconds; use as a context manager, then read ``.seconds``."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._t1: float | None = None

    @property
    def seconds(self) -> float:
        end = self._t1 if self._t1 is not None else time.perf_counter()
        return end - self._t0

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        self._t1 = None
        return self

    def __exit__(self, *exc) -> None:
        self._t1 = time.perf_counter()


class Recorder:
    """Collects a notebook's headline figures and writes them to ``<results_dir>/<notebook>.json``.

    Args:
        notebook: the notebook's file stem, e.g. ``"20_soft_dictionary"``.
        path: the notebook's path relative to the repository root, used as the key in
            ``timings.json``; default ``notebooks/<notebook>.ipynb``.

    Creating a recorder starts the notebook's clock and clears the notebook's old records, so
    that a re-run never mixes old and new figures.
    """

    def __init__(self, notebook: str, path: str | None = None) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", notebook):
            raise ValueError(f"notebook must be a file stem like '20_soft_dictionary', got {notebook!r}")
        self.notebook = notebook
        self.path = path or f"notebooks/{notebook}.ipynb"
        self.records: list[Record] = []
        self._clock = Stopwatch()
        self.dir = results_dir()
        _atomic_write_json(self.file, [])

    @property
    def file(self) -> Path:
        return self.dir / f"{self.notebook}.json"

    def stopwatch(self) -> Stopwatch:
        """A fresh :class:`Stopwatch` (use with ``with``)."""
        return Stopwatch()

    def record(
        self,
        name: str,
        value,
        unit: str,
        paper=None,
        source: str | None = None,
        seconds=None,
        description: str | None = None,
    ) -> None:
        """Record one figure and rewrite this notebook's JSON file.

        Returns nothing, so that a cell ending with ``rec.record(...)`` shows nothing on the page
        (the record is in ``rec.records``).

        Args:
            name: slash-separated, lower case, e.g. ``"gat/cora/test_acc"``.
            value: the measured number (float, int, numpy scalar or 0-d tensor).
            unit: e.g. ``"%"``, ``"MSE"``, ``"points"``, ``"ratio"``, ``"s"``.
            paper: the paper's value for the same figure, or None.
            source: the citation key (in ``book/references.bib``) of ``paper``, or None.
            seconds: the runtime behind the figure; default the time since the recorder started.
            description: what the figure is, in plain words, for the results page's scoreboard
                (e.g. "GAT test accuracy on Cora, mean of 10 seeds").

        Raises:
            ValueError: a malformed or repeated name, a non-finite value, ``paper`` without
                ``source``.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(
                f"name must be slash-separated lower-case words like 'gat/cora/test_acc', got {name!r}"
            )
        if any(r.name == name for r in self.records):
            raise ValueError(f"{name!r} was already recorded by {self.notebook}")
        if not isinstance(unit, str):
            raise TypeError(f"unit must be a string, got {type(unit).__name__}")
        v = _as_number(value, f"value of {name}")
        p = None if paper is None else _as_number(paper, f"paper value of {name}")
        if p is not None and not source:
            raise ValueError(f"{name}: a paper value needs its source (a citation key)")
        s = self._clock.seconds if seconds is None else _as_number(seconds, f"seconds of {name}")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a string, got {type(description).__name__}")
        rec = Record(name=name, value=v, unit=unit, paper=p, source=source or None, seconds=round(s, 3),
                     description=description or None)
        self.records.append(rec)
        _atomic_write_json(self.file, [_as_json(r) for r in self.records])

    @property
    def seconds(self) -> float:
        """The seconds since this recorder was created (the notebook's run, after its imports)."""
        return round(self._clock.seconds, 3)

    def finish(self) -> None:
        """The notebook's last call: checks that its records are on disk; shows nothing on the page.

        The notebook's execution time for ``timings.json`` is measured by the book build, not
        here, and budgets are reported, never asserted.
        """
        on_disk = json.loads(self.file.read_text(encoding="utf-8")) if self.records else []
        if len(on_disk) != len(self.records):
            raise RuntimeError(f"{self.file} holds {len(on_disk)} records, {self.notebook} made "
                               f"{len(self.records)}: another process wrote to it")


def _as_json(r: Record) -> dict:
    d = asdict(r)
    if d["description"] is None:
        del d["description"]  # optional: files stay as they were without one
    return d


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_record(obj, where: str) -> Record:
    if not isinstance(obj, dict) or not set(_KEYS) <= set(obj) <= set(_KEYS + _OPTIONAL_KEYS):
        raise ValueError(f"{where}: a record must have exactly the keys {_KEYS} "
                         f"(and optionally {_OPTIONAL_KEYS}), got {obj!r}")
    problems = []
    if not isinstance(obj["name"], str) or not _NAME.fullmatch(obj["name"]):
        problems.append(f"name {obj['name']!r} is not slash-separated lower-case words")
    if not _is_number(obj["value"]):
        problems.append(f"value {obj['value']!r} is not a number")
    if not isinstance(obj["unit"], str):
        problems.append(f"unit {obj['unit']!r} is not a string")
    for key in ("paper", "seconds"):
        if obj[key] is not None and not _is_number(obj[key]):
            problems.append(f"{key} {obj[key]!r} is neither a number nor null")
    if obj["source"] is not None and not isinstance(obj["source"], str):
        problems.append(f"source {obj['source']!r} is neither a string nor null")
    if obj.get("description") is not None and not isinstance(obj["description"], str):
        problems.append(f"description {obj['description']!r} is neither a string nor null")
    if problems:
        raise ValueError(f"{where}: bad record {obj.get('name')!r}: " + "; ".join(problems))
    return Record(**obj)


def load_all(directory: str | os.PathLike | None = None) -> dict[str, list[Record]]:
    """All records, ``{notebook stem: [Record, ...]}``, sorted by notebook."""
    d = Path(directory) if directory is not None else results_dir()
    out: dict[str, list[Record]] = {}
    if not d.is_dir():
        return out
    for f in sorted(d.glob("*.json")):
        if f.name == "timings.json":
            continue
        data = json.loads(f.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError(f"{f}: expected a list of records")
        out[f.stem] = [_check_record(o, str(f)) for o in data]
    return out


def load_timings(directory: str | os.PathLike | None = None) -> dict[str, float]:
    """``{notebook path: seconds}`` from ``timings.json`` (empty if there is none yet)."""
    d = Path(directory) if directory is not None else results_dir()
    f = d / "timings.json"
    if not f.is_file():
        return {}
    data = json.loads(f.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{f}: expected an object {{notebook path: seconds}}")
    bad = {k: v for k, v in data.items() if not _is_number(v)}
    if bad:
        raise ValueError(f"{f}: seconds must be numbers, got {bad}")
    return {str(k): float(v) for k, v in data.items()}


def write_timings(timings: dict[str, float], directory: str | os.PathLike | None = None) -> Path:
    """Write ``timings.json`` (``{notebook path: seconds}``) atomically; used by the book build."""
    d = Path(directory) if directory is not None else results_dir()
    path = d / "timings.json"
    _atomic_write_json(path, {k: round(float(v), 3) for k, v in sorted(timings.items())})
    return path


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` when myst-nb is installed (the book build), else a no-op returning ``value``.

    Notebooks glue the numbers their prose quotes; in Colab, where myst-nb is usually absent, the
    prose is just markdown and there is nothing to glue into.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return value
    return _glue(name, value, display=display)


def glue_many(**values) -> None:
    """Glue several numbers for the prose at once: ``glue_many(n_train=8000, lr=f"{lr:g}")`` is
    ``glue("n_train", 8000)`` and ``glue("lr", f"{lr:g}")``, none displayed. The values are glued
    as given (format them first when the prose wants a particular form)."""
    for name, value in values.items():
        glue(name, value, display=False)
