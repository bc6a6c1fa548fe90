"""Tests of attnbook.race: the one-pass score by hand, and a tiny race's bookkeeping."""

import math

import pytest
import torch
import torch.nn.functional as F

from attnbook.curves import teacher_forced_accuracy, teacher_forced_exact
from attnbook.data.text import Vocab
from attnbook.race import Race, RaceRun, run_race, symbol_and_exact_score
from attnbook.seq2seq import make_batch
from attnbook.transformer import Transformer

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class Scripted(torch.nn.Module):
    """Predicts the given tokens, one row per example."""

    def __init__(self, predicted, vocab_size):
        super().__init__()
        self.predicted, self.vocab_size = torch.tensor(predicted), vocab_size

    def forward(self, src, src_mask, tgt_in):
        return F.one_hot(self.predicted, self.vocab_size).float()  # (B, T, V)


def test_one_pass_gives_the_accuracy_per_symbol_and_the_exact_match():
    vocab = Vocab.build([["a", "b"]])  # <pad> 0, <unk> 1, <bos> 2, <eos> 3, a 4, b 5
    batch = make_batch([(["a"], ["a", "b"]), (["b"], ["b"])], vocab, vocab)
    assert batch.tgt_out.tolist() == [[4, 5, 3], [5, 3, 0]]
    model = Scripted([[4, 4, 3], [5, 3, 1]], 6)  # example 1: one symbol wrong; example 2: right
    score, exact = symbol_and_exact_score(batch)
    assert score(model) == pytest.approx(4 / 5)  # the padding position does not count
    assert exact == [0.5]
    assert score(model) == pytest.approx(teacher_forced_accuracy(model, batch))
    assert exact[-1] == teacher_forced_exact(model, batch).float().mean().item()


def test_a_tiny_race_keeps_a_curve_and_the_exact_matches_of_every_run():
    def build(vocab_size):
        model = Transformer(vocab_size, vocab_size, d_model=8, heads=2, layers=1, dropout=0.0)
        return model, torch.optim.Adam(model.parameters(), lr=1e-2), 16

    race = run_race({"tf": build}, lengths=(3,), seeds=(0, 1), budget={3: 0.05}, evals=2,
                    n_test=10, n_train=40)
    assert isinstance(race, Race) and set(race.runs) == {("tf", 3, 0), ("tf", 3, 1)}
    for seed in (0, 1):
        run = race["tf", 3, seed]
        assert isinstance(run, RaceRun)
        assert len(run.exact) == len(run.curve.scores) >= 2  # one exact match per evaluation
        assert run.per_symbol == run.curve.scores[-1] and run.exact_match == run.exact[-1]
        assert 0.0 <= run.exact_match <= run.per_symbol <= 1.0  # equal lengths: exact <= per symbol
    assert race.over_seeds("tf", 3, lambda r: r.exact_match) == [race["tf", 3, s].exact_match for s in (0, 1)]
    unreached = race["tf", 3, 0]
    assert unreached.seconds_to(2.0) is None and unreached.seconds_to(2.0, budget=0.05) == 0.05
    assert math.isfinite(unreached.curve.train_seconds)
