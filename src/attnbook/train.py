"""A small fit loop shared by the chapters: mini-batches, progress bars, early stopping, seeding.

Introduced in *Recurrent networks* (``notebooks/10_rnn``) and used by every later chapter. It is
deliberately small -- no callbacks, no logger -- so that a reader can see the whole training loop:

1. shuffle the training examples with a seeded generator and cut them into mini-batches;
2. for each batch, moved to the device of the model: ``loss = loss_fn(model, batch)``, backward,
   optional gradient clipping, step (:func:`train_step`), timed on a clock (:data:`CLOCKS`);
3. after each epoch -- or every ``eval_every_steps`` steps or ``eval_every_seconds`` seconds --
   ``evaluate(model)`` (higher is better); keep the best weights and stop after ``patience``
   evaluations without improvement (:class:`EarlyStopping`);
4. stop when the budget runs out: ``epochs``, ``max_steps`` or ``seconds``, whichever first;
5. restore the best weights.

Training for a budget of seconds, with a learning curve against the clock, is the same loop:
:func:`attnbook.curves.fit_timed`.

Example::

    def loss_fn(model, batch):
        x, y = batch
        return F.cross_entropy(model(x), y)

    history = fit(model, train_examples, collate, loss_fn, epochs=10, batch_size=64,
                  evaluate=lambda m: accuracy(m, val_examples), patience=3, seed=0)
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from attnbook.utils import model_device, progress, seed_everything, to_device

__all__ = ["CLOCKS", "History", "accuracy", "minibatches", "train_step", "fit", "EarlyStopping"]


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
"""The clocks that time training: ``"cpu"`` (this process's CPU seconds; other jobs on a shared
machine do not count) and ``"wall"`` (``time.perf_counter``)."""


@dataclass
class History:
    """What :func:`fit` did: the training loss of each epoch and of each step, and at each
    evaluation the validation score, the optimizer steps and the training seconds so far.

    By default :func:`fit` evaluates once after each epoch, so that ``val_score[e]`` is the score
    after epoch ``e``; with ``eval_every_steps``, ``eval_every_seconds`` or ``eval_at_start`` the
    evaluations follow that schedule instead (``steps`` and ``seconds`` say when each was made).
    """

    train_loss: list[float] = field(default_factory=list)  # per epoch, mean over its examples
    val_score: list[float] = field(default_factory=list)  # per evaluation
    best_epoch: int | None = None  # 0-based index into val_score; None without an evaluate function
    stopped_early: bool = False  # stopped by patience or target before the budget ran out
    steps: list[int] = field(default_factory=list)  # optimizer steps at each evaluation
    seconds: list[float] = field(default_factory=list)  # training seconds at each evaluation
    step_loss: list[float] = field(default_factory=list)  # the loss of every optimizer step
    total_steps: int = 0
    train_seconds: float = 0.0  # on fit's clock: building batches, forward, backward, step
    eval_seconds: float = 0.0  # spent in evaluations (not on the training clock)

    @property
    def best_score(self) -> float | None:
        return None if self.best_epoch is None else self.val_score[self.best_epoch]


def accuracy(model: nn.Module, x, y: Tensor, ignore_index: int | None = None) -> float:
    """The share of targets ``y`` that ``model(x).argmax(-1)`` gets right, under ``torch.no_grad()``.

    The model's mode is left as it is (put it in eval mode first if it has dropout). ``y`` may
    have any shape that the logits have without their last axis (a label per example, or per
    token); with ``ignore_index`` (e.g. -100, as in ``F.cross_entropy``) those targets are not
    counted.

    >>> accuracy(nn.Identity(), torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]))
    0.5
    """
    with torch.no_grad():
        right = model(x).argmax(-1) == y
        if ignore_index is not None:
            right = right[y != ignore_index]
        return right.float().mean().item()


def minibatches(n: int, batch_size: int, shuffle: bool = True, generator: torch.Generator | None = None):
    """Index tensors that cut ``range(n)`` into batches of ``batch_size`` (the last one smaller)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return list(order.split(batch_size))


def train_step(
    model: nn.Module,
    batch,
    loss_fn: Callable[[nn.Module, object], Tensor],
    optimizer: torch.optim.Optimizer,
    max_grad_norm: float | None = 1.0,
) -> float:
    """One optimizer step on one batch (already on the model's device): ``loss_fn(model, batch)``,
    backward, optional gradient-norm clipping, ``optimizer.step()``. Returns the loss as a float.

    The inner step of :func:`fit` (and so of :func:`attnbook.curves.fit_timed`, which is
    :func:`fit` with a budget of seconds).
    """
    loss = loss_fn(model, batch)
    optimizer.zero_grad()
    loss.backward()
    if max_grad_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return loss.item()


