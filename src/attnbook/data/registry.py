"""The dataset registry: one entry per data file (pinned URL, size, digest, licence) and one
description per dataset (citation, loader, the chapters that use it).

The data live in two files shipped with the package, read and schema-checked at import:

- ``registry.tsv`` -- one row per file: ``file`` (its path under the mirror and the cache, the
  registry key), ``dataset``, ``bytes``, ``sha256``, ``md5`` (only the canonical IMDB archive pins
  one), ``url`` (a ``raw.githubusercontent.com`` URL at a fixed commit, so the bytes never change;
  empty for files that exist only in the offline mirror), ``repo``, ``commit``, ``path_in_repo``,
  ``license`` (as the source states it) and ``note``. Its rows are those of the mirror's
  ``MANIFEST.tsv`` (``tests/test_data_registry.py`` checks every row, and every mirror file's
  digest), plus one row for the canonical IMDB archive on its authors' site.
- ``datasets.json`` -- one object per dataset: title, description, citation and its keys in
  ``book/references.bib``, the loader to call, ``used_if_code_has`` (the words whose presence in a
  notebook's code cells means the notebook uses the dataset; ``a|b`` accepts either word, e.g. the
  loader or the :mod:`attnbook.tasks` object that calls it) and ``planned`` (chapters not yet
  written that will use it, by notebook number).

Which chapters use which dataset is not written down anywhere: :func:`notebook_usage` finds it by
searching the notebooks' code for the ``used_if_code_has`` words, and the book's "Datasets" page
(:func:`datasets_markdown`, through ``book/_ext/attnbook_sphinx.py``) is generated from that at
every build. A planned chapter is listed as planned only while its notebook does not exist.
Today: Cora is used by "Graph Attention Networks" and "Inside a Graph Attention Network", Citeseer
by the first, the Tatoeba pairs by "Attention in seq2seq"; MR, TREC, SST-2 and the surnames are
planned for "CNNs for text" (30), IMDB and (optionally) BEEP! for "Attention for classification"
(23).

IMDB is the one dataset with two sources. Readers download the canonical ``aclImdb_v1.tar.gz`` from
Stanford (MD5 ``7c2ac02c03563afcf9b574c7e56c153a``, the digest every major loader pins, and its
sha256). The offline mirror holds the same 50,000 reviews re-packed in two archives
(``imdb/aclImdb_{train,test}.tar.gz``) that exist only in the mirror (``url`` is empty). Both go
through one parser in :mod:`attnbook.data.imdb`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from attnbook.data.errors import DataError

__all__ = [
    "DatasetInfo",
    "RegistryEntry",
    "DATASETS",
    "REGISTRY",
    "IMDB_CANONICAL_KEY",
    "IMDB_CANONICAL_URL",
    "IMDB_MIRROR_KEYS",
    "REGISTRY_COLUMNS",
    "entries_for",
    "notebook_usage",
    "datasets_markdown",
]

IMDB_CANONICAL_KEY = "imdb/aclImdb_v1.tar.gz"
IMDB_CANONICAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_MIRROR_KEYS = ("imdb/aclImdb_train.tar.gz", "imdb/aclImdb_test.tar.gz")

#: The columns of ``registry.tsv``, in order.
REGISTRY_COLUMNS = (
    "file", "dataset", "bytes", "sha256", "md5", "url", "repo", "commit", "path_in_repo",
    "license", "note",
)  # fmt: skip


@dataclass(frozen=True)
class DatasetInfo:
    """What the book says about one dataset (a row of ``datasets.json``).

    ``licence`` is that of the dataset's first file in ``registry.tsv``. ``used_if_code_has``: a
    notebook uses the dataset when its code cells contain every one of these words (``a|b``: either
    ``a`` or ``b``, e.g. ``load_tatoeba_kor_eng|KOR_ENG``: the loader or the task that calls it).
    ``planned``: ``(notebook number, chapter title)`` of chapters not yet written that will use it.
    """

    name: str  # registry id, e.g. "cora"
    title: str  # human title
    citation: str  # the paper that introduced the dataset (plain text)
    bibkeys: tuple[str, ...]  # keys in book/references.bib (empty when there is no paper)
    licence: str  # the licence as its source states it
    loader: str  # the attnbook.data call that loads it
    description: str = ""
    used_if_code_has: tuple[str, ...] = ()
    planned: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RegistryEntry:
    """One data file (a row of ``registry.tsv``): where it comes from and how to check it.

    ``key`` is the file's path under the mirror folder and under the cache folder. ``url`` is the
    pinned raw URL (``None`` for files that exist only in the offline mirror). ``size`` is in bytes;
    ``sha256`` (and, for the canonical IMDB archive, ``md5``) are lower-case hex digests.
    """

    key: str
    dataset: str
    url: str | None
    size: int
    sha256: str
    licence: str
    repo: str = ""
    commit: str = ""
    path_in_repo: str = ""
    md5: str | None = None
    note: str = field(default="", compare=False)

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return (
            f"RegistryEntry({self.key!r}, dataset={self.dataset!r}, size={self.size}, "
            f"sha256={self.sha256[:12]}..., url={self.url!r})"
        )


# --------------------------------------------------------------------------------------------------
# Reading the two data files, with a schema check: a malformed row is an error at import that names
# the file, the line and the field, never a silently wrong registry.
# --------------------------------------------------------------------------------------------------
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX40 = re.compile(r"[0-9a-f]{40}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_DATASET_FIELDS = {
    "name": str, "title": str, "description": str, "citation": str, "bibkeys": list,
    "loader": str, "used_if_code_has": list, "planned": list,
}  # fmt: skip


def _data_text(name: str) -> str:
    return resources.files("attnbook.data").joinpath(name).read_text(encoding="utf-8")


def _parse_datasets(text: str, source: str = "datasets.json") -> list[dict]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(rows, list):
        raise DataError(f"{source}: expected a list of datasets")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        where = f"{source}, dataset #{i}"
        if not isinstance(row, dict) or set(row) != set(_DATASET_FIELDS):
            got = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise DataError(f"{where}: expected the fields {sorted(_DATASET_FIELDS)}, got {got}")
        for key, typ in _DATASET_FIELDS.items():
            if not isinstance(row[key], typ):
                raise DataError(f"{where}: {key!r} must be a {typ.__name__}")
        if not re.fullmatch(r"[a-z0-9_]+", row["name"]) or row["name"] in seen:
            raise DataError(f"{where}: invalid or repeated name {row['name']!r}")
        seen.add(row["name"])
        words = row["used_if_code_has"]
        if not words or not all(isinstance(w, str) and re.fullmatch(r"\w+(\|\w+)*", w) for w in words):
            raise DataError(f"{where}: 'used_if_code_has' must be a non-empty list of words (a|b: either)")
        if not all(isinstance(b, str) and b for b in row["bibkeys"]):
            raise DataError(f"{where}: 'bibkeys' must be a list of keys")
        for p in row["planned"]:
            if not (
                isinstance(p, dict) and set(p) == {"notebook", "chapter"}
                and isinstance(p["notebook"], str) and re.fullmatch(r"\d\d", p["notebook"])
                and isinstance(p["chapter"], str) and p["chapter"]
            ):  # fmt: skip
                raise DataError(
                    f"{where}: each 'planned' item is {{\"notebook\": \"NN\", \"chapter\": title}}"
                )
    return rows


def _parse_registry(text: str, datasets: Iterable[str], source: str = "registry.tsv"):
    lines = text.splitlines()
    header = tuple(lines[0].split("\t")) if lines else ()
    if header != REGISTRY_COLUMNS:
        raise DataError(f"{source}: the header must be {REGISTRY_COLUMNS}, got {header}")
    known = set(datasets)
    out: dict[str, RegistryEntry] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        where = f"{source}, line {lineno}"
        if len(cells) != len(REGISTRY_COLUMNS):
            raise DataError(f"{where}: {len(cells)} fields, expected {len(REGISTRY_COLUMNS)}")
        r = dict(zip(REGISTRY_COLUMNS, cells, strict=True))

        def bad(column: str, expected: str, r=r, where=where) -> DataError:
            return DataError(f"{where}: {column} is {r[column]!r}, expected {expected}")

        if not _KEY.fullmatch(r["file"]) or ".." in r["file"].split("/"):
            raise bad("file", "a relative path")
        if r["file"] in out:
            raise bad("file", "a path not listed before")
        if r["dataset"] not in known:
            raise bad("dataset", f"one of {sorted(known)} (datasets.json)")
        if not (r["bytes"].isdigit() and r["bytes"].isascii() and int(r["bytes"]) > 0):
            raise bad("bytes", "a positive integer")
        if not _HEX64.fullmatch(r["sha256"]):
            raise bad("sha256", "64 lower-case hex digits")
        if r["md5"] and not _HEX32.fullmatch(r["md5"]):
            raise bad("md5", "empty or 32 lower-case hex digits")
        if r["commit"] and not _HEX40.fullmatch(r["commit"]):
            raise bad("commit", "empty or a full 40-digit commit id")
        if r["url"]:
            if not r["url"].startswith("https://"):
                raise bad("url", "empty (mirror-only file) or an https URL")
            if "raw.githubusercontent.com" in r["url"] and r["url"] != (
                f"https://raw.githubusercontent.com/{r['repo']}/{r['commit']}/{r['path_in_repo']}"
            ):
                raise bad("url", "the raw URL of repo, commit and path_in_repo")
        if not r["license"]:
            raise bad("license", "the licence as the source states it")
        out[r["file"]] = RegistryEntry(
            key=r["file"],
            dataset=r["dataset"],
            url=r["url"] or None,
            size=int(r["bytes"]),
            sha256=r["sha256"],
            licence=r["license"],
            repo=r["repo"],
            commit=r["commit"],
            path_in_repo=r["path_in_repo"],
            md5=r["md5"] or None,
            note=r["note"],
        )
    return out


def _load() -> tuple[dict[str, RegistryEntry], dict[str, DatasetInfo]]:
    rows = _parse_datasets(_data_text("datasets.json"))
    registry = _parse_registry(_data_text("registry.tsv"), (d["name"] for d in rows))
    datasets: dict[str, DatasetInfo] = {}
    for d in rows:
        first = next((e for e in registry.values() if e.dataset == d["name"]), None)
        if first is None:
            raise DataError(f"datasets.json: dataset {d['name']!r} has no file in registry.tsv")
        datasets[d["name"]] = DatasetInfo(
            name=d["name"],
            title=d["title"],
            citation=d["citation"],
            bibkeys=tuple(d["bibkeys"]),
            licence=first.licence,
            loader=d["loader"],
            description=d["description"],
            used_if_code_has=tuple(d["used_if_code_has"]),
            planned=tuple((p["notebook"], p["chapter"]) for p in d["planned"]),
        )
    return registry, datasets


_REGISTRY, _DATASETS = _load()
#: Every data file, keyed by its path under the mirror (and cache) folder. Read-only.
REGISTRY: Mapping[str, RegistryEntry] = MappingProxyType(_REGISTRY)
#: What the book says about each dataset. Read-only.
DATASETS: Mapping[str, DatasetInfo] = MappingProxyType(_DATASETS)


def entries_for(dataset: str) -> list[RegistryEntry]:
    """The registry entries of one dataset id (``"cora"``, ``"imdb"``, ...), in registry order."""
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {sorted(DATASETS)}")
    return [e for e in REGISTRY.values() if e.dataset == dataset]


# --------------------------------------------------------------------------------------------------
# Which notebooks use which dataset, and the "Datasets" page.
# --------------------------------------------------------------------------------------------------
def _code_of(path: Path) -> str:
    """The code cells of a notebook (``.ipynb``), or the whole text of a jupytext ``.py``/``.md``."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix != ".ipynb":
        return text
    cells = json.loads(text).get("cells", [])
    return "\n".join(
        "".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
        for c in cells
        if c.get("cell_type") == "code"
    )


