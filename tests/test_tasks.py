"""Tests of attnbook.tasks: the shared date task, its scores, and one budget for every model."""

import dataclasses
import os
import random
from pathlib import Path

import pytest
import torch

from attnbook.data import load_tatoeba_kor_eng
from attnbook.data.text import Vocab, tokenize_en, tokenize_ko
from attnbook.seq2seq import AttentionDecoder, ContextDecoder
from attnbook.tasks import DATE_TASK, KOR_ENG, DateTask, KorEngTask, date_matches

SMALL = DateTask(n_train=60, n_test=30, epochs=1, batch_size=16, embed_dim=4, enc_hidden=4,
                 dec_hidden=8, attn_dim=4)


def test_date_matches_compares_date_by_date_at_the_same_position():
    assert date_matches("2015-03-03", "2015-03-03") == [True]
    assert date_matches("2015-03-03;1999-06-05", "2015-03-03;1999-06-04;2001-01-01") == [True, False, False]
    assert date_matches(list("1999-06-04;2015-03-03"), "2015-03-03;1999-06-04") == [False, False]
    assert date_matches("", "2015-03-03") == [False]


def test_the_data_is_made_once_and_is_the_configured_task():
    data = SMALL.load()
    assert SMALL.load() is data  # cached: every chapter sees the same examples
    assert len(data.train) == 60 and len(data.test_pairs) == 30
    counts = {p.target.count(";") + 1 for p in data.train_pairs}
    assert counts <= {1, 2, 3} and len(counts) > 1
    assert {p.dates for p in data.test_pairs}.isdisjoint({p.dates for p in data.train_pairs})
    assert SMALL.max_out == 3 * 11  # 3 ISO dates, 2 separators, <eos>
    assert max(len(t) for _, t in data.train) + 1 <= SMALL.max_out
    batch = data.collate(data.train[:4])
    assert batch.src.shape[0] == 4


def test_the_budget_is_one_dict_and_overrides_must_be_asked_for():
    assert DATE_TASK.budget == {"epochs": DATE_TASK.epochs, "batch_size": DATE_TASK.batch_size,
                                "lr": DATE_TASK.lr, "seed": DATE_TASK.seed}
    with pytest.raises(dataclasses.FrozenInstanceError):
        DATE_TASK.epochs = 1


def test_models_differ_only_in_the_decoder():
    data = SMALL.load()
    none = SMALL.rnn_seq2seq(data, "none")
    att = SMALL.rnn_seq2seq(data, "additive")
    assert isinstance(none.decoder, ContextDecoder) and isinstance(att.decoder, AttentionDecoder)
    for a, b in zip(none.encoder.parameters(), att.encoder.parameters(), strict=True):
        assert torch.equal(a, b)  # the same seed gives the same encoder
    with pytest.raises(ValueError, match="unknown model settings"):
        SMALL.rnn_seq2seq(data, "none", width=3)


def test_scores_by_count_position_and_length():
    data = SMALL.load()
    perfect = SMALL.score([p.target for p in data.test_pairs], data)
    assert perfect.exact_match == 1.0 and perfect.date_accuracy == 1.0
    assert all(v["exact"] == 1.0 for v in perfect.by_count().values())
    # only the first date right: exact match only on one-date inputs
    first = SMALL.score([p.target.split(";")[0] for p in data.test_pairs], data)
    by_count = first.by_count()
    assert by_count[1]["exact"] == 1.0 and by_count[1]["date"] == 1.0
    assert by_count[2]["exact"] == 0.0 and by_count[2]["date"] == 0.5
    assert first.by_position()[(2, 1)] == 1.0 and first.by_position()[(2, 2)] == 0.0
    n_dates = sum(first.counts)
    assert first.date_accuracy == pytest.approx(len(data.test_pairs) / n_dates)
    buckets = first.date_accuracy_by_length()
    assert sum(n for *_, n in buckets) == n_dates
    assert sum(n for *_, n in first.exact_match_by_length()) == len(data.test_pairs)
    with pytest.raises(ValueError, match="outputs"):
        SMALL.score(["x"], data)


def test_train_and_evaluate_run_on_the_shared_budget():
    data = SMALL.load()
    model = SMALL.rnn_seq2seq(data, "dot")
    history = SMALL.train(model, data, show_progress=False)
    assert len(history.train_loss) == SMALL.epochs
    scores, weights = SMALL.evaluate(model, data)
    assert len(scores.outputs) == len(data.test_pairs) and len(weights) == len(data.test_pairs)
    assert 0.0 <= scores.date_accuracy <= 1.0


