"""Tests of attnbook.data.registry: the data files (registry.tsv, datasets.json) are schema-checked,
the registry agrees with the mirror's MANIFEST and files, every entry loads from the mirror with its
digest checked, and the datasets page is generated from it with truthful "Used in" cells."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from mirror import MIRROR, needs_mirror

from attnbook.data import DATASETS, REGISTRY, DataError, datasets_markdown, fetch
from attnbook.data.download import file_digests
from attnbook.data.registry import (
    IMDB_CANONICAL_KEY,
    REGISTRY_COLUMNS,
    _data_text,
    _parse_datasets,
    _parse_registry,
    entries_for,
    notebook_usage,
)

needs_mirror = needs_mirror()
ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_entries_are_well_formed():
    for key, e in REGISTRY.items():
        assert e.key == key and e.dataset in DATASETS
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256) and e.size > 0 and e.licence
        if e.url is not None:
            assert e.url.startswith("https://")
            if "raw.githubusercontent.com" in e.url:  # pinned to a full commit id
                assert re.search(r"/[0-9a-f]{40}/", e.url) and e.commit in e.url
    for name in DATASETS:
        assert entries_for(name), name


def test_canonical_imdb_entry():
    e = REGISTRY[IMDB_CANONICAL_KEY]
    assert e.url == "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
    assert e.md5 == "7c2ac02c03563afcf9b574c7e56c153a" and e.size == 84125825


@needs_mirror
def test_registry_matches_the_manifest():
    with open(Path(MIRROR) / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert {r["file"] for r in rows} == set(REGISTRY) - {IMDB_CANONICAL_KEY}
    for r in rows:
        e = REGISTRY[r["file"]]
        assert (e.size, e.sha256, e.licence) == (int(r["bytes"]), r["sha256"], r["license"])
        assert (e.url or "packed") == r["raw_url"]
        assert (e.repo, e.commit, e.path_in_repo) == (r["repo"], r["commit"], r["path_in_repo"])


@needs_mirror
def test_every_entry_loads_from_the_mirror_with_its_digest_checked():
    mirror = Path(MIRROR).resolve()
    for key in REGISTRY:
        if key == IMDB_CANONICAL_KEY:  # not in the mirror: the mirror's two archives stand for it
            continue
        path = fetch(key)  # checks size and sha256, raises on a mismatch
        assert path.resolve() == mirror / key


def test_datasets_markdown():
    md = datasets_markdown()
    lines = md.strip().splitlines()
    assert len(lines) == 2 + len(DATASETS)
    for d in DATASETS.values():
        assert d.title in md and d.licence.replace("|", "\\|") in md
        for k in d.bibkeys:
            assert f"{{cite}}`{k}`" in md
    assert "{cite}" not in datasets_markdown(cite=False)
    full = datasets_markdown(files=True)
    assert all(f"`{k}`" in full for k in REGISTRY)


def test_bib_keys_exist():
    if not BIB.is_file():
        pytest.skip("book/references.bib not present")
    text = BIB.read_text(encoding="utf-8")
    for d in DATASETS.values():
        for k in d.bibkeys:
            assert re.search(r"@\w+\{" + re.escape(k) + ",", text), k


@needs_mirror
def test_every_mirror_file_has_its_registered_size_and_sha256():
    """Hashes the real files (not only the MANIFEST's claims)."""
    with open(Path(MIRROR) / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        size, sha, _ = file_digests(Path(MIRROR) / r["file"])
        assert (size, sha) == (int(r["bytes"]), r["sha256"]) == (
            REGISTRY[r["file"]].size,
            REGISTRY[r["file"]].sha256,
        ), r["file"]


# --------------------------------------------------------------------------------------------------
# The schema check of the data files
# --------------------------------------------------------------------------------------------------
TSV = _data_text("registry.tsv")
HEADER, ROW = TSV.splitlines()[:2]


def _tsv_with(**changes) -> str:
    cells = dict(zip(REGISTRY_COLUMNS, ROW.split("\t"), strict=True))
    cells.update(changes)
    return HEADER + "\n" + "\t".join(cells[c] for c in REGISTRY_COLUMNS) + "\n"


def test_the_shipped_files_parse_to_the_registry():
    assert _parse_registry(TSV, DATASETS) == dict(REGISTRY)
    assert [d["name"] for d in _parse_datasets(_data_text("datasets.json"))] == list(DATASETS)


@pytest.mark.parametrize(
    "changes,match",
    [
        (dict(sha256="abc"), "sha256"),
        (dict(sha256="A" * 64), "sha256"),
        (dict(bytes="12.5"), "bytes"),
        (dict(bytes="-3"), "bytes"),
        (dict(bytes="0"), "bytes"),
        (dict(md5="xyz"), "md5"),
        (dict(commit="abc123"), "commit"),
        (dict(dataset="nope"), "dataset"),
        (dict(file="../etc/passwd"), "file"),
        (dict(file="/abs/path"), "file"),
        (dict(url="http://example.org/x"), "url"),
        (dict(path_in_repo="data/other"), "url"),
        (dict(license=""), "license"),
    ],
)
def test_registry_schema_rejects_a_malformed_row(changes, match):
    with pytest.raises(DataError, match=f"line 2: {match}"):
        _parse_registry(_tsv_with(**changes), DATASETS)


def test_registry_schema_rejects_bad_structure():
    with pytest.raises(DataError, match="header"):
        _parse_registry("file\tbytes\n", DATASETS)
    with pytest.raises(DataError, match="fields"):
        _parse_registry(HEADER + "\n" + ROW + "\textra\n", DATASETS)
    with pytest.raises(DataError, match="not listed before"):
        _parse_registry(HEADER + "\n" + ROW + "\n" + ROW + "\n", DATASETS)


def test_datasets_schema_rejects_malformed_entries():
    good = json.loads(_data_text("datasets.json"))[0]
    for bad in (
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "loader"},
        {**good, "bibkeys": "key"},
        {**good, "used_if_code_has": []},
        {**good, "used_if_code_has": ["load_mr()"]},
        {**good, "planned": [{"notebook": "3", "chapter": "x"}]},
        {**good, "name": "Bad Name"},
    ):
        with pytest.raises(DataError):
            _parse_datasets(json.dumps([bad]))
    with pytest.raises(DataError, match="repeated"):
        _parse_datasets(json.dumps([good, good]))
    with pytest.raises(DataError, match="JSON"):
        _parse_datasets("{not json")


# --------------------------------------------------------------------------------------------------
# "Used in": found in the notebooks' code, planned chapters until their notebook exists
# --------------------------------------------------------------------------------------------------
def _notebook(path: Path, code: str, markdown: str = "") -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [markdown]},
             {"cell_type": "code", "metadata": {}, "source": code.splitlines(keepends=True),
              "outputs": [], "execution_count": None}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_notebook_usage_reads_code_cells_only(tmp_path):
    a = _notebook(tmp_path / "30_cnn.ipynb", "from attnbook.data import load_mr\nx = load_mr()\n",
                  markdown="We could also use `load_trec()`.")
    b = _notebook(tmp_path / "52_x.ipynb", "g = load_planetoid(name)  # decorator, citeseers\n")
    c = _notebook(tmp_path / "53_y.ipynb", 'for n in ("cora", "citeseer"):\n    load_planetoid(n)')
    usage = notebook_usage([a, b, c])
    assert usage["mr"] == ["30_cnn"] and usage["trec"] == []
    assert usage["cora"] == usage["citeseer"] == ["53_y"]  # whole words only
    assert set(usage) == set(DATASETS)


