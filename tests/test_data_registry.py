"""Tests of attnbook.data.registry: the registry agrees with the mirror's MANIFEST, every entry
loads from the mirror with its digest checked, and the datasets page is generated from it."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from attnbook.data import DATASETS, REGISTRY, datasets_markdown, fetch
from attnbook.data.registry import IMDB_CANONICAL_KEY, entries_for

MIRROR = os.environ.get("ATTNBOOK_DATA_MIRROR", "")
needs_mirror = pytest.mark.skipif(
    not (MIRROR and (Path(MIRROR) / "MANIFEST.tsv").is_file()),
    reason="needs the offline data mirror: set ATTNBOOK_DATA_MIRROR (e.g. to ../shared/data)",
)
BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"


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