def notebook_usage(notebooks: Iterable[str | Path]) -> dict[str, list[str]]:
    """``{dataset: [notebook stems]}``: the notebooks whose code uses each dataset.

    A notebook uses a dataset when its code cells contain every word of the dataset's
    ``used_if_code_has`` (whole words: ``load_planetoid`` and ``cora`` for Cora; ``a|b`` is either). Every dataset of
    :data:`DATASETS` is a key; the stems are sorted.
    """
    usage: dict[str, list[str]] = {name: [] for name in DATASETS}
    for path in sorted(Path(p) for p in notebooks):
        code = _code_of(path)
        for d in DATASETS.values():
            if all(any(re.search(rf"\b{re.escape(alt)}\b", code) for alt in w.split("|"))
                   for w in d.used_if_code_has):
                usage[d.name].append(path.stem)
    return usage


def _default_notebooks() -> list[Path]:
    """The notebooks of a source checkout (``<repo>/notebooks/*.ipynb``), or none."""
    folder = Path(__file__).resolve().parents[3] / "notebooks"
    return sorted(folder.glob("*.ipynb")) if folder.is_dir() else []


def _human_size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


# The fixed words of the datasets table, per edition (the registry's own texts stay as registered).
_TABLE_WORDS = {
    "en": {"columns": ("Dataset", "Download", "Licence (as stated)", "Citation", "Used in", "Loader"),
           "canonical": "canonical archive", "files": "{n} files", "planned": "planned: {chapter} (chapter {nb})",
           "none": "none yet", "file_columns": ("File", "Bytes", "sha256", "Source"),
           "mirror_only": "offline mirror only ({note})"},
    "ko": {"columns": ("데이터셋", "내려받는 크기", "라이선스 (밝힌 그대로)", "인용", "쓰는 장", "로더"),
           "canonical": "정식 압축 파일", "files": "파일 {n}개", "planned": "계획: {chapter} ({nb}장)",
           "none": "아직 없음", "file_columns": ("파일", "바이트", "sha256", "출처"),
           "mirror_only": "오프라인 미러에만 있음 ({note})"},
}

