"""Tests of the text loaders on the offline mirror: sizes as published, splits seeded and pinned."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from mirror import needs_mirror

from attnbook.data import (
    DataError,
    kfold,
    load_korean_hate_speech,
    load_mr,
    load_names,
    load_sst2,
    load_tatoeba_kor_eng,
    load_trec,
    mr_split,
)

needs_mirror = needs_mirror()


@needs_mirror
def test_mr():
    mr = load_mr()
    assert len(mr) == 10662 and mr.class_counts() == [5331, 5331]
    assert mr[0] == ("simplistic , silly and tedious .", 0)
    assert all("\n" not in t and t for t in mr.texts)


@needs_mirror
def test_mr_split_fixed_and_seeded():
    train, test = mr_split(seed=0)
    assert (len(train), len(test)) == (9595, 1067)
    again = mr_split(seed=0)[1]
    assert again.texts == test.texts
    assert mr_split(seed=1)[1].texts != test.texts


def test_kfold_partitions_and_is_pinned():
    folds = kfold(10662, k=10, seed=0)
    assert len(folds) == 10
    tests = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tests), np.arange(10662))
    for tr, te in folds:
        assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 10662
        assert len(te) in (1066, 1067)
    # pinned: a change of generator or algorithm would change every published split
    assert folds[0][1][:5].tolist() == [1, 11, 17, 29, 37]
    with pytest.raises(ValueError):
        kfold(5, k=1)


@needs_mirror
def test_trec():
    train, test = load_trec()
    assert (len(train), len(test)) == (5452, 500)
    assert len(train.classes) == 6
    assert train.classes[train.labels[0]] == "DESC"  # "How did serfdom develop ..."
    abbr = [t for t, y in zip(train.texts, train.labels, strict=True) if y == 2]
    assert any("stand for" in t for t in abbr)


@needs_mirror
def test_sst2():
    train, dev, test = load_sst2()
    assert (len(train), len(dev), len(test)) == (6920, 872, 1821)


@needs_mirror
def test_names():
    names = load_names()
    assert len(names) == 18 and list(names) == sorted(names)
    assert sum(len(v) for v in names.values()) == 20050
    assert names["Korean"][:3] == ["Ahn", "Baik", "Bang"]


@needs_mirror
def test_tatoeba_keeps_attribution():
    pairs = load_tatoeba_kor_eng()
    assert len(pairs) == 3798
    assert (pairs[0].english, pairs[0].korean) == ("Go.", "가.")
    assert all(
        p.attribution.startswith("CC-BY 2.0 (France) Attribution: tatoeba.org #") for p in pairs
    )
    assert all(p.english and p.korean for p in pairs)


@needs_mirror
def test_korean_hate_speech():
    train = load_korean_hate_speech("train")
    dev = load_korean_hate_speech("dev")
    test = load_korean_hate_speech("test")
    assert (len(train), len(dev), len(test)) == (7896, 471, 974)
    assert Counter(c.hate for c in train) == {"hate": 1911, "offensive": 2499, "none": 3486}
    assert all(c.hate is None and c.bias is None for c in test)
    assert all(isinstance(c.contain_gender_bias, bool) for c in train)
    assert sum(not c.news_title for c in train) == 3  # three titles are "" in the source
    assert max(len(c.comment) for c in train + dev) <= 137
    assert any('"' in c.comment for c in train)  # CSV-quoted fields read correctly
    with pytest.raises(DataError):
        load_korean_hate_speech("validation")
