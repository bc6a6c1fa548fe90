"""A small fit loop shared by the chapters: mini-batches, progress bars, early stopping, seeding.

Introduced in *Recurrent networks* (``notebooks/10_rnn``) and used by every later chapter. It is
deliberately small -- no callbacks, no logger -- so that a reader can see the whole training loop:

1. shuffle the training examples with a seeded generator and cut them into mini-batches;
2. for each batch, moved to the device of the model: ``loss = loss_fn(model, batch)``, backward, optional gradient clipping, step;
3. after each epoch, ``evaluate(model)`` (higher is better); keep the best weights and stop after
   ``patience`` epochs without improvement;
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from attnbook.utils import model_device, progress, seed_everything, to_device

__all__ = ["History", "minibatches", "fit"]


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
    best_state, best, since_best = None, -float("inf"), 0
    bar = progress(range(epochs), desc=desc, disable=not show_progress, leave=False)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for idx in minibatches(len(examples), batch_size, generator=gen):
            # the collate function may build tensors on the CPU: train on the model's device
            batch = to_device(collate([examples[i] for i in idx.tolist()]), device)
            loss = loss_fn(model, batch)
            opt.zero_grad()
            loss.backward()
            if max_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
        hist.train_loss.append(total / count)
        postfix = {"loss": f"{hist.train_loss[-1]:.3f}"}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                score = float(evaluate(model))
            hist.val_score.append(score)
            postfix["val"] = f"{score:.3f}"
            if score > best:
                best, since_best, hist.best_epoch = score, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                since_best += 1
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(postfix)
        if evaluate is not None:
            if target is not None and best >= target:
                hist.stopped_early = epoch < epochs - 1
                break
            if patience is not None and since_best >= patience:
                hist.stopped_early = epoch < epochs - 1
                break
    if hasattr(bar, "close"):
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return hist
