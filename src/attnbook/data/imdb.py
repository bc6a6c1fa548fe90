"""The IMDB Large Movie Review Dataset (Maas et al., 2011): planned for chapter 23, "Attention for
classification" (the hierarchical attention network, HAN).

50,000 labelled reviews, the standard split 25,000 train / 25,000 test, balanced, labels ``neg`` (0,
ratings 1-4) and ``pos`` (1, ratings 7-10).

Two sources, one parser
-----------------------
* **canonical**: ``aclImdb_v1.tar.gz`` from the authors' site (84,125,825 bytes, MD5
  ``7c2ac02c03563afcf9b574c7e56c153a``), what readers download. Besides the labelled reviews it holds
  ``train/unsup/`` (50,000 unlabelled reviews), bag-of-words files and URL lists; they are skipped.
* **mirror**: the offline mirror's ``imdb/aclImdb_train.tar.gz`` (``train/`` 20,000 + ``val/`` 5,000
  reviews: the mirror's source moved 5,000 training reviews to ``val/``) and
  ``imdb/aclImdb_test.tar.gz`` (``test/``, 25,000). Byte-identical review files.

:func:`_parse_archives` reads either, streaming the tar members (nothing is extracted to disk, so
member paths cannot escape anywhere), keeps regular files named
``aclImdb/{train,val,test}/{pos,neg}/<id>_<rating>.txt``, and merges ``val`` into ``train``. Both
sources therefore give the same 25k/25k split in the same order (``neg`` then ``pos``, by numeric id),
which ``tests/test_data_imdb.py`` checks on small archives of both layouts.

``source="auto"`` (the default) uses the mirror's archives when they are in the mirror or cache, and
downloads the canonical archive otherwise.

For the HAN, split a review into sentences of words with
:func:`attnbook.data.text.tokenize_document`, which turns ``<br />`` into line breaks and then splits
on ``.``, ``!`` and ``?`` (the rule of the data README).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from attnbook.data.corpora import TextClassificationData
from attnbook.data.download import fetch, locate, read_verified
from attnbook.data.errors import DataError, DataIntegrityError
from attnbook.data.registry import IMDB_CANONICAL_KEY, IMDB_MIRROR_KEYS

__all__ = ["IMDB_CLASSES", "Review", "load_imdb", "load_imdb_reviews", "check_imdb_members"]

IMDB_CLASSES = ("neg", "pos")
_SPLITS = ("train", "test")
_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|val|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_MAX_REVIEW_BYTES = 1 << 20  # the longest review is ~14 kB; refuse anything absurd


@dataclass(frozen=True)
class Review:
    """One labelled review: ``label`` 0 = neg, 1 = pos; ``rating`` 1-10; ``id`` within its class."""

    id: int
    rating: int
    label: int
    text: str


def _parse_archives(paths: tuple[Path, ...]) -> dict[str, tuple[Review, ...]]:
    """Labelled reviews of aclImdb-layout ``.tar.gz`` archives, by split (``val`` -> ``train``).

    Only call on digest-checked files (from :func:`attnbook.data.fetch`).
    """
    found: dict[str, dict[tuple[int, int], Review]] = {s: {} for s in _SPLITS}
    for path in paths:
        with tarfile.open(path, mode="r|gz") as tar:
            for member in tar:
                m = _MEMBER.match(member.name)
                if m is None or not member.isfile():
                    continue
                if member.size > _MAX_REVIEW_BYTES:
                    raise DataError(f"{path}: member {member.name} is {member.size} bytes")
                split, cls, rid, rating = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
                split = "train" if split == "val" else split
                label = IMDB_CLASSES.index(cls)
                f = tar.extractfile(member)
                assert f is not None
                text = f.read().decode("utf-8")
                key = (label, rid)
                if key in found[split]:
                    raise DataError(f"{path}: review {split}/{cls}/{rid} occurs twice")
                found[split][key] = Review(rid, rating, label, text)
    return {s: tuple(found[s][k] for k in sorted(found[s])) for s in _SPLITS}


@functools.lru_cache(maxsize=2)
def _parse_cached(paths: tuple[Path, ...], stamps: tuple[tuple[int, int], ...]):
    del stamps  # part of the cache key only: a rewritten file is parsed again
    return _parse_archives(paths)


def _archives(source: str, split: str) -> tuple[Path, ...]:
    if source == "auto":
        local = [locate(k) for k in IMDB_MIRROR_KEYS]
        source = "mirror" if all(p is not None for p in local) else "canonical"
    if source == "mirror":
        keys = IMDB_MIRROR_KEYS if split == "both" else (IMDB_MIRROR_KEYS[_SPLITS.index(split)],)
        return tuple(fetch(k) for k in keys)
    if source == "canonical":
        return (fetch(IMDB_CANONICAL_KEY),)
    raise DataError(f"unknown IMDB source {source!r}: choose 'auto', 'mirror' or 'canonical'")


def load_imdb_reviews(split: str = "train", source: str = "auto") -> list[Review]:
    """The labelled reviews of ``split`` (``"train"`` or ``"test"``) with ids and ratings.

    Args:
        split: ``"train"`` (25,000, the mirror's ``train/`` + ``val/``) or ``"test"`` (25,000).
        source: ``"auto"``, ``"mirror"`` (the two re-packed archives) or ``"canonical"`` (the
            authors' ``aclImdb_v1.tar.gz``).

    Returns:
        reviews ordered ``neg`` then ``pos``, by id.
    """
    if split not in _SPLITS:
        raise DataError(f"unknown IMDB split {split!r}: choose one of {_SPLITS}")
    paths = _archives(source, split)
    stamps = tuple((p.stat().st_mtime_ns, p.stat().st_ino) for p in paths)
    reviews = _parse_cached(paths, stamps)[split]
    if len(reviews) == 0:
        raise DataError(f"no {split} reviews found in {[str(p) for p in paths]}")
    return list(reviews)


def load_imdb(split: str = "train", source: str = "auto") -> TextClassificationData:
    """IMDB reviews of ``split`` as texts and labels (0 = neg, 1 = pos), 25,000 per split.

    The texts are the raw reviews (with their ``<br />`` tags); see the module docstring for the
    HAN's sentence splitting. See :func:`load_imdb_reviews` for the arguments and ratings.
    """
    reviews = load_imdb_reviews(split, source)
    return TextClassificationData(
        f"imdb/{split}", [r.text for r in reviews], [r.label for r in reviews], IMDB_CLASSES
    )


def check_imdb_members() -> int:
    """Check every review in the mirror's archives against ``imdb/aclImdb_members.tsv`` (bytes and
    sha256 of each member, as in the data README). Returns the number of members checked.

    Raises:
        DataIntegrityError: a member is missing, extra, or differs.
    """
    rows = csv.reader(
        io.StringIO(read_verified("imdb/aclImdb_members.tsv").decode("utf-8")), delimiter="\t"
    )
    header = next(rows)
    if header[:5] != ["archive", "member", "path_in_repo", "bytes", "sha256"]:
        raise DataError(f"unexpected header of aclImdb_members.tsv: {header}")
    expected = {(r[0], r[1]): (int(r[3]), r[4]) for r in rows}
    seen = 0
    for key in IMDB_MIRROR_KEYS:
        path = fetch(key)
        archive = key.rsplit("/", 1)[-1]
        with tarfile.open(path, mode="r|gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                want = expected.get((archive, member.name))
                if want is None:
                    raise DataIntegrityError(f"{archive}: unexpected member {member.name}")
                f = tar.extractfile(member)
                assert f is not None
                data = f.read()
                got = (len(data), hashlib.sha256(data).hexdigest())
                if got != want:
                    raise DataIntegrityError(
                        f"{archive}: member {member.name}: expected {want}, actual {got}"
                    )
                seen += 1
    if seen != len(expected):
        raise DataIntegrityError(f"{len(expected) - seen} members of aclImdb_members.tsv missing")
    return seen
