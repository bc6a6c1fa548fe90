"""Tests of attnbook.train: the fit loop learns, is seeded, stops early and restores the best."""

import pytest
import torch
from torch import nn
from toy_tasks import toy_accuracy as _acc
from toy_tasks import toy_collate as _collate
from toy_tasks import toy_data as _data
from toy_tasks import toy_loss as _loss

from attnbook.train import fit, minibatches


def test_fit_learns_and_is_seeded():
    data = _data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = nn.Linear(2, 2)
        h = fit(m, data, _collate, _loss, epochs=5, batch_size=16, lr=0.1, evaluate=_acc(data),
                seed=3, show_progress=False)
        runs.append((h.train_loss, m.weight.detach().clone()))
    assert runs[0][0] == runs[1][0]
    torch.testing.assert_close(runs[0][1], runs[1][1])
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.best_score >= 0.9


def test_early_stopping_and_target():
    data = _data()
    m = nn.Linear(2, 2)
    h = fit(m, data, _collate, _loss, epochs=50, lr=0.0, evaluate=lambda m: 0.5, patience=2,
            show_progress=False)
    assert h.stopped_early and len(h.val_score) == 3 and h.best_epoch == 0
    h = fit(m, data, _collate, _loss, epochs=50, evaluate=lambda m: 1.0, target=0.9,
            show_progress=False)
    assert len(h.val_score) == 1


def test_best_weights_are_restored():
    data = _data()
    m = nn.Linear(2, 2)
    scores = iter([0.9, 0.1, 0.1])
    snapshots = []

    def evaluate(model):
        snapshots.append(model.weight.detach().clone())
        return next(scores)

    fit(m, data, _collate, _loss, epochs=3, lr=0.5, evaluate=evaluate, show_progress=False)
    torch.testing.assert_close(m.weight.detach(), snapshots[0])


def test_errors():
    with pytest.raises(ValueError, match="evaluate"):
        fit(nn.Linear(2, 2), _data(), _collate, _loss, epochs=1, patience=1)
    with pytest.raises(ValueError, match="at least one"):
        fit(nn.Linear(2, 2), [], _collate, _loss, epochs=1)
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(10, 0)


def test_minibatches_cover_everything_once():
    idx = torch.cat(minibatches(10, 3, generator=torch.Generator().manual_seed(0)))
    assert sorted(idx.tolist()) == list(range(10))


def test_seed_none_leaves_the_random_state_alone():
    """seed=None shuffles with torch's global generator: the global seed decides the order."""
    data = _data()

    def run(global_seed):
        torch.manual_seed(global_seed)
        m = nn.Linear(2, 2)
        torch.nn.init.zeros_(m.weight)
        torch.nn.init.zeros_(m.bias)
        torch.manual_seed(global_seed)
        return fit(m, data, _collate, _loss, epochs=1, batch_size=5, lr=0.5, seed=None,
                   show_progress=False).train_loss

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_early_stopping_patience_target_and_best_weights():
    from attnbook.train import EarlyStopping

    model = torch.nn.Linear(1, 1)
    stopper = EarlyStopping(patience=2)
    decisions = []
    for epoch, score in enumerate([0.5, 0.7, 0.7, 0.6]):
        with torch.no_grad():
            model.weight.fill_(epoch)
        save, stop = stopper.step(score)
        stopper.checkpoint(model, save)
        decisions.append((bool(save), bool(stop)))
    # a tie is no improvement: two epochs without a better score stop it
    assert decisions == [(True, False), (True, False), (False, False), (False, True)]
    assert stopper.best_epoch.tolist() == [1] and stopper.stop_epoch.tolist() == [3]
    stopper.restore(model)
    assert model.weight.item() == 1.0  # the best epoch's weights
    target = EarlyStopping(target=0.9)
    assert [bool(target.step(s)[1]) for s in (0.5, 0.95)] == [False, True]