def test_trained_models_are_saved_and_reused_only_under_the_same_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNBOOK_RESULTS_DIR", str(tmp_path))
    data = SMALL.load()
    model, history, seconds = SMALL.trained(data, "none")
    saved = list((tmp_path / "date_task").glob("none-*.pt"))
    assert len(saved) == 1 and seconds > 0
    again, history2, seconds2 = SMALL.trained(data, "none", reuse=True)
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert history2.train_loss == history.train_loss and seconds2 == seconds
    SMALL.trained(data, "none", epochs=2)  # another budget is another model
    assert len(list((tmp_path / "date_task").glob("none-*.pt"))) == 2
    monkeypatch.setenv("ATTNBOOK_SEED_OFFSET", "1")  # another draw is another model
    moved = SMALL.load()
    assert moved.train_pairs != data.train_pairs
    SMALL.trained(moved, "none", reuse=True)
    assert len(list((tmp_path / "date_task").glob("none-*.pt"))) == 3
    monkeypatch.delenv("ATTNBOOK_SEED_OFFSET")
    with pytest.raises(ValueError, match="budget overrides"):
        SMALL.trained(data, "none", enc_hidden=3)


_MIRROR = os.environ.get("ATTNBOOK_DATA_MIRROR", "")
needs_mirror = pytest.mark.skipif(
    not (_MIRROR and (Path(_MIRROR) / "MANIFEST.tsv").is_file()),
    reason="needs the offline data mirror: set ATTNBOOK_DATA_MIRROR (e.g. to ../shared/data)",
)


@needs_mirror
def test_kor_eng_is_chapter_21s_split_and_tokenisation():
    ko = KOR_ENG.load()
    assert KOR_ENG.load() is ko  # cached: chapters 21 and 41 see the same pairs
    # the split as chapter 21 wrote it inline before it moved here
    rows = [(tokenize_ko(p.korean), tokenize_en(p.english), p) for p in load_tatoeba_kor_eng()]
    rows = [r for r in rows if len(r[1]) <= 8]
    random.Random(0).shuffle(rows)
    assert ko.test == [(k, e) for k, e, _ in rows[:300]]
    assert ko.train == [(k, e) for k, e, _ in rows[300:]]
    assert ko.references == [p.english for _, _, p in rows[:300]]
    assert ko.test_sources == [k for k, _, _ in rows[:300]]
    # vocabularies from the training pairs only; a batch is a teacher-forcing batch
    assert ko.src_vocab.itos == Vocab.build([k for k, _ in ko.train]).itos
    assert ko.tgt_vocab.itos == Vocab.build([e for _, e in ko.train]).itos
    batch = ko.collate(ko.train[:3])
    assert batch.src.shape[0] == 3 and batch.tgt_in.shape == batch.tgt_out.shape
    with pytest.raises(dataclasses.FrozenInstanceError):
        KOR_ENG.n_test = 10
    assert KorEngTask(n_test=100).load().test == ko.test[:100]


def test_paired_bootstrap_bleu_gap_and_interval():
    pytest.importorskip("sacrebleu")
    from attnbook.tasks import paired_bootstrap_bleu

    refs = ["the cat sat on the mat.", "a dog ran in the park.", "i like green tea.",
            "she reads a long book.", "we walk to school every day."] * 4
    good = list(refs)  # a perfect system
    bad = ["the cat sat.", "a dog ran.", "i like tea.", "she reads.", "we walk."] * 4
    out = paired_bootstrap_bleu([good, good], [bad, bad], refs, resamples=200, seed=0)
    assert out["a"] == pytest.approx([100.0, 100.0])
    assert out["gap"] == pytest.approx(100.0 - out["b"][0]) and out["gaps"][0] == pytest.approx(out["gap"])
    assert 0 < out["low"] <= out["gap"] <= out["high"] and out["share_a_ahead"] == 1.0
    same = paired_bootstrap_bleu([bad], [bad], refs, resamples=50)
    assert same["gap"] == same["low"] == same["high"] == 0.0  # paired: identical systems never differ
    with pytest.raises(ValueError, match="one output per reference"):
        paired_bootstrap_bleu([good[:-1]], [bad], refs)


def test_calendar_dates():
    from attnbook.tasks import is_calendar_date

    assert is_calendar_date("2014-03-02") and is_calendar_date("2000-02-29")
    assert not is_calendar_date("2014-02-30") and not is_calendar_date("1999-02-29")
    assert not is_calendar_date("2014-13-01") and not is_calendar_date("")


def test_date_accuracy_drop_is_fewest_minus_most_dates_in_points():
    data = SMALL.load()
    first = SMALL.score([p.target.split(";")[0] for p in data.test_pairs], data)
    by_count = first.by_count()
    assert first.date_accuracy_drop() == 100 * (by_count[1]["date"] - by_count[max(by_count)]["date"])
    assert SMALL.score([p.target for p in data.test_pairs], data).date_accuracy_drop() == 0.0


def test_run_trains_scores_and_says_whether_it_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNBOOK_RESULTS_DIR", str(tmp_path))
    data = SMALL.load()
    first = SMALL.run(data, "additive", reuse=True)
    assert not first.loaded and first.seconds > 0 and len(first.history.train_loss) == SMALL.epochs
    scores, weights = SMALL.evaluate(first.model, data)
    assert first.scores.outputs == scores.outputs and len(first.weights) == len(weights)
    again = SMALL.run(data, "additive", reuse=True)
    assert again.loaded and again.seconds == first.seconds and again.scores.outputs == scores.outputs
    assert not SMALL.run(data, "additive").loaded  # without reuse it trains
