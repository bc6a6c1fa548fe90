"""The seed offset: every experiment draw moves with ``ATTNBOOK_SEED_OFFSET``; toys do not."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from attnbook import utils
from attnbook.data import synthetic
from attnbook.data.corpora import kfold
from attnbook.data.synthetic import copy_task


def test_offset_defaults_to_zero():
    assert utils.seed_offset() == 0
    assert utils.draw_seed(5) == 5


@pytest.mark.parametrize("raw", ["-1", "one", "1.5"])
def test_bad_offset_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("ATTNBOOK_SEED_OFFSET", raw)
    with pytest.raises(ValueError, match="ATTNBOOK_SEED_OFFSET must be a non-negative integer"):
        utils.draw_seed(0)


@pytest.mark.parametrize("seed", [-1, 1.0, True, "0"])
def test_bad_seed_is_a_clear_error(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        utils.draw_seed(seed)


def test_offset_shifts_every_helper(monkeypatch):
    monkeypatch.setenv("ATTNBOOK_SEED_OFFSET", "2")
    assert utils.draw_seed(3) == 5
    assert torch.equal(torch.rand(4, generator=utils.generator(3)),
                       torch.rand(4, generator=torch.Generator().manual_seed(5)))
    assert np.array_equal(utils.numpy_rng(3).permutation(10), np.random.default_rng(5).permutation(10))
    assert utils.python_rng(3).random() == random.Random(5).random()
    g = utils.seed_everything(3)
    a = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(a, torch.rand(3))
    assert g.initial_seed() == 5


def test_package_draws_move_with_the_offset_and_toys_do_not(monkeypatch):
    base = (copy_task(4, 6, 2, seed=0)[0], kfold(20, k=4, seed=0)[0][1],
            synthetic.salient_documents(3, 1, seed=0)[0][0])
    toy = torch.rand(3, generator=torch.Generator().manual_seed(0))
    monkeypatch.setenv("ATTNBOOK_SEED_OFFSET", "1")
    moved = (copy_task(4, 6, 2, seed=0)[0], kfold(20, k=4, seed=0)[0][1],
             synthetic.salient_documents(3, 1, seed=0)[0][0])
    assert not torch.equal(base[0], moved[0])
    assert not np.array_equal(base[1], moved[1])
    assert base[2] != moved[2]
    # with the offset, seed 0 draws what seed 1 draws at offset 0
    monkeypatch.setenv("ATTNBOOK_SEED_OFFSET", "0")
    assert torch.equal(copy_task(4, 6, 2, seed=1)[0], moved[0])
    monkeypatch.setenv("ATTNBOOK_SEED_OFFSET", "1")
    assert torch.equal(torch.rand(3, generator=torch.Generator().manual_seed(0)), toy)


def test_unit_tests_run_at_offset_zero():
    """conftest's autouse fixture removes the variable, whatever the caller set."""
    import os

    assert "ATTNBOOK_SEED_OFFSET" not in os.environ
