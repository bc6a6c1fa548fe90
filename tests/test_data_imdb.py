"""Tests of attnbook.data.imdb: one parser for the canonical archive and the mirror's archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from mirror import needs_mirror

from attnbook.data import DataError, load_imdb, load_imdb_reviews, registry
from attnbook.data.registry import IMDB_CANONICAL_KEY, IMDB_MIRROR_KEYS, RegistryEntry

needs_mirror = needs_mirror("imdb")

REVIEWS = {  # (split, class, id, rating): text
    ("train", "pos", 0, 9): "Great.<br /><br />Loved it!",
    ("train", "pos", 12, 7): "Fine film.",
    ("train", "neg", 3, 1): "Awful. Just awful?",
    ("train", "neg", 10, 4): "Meh.",
    ("test", "pos", 2, 10): "Wonderful.",
    ("test", "neg", 0, 2): "Bad.",
}


def _targz(path: Path, members: dict[str, bytes], extra=()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _register(monkeypatch, key: str, data: bytes):
    monkeypatch.setitem(
        registry._REGISTRY,
        key,
        RegistryEntry(key, "imdb", None, len(data), hashlib.sha256(data).hexdigest(), "test"),
    )


@pytest.fixture
def fake_sources(tmp_path, monkeypatch):
    """Tiny archives in both layouts, registered in place of the real ones."""
    mirror = tmp_path / "mirror"
    (mirror / "imdb").mkdir(parents=True)
    monkeypatch.setenv("ATTNBOOK_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ATTNBOOK_CACHE", str(tmp_path / "cache"))
    name = "aclImdb/{}/{}/{}_{}.txt".format
    canonical = {name(*k): v.encode() for k, v in REVIEWS.items()}
    canonical["aclImdb/train/unsup/0_0.txt"] = b"unlabelled, skipped"
    canonical["aclImdb/imdbEr.txt"] = b"0.1\n"
    canonical["aclImdb/train/labeledBow.feat"] = b"0 0:1\n"
    link = tarfile.TarInfo("aclImdb/train/pos/99_8.txt")  # not a regular file: skipped
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    _register(
        monkeypatch, IMDB_CANONICAL_KEY, _targz(mirror / IMDB_CANONICAL_KEY, canonical, [link])
    )
    # the mirror: train reviews split over train/ and val/
    train = {}
    for (split, cls, i, r), v in REVIEWS.items():
        if split == "train":
            train[name("val" if i >= 10 else "train", cls, i, r)] = v.encode()
    test = {name(*k): v.encode() for k, v in REVIEWS.items() if k[0] == "test"}
    _register(monkeypatch, IMDB_MIRROR_KEYS[0], _targz(mirror / IMDB_MIRROR_KEYS[0], train))
    _register(monkeypatch, IMDB_MIRROR_KEYS[1], _targz(mirror / IMDB_MIRROR_KEYS[1], test))
    return mirror


def test_both_sources_give_the_same_split(fake_sources):
    for split in ("train", "test"):
        a = load_imdb_reviews(split, source="canonical")
        b = load_imdb_reviews(split, source="mirror")
        assert a == b
        assert load_imdb_reviews(split) == a  # auto: the mirror's archives are present
    train = load_imdb_reviews("train")
    assert [(r.label, r.id, r.rating) for r in train] == [
        (0, 3, 1),
        (0, 10, 4),
        (1, 0, 9),
        (1, 12, 7),
    ]
    assert train[2].text == "Great.<br /><br />Loved it!"
    data = load_imdb("test")
    assert data.texts == ["Bad.", "Wonderful."] and data.labels == [0, 1]


def test_auto_falls_back_to_the_canonical_archive(fake_sources):
    for key in IMDB_MIRROR_KEYS:
        (fake_sources / key).unlink()
    assert len(load_imdb_reviews("train")) == 4


def test_bad_arguments(fake_sources):
    with pytest.raises(DataError, match="split"):
        load_imdb("validation")
    with pytest.raises(DataError, match="source"):
        load_imdb("train", source="kaggle")


def test_tampered_archive_is_refused(fake_sources):
    path = fake_sources / IMDB_MIRROR_KEYS[1]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte
    path.write_bytes(bytes(data))
    with pytest.raises(DataError):  # DataIntegrityError: digest checked before tarfile sees it
        load_imdb("test", source="mirror")


@needs_mirror
def test_real_split_25k_25k():
    train = load_imdb_reviews("train")
    test = load_imdb_reviews("test")
    for reviews in (train, test):
        assert len(reviews) == 25000
        for label in (0, 1):
            ids = sorted(r.id for r in reviews if r.label == label)
            assert ids == list(range(12500))  # each id once per class
        assert all((r.rating <= 4) == (r.label == 0) for r in reviews)
    assert "<br /><br />" in "".join(r.text for r in train[:200])


@needs_mirror
def test_real_reviews_as_han_batches():
    from attnbook.data.text import Vocab, pad_documents, tokenize_document

    reviews = load_imdb("train").texts[:16]
    docs = [tokenize_document(t) for t in reviews]
    assert all(len(d) >= 1 for d in docs)
    assert not any("<br" in w or "/>" in w for d in docs for s in d for w in s)
    vocab = Vocab.build((sent for d in docs for sent in d), min_freq=1)
    ids = [[vocab.encode(s) for s in d] for d in docs]
    batch = pad_documents(ids, pad_id=vocab.pad_id)
    b, s, length = batch.ids.shape
    assert b == 16 and s == max(len(d) for d in docs)
    assert length == max(len(x) for d in docs for x in d)
    assert batch.doc_lengths.tolist() == [len(d) for d in docs]
    assert int(batch.word_mask.sum()) == sum(len(x) for d in docs for x in d)


@needs_mirror
@pytest.mark.slow
def test_real_members_match_the_manifest():
    from attnbook.data import check_imdb_members

    assert check_imdb_members() == 50000
