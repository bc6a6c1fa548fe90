r"""Attention as a soft dictionary lookup: score functions, the masked softmax and ``attend``.

Taught in the chapter *Attention as a soft dictionary lookup* (``notebooks/20_soft_dictionary``)
and used by every later chapter (seq2seq attention, the Transformer, GAT as masked self-attention).

A query :math:`q` is compared with every key :math:`k_s` by a score (similarity) function
:math:`f`; a softmax turns the scores into weights that sum to one; the output is the weighted sum
of the values:

.. math::

    A(q, K, V) = \sum_{s=1}^{S} \operatorname{softmax}_s\big(f(q, k_s)\big)\, v_s .

Score functions (query :math:`q \in \mathbb{R}^{D_q}`, key :math:`k \in \mathbb{R}^{D_k}`):

=============  =========================================================  ==========================
name           :math:`f(q, k)`                                            reference
=============  =========================================================  ==========================
additive       :math:`w_v^\top \tanh(W_q q + W_k k)`                       Bahdanau et al. 2015
dot            :math:`q^\top k`                                           Luong et al. 2015
scaled dot     :math:`q^\top k / \sqrt{D}`                                Vaswani et al. 2017
general        :math:`q^\top W k`                                         Luong et al. 2015
=============  =========================================================  ==========================

Shapes (batch-first): query ``(B, T, D)`` -- T queries, e.g. target positions -- or ``(B, D)`` for
one query per example; key ``(B, S, D)``; value ``(B, S, Dv)``; scores and weights ``(B, T, S)``.

Masks are boolean and ``True`` means *take part*; ``False`` positions get a weight of exactly 0.
With T queries per example (query ``(B, T, D)``) the mask broadcasts to the scores ``(B, T, S)``
exactly as in ``torch.nn.functional.scaled_dot_product_attention``: key padding is ``(B, 1, S)``,
one mask shared by the batch (e.g. causal) is ``(T, S)`` or ``(1, T, S)``. With one query per
example (query ``(B, D)``) the mask is ``(B, S)``.
A row whose keys are all masked gets all-zero weights (and so a zero output), with no NaN in the
forward or the backward pass: there is nothing to attend to, and the model is told so by a zero
vector rather than by a NaN that would poison training.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "masked_softmax",
    "dot_score",
    "scaled_dot_score",
    "AdditiveScore",
    "GeneralScore",
    "attend",
    "Attention",
    "SCORES",
]

ScoreFn = Callable[[Tensor, Tensor], Tensor]


def masked_softmax(scores: Tensor, mask: Tensor | None = None, dim: int = -1) -> Tensor:
    """Softmax over ``dim`` that gives masked positions a weight of exactly 0.

    Args:
        scores: real-valued scores, any shape.
        mask: boolean, broadcastable to ``scores``; ``True`` = take part. ``None``: no mask.
        dim: the dimension to normalise over (the keys).

    Returns:
        weights of the shape of ``scores``; each row sums to 1 over its unmasked positions, or is
        all zeros if every position of the row is masked.
    """
    if mask is None:
        return torch.softmax(scores, dim=dim)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = attend), got dtype {mask.dtype}")
    try:
        mask = torch.broadcast_to(mask, scores.shape)
    except RuntimeError as e:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
            f"{tuple(scores.shape)}"
        ) from e
    # Rows with no unmasked position get constant scores (so no NaN, whatever their scores were),
    # are softmaxed unmasked and zeroed below; their gradient is exactly zero.
    has_any = mask.any(dim=dim, keepdim=True)
    keep = mask | ~has_any
    scores = scores.masked_fill(~has_any, 0.0).masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    return weights.masked_fill(~mask, 0.0)


def _check_qk(query: Tensor, key: Tensor, same_dim: bool) -> None:
    if query.dim() != 3 or key.dim() != 3:
        raise ValueError(
            f"expected query (B, T, D) and key (B, S, D), got query {tuple(query.shape)} and "
            f"key {tuple(key.shape)}"
        )
    if query.shape[0] != key.shape[0]:
        raise ValueError(
            f"query and key must have the same batch size B, got query {tuple(query.shape)} and "
            f"key {tuple(key.shape)}"
        )
    if same_dim and query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"dot-product scores need query and key of the same width D, got query "
            f"{tuple(query.shape)} and key {tuple(key.shape)}"
        )


def _check_widths(module: nn.Module, query: Tensor, key: Tensor) -> None:
    """Shapes for a score module with fixed ``query_dim`` and ``key_dim``."""
    _check_qk(query, key, same_dim=False)
    if query.shape[-1] != module.query_dim or key.shape[-1] != module.key_dim:
        raise ValueError(
            f"{module!r} expects query (B, T, {module.query_dim}) and key (B, S, {module.key_dim}), "
            f"got query {tuple(query.shape)} and key {tuple(key.shape)}"
        )


def dot_score(query: Tensor, key: Tensor) -> Tensor:
    r"""Dot-product score :math:`q^\top k`. query ``(B, T, D)``, key ``(B, S, D)`` -> ``(B, T, S)``."""
    _check_qk(query, key, same_dim=True)
    return query @ key.transpose(-2, -1)


def scaled_dot_score(query: Tensor, key: Tensor) -> Tensor:
    r"""Scaled dot-product score :math:`q^\top k / \sqrt{D}` -> ``(B, T, S)``.

    Dividing by :math:`\sqrt{D}` keeps the scores' variance near 1 when the entries of q and k are
    independent with unit variance, so the softmax does not saturate as D grows.
    """
    _check_qk(query, key, same_dim=True)
    return (query @ key.transpose(-2, -1)) / math.sqrt(query.shape[-1])


class AdditiveScore(nn.Module):
    r"""Additive (concat) score of Bahdanau et al. (2015): :math:`f(q, k) = w_v^\top \tanh(W_q q + W_k k)`.

    Equivalent to :math:`w_v^\top \tanh(W [q \,\|\, k])` with :math:`W = [W_q \; W_k]`, the
    "concat" form: a one-hidden-layer MLP of the *pair* (q, k). Because the nonlinearity comes
    before :math:`w_v`, the ranking of the keys can change with the query ("dynamic" attention in
    the terms of Brody et al. 2022; GATv2's score has this form). GAT's score is this form with
    ``hidden_dim = 1`` (LeakyReLU for tanh): :math:`\operatorname{LeakyReLU}(a^\top [W h_i \,\|\, W h_j])`
    splits into a query term plus a key term before one monotonic nonlinearity, so every query
    ranks the keys the same way ("static" attention).

    Args:
        query_dim: width :math:`D_q` of a query.
        key_dim: width :math:`D_k` of a key.
        hidden_dim: width of the hidden layer.

    Shapes:
        query ``(B, T, Dq)``, key ``(B, S, Dk)`` -> scores ``(B, T, S)``.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.query_dim, self.key_dim, self.hidden_dim = query_dim, key_dim, hidden_dim
        self.w_q = nn.Linear(query_dim, hidden_dim, bias=False)
        self.w_k = nn.Linear(key_dim, hidden_dim, bias=False)
        self.w_v = nn.Linear(hidden_dim, 1, bias=False)

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        _check_widths(self, query, key)
        # (B, T, 1, H) + (B, 1, S, H) -> (B, T, S, H): every query meets every key
        hidden = torch.tanh(self.w_q(query).unsqueeze(2) + self.w_k(key).unsqueeze(1))
        return self.w_v(hidden).squeeze(-1)  # (B, T, S)

    def __repr__(self) -> str:
        return f"AdditiveScore({self.query_dim}, {self.key_dim}, hidden_dim={self.hidden_dim})"


class GeneralScore(nn.Module):
    r"""General (bilinear) score of Luong et al. (2015): :math:`f(q, k) = q^\top W k`.

    Args:
        query_dim: width :math:`D_q` of a query.
        key_dim: width :math:`D_k` of a key.

    Shapes:
        query ``(B, T, Dq)``, key ``(B, S, Dk)`` -> scores ``(B, T, S)``.
    """

    def __init__(self, query_dim: int, key_dim: int) -> None:
        super().__init__()
        self.query_dim, self.key_dim = query_dim, key_dim
        self.weight = nn.Parameter(torch.empty(query_dim, key_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.weight)

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        _check_widths(self, query, key)
        # (B, T, Dq) @ (Dq, Dk) -> (B, T, Dk); then @ (B, Dk, S) -> (B, T, S)
        return (query @ self.weight) @ key.transpose(-2, -1)

    def __repr__(self) -> str:
        return f"GeneralScore({self.query_dim}, {self.key_dim})"


SCORES: dict[str, ScoreFn] = {"dot": dot_score, "scaled_dot": scaled_dot_score}


def attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    score: str | ScoreFn = "scaled_dot",
) -> tuple[Tensor, Tensor]:
    r"""Soft dictionary lookup: :math:`A(q, K, V) = \sum_s \operatorname{softmax}_s(f(q, k_s))\, v_s`.

    Args:
        query: ``(B, T, D)``, or ``(B, D)`` for one query per example.
        key: ``(B, S, D)``.
        value: ``(B, S, Dv)``; one value per key.
        mask: boolean, ``True`` = attend. With a ``(B, T, D)`` query: broadcastable to
            ``(B, T, S)`` as in ``scaled_dot_product_attention`` (``(B, 1, S)`` key padding,
            ``(T, S)`` shared by the batch, ``(B, T, S)``). With a ``(B, D)`` query: ``(B, S)``.
        score: ``"dot"``, ``"scaled_dot"`` (default) or a callable ``(query, key) -> (B, T, S)``
            such as :class:`AdditiveScore` or :class:`GeneralScore`.

    Returns:
        ``(output, weights)``: output ``(B, T, Dv)`` (``(B, Dv)`` for a 2-d query) and weights
        ``(B, T, S)`` (``(B, S)``), each row summing to 1 over the unmasked keys (0 if none).

    Raises:
        ValueError: shapes that do not fit, naming the shapes received.
    """
    if key.dim() != 3 or value.dim() != 3 or key.shape[:2] != value.shape[:2]:
        raise ValueError(
            f"expected key (B, S, D) and value (B, S, Dv) with the same B and S, got key "
            f"{tuple(key.shape)} and value {tuple(value.shape)}"
        )
    if query.dim() not in (2, 3):
        raise ValueError(
            f"expected query (B, T, D) or (B, D), got query {tuple(query.shape)} "
            f"(key {tuple(key.shape)})"
        )
    single = query.dim() == 2
    if single:
        if query.shape[0] != key.shape[0]:
            raise ValueError(
                f"query and key must have the same batch size B, got query {tuple(query.shape)} "
                f"and key {tuple(key.shape)}"
            )
        if mask is not None and tuple(mask.shape) != (key.shape[0], key.shape[1]):
            raise ValueError(
                f"with one query per example (query {tuple(query.shape)}) the mask must be "
                f"(B, S) = {(key.shape[0], key.shape[1])}, got {tuple(mask.shape)}"
            )
        query = query.unsqueeze(1)  # (B, 1, D)
        if mask is not None:
            mask = mask.unsqueeze(1)  # (B, 1, S)
    if isinstance(score, str):
        if score not in SCORES:
            raise ValueError(f"unknown score {score!r}; choose one of {sorted(SCORES)} or a callable")
        score_fn = SCORES[score]
    else:
        score_fn = score
    scores = score_fn(query, key)  # (B, T, S)
    if scores.shape != (query.shape[0], query.shape[1], key.shape[1]):
        raise ValueError(
            f"the score function returned {tuple(scores.shape)}, expected (B, T, S) = "
            f"{(query.shape[0], query.shape[1], key.shape[1])}"
        )
    weights = masked_softmax(scores, mask, dim=-1)  # (B, T, S)
    output = weights @ value  # (B, T, S) @ (B, S, Dv) -> (B, T, Dv)
    if single:
        return output.squeeze(1), weights.squeeze(1)
    return output, weights


class Attention(nn.Module):
    """A thin module around :func:`attend` that keeps the last weights for plotting.

    Args:
        score: ``"dot"``, ``"scaled_dot"`` or a score module (its parameters are registered).

    Attributes:
        weights: the attention weights of the last forward pass, detached, ``(B, T, S)``.
    """

    def __init__(self, score: str | nn.Module | ScoreFn = "scaled_dot") -> None:
        super().__init__()
        if isinstance(score, str) and score not in SCORES:
            raise ValueError(f"unknown score {score!r}; choose one of {sorted(SCORES)} or a module")
        self.score = score
        self.weights: Tensor | None = None

    def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None) -> Tensor:
        output, weights = attend(query, key, value, mask=mask, score=self.score)
        self.weights = weights.detach()
        return output

    def extra_repr(self) -> str:
        return f"score={self.score!r}" if isinstance(self.score, str) else ""