def datasets_markdown(
    *,
    cite: bool = True,
    files: bool = False,
    notebooks: Iterable[str | Path] | None = None,
    link: Callable[[str], str] | None = None,
    lang: str = "en",
) -> str:
    """The Markdown (MyST) of the book's "Datasets" page table, generated from the registry.

    Args:
        cite: add ``{cite}`key``` roles (sphinxcontrib-bibtex) after each citation; the keys are
            in ``book/references.bib``. ``False`` gives plain Markdown.
        files: also append a second table with one row per file (URL, bytes, sha256).
        notebooks: the book's notebooks; ``None``: the ``notebooks/*.ipynb`` of the source
            checkout this package is in (none when installed elsewhere).
        link: Markdown for a notebook stem in the "Used in" column (the book passes a ``{doc}``
            role); default: the stem as code.
        lang: the language of the headers and fixed words, ``"en"`` or ``"ko"`` (the Korean
            edition); the datasets' own descriptions, licences and citations stay as registered.

    Returns:
        a Markdown string: one row per dataset with its download size, licence, citation, the
        chapters that use it (:func:`notebook_usage`) followed by the planned chapters whose
        notebook does not exist yet, and the loader to call.
    """
    paths = _default_notebooks() if notebooks is None else [Path(p) for p in notebooks]
    usage = notebook_usage(paths)
    written = {p.stem[:2] for p in paths}
    link = link or (lambda stem: f"`{stem}`")
    if lang not in _TABLE_WORDS:
        raise ValueError(f"lang must be one of {sorted(_TABLE_WORDS)}, got {lang!r}")
    w = _TABLE_WORDS[lang]
    lines = ["| " + " | ".join(w["columns"]) + " |", "|---|---|---|---|---|---|"]
    for d in DATASETS.values():
        entries = entries_for(d.name)
        if d.name == "imdb":
            canonical = REGISTRY[IMDB_CANONICAL_KEY]
            size = _human_size(canonical.size) + f" ({w['canonical']})"
        else:
            size = _human_size(sum(e.size for e in entries)) + " (" + w["files"].format(n=len(entries)) + ")"
        citation = _md_escape(d.citation)
        if cite and d.bibkeys:
            citation += " " + ", ".join(f"{{cite}}`{k}`" for k in d.bibkeys)
        used = [link(stem) for stem in usage[d.name]]
        used += [
            w["planned"].format(chapter=_md_escape(chapter), nb=nb)
            for nb, chapter in d.planned
            if nb not in written
        ]
        lines.append(
            f"| **{_md_escape(d.title)}**: {_md_escape(d.description)} | {size} | "
            f"{_md_escape(d.licence)} | {citation} | {'; '.join(used) or w['none']} | "
            f"`attnbook.data.{d.loader}` |"
        )
    out = "\n".join(lines) + "\n"
    if files:
        rows = [
            "| " + " | ".join(w["file_columns"]) + " |",
            "|---|---|---|---|",
        ]
        for e in REGISTRY.values():
            src = f"<{e.url}>" if e.url else w["mirror_only"].format(note=_md_escape(e.note))
            rows.append(f"| `{e.key}` | {e.size:,} | `{e.sha256}` | {src} |")
        out += "\n" + "\n".join(rows) + "\n"
    return out