def fit(
    model: nn.Module,
    examples: Sequence,
    collate: Callable[[list], object],
    loss_fn: Callable[[nn.Module, object], Tensor],
    epochs: int | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    evaluate: Callable[[nn.Module], float] | None = None,
    patience: int | None = None,
    target: float | None = None,
    max_grad_norm: float | None = 1.0,
    seed: int | None = 0,
    show_progress: bool = True,
    desc: str = "epochs",
    *,
    max_steps: int | None = None,
    seconds: float | None = None,
    eval_every_steps: int | None = None,
    eval_every_seconds: float | None = None,
    eval_at_start: bool = False,
    keep_best: bool = True,
    clock: str = "cpu",
    shuffle: bool = True,
) -> History:
    """Train ``model`` on ``examples`` with Adam (or ``optimizer``) for a budget of epochs, steps
    or seconds, whichever runs out first.

    Args:
        model: the module to train (train mode for the steps, eval mode for ``evaluate``); left
            in eval mode.
        examples: the training examples (any sequence).
        collate: turns a list of examples into a batch (e.g. padded tensors).
        loss_fn: ``(model, batch) -> scalar loss``.
        epochs: the most epochs to run (None: no limit; give ``max_steps`` or ``seconds``).
        batch_size: examples per batch.
        lr: the learning rate of the default Adam optimizer.
        optimizer: a ready optimizer instead of Adam.
        evaluate: ``model -> score`` (higher is better), called under ``torch.no_grad()`` after
            each epoch (or on the schedule below), and when the budget runs out; the best
            evaluation's weights are restored at the end (see ``keep_best``).
        patience: stop after this many evaluations without a better score (needs ``evaluate``).
        target: stop as soon as the score reaches this value (needs ``evaluate``).
        max_grad_norm: clip the gradient norm to this value (None: no clipping); recurrent networks
            need it against exploding gradients.
        seed: seed everything before training (None: leave the random state alone; the batches
            are then shuffled by torch's global generator).
        show_progress: show a progress bar (over the epochs; over the seconds or steps when those
            are the budget).
        desc: the progress bar's label.
        max_steps: stop after this many optimizer steps (the epoch is cut short).
        seconds: stop once the training steps have taken this long on ``clock`` (at least one
            step is taken).
        eval_every_steps: evaluate after every this many optimizer steps instead of after each
            epoch -- a schedule that does not depend on the machine's speed.
        eval_every_seconds: evaluate every this many training seconds instead of after each
            epoch (both schedules may be given).
        eval_at_start: also evaluate once before the first step.
        keep_best: restore the weights of the best evaluation at the end (False: keep the last
            weights, and copy none along the way).
        shuffle: shuffle the examples every epoch (False: in the order given, drawing no random
            number -- for batches made and ordered beforehand).
        clock: the clock of ``seconds`` and of the history's times, a key of :data:`CLOCKS`.
            Only training counts on it -- building the batch, forward, backward, the step --
            not the evaluations.

    Returns:
        a :class:`History`.
    """
    if (patience is not None or target is not None) and evaluate is None:
        raise ValueError("patience and target need an evaluate function")
    if len(examples) == 0:
        raise ValueError("fit needs at least one training example")
    if epochs is None and max_steps is None and seconds is None:
        raise ValueError("give a budget: epochs, max_steps or seconds")
    if (seconds is not None and seconds <= 0) or (eval_every_seconds is not None and eval_every_seconds <= 0):
        raise ValueError(f"seconds and eval_every_seconds must be > 0, got {seconds}, {eval_every_seconds}")
    if eval_every_steps is not None and eval_every_steps < 1:
        raise ValueError(f"eval_every_steps must be >= 1, got {eval_every_steps}")
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}; choose from {sorted(CLOCKS)}")
    now = CLOCKS[clock]
    # seed=None leaves the random state alone: shuffling then draws from torch's global generator
    gen = seed_everything(seed) if seed is not None else None
    device = model_device(model)
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    hist = History()
    stopper = EarlyStopping(patience, target) if evaluate is not None else None
    per_epoch = eval_every_steps is None and eval_every_seconds is None
    next_eval = math.inf if eval_every_seconds is None else eval_every_seconds
    bar = _Bar(epochs, max_steps, seconds, desc, show_progress)

    def evaluation() -> bool:
        """Score the model (off the training clock) and keep the best weights; True: stop."""
        nonlocal next_eval
        while next_eval <= hist.train_seconds:
            next_eval += eval_every_seconds
        t0 = now()
        model.eval()
        with torch.no_grad():
            score = float(evaluate(model))
        model.train()
        hist.val_score.append(score)
        hist.steps.append(hist.total_steps)
        hist.seconds.append(hist.train_seconds)
        save, stop = stopper.step(score)
        if keep_best:
            stopper.checkpoint(model, save)
        if save:
            hist.best_epoch = len(hist.val_score) - 1
        hist.eval_seconds += now() - t0
        bar.score(score)
        return bool(stop)

    stop = stopper is not None and eval_at_start and evaluation()
    hist.stopped_early = stop
    out_of_budget, epoch = False, 0
    while not stop and not out_of_budget and (epochs is None or epoch < epochs):
        model.train()
        total, count = 0.0, 0
        for idx in minibatches(len(examples), batch_size, shuffle=shuffle, generator=gen):
            t0 = now()
            # the collate function may build tensors on the CPU: train on the model's device
            batch = to_device(collate([examples[i] for i in idx.tolist()]), device)
            loss = train_step(model, batch, loss_fn, opt, max_grad_norm)
            dt = now() - t0
            hist.train_seconds += dt
            hist.total_steps += 1
            hist.step_loss.append(loss)
            total += loss * len(idx)
            count += len(idx)
            bar.step(dt, hist.train_seconds)
            out_of_budget = ((seconds is not None and hist.train_seconds >= seconds)
                             or (max_steps is not None and hist.total_steps >= max_steps))
            if out_of_budget:
                break  # evaluated below
            if stopper is not None and not per_epoch and (
                    hist.train_seconds >= next_eval
                    or (eval_every_steps is not None and hist.total_steps % eval_every_steps == 0)):
                stop = evaluation()
                if stop:
                    break
        hist.train_loss.append(total / count)
        epoch += 1
        bar.epoch(hist.train_loss[-1])
        last = out_of_budget or (epochs is not None and epoch >= epochs)
        if stopper is not None and not stop and (per_epoch or last) and not (
                hist.steps and hist.steps[-1] == hist.total_steps):
            stop = evaluation()
            hist.stopped_early = stop and not last
        elif stop:
            hist.stopped_early = not last
    bar.close()
    if stopper is not None and keep_best:
        stopper.restore(model)
    model.eval()
    return hist


