r"""Learning-rate schedules and the optimiser recipes of the Transformer.

Taught in *The Transformer* (``notebooks/41_transformer``): the Noam schedule of Vaswani et al.
(2017, section 5.3) -- :func:`noam_rate`, :func:`noam_schedule` -- the linear warm-up and decay of
most small Transformers since (:func:`warmup_linear_schedule`), and the two optimiser recipes that
the chapter trains with, kept beside the model as nanoGPT's ``configure_optimizers`` keeps them:

- :func:`paper_optimizer`: Adam with the paper's :math:`\beta_1 = 0.9, \beta_2 = 0.98,
  \epsilon = 10^{-9}` and the Noam schedule (factor 1, or a given factor);
- :func:`transformer_optimizer`: the same Adam with a linear warm-up to a peak rate, then a linear
  decay to a tenth of it.

Every schedule steps itself after each ``optimizer.step()`` (an optimizer step hook), so a plain
loop such as :func:`attnbook.train.fit` or :func:`attnbook.curves.fit_timed` needs no change.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = [
    "PAPER_ADAM",
    "noam_rate",
    "noam_schedule",
    "warmup_linear_schedule",
    "per_step_schedule",
    "paper_optimizer",
    "transformer_optimizer",
]

#: Adam's settings in Vaswani et al. (2017, section 5.3).
PAPER_ADAM = {"betas": (0.9, 0.98), "eps": 1e-9}


def noam_rate(step: int, d_model: int, warmup: int, factor: float = 1.0, ramp: bool = True) -> float:
    r"""The learning rate of Vaswani et al. (2017, eq. 3) at ``step`` (counted from 1):

    .. math::

        \text{lrate} = \text{factor} \cdot D^{-0.5} \cdot \min(\text{step}^{-0.5},\ \text{step} \cdot \text{warmup}^{-1.5}),

    rising linearly for ``warmup`` steps, then decaying as :math:`\text{step}^{-1/2}`; the peak is
    :math:`\text{factor} \cdot (D \cdot \text{warmup})^{-1/2}` at ``step = warmup``.

    ``ramp=False`` drops the warm-up and nothing else: the rate is the peak from the first step
    until ``step = warmup``, then the same decay,
    :math:`\text{factor} \cdot D^{-0.5} \cdot \min(\text{step}^{-0.5},\ \text{warmup}^{-0.5})` --
    the control that changes one thing at a time (*The Transformer*, section 5).
    """
    if step < 1 or warmup < 1:
        raise ValueError(f"step and warmup count from 1, got step={step}, warmup={warmup}")
    rise = step * warmup**-1.5 if ramp else warmup**-0.5
    return factor * d_model**-0.5 * min(step**-0.5, rise)


def per_step_schedule(optimizer: torch.optim.Optimizer, rate) -> torch.optim.lr_scheduler.LambdaLR:
    """Attach a schedule to ``optimizer``: step i (from 0) runs at ``rate(i)`` times the
    optimizer's learning rate; a ``LambdaLR`` that steps itself after every ``optimizer.step()``,
    so any training loop (:func:`attnbook.train.fit`) follows it without knowing it is there."""
    sched = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    optimizer.register_step_post_hook(lambda opt, args, kwargs: sched.step())
    return sched


def noam_schedule(
    optimizer: torch.optim.Optimizer, d_model: int, warmup: int, ramp: bool = True
) -> torch.optim.lr_scheduler.LambdaLR:
    """Attach the Noam schedule to ``optimizer``: after every ``optimizer.step()`` the rate moves on.

    The rate of step k is ``lr * noam_rate(k, d_model, warmup)``, where ``lr`` is the optimizer's
    own learning rate, acting as the paper's factor: build the optimizer with ``lr=1.0`` for the
    paper's schedule (and ``betas=(0.9, 0.98), eps=1e-9``; :func:`paper_optimizer` does both).

    ``ramp=False``: no warm-up, the same decay (see :func:`noam_rate`).

    Returns:
        the ``LambdaLR`` scheduler (``get_last_lr()`` reads the current rate).
    """
    return per_step_schedule(optimizer, lambda i: noam_rate(i + 1, d_model, warmup, ramp=ramp))


def warmup_linear_schedule(
    optimizer: torch.optim.Optimizer, warmup: int, total: int, floor: float = 0.1
) -> torch.optim.lr_scheduler.LambdaLR:
    """A short linear warm-up, then a linear decay: the recipe of most small Transformers since.

    Step k (from 1) runs at ``lr * min(k / warmup, 1) * max(1 - k / total, floor)``, where ``lr`` is
    the optimizer's own (peak) learning rate; after ``total`` steps the rate stays at ``floor``
    times the peak. Steps itself after every ``optimizer.step()``, like :func:`noam_schedule`.
    Used by *The Transformer* (``notebooks/41_transformer``) for the race on the date task.
    """
    if warmup < 1 or total < 1 or not 0.0 <= floor <= 1.0:
        raise ValueError(f"need warmup >= 1, total >= 1, 0 <= floor <= 1; got {warmup}, {total}, {floor}")
    return per_step_schedule(
        optimizer, lambda i: min((i + 1) / warmup, 1.0) * max(1.0 - (i + 1) / total, floor)
    )


def _params(model: nn.Module | Iterable) -> Iterable:
    return model.parameters() if isinstance(model, nn.Module) else model


def paper_optimizer(
    model: nn.Module, d_model: int, warmup: int, factor: float = 1.0, ramp: bool = True
) -> torch.optim.Adam:
    """Adam as in the paper (betas 0.9, 0.98; eps 1e-9) with the Noam schedule.

    The rate of step k is ``noam_rate(k, d_model, warmup, factor)``; ``ramp=False``: the peak rate
    from the first step, then the same decay.
    """
    opt = torch.optim.Adam(_params(model), lr=factor, **PAPER_ADAM)
    noam_schedule(opt, d_model, warmup, ramp=ramp)
    return opt


def transformer_optimizer(model: nn.Module, lr: float, warmup: int, total: int,
                          floor: float = 0.1) -> torch.optim.Adam:
    """Adam (betas 0.9, 0.98 as in the paper), a linear warm-up to ``lr`` over ``warmup`` steps,
    then a linear decay to ``floor * lr`` at step ``total`` (:func:`warmup_linear_schedule`)."""
    opt = torch.optim.Adam(_params(model), lr=lr, **PAPER_ADAM)
    warmup_linear_schedule(opt, warmup, total, floor)
    return opt
