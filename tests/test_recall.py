"""Tests of attnbook.recall: the recall experiment of chapter 10, one configuration and one run."""

import dataclasses

import pytest
import torch

from attnbook.data import synthetic
from attnbook.recall import RecallTask, collate_recall

TINY = RecallTask(n_train=200, n_val=40, n_test=60, embed_dim=4, hidden=8, epochs=2, n_profile=10)


def test_collate_stacks_tokens_and_labels():
    train, _ = synthetic.recall(5, 1, lag=3, seed=0)
    tokens, labels = collate_recall(train)
    assert tokens.shape == (5, 4) and labels.shape == (5,)
    assert torch.equal(tokens[:, 0], labels)  # the label is the first token


def test_the_chapter_configuration_is_the_default():
    task = RecallTask()
    assert (task.n_symbols, task.n_train, task.n_val, task.n_test, task.hidden) == (8, 3000, 200, 500, 32)
    assert (task.epochs, task.lr, task.target) == (8, 1e-2, 0.99)
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.epochs = 16  # a configuration is made, not changed: RecallTask(epochs=16)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_run_scores_and_profiles(cell):
    run = TINY.run(cell, 1.0, lag=5, seed=0, profile=True)
    assert 0.0 <= run["acc"] <= 1.0 and 1 <= run["epochs"] <= TINY.epochs
    assert run["init"].shape == run["trained"].shape == (6,)  # distances 0 .. lag
    assert not torch.equal(run["init"], run["trained"])  # training moved it
    plain = TINY.run(cell, 1.0, lag=5, seed=0)
    assert plain["init"] is None and plain["trained"] is None
    assert plain["acc"] == run["acc"]  # measuring the profile draws nothing


def test_run_is_seeded_and_overrides_the_budget():
    a, b = TINY.run("gru", 1.0, lag=4, seed=1), TINY.run("gru", 1.0, lag=4, seed=1)
    assert a == b
    assert TINY.run("gru", 1.0, lag=4, seed=1, epochs=1)["epochs"] == 1