def test_early_stopping_of_stacked_models_keeps_rows_by_original_number():
    from attnbook.train import EarlyStopping

    class Stacked(torch.nn.Module):  # three models along the first axis
        def __init__(self, s):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(s, 2))

    model = Stacked(3)
    stopper = EarlyStopping(patience=1, stacked=True)
    save, stop = stopper.step(torch.tensor([1.0, 1.0, 1.0]))
    stopper.checkpoint(model, save)
    with torch.no_grad():
        model.w += 1
    save, stop = stopper.step(torch.tensor([2.0, 0.5, 2.0]))  # model 1 gets worse and stops
    stopper.checkpoint(model, save)
    assert save.tolist() == [True, False, True] and stop.tolist() == [False, True, False]
    stopper.keep(~stop)
    small = Stacked(2)
    with torch.no_grad():
        small.w.fill_(5.0)
    save, stop = stopper.step(torch.tensor([1.0, 3.0]))  # models 0 and 2: model 2 improves, 0 stops
    stopper.checkpoint(small, save)
    assert stop.tolist() == [True, False]
    stopper.restore(model)
    assert model.w[:, 0].tolist() == [1.0, 0.0, 5.0]
    assert stopper.best_epoch.tolist() == [1, 0, 2] and stopper.stop_epoch.tolist() == [2, 1, -1]


def test_accuracy_counts_right_argmax_and_ignores_index():
    from attnbook.train import accuracy

    x = torch.tensor([[[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]])  # (1, 3, 2): per-token logits
    y = torch.tensor([[1, 1, -100]])
    m = nn.Identity()
    assert accuracy(m, x, y) == pytest.approx(1 / 3)
    assert accuracy(m, x, y, ignore_index=-100) == pytest.approx(0.5)
    lin = nn.Linear(2, 2)
    lin.train()
    x2 = torch.randn(8, 2, requires_grad=True)
    accuracy(lin, x2, torch.zeros(8, dtype=torch.long))
    assert lin.training  # no mode switch
    assert x2.grad is None


def test_fit_with_a_step_budget_cuts_the_epoch_and_evaluates_at_the_end():
    data = _data()  # 4 batches of 16 per epoch: 10 steps = 2 epochs and a half
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    h = fit(m, data, _collate, _loss, batch_size=16, lr=0.05, evaluate=_acc(data), max_steps=10,
            show_progress=False)
    n_batches = -(-len(data) // 16)
    assert h.total_steps == 10 and len(h.step_loss) == 10
    assert len(h.train_loss) == -(-10 // n_batches)  # the last epoch cut short
    assert h.steps == [n_batches, 2 * n_batches, 10][: len(h.steps)] and h.steps[-1] == 10
    assert len(h.seconds) == len(h.val_score) == len(h.steps) and h.train_seconds > 0
    assert not m.training


def test_fit_evaluates_every_n_steps_from_the_start_and_keeps_the_last_weights():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    h = fit(m, data, _collate, _loss, epochs=3, batch_size=16, lr=0.05, evaluate=_acc(data),
            eval_every_steps=5, eval_at_start=True, keep_best=False, show_progress=False)
    total = h.total_steps
    assert h.steps == [0, *range(5, total + 1, 5), *([total] if total % 5 else [])]
    assert h.seconds[0] == 0.0
    assert _acc(data)(m) == h.val_score[-1]  # the last weights, not the best


def test_fit_target_stops_mid_epoch_with_a_step_schedule():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    h = fit(m, data, _collate, _loss, epochs=50, batch_size=16, lr=0.1, evaluate=_acc(data),
            target=0.95, eval_every_steps=1, show_progress=False)
    assert h.stopped_early and h.val_score[-1] >= 0.95 and max(h.val_score[:-1]) < 0.95
    assert h.steps == list(range(1, h.total_steps + 1))


def test_fit_with_a_budget_of_seconds():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    h = fit(m, data, _collate, _loss, batch_size=16, seconds=0.05, clock="wall", show_progress=False)
    assert h.train_seconds >= 0.05 and h.total_steps >= 1 and h.val_score == []


def test_fit_rejects_missing_or_bad_budgets():
    data = _data()
    with pytest.raises(ValueError, match="budget"):
        fit(nn.Linear(2, 2), data, _collate, _loss)
    with pytest.raises(ValueError, match="eval_every_steps"):
        fit(nn.Linear(2, 2), data, _collate, _loss, epochs=1, eval_every_steps=0)
    with pytest.raises(ValueError, match="clock"):
        fit(nn.Linear(2, 2), data, _collate, _loss, epochs=1, clock="sundial")
