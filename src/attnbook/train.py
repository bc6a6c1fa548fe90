"""A small fit loop shared by the chapters: mini-batches, progress bars, early stopping, seeding.

Introduced in *Recurrent networks* (``notebooks/10_rnn``) and used by every later chapter. It is
deliberately small -- no callbacks, no logger -- so that a reader can see the whole training loop:

1. shuffle the training examples with a seeded generator and cut them into mini-batches;
2. for each batch, moved to the device of the model: ``loss = loss_fn(model, batch)``, backward, optional gradient clipping, step;
3. after each epoch, ``evaluate(model)`` (higher is better); keep the best weights and stop after
   ``patience`` epochs without improvement (:class:`EarlyStopping`);
4. restore the best weights.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from attnbook.utils import model_device, progress, seed_everything, to_device

__all__ = ["History", "minibatches", "train_step", "fit", "EarlyStopping"]


@dataclass
class History:
    """What :func:`fit` did: the mean training loss and the validation score of each epoch."""

    train_loss: list[float] = field(default_factory=list)
    val_score: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # 0-based; None without an evaluate function
    stopped_early: bool = False

    @property
    def best_score(self) -> float | None:
        return None if self.best_epoch is None else self.val_score[self.best_epoch]


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

    The inner step of :func:`fit`, shared with :func:`attnbook.curves.fit_timed` so that training
    for a budget of epochs and for a budget of seconds take the very same steps.
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
    epochs: int,
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
) -> History:
    """Train ``model`` on ``examples`` with Adam (or ``optimizer``).

    Args:
        model: the module to train (put in train mode for each epoch, eval mode for ``evaluate``).
        examples: the training examples (any sequence).
        collate: turns a list of examples into a batch (e.g. padded tensors).
        loss_fn: ``(model, batch) -> scalar loss``.
        epochs: the most epochs to run.
        batch_size: examples per batch.
        lr: the learning rate of the default Adam optimizer.
        optimizer: a ready optimizer instead of Adam.
        evaluate: ``model -> score`` (higher is better), called after each epoch under
            ``torch.no_grad()``; the best epoch's weights are restored at the end.
        patience: stop after this many epochs without a better score (needs ``evaluate``).
        target: stop as soon as the score reaches this value (needs ``evaluate``).
        max_grad_norm: clip the gradient norm to this value (None: no clipping); recurrent networks
            need it against exploding gradients.
        seed: seed everything before training (None: leave the random state alone; the batches
            are then shuffled by torch's global generator).
        show_progress: show a progress bar over the epochs.
        desc: the progress bar's label.

    Returns:
        a :class:`History`.
    """
    if (patience is not None or target is not None) and evaluate is None:
        raise ValueError("patience and target need an evaluate function")
    if len(examples) == 0:
        raise ValueError("fit needs at least one training example")
    # seed=None leaves the random state alone: shuffling then draws from torch's global generator
    gen = seed_everything(seed) if seed is not None else None
    device = model_device(model)
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    hist = History()
    stopper = EarlyStopping(patience, target) if evaluate is not None else None
    bar = progress(range(epochs), desc=desc, disable=not show_progress, leave=False)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for idx in minibatches(len(examples), batch_size, generator=gen):
            # the collate function may build tensors on the CPU: train on the model's device
            batch = to_device(collate([examples[i] for i in idx.tolist()]), device)
            total += train_step(model, batch, loss_fn, opt, max_grad_norm) * len(idx)
            count += len(idx)
        hist.train_loss.append(total / count)
        postfix = {"loss": f"{hist.train_loss[-1]:.3f}"}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                score = float(evaluate(model))
            hist.val_score.append(score)
            postfix["val"] = f"{score:.3f}"
            save, stop = stopper.step(score)
            stopper.checkpoint(model, save)
            if save:
                hist.best_epoch = epoch
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(postfix)
        if stopper is not None and stop:
            hist.stopped_early = epoch < epochs - 1
            break
    if hasattr(bar, "close"):
        bar.close()
    if stopper is not None:
        stopper.restore(model)
    model.eval()
    return hist


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
