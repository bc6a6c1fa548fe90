"""Tests of attnbook.curves: timed training, time to a target, teacher-forced exact match."""

import math

import pytest
import torch
from torch import nn
from toy_tasks import toy_accuracy as _acc
from toy_tasks import toy_collate as _collate
from toy_tasks import toy_data as _data
from toy_tasks import toy_loss as _loss

from attnbook.curves import (
    Curve,
    fit_timed,
    teacher_forced_accuracy,
    teacher_forced_exact,
    teacher_forced_exact_match,
)
from attnbook.data.text import Vocab
from attnbook.seq2seq import (
    AttentionDecoder,
    Encoder,
    Seq2Seq,
    make_batch,
    teacher_forcing_loss,
    translate,
)
from attnbook.train import fit, train_step
from attnbook.transformer import Transformer
from attnbook.utils import seed_everything

torch.set_num_threads(1)




def test_time_to_interpolates_between_evaluations():
    c = Curve(seconds=[0.0, 2.0, 4.0, 6.0], steps=[0, 10, 20, 30], scores=[0.0, 0.5, 1.0, 0.9])
    assert c.time_to(0.75) == pytest.approx(3.0)
    assert c.steps_to(0.75) == pytest.approx(15.0)
    assert c.time_to(0.5) == pytest.approx(2.0)  # reached exactly at an evaluation
    assert c.time_to(0.0) == 0.0  # reached before training
    assert c.time_to(1.01) is None  # never reached
    assert c.final == 0.9


def test_fit_timed_learns_evaluates_on_schedule_and_stops_at_target():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    c = fit_timed(m, data, _collate, _loss, _acc(data), seconds=30.0, eval_every=1e-9,
                  batch_size=16, lr=0.1, target=0.95, show_progress=False)
    assert c.scores[0] < 0.95 <= c.final  # stopped at the target, long before the budget
    assert c.seconds[0] == 0.0 and c.steps[0] == 0 and math.isnan(c.losses[0])
    # with a tiny eval_every, every step is followed by an evaluation
    assert c.steps == list(range(len(c.steps)))
    assert all(b >= a for a, b in zip(c.seconds, c.seconds[1:], strict=False))
    assert c.train_seconds < 30.0 and c.total_steps == c.steps[-1]
    assert not m.training


def test_fit_timed_max_steps_and_seeding():
    data = _data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = nn.Linear(2, 2)
        c = fit_timed(m, data, _collate, _loss, _acc(data), seconds=60.0, eval_every=60.0,
                      batch_size=16, lr=0.05, max_steps=7, seed=3, show_progress=False)
        runs.append((c, m.weight.detach().clone()))
    (c, w), (_, w2) = runs
    assert c.total_steps == 7 and c.steps == [0, 7]  # evaluated before training and at the end
    assert torch.equal(w, w2)  # the same seed, the same batches
    assert c.steps_per_second > 0


def test_fit_timed_evaluates_every_n_steps():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    c = fit_timed(m, data, _collate, _loss, _acc(data), seconds=60.0, eval_every=None,
                  eval_every_steps=3, batch_size=16, lr=0.05, max_steps=10, show_progress=False)
    assert c.steps == [0, 3, 6, 9, 10]  # every 3 steps, and at the cap


def test_fit_timed_takes_the_same_steps_as_fit():
    """Both loops run attnbook.train.train_step on the same seeded batches: the same weights."""
    data = _data()
    weights = []
    for how in ("fit", "fit_timed"):
        torch.manual_seed(0)
        m = nn.Linear(2, 2)
        if how == "fit":
            fit(m, data, _collate, _loss, epochs=2, batch_size=16, lr=0.05, seed=5, show_progress=False)
        else:
            fit_timed(m, data, _collate, _loss, None, seconds=None, eval_every=None,
                      eval_every_steps=100, batch_size=16, lr=0.05, max_steps=8, seed=5,
                      show_progress=False)
        weights.append(m.weight.detach().clone())
    assert torch.equal(*weights)


def test_train_step_is_one_clipped_optimizer_step():
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    batch = _collate(_data())
    with torch.no_grad():
        expected = _loss(m, batch).item()
    before = [p.detach().clone() for p in m.parameters()]
    loss = train_step(m, batch, _loss, torch.optim.SGD(m.parameters(), lr=1.0), max_grad_norm=1e-3)
    assert isinstance(loss, float) and loss == pytest.approx(expected)  # the loss before the step
    grads = torch.cat([p.grad.flatten() for p in m.parameters()])
    assert torch.linalg.vector_norm(grads).item() == pytest.approx(1e-3, rel=1e-3)  # clipped
    moved = torch.cat([(b - p.detach()).flatten() for b, p in zip(before, m.parameters(), strict=True)])
    assert torch.allclose(moved, grads, atol=1e-6)  # SGD with lr 1: the step is the clipped gradient


