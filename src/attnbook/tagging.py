r"""Per-position tagging: a sequence layer and a linear read-out at every position, and its training.

A *tagger* answers at every position of a sequence: ``(B, L)`` token ids in, ``(B, L, C)`` logits
out. Chapter *The limits of RNNs and CNNs* (``notebooks/31_limits``) tags each position with the
symbol :math:`\delta` positions back (a CNN, a GRU or one self-attention layer as the body);
chapter *Self-attention* (``notebooks/40_self_attention``) tags each position of a sequence with
the token of the mirrored position (a Transformer encoder as the body). The model is the same
three steps in both:

1. token ids -> vectors (an ``nn.Embedding``, optionally with learned position vectors
   concatenated to them; or nothing, when the body embeds the tokens itself);
2. the body, a sequence layer ``(B, L, D_in) -> (B, L, D)`` -- or a tuple whose first element is
   that, as ``nn.GRU`` and :class:`attnbook.transformer.TransformerEncoder` return;
3. a linear read-out ``D -> C`` at every position.

:func:`fit_tagger` trains one with :func:`attnbook.train.fit` and the per-position cross-entropy,
which skips the targets equal to ``ignore_index`` (-100, the convention of ``F.cross_entropy``:
a position with nothing to name); :func:`attnbook.train.accuracy` with ``ignore_index=-100``
scores it the same way.

Example::

    model = Tagger(nn.GRU(64, 64, batch_first=True), width=64, num_out=8,
                   embed=nn.Embedding(8, 64))
    fit_tagger(model, x_train, y_train, epochs=3, batch_size=32, lr=3e-3)
    acc = accuracy(model, x_test, y_test, ignore_index=-100)

Shapes (batch-first): tokens ``(B, L)`` int64, targets ``(B, L)`` int64, logits ``(B, L, C)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.train import History, fit
from attnbook.utils import model_device

__all__ = ["sequence_output", "Tagger", "fit_tagger"]


def sequence_output(layer: nn.Module, x) -> Tensor:
    """``layer(x)``, or its first element where the layer returns a tuple (``nn.GRU`` returns
    ``(outputs, h_n)``, a Transformer encoder ``(outputs, weights)``): the ``(B, L, D)`` outputs."""
    y = layer(x)
    return y[0] if isinstance(y, tuple) else y


class Tagger(nn.Module):
    """A sequence layer and a linear read-out at every position.

    Args:
        body: the sequence layer, ``(B, L, D_in) -> (B, L, width)`` (or a tuple whose first
            element is that); it gets the token ids themselves when ``embed`` is None.
        width: the width of the body's output.
        num_out: C, the number of tags (classes) per position.
        embed: token ids -> ``(B, L, E)`` vectors before the body, or None.
        positions: learned position vectors (an ``nn.Embedding`` with at least L rows),
            concatenated to the token vectors (``D_in = E + P``), or None.

    The modules are registered in the order embed, positions, body, read-out; the read-out is
    created (drawn from the random state) last.

    Shapes:
        tokens ``(B, L)`` -> logits ``(B, L, C)``. ``forward(tokens, embedded)`` takes the token
        vectors ``(B, L, E)`` instead of computing them (to differentiate with respect to them).
    """

    def __init__(self, body: nn.Module, width: int, num_out: int, embed: nn.Module | None = None,
                 positions: nn.Embedding | None = None) -> None:
        super().__init__()
        if positions is not None and embed is None:
            raise ValueError("positions are concatenated to the token vectors: they need an embed")
        self.embed = embed
        self.positions = positions
        self.body = body
        self.out = nn.Linear(width, num_out)

    def forward(self, tokens: Tensor, embedded: Tensor | None = None) -> Tensor:
        if embedded is not None and self.embed is None:
            raise ValueError("embedded vectors need a Tagger with an embed")
        x = tokens if self.embed is None else self.embed(tokens) if embedded is None else embedded
        if self.positions is not None:
            B, L = tokens.shape
            pos = self.positions(torch.arange(L, device=tokens.device))  # (L, P)
            x = torch.cat([x, pos.expand(B, -1, -1)], dim=-1)  # (B, L, E + P)
        return self.out(sequence_output(self.body, x))  # (B, L, C)


def fit_tagger(
    model: nn.Module,
    inputs: Tensor | tuple[Tensor, ...],
    targets: Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    ignore_index: int = -100,
    desc: str = "tagger",
    **fit_kwargs,
) -> History:
    """Train a per-position model with :func:`attnbook.train.fit` and the cross-entropy at every
    position (targets equal to ``ignore_index`` left out).

    The examples are the row numbers; each batch is ``model(inputs[idx])`` against
    ``targets[idx]`` (the tensors moved to the model's device once, here), in ``fit``'s seeded
    order.

    Args:
        model: ``(B, L) -> (B, L, C)`` logits, e.g. a :class:`Tagger`.
        inputs: ``(N, L)`` token ids, or a tuple of ``(N, ...)`` tensors that are the model's
            arguments (e.g. a seq2seq model's source, mask and teacher-forced decoder input).
        targets: ``(N, L)`` tags in ``[0, C)`` or ``ignore_index``.
        epochs, batch_size, lr, desc: as in :func:`attnbook.train.fit`.
        ignore_index: the target value that is not a tag.
        **fit_kwargs: the rest of :func:`attnbook.train.fit`'s arguments (``evaluate``,
            ``target``, ``patience``, ``seed``, ``max_grad_norm``, ...).

    Returns:
        ``fit``'s :class:`attnbook.train.History`.
    """
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    if any(a.shape[0] != targets.shape[0] for a in args) or targets.dim() < 2:
        raise ValueError(f"expected inputs (N, L) and targets (N, L), got "
                         f"{[tuple(a.shape) for a in args]} and {tuple(targets.shape)}")
    device = model_device(model)
    args, targets = tuple(a.to(device) for a in args), targets.to(device)

    def loss_fn(m: nn.Module, idx: Tensor) -> Tensor:
        logits = m(*(a[idx] for a in args))  # (B, L, C)
        return F.cross_entropy(logits.flatten(0, 1), targets[idx].flatten(), ignore_index=ignore_index)

    return fit(model, range(len(targets)), torch.tensor, loss_fn, epochs=epochs,
               batch_size=batch_size, lr=lr, desc=desc, **fit_kwargs)
