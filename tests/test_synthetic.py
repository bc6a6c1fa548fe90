"""Tests of attnbook.data.synthetic: determinism, disjoint splits, correct targets, lengths."""

import datetime as dt

import pytest
import torch

from attnbook.data import synthetic


def test_dates_targets_are_the_iso_dates():
    train, test = synthetic.dates(200, 50, seed=1, max_dates=3)
    for p in train + test:
        assert p.target == ";".join(d.isoformat() for d in p.dates)
        assert 1 <= len(p.dates) <= 3
        for d, f in zip(p.dates, p.formats, strict=True):
            assert synthetic.format_date(d, f) in p.source


def test_dates_are_deterministic_and_disjoint():
    a = synthetic.dates(300, 100, seed=5, max_dates=2)
    b = synthetic.dates(300, 100, seed=5, max_dates=2)
    assert a == b
    train_dates = {d for p in a[0] for d in p.dates}
    test_dates = {d for p in a[1] for d in p.dates}
    assert not train_dates & test_dates
    assert synthetic.dates(50, 10, seed=6)[0] != a[0][:50]


def test_dates_length_control_with_filler():
    train, _ = synthetic.dates(200, 0, seed=0, min_length=30, max_length=40)
    lengths = [len(p.source) for p in train]
    assert min(lengths) >= 30 and max(lengths) <= 40 + max(map(len, synthetic.FILLER_WORDS)) + 1
    for p in train:
        date_words = {w for d, f in zip(p.dates, p.formats, strict=True)
                      for w in synthetic.format_date(d, f).replace(",", " ").split()}
        for w in p.source.replace(",", " ").split():
            assert w in synthetic.FILLER_WORDS or w in date_words, (w, p.source)


def test_format_date_examples():
    d = dt.date(2015, 3, 3)
    assert synthetic.format_date(d, "the_nth_of") == "the 3rd of march 2015"
    assert synthetic.format_date(dt.date(2011, 11, 11), "the_nth_of") == "the 11th of november 2011"
    assert synthetic.format_date(d, "dow_d_mon_y") == "tue, 3 mar 2015"
    assert synthetic.format_date(d, "dmy_dots") == "03.03.2015"
    with pytest.raises(ValueError, match="unknown date format"):
        synthetic.format_date(d, "klingon")


def test_dates_errors():
    with pytest.raises(ValueError):
        synthetic.dates(1, 1, min_dates=2, max_dates=1)
    with pytest.raises(ValueError):
        synthetic.dates(1, 1, formats=("nope",))


@pytest.mark.parametrize("reverse", [False, True])
def test_copy_reverse(reverse):
    train, test = synthetic.copy_reverse(100, 20, 3, 6, vocab_size=5, reverse=reverse, seed=0)
    for s, t in train + test:
        assert 3 <= len(s) <= 6
        assert t == (s[::-1] if reverse else s)
    assert not {tuple(s) for s, _ in train} & {tuple(s) for s, _ in test}
    with pytest.raises(ValueError, match="distinct"):
        synthetic.copy_reverse(10, 10, 1, 1, vocab_size=2)


def test_recall():
    train, test = synthetic.recall(100, 30, lag=6, n_symbols=4, n_distractors=3, seed=0)
    for e in train + test:
        assert len(e.tokens) == 7 and e.tokens[0] == e.label < 4
        assert all(4 <= t < 7 for t in e.tokens[1:])
    assert not {e.tokens for e in train} & {e.tokens for e in test}
    assert synthetic.recall(100, 30, lag=6, n_symbols=4, n_distractors=3, seed=0) == (train, test)
    with pytest.raises(ValueError, match="lag"):
        synthetic.recall(1, 1, lag=0)


def test_salient_documents():
    train, test = synthetic.salient_documents(100, 20, seed=0)
    cues = [set(c) for c in synthetic._CUES]
    for d in train + test:
        holding = [i for i, s in enumerate(d.sentences) if set(s) & (cues[0] | cues[1])]
        assert holding == [d.salient]
        assert set(d.sentences[d.salient]) & cues[d.label]
    assert not {d.sentences for d in train} & {d.sentences for d in test}


def test_copy_task():
    tokens, targets = synthetic.copy_task(4, 10, 3, n_symbols=5, seed=1)
    assert tokens.shape == targets.shape == (4, 10)
    assert (targets[:, :3] == -100).all()
    assert torch.equal(targets[:, 3:], tokens[:, :7])
    assert torch.equal(synthetic.copy_task(4, 10, 3, n_symbols=5, seed=1)[0], tokens)
    with pytest.raises(ValueError, match="distance"):
        synthetic.copy_task(2, 5, 5)


def test_two_cue_documents():
    docs, _ = synthetic.salient_documents(60, 0, seed=0)
    out = synthetic.two_cue_documents(docs, seed=5)
    assert len(out) == len(docs)
    assert out == synthetic.two_cue_documents(docs, seed=5)
    for k, (doc, ((i, yi), (j, yj))) in enumerate(out):
        assert i != j and doc.salient == i
        assert doc.label == (yi & yj)
        if k % 2 == 0:
            assert (yi, yj) == (1, 1)
        cues = {w for w in doc.sentences[j] if w in synthetic._CUES[yj]}
        assert cues, (doc.sentences[j], yj)  # the borrowed sentence carries its cue
    with pytest.raises(ValueError, match="both labels"):
        synthetic.two_cue_documents([d for d in docs if d.label == 0])


def test_next_token():
    pairs = synthetic.next_token(5, length=4, vocab=3, seed=0)
    assert len(pairs) == 5
    for x, y in pairs:
        assert x.shape == y.shape == (4,) and x.dtype == torch.int64
        assert torch.equal(y[:-1], x[1:]) and y[-1] == 3
        assert int(x.max()) < 3
    again = synthetic.next_token(5, length=4, vocab=3, seed=0)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(pairs, again, strict=True))
    with pytest.raises(ValueError):
        synthetic.next_token(2, length=0)
