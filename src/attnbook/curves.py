r"""Learning curves against the clock: train under a budget of seconds, score along the way, and
read off how long a model needs to reach a target.

Taught in *The Transformer* (``notebooks/41_transformer``), where the Transformer and the
attention RNN of chapter 21 race on the same task: held-out exact match against training time,
and the time each needs to reach 99 %.

- :func:`fit_timed` is :func:`attnbook.train.fit` -- the same loop, the same seeded mini-batches
  and steps -- for a budget of *seconds* instead of epochs, evaluating every ``eval_every``
  seconds or every ``eval_every_steps`` steps of training. Only training counts on its clock --
  building the batch, forward, backward, the optimizer step -- not the evaluations.
- :class:`Curve` holds the result; :meth:`Curve.time_to` is the time at which the score first
  reaches a target, interpolated linearly between the two evaluations around the crossing (the
  evaluations are ``eval_every`` seconds apart, so without interpolation every time would be
  rounded up to the next evaluation).
- :func:`teacher_forced_exact` scores a seq2seq model in *one* teacher-forced pass: an output
  sequence is decoded exactly by greedy decoding if and only if, fed the true prefix, the model's
  most probable next token is the true one at every position (the end token included). If every
  prediction is right, greedy decoding feeds back exactly the true prefix and so produces the
  target; if greedy decoding produces the target, its prefixes were the true ones, so every
  teacher-forced prediction was right. The two exact-match scores are the same number (up to
  ties of the largest logit), and the teacher-forced one costs one forward pass instead of
  one per output token.

The clock: ``"cpu"`` (``time.process_time``, the CPU seconds of this process; on a shared
machine other people's jobs do not count, and with one torch thread on an idle machine it equals
the wall time) or ``"wall"`` (``time.perf_counter``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from attnbook.train import CLOCKS, History, fit  # CLOCKS: the clocks of fit, defined beside it
from attnbook.utils import model_device, to_device

__all__ = ["CLOCKS", "Curve", "fit_timed", "teacher_forced_accuracy", "teacher_forced_exact",
           "teacher_forced_exact_match"]

@dataclass
class Curve:
    """A learning curve: the score after ``seconds[i]`` seconds of training (``steps[i]`` steps).

    Attributes:
        seconds: the training clock at each evaluation (the first evaluation is before training, 0).
        steps: optimizer steps taken at each evaluation.
        scores: the score at each evaluation (higher is better).
        losses: the mean training loss since the previous evaluation (NaN for the first).
        train_seconds: the training seconds in all.
        total_steps: the optimizer steps in all.
        eval_seconds: the seconds spent in evaluations (not on the training clock).
    """

    seconds: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    total_steps: int = 0
    eval_seconds: float = 0.0

    @classmethod
    def from_history(cls, hist: History) -> Curve:
        """The curve of a :func:`attnbook.train.fit` run: its evaluations, and the mean training
        loss of the steps between each evaluation and the one before it (NaN where none)."""
        losses, prev = [], 0
        for step in hist.steps:
            total = 0.0
            for loss in hist.step_loss[prev:step]:  # summed in order, as the steps came
                total += loss
            losses.append(total / (step - prev) if step > prev else math.nan)
            prev = step
        return cls(seconds=list(hist.seconds), steps=list(hist.steps), scores=list(hist.val_score),
                   losses=losses, train_seconds=hist.train_seconds, total_steps=hist.total_steps,
                   eval_seconds=hist.eval_seconds)

    @property
    def final(self) -> float:
        """The last score."""
        return self.scores[-1]

    @property
    def steps_per_second(self) -> float:
        """Optimizer steps per second of training."""
        return self.total_steps / self.train_seconds if self.train_seconds > 0 else math.nan

    def time_to(self, target: float) -> float | None:
        """The training seconds at which the score first reaches ``target``, interpolated linearly
        between the evaluations before and after the crossing; None if it never does.

        >>> Curve(seconds=[0, 2, 4], steps=[0, 10, 20], scores=[0.0, 0.5, 1.0]).time_to(0.75)
        3.0
        """
        return self._first(target, self.seconds)

    def steps_to(self, target: float) -> float | None:
        """Like :meth:`time_to`, in optimizer steps."""
        return self._first(target, [float(s) for s in self.steps])

    def _first(self, target: float, xs: Sequence[float]) -> float | None:
        for i, s in enumerate(self.scores):
            if s >= target:
                if i == 0:
                    return float(xs[0])
                s0, s1, x0, x1 = self.scores[i - 1], s, xs[i - 1], xs[i]
                return float(x0 + (target - s0) / (s1 - s0) * (x1 - x0))
        return None


def fit_timed(
    model: nn.Module,
    examples: Sequence,
    collate: Callable[[list], object],
    loss_fn: Callable[[nn.Module, object], Tensor],
    evaluate: Callable[[nn.Module], float] | None,
    seconds: float | None,
    eval_every: float | None,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    target: float | None = None,
    max_steps: int | None = None,
    eval_every_steps: int | None = None,
    max_grad_norm: float | None = 1.0,
    seed: int | None = 0,
    clock: str = "cpu",
    show_progress: bool = True,
    desc: str = "training",
) -> Curve:
    """Train ``model`` for ``seconds`` of training time, evaluating before training, every
    ``eval_every`` seconds (or every ``eval_every_steps`` optimizer steps) and at the end: a
    learning curve.

    This is :func:`attnbook.train.fit` with a budget of seconds and no epochs -- the same steps on
    the same seeded batches -- that evaluates on a schedule of time and keeps the last weights
    (not the best), its :class:`~attnbook.train.History` read as a :class:`Curve`.

    Args:
        model: the module to train (train mode for steps, eval mode and ``torch.no_grad()`` for
            ``evaluate``); left in eval mode.
        examples, collate, loss_fn: as in :func:`attnbook.train.fit`; batches are moved to the
            model's device.
        evaluate: ``model -> score`` (higher is better), called before training, every
            ``eval_every`` training seconds, and at the end; None: no scoring (the curve's
            scores are NaN, e.g. to train for a budget and score afterwards).
        seconds: the training budget (on ``clock``); at least one step is taken. None: no budget
            of time, only of steps (``max_steps`` is then required) -- the steps are still timed.
        eval_every: the training seconds between evaluations (None: by steps only).
        batch_size, lr, optimizer, max_grad_norm, seed: as in :func:`attnbook.train.fit`
            (default optimizer: Adam with ``lr``). Epochs follow each other without a break; each
            reshuffles the examples.
        target: stop at the first evaluation whose score reaches it.
        max_steps: stop after this many optimizer steps (also evaluated then).
        eval_every_steps: also evaluate after every this many optimizer steps -- a schedule that
            does not depend on the machine's speed (with ``eval_every=None``, the only one).
        clock: ``"cpu"`` (this process's CPU time) or ``"wall"`` (:data:`CLOCKS`).
        show_progress: a progress bar over the training seconds.
        desc: the progress bar's label.

    Returns:
        a :class:`Curve`.
    """
    if seconds is None and max_steps is None:
        raise ValueError("give a budget: seconds, max_steps or both")
    if eval_every is None and eval_every_steps is None:
        raise ValueError("give eval_every (seconds) or eval_every_steps")
    if len(examples) == 0:
        raise ValueError("fit_timed needs at least one training example")
    hist = fit(model, examples, collate, loss_fn, epochs=None, batch_size=batch_size, lr=lr,
               optimizer=optimizer, evaluate=evaluate or _no_score, target=target,
               max_grad_norm=max_grad_norm, seed=seed, show_progress=show_progress, desc=desc,
               max_steps=max_steps, seconds=seconds, eval_every_steps=eval_every_steps,
               eval_every_seconds=eval_every, eval_at_start=True, keep_best=False, clock=clock)
    return Curve.from_history(hist)


def _no_score(model: nn.Module) -> float:
    return math.nan


@torch.no_grad()
def teacher_forced_exact(model: nn.Module, batch, pad_id: int = 0) -> Tensor:
    """Per example of a seq2seq batch (:class:`attnbook.seq2seq.Batch`): is the model's most
    probable next token right at every real target position, the end token included? ``(B,)`` bool.

    This is exactly "greedy decoding reproduces the target" (see the module docstring), computed
    in one teacher-forced pass. Works for any model with the
    ``forward(src, src_mask, tgt_in) -> logits (B, T, V)`` of :class:`attnbook.seq2seq.Seq2Seq`
    and :class:`attnbook.transformer.Transformer`.
    """
    logits = model(batch.src, batch.src_mask, batch.tgt_in)  # (B, T, V)
    if logits.shape[:2] != batch.tgt_out.shape:
        raise ValueError(
            f"expected logits (B, T, V) with (B, T) = {tuple(batch.tgt_out.shape)}, got "
            f"{tuple(logits.shape)}"
        )
    right = (logits.argmax(-1) == batch.tgt_out) | (batch.tgt_out == pad_id)  # (B, T)
    return right.all(dim=1)


@torch.no_grad()
def teacher_forced_exact_match(
    model: nn.Module, examples: Sequence, collate: Callable[[list], object], batch_size: int = 500,
    pad_id: int = 0,
) -> float:
    """The share of ``examples`` that greedy decoding would reproduce exactly, by
    :func:`teacher_forced_exact` in batches of ``batch_size`` (model in eval mode while scoring)."""
    if len(examples) == 0:
        raise ValueError("need at least one example")
    was_training = model.training
    model.eval()
    device = model_device(model)
    hits = 0
    for start in range(0, len(examples), batch_size):
        batch = to_device(collate(list(examples[start : start + batch_size])), device)
        hits += int(teacher_forced_exact(model, batch, pad_id).sum())
    model.train(was_training)
    return hits / len(examples)


@torch.no_grad()
def teacher_forced_accuracy(model: nn.Module, batch, pad_id: int = 0) -> float:
    """The share of real target tokens (the end token included, padding not) that the model
    predicts right from the true prefix, in one teacher-forced pass: accuracy *per symbol*, where
    :func:`teacher_forced_exact` asks for every symbol of an example at once. Same models and
    batches as :func:`teacher_forced_exact`; the model is put in eval mode while scoring."""
    was_training = model.training
    model.eval()
    logits = model(batch.src, batch.src_mask, batch.tgt_in)  # (B, T, V)
    model.train(was_training)
    if logits.shape[:2] != batch.tgt_out.shape:
        raise ValueError(
            f"expected logits (B, T, V) with (B, T) = {tuple(batch.tgt_out.shape)}, got "
            f"{tuple(logits.shape)}"
        )
    real = batch.tgt_out != pad_id  # (B, T)
    return ((logits.argmax(-1) == batch.tgt_out) & real).sum().item() / real.sum().item()