class _Bar:
    """:func:`fit`'s progress bar: over the seconds when they are the budget, else over the
    epochs, else over the steps."""

    def __init__(self, epochs, max_steps, seconds, desc, show):
        self.unit = "s" if seconds is not None else "epoch" if epochs is not None else "step"
        total = {"s": None if seconds is None else round(seconds, 1), "epoch": epochs,
                 "step": max_steps}[self.unit]
        fmt = {"bar_format": "{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}", "mininterval": 1.0,
               "unit": "s"} if self.unit == "s" else {}
        self.budget = seconds
        self.bar = progress(total=total, desc=desc, disable=not show, leave=False, **fmt)
        self.postfix: dict[str, str] = {}

    def step(self, dt: float, elapsed: float) -> None:
        if self.unit == "s":
            self.bar.update(min(dt, max(0.0, self.budget - self.bar.n)))
        elif self.unit == "step":
            self.bar.update(1)

    def epoch(self, loss: float) -> None:
        self.postfix["loss"] = f"{loss:.3f}"
        if self.unit == "epoch":
            self.bar.update(1)
        self.bar.set_postfix(self.postfix)

    def score(self, score: float) -> None:
        self.postfix["val"] = f"{score:.3f}"
        self.bar.set_postfix(self.postfix)

    def close(self) -> None:
        self.bar.close()