def test_notebook_usage_counts_a_task_that_loads_the_dataset(tmp_path):
    """``a|b`` in ``used_if_code_has``: the loader itself, or the attnbook.tasks object calling it."""
    a = _notebook(tmp_path / "21_a.ipynb", "from attnbook.tasks import KOR_ENG\nko = KOR_ENG.load()\n")
    b = _notebook(tmp_path / "22_b.ipynb", "pairs = load_tatoeba_kor_eng()\n")
    c = _notebook(tmp_path / "23_c.ipynb", "KOR_ENGLISH = 1  # not the task\n")
    assert notebook_usage([a, b, c])["tatoeba_kor_eng"] == ["21_a", "22_b"]


def test_used_in_column_marks_planned_chapters_until_written(tmp_path):
    def used_in(md: str, name: str) -> str:
        row = next(r for r in md.splitlines() if r.startswith(f"| **{DATASETS[name].title}**"))
        return row.split(" | ")[4]

    md = datasets_markdown(notebooks=[])
    assert used_in(md, "cora") == "none yet"
    assert used_in(md, "mr") == "planned: CNNs for text (chapter 30)"
    nb = _notebook(tmp_path / "30_cnn.ipynb", "x = load_mr()\n")
    md = datasets_markdown(notebooks=[nb], link=lambda s: f"{{doc}}`/notebooks/{s}`")
    assert used_in(md, "mr") == "{doc}`/notebooks/30_cnn`"
    assert used_in(md, "trec") == "none yet"  # chapter 30 exists and does not load TREC
    assert "planned" in used_in(md, "imdb")


@pytest.mark.skipif(not NOTEBOOKS, reason="the notebooks are not in this checkout")
def test_usage_of_the_book_notebooks():
    """What the book's notebooks use today (extend when a chapter starts using a dataset)."""
    usage = notebook_usage(NOTEBOOKS)
    stems = {p.stem for p in NOTEBOOKS}
    if "21_attention_seq2seq" in stems:
        assert "21_attention_seq2seq" in usage["tatoeba_kor_eng"]
    if "50_gat" in stems:
        assert "50_gat" in usage["cora"] and "50_gat" in usage["citeseer"]
    for name, users in usage.items():
        if not users:  # a dataset no notebook uses is marked planned, not claimed as used
            row = datasets_markdown(notebooks=NOTEBOOKS).split(f"**{DATASETS[name].title}**")[1]
            assert "planned" in row.split("\n")[0] or "none yet" in row.split("\n")[0]


def test_datasets_table_speaks_the_korean_edition():
    from attnbook.data.registry import datasets_markdown

    ko = datasets_markdown(cite=False, files=True, notebooks=[], lang="ko")
    assert ko.startswith("| 데이터셋 | 내려받는 크기 |") and "| 파일 | 바이트 | sha256 | 출처 |" in ko
    assert "Used in" not in ko and "none yet" not in ko
    en = datasets_markdown(cite=False, files=True, notebooks=[])
    assert en.count("\n") == ko.count("\n")  # the same rows
    with pytest.raises(ValueError, match="lang"):
        datasets_markdown(lang="fr")
