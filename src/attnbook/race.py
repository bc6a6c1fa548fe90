"""A race against the clock: models trained for the same budget of CPU seconds on the reversal task,
at several lengths and seeds, scored along the way.

Taught in *The Transformer* (``notebooks/41_transformer``, section 3), where the Transformer and
the attention RNN of chapter 21 race at reversing L = 8 ... 64 symbols. Each run is
:func:`attnbook.curves.fit_timed` with a budget of seconds, evaluated ``evals`` times along the
way (off the clock) on the same held-out sequences with *one* teacher-forced pass that gives two
scores: the accuracy per symbol (the curve's score) and the exact match (whole sequences right,
kept beside it; :func:`attnbook.curves.teacher_forced_exact` explains why one pass is greedy
decoding's score).

Example::

    race = run_race({"Transformer": build_tf, "RNN": build_rnn}, lengths=(8, 16),
                    seeds=(0, 1), budget={8: 0.5, 16: 1.0}, evals=6, n_test=100)
    race.over_seeds("RNN", 16, lambda run: run.per_symbol)   # one number per seed

A builder takes the vocabulary size and returns ``(model, optimizer, batch_size)``; it is called
right after ``seed_everything(seed)``, so its model's initial weights are the seed's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from attnbook.curves import Curve, fit_timed
from attnbook.data import synthetic
from attnbook.data.text import Vocab
from attnbook.seq2seq import Batch, make_batch, teacher_forcing_loss
from attnbook.utils import seed_everything, to_device

__all__ = ["RaceRun", "Race", "symbol_and_exact_score", "run_race"]

Builder = Callable[[int], tuple[nn.Module, torch.optim.Optimizer, int]]


@dataclass
class RaceRun:
    """One model, one length, one seed: the learning curve (accuracy per symbol against training
    seconds) and the exact match at each of its evaluations."""

    curve: Curve
    exact: list[float] = field(default_factory=list)

    @property
    def per_symbol(self) -> float:
        """The held-out accuracy per symbol at the end."""
        return self.curve.final

    @property
    def exact_match(self) -> float:
        """The held-out exact match at the end."""
        return self.exact[-1]

    def seconds_to(self, target: float, budget: float | None = None) -> float | None:
        """Training seconds to reach ``target`` per symbol; ``budget`` (None if not given) where the
        run did not reach it."""
        t = self.curve.time_to(target)
        return budget if t is None else t


@dataclass
class Race:
    """The runs of a race by ``(model name, L, seed)``, and its seeds and budget."""

    runs: dict[tuple[str, int, int], RaceRun]
    seeds: tuple[int, ...]
    budget: dict[int, float]

    def __getitem__(self, key: tuple[str, int, int]) -> RaceRun:
        return self.runs[key]

    def over_seeds(self, name: str, length: int, what: Callable[[RaceRun], object]) -> list:
        """``what(run)`` for each seed of one model and length, in the order of the seeds."""
        return [what(self.runs[name, length, s]) for s in self.seeds]


def symbol_and_exact_score(batch: Batch, pad_id: int = 0) -> tuple[Callable[[nn.Module], float], list[float]]:
    """A score function for :func:`attnbook.curves.fit_timed` and the list it fills.

    ``score(model)`` runs one teacher-forced pass on ``batch`` and returns the accuracy per symbol
    (:func:`attnbook.curves.teacher_forced_accuracy`); the exact match of the same pass
    (:func:`attnbook.curves.teacher_forced_exact`'s mean) is appended to the list.
    """
    exact: list[float] = []

    def score(m: nn.Module) -> float:
        logits = m(batch.src, batch.src_mask, batch.tgt_in)  # one teacher-forced pass for both scores
        right, real = logits.argmax(-1) == batch.tgt_out, batch.tgt_out != pad_id  # (B, T)
        exact.append((right | ~real).all(1).float().mean().item())  # = teacher_forced_exact
        return ((right & real).sum() / real.sum()).item()  # = teacher_forced_accuracy

    return score, exact


def run_race(
    builders: Mapping[str, Builder],
    lengths: Sequence[int],
    seeds: Sequence[int],
    budget: Mapping[int, float],
    evals: int,
    n_test: int,
    n_train: int = 5000,
    device: torch.device | str | None = None,
) -> Race:
    """Race the models of ``builders`` at reversing each of ``lengths`` symbols, each seed a run.

    For each length L (in order): ``n_train`` training and ``n_test`` held-out reversals of L
    symbols (:func:`attnbook.data.synthetic.copy_reverse`, data seed 0), a vocabulary of their
    symbols; then for each model (in the order of ``builders``) and each seed:
    ``seed_everything(seed)``, ``build(vocab size)``, and :func:`attnbook.curves.fit_timed` for
    ``budget[L]`` CPU seconds, evaluated every ``budget[L] / evals`` seconds with
    :func:`symbol_and_exact_score` on the held-out set, shuffling with ``seed``.

    Args:
        builders: ``{name: build}``, ``build(vocab_size) -> (model, optimizer, batch_size)``.
        lengths, seeds: the lengths L and the seeds.
        budget: ``{L: CPU seconds of training per run}``.
        evals: evaluations per run (off the clock).
        n_test, n_train: held-out and training sequences per length.
        device: where the held-out batch lives (the models' device; None: where it is built).

    Returns:
        a :class:`Race`.
    """
    runs: dict[tuple[str, int, int], RaceRun] = {}
    for L in lengths:
        train_L, test_L = synthetic.copy_reverse(n_train, n_test, L, L, reverse=True, seed=0)
        vocab_L = Vocab.build([s for s, _ in train_L])
        batch = make_batch(test_L, vocab_L, vocab_L)
        batch = batch if device is None else to_device(batch, device)
        for name, build in builders.items():
            for seed in seeds:
                seed_everything(seed)
                model, opt, batch_size = build(len(vocab_L))
                score, exact = symbol_and_exact_score(batch)
                curve = fit_timed(model, train_L, lambda b, v=vocab_L: make_batch(b, v, v),
                                  teacher_forcing_loss, score, seconds=budget[L],
                                  eval_every=budget[L] / evals, batch_size=batch_size, optimizer=opt,
                                  seed=seed, show_progress=False)
                runs[name, L, seed] = RaceRun(curve, exact)
    return Race(runs, tuple(seeds), dict(budget))