class EarlyStopping:
    """Early stopping with best-weight keeping, for one model or S models trained side by side.

    After each evaluation, :meth:`step` takes the validation score (higher is better; a float, or
    one per model ``(S,)``) and returns two bool tensors ``(S,)`` (``(1,)`` for a float):
    ``save`` -- this epoch is the model's best so far, keep its weights -- and ``stop``. The rule
    here: a score better than the best so far saves; a model stops after ``patience`` evaluations
    without a better score, or as soon as its best reaches ``target``. :meth:`checkpoint` keeps the
    saved weights, :meth:`restore` puts them back at the end. Used by :func:`fit`; the GAT and GCN
    papers' own rules (:mod:`attnbook.graph_train`) are subclasses that override :meth:`rule`.

    With ``stacked=True`` the model holds S models along the first axis of every parameter (an
    ensemble, :mod:`attnbook.ensemble`), and a model that stops may be removed from it:
    :meth:`keep` then forgets it, and the checkpoint stays indexed by the models' original numbers.

    Attributes:
        best_epoch, stop_epoch: ``(S,)`` the epoch (0-based count of :meth:`step` calls) of each
            model's last save and of its first stop; -1 where none happened.
        models: ``(S_left,)`` the original number of each model still training.

    Example::

        stopper = EarlyStopping(patience=3)
        for epoch in range(epochs):
            ...  # train one epoch
            save, stop = stopper.step(evaluate(model))
            stopper.checkpoint(model, save)
            if stop:
                break
        stopper.restore(model)
    """

    def __init__(self, patience: int | None = None, target: float | None = None,
                 stacked: bool = False) -> None:
        self.patience, self.target, self.stacked = patience, target, stacked
        self.epoch = -1
        self.models: Tensor | None = None
        self.best_epoch: Tensor | None = None
        self.stop_epoch: Tensor | None = None
        self.best_state: dict[str, Tensor] | None = None

    def start(self, num_models: int, device: torch.device) -> None:
        """Set up the per-model state (called by the first :meth:`step`)."""
        self.models = torch.arange(num_models, device=device)
        self.best_epoch = torch.full((num_models,), -1, dtype=torch.long, device=device)
        self.stop_epoch = torch.full((num_models,), -1, dtype=torch.long, device=device)
        # scores are compared in float64: a float from evaluate() keeps all its digits
        self.best = torch.full((num_models,), -math.inf, dtype=torch.float64, device=device)
        self.since_best = torch.zeros(num_models, dtype=torch.long, device=device)

    def rule(self, score: Tensor) -> tuple[Tensor, Tensor]:
        """Update the state of the models still training with their scores; return ``(save, stop)``."""
        save = score > self.best
        self.best = torch.where(save, score.double(), self.best)
        self.since_best = torch.where(save, torch.zeros_like(self.since_best), self.since_best + 1)
        stop = torch.zeros_like(save)
        if self.patience is not None:
            stop |= self.since_best >= self.patience
        if self.target is not None:
            stop |= self.best >= self.target
        return save, stop

    def step(self, *scores: Tensor | float) -> tuple[Tensor, Tensor]:
        """One evaluation: the scores of the models still training -> ``(save, stop)``, bool ``(S_left,)``."""
        t = tuple(torch.as_tensor(s, dtype=torch.float64 if isinstance(s, float) else None).reshape(-1)
                  for s in scores)
        if self.models is None:
            self.start(t[0].numel(), t[0].device)
        self.epoch += 1
        save, stop = self.rule(*t)
        self.best_epoch[self.models[save]] = self.epoch
        first = stop & (self.stop_epoch[self.models] < 0)  # a model's stop is its first
        self.stop_epoch[self.models[first]] = self.epoch
        return save, stop

    def keep(self, mask: Tensor) -> None:
        """Forget the models not in ``mask`` (bool ``(S_left,)``): they left the ensemble."""
        self.models = self.models[mask]
        self.best, self.since_best = self.best[mask], self.since_best[mask]

    @torch.no_grad()
    def checkpoint(self, model: nn.Module, save: Tensor) -> None:
        """Keep the weights of the models that ``save`` marks (call after every :meth:`step`)."""
        if not self.stacked:
            if bool(save):
                self.best_state = copy.deepcopy(model.state_dict())
            return
        if self.best_state is None:  # the first call sees all S models, at their first weights
            self.best_state = {k: p.detach().clone() for k, p in model.named_parameters()}
        rows = self.models[save]
        for k, p in model.named_parameters():
            self.best_state[k][rows] = p[save]

    @torch.no_grad()
    def restore(self, model: nn.Module) -> None:
        """Load the kept weights into ``model`` (for ``stacked``: the full ensemble, all S models)."""
        if self.best_state is None:
            return
        if not self.stacked:
            model.load_state_dict(self.best_state)
            return
        for k, p in model.named_parameters():
            p.copy_(self.best_state[k])