def test_fit_timed_rejects_bad_arguments():
    data = _data()
    with pytest.raises(ValueError, match="seconds"):
        fit_timed(nn.Linear(2, 2), data, _collate, _loss, _acc(data), seconds=0, eval_every=1)
    with pytest.raises(ValueError, match="clock"):
        fit_timed(nn.Linear(2, 2), data, _collate, _loss, _acc(data), seconds=1, eval_every=1,
                  clock="sundial")
    with pytest.raises(ValueError, match="budget"):
        fit_timed(nn.Linear(2, 2), data, _collate, _loss, _acc(data), seconds=None, eval_every=1)
    with pytest.raises(ValueError, match="eval_every_steps"):
        fit_timed(nn.Linear(2, 2), data, _collate, _loss, _acc(data), seconds=1, eval_every=None)


def _copy_task():
    letters = list("abcde")
    g = torch.Generator().manual_seed(1)
    pairs = []
    for _ in range(40):
        n = int(torch.randint(1, 6, (1,), generator=g))
        s = [letters[int(i)] for i in torch.randint(0, 5, (n,), generator=g)]
        pairs.append((s, s))
    vocab = Vocab.build([s for s, _ in pairs])
    return pairs, vocab


@pytest.mark.parametrize("kind", ["rnn", "transformer"])
def test_teacher_forced_exact_equals_greedy_exact_match(kind):
    """The one-pass score is the greedy decoder's exact match, example by example, at every stage
    of training (an untrained, a half-trained and a trained model)."""
    pairs, vocab = _copy_task()
    seed_everything(0)
    if kind == "rnn":
        model = Seq2Seq(Encoder(len(vocab), 8, 16), AttentionDecoder(len(vocab), 8, 32, 32))
    else:
        model = Transformer(len(vocab), len(vocab), d_model=16, heads=2, layers=1, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = make_batch(pairs, vocab, vocab)
    for round_ in range(4):
        model.eval()
        outputs, _ = translate(model, [s for s, _ in pairs], vocab, vocab, max_len=7)
        greedy = torch.tensor([o == t for o, (_, t) in zip(outputs, pairs, strict=True)])
        fast = teacher_forced_exact(model, batch)
        assert torch.equal(fast, greedy), f"round {round_}"
        score = teacher_forced_exact_match(model, pairs, lambda b: make_batch(b, vocab, vocab),
                                           batch_size=7)
        assert score == pytest.approx(greedy.float().mean().item())
        model.train()
        for _ in range(40):
            loss = teacher_forcing_loss(model, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert greedy.float().mean() > 0.5  # the last check saw a model that had learned something


def test_teacher_forced_exact_checks_shapes():
    pairs, vocab = _copy_task()
    batch = make_batch(pairs[:3], vocab, vocab)

    class Wrong(nn.Module):
        def forward(self, src, src_mask, tgt_in):
            return torch.zeros(src.shape[0], tgt_in.shape[1] + 1, 5)

    with pytest.raises(ValueError, match=r"\(B, T\)"):
        teacher_forced_exact(Wrong(), batch)


def test_fit_timed_without_evaluation_trains_for_the_budget():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    c = fit_timed(m, data, _collate, _loss, None, seconds=0.05, eval_every=1.0, batch_size=16,
                  lr=0.1, target=0.5, show_progress=False)
    assert c.train_seconds >= 0.05 and c.total_steps >= 1
    assert all(math.isnan(s) for s in c.scores) and c.time_to(0.5) is None


def test_fit_timed_with_a_step_budget_only():
    data = _data()
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    c = fit_timed(m, data, _collate, _loss, None, seconds=None, eval_every=None, eval_every_steps=4,
                  batch_size=16, lr=0.05, max_steps=6, show_progress=True)
    assert c.total_steps == 6 and c.steps == [0, 4, 6] and c.train_seconds > 0


def test_teacher_forced_accuracy_counts_symbols_by_hand():
    vocab = Vocab.build([["a", "b"]])  # <pad> 0, <unk> 1, <bos> 2, <eos> 3, a 4, b 5
    batch = make_batch([(["a", "b"], ["a", "b"]), (["a"], ["a"])], vocab, vocab)  # targets: a b <eos> / a <eos> <pad>

    class Scripted(nn.Module):
        def forward(self, src, src_mask, tgt_in):
            return torch.nn.functional.one_hot(torch.tensor([[4, 4, 3], [4, 3, 5]]), 6).float()

    m = Scripted()
    m.train()
    # right: a, <eos> of the first; a, <eos> of the second (the padded position does not count): 4 of 5
    assert teacher_forced_accuracy(m, batch) == pytest.approx(4 / 5)
    assert m.training  # its mode is restored
    assert teacher_forced_exact(m, batch).tolist() == [False, True]
