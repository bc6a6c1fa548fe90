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

**One API.** Every attention module returns ``(output, weights)`` and keeps the weights of its last
forward pass, detached, as ``.weights``: :class:`Attention` (around :func:`attend`) and
:class:`MultiHeadAttention` (Vaswani et al. 2017, taught in *Self-attention*,
``notebooks/40_self_attention``, the building block of :mod:`attnbook.transformer`), whose masks
are :func:`causal_mask` and :func:`key_padding_mask`.

**Two paths, the same numbers.** :class:`MultiHeadAttention` has a readable path (a loop over
heads, each an :func:`attnbook.attention.attend` call, so the weights are there to plot) and a fast
path (``torch.nn.functional.scaled_dot_product_attention`` on all heads at once, which never forms
the weights). As ``torch.nn.MultiheadAttention``, a call returns ``(output, weights)`` with the
weights by default; the fast path is opt-in, ``need_weights=False`` (then the weights are None).
The Transformer's layers (:mod:`attnbook.transformer`) build theirs with ``need_weights=False``,
so training takes the fast path; :func:`attnbook.transformer.keep_weights` turns the weights on in
a whole model for plotting.
``fast=False`` always reads. The tests check that both paths give the same output, and that both
equal ``torch.nn.MultiheadAttention`` with the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "masked_softmax",
    "dot_score",
    "scaled_dot_score",
    "AdditiveScore",
    "GeneralScore",
    "attend",
    "Attention",
    "StaticScore",
    "SCORES",
    "causal_mask",
    "key_padding_mask",
    "MultiHeadAttention",
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


class StaticScore(nn.Module):
    r"""GAT's score as a score function: :math:`f(q, k) = \operatorname{LeakyReLU}(a_q^\top q + a_k^\top k)`
    (Veličković et al. 2018, slope 0.2).

    The query and the key each add a number of their own, so the ranking of the keys is the same
    for every query: Brody et al. (2022) call such attention *static*. Taught in *Similarity
    functions* (``notebooks/22_similarity``), against the dynamic scores above.

    Shapes: query ``(B, T, D)``, key ``(B, S, D)`` -> scores ``(B, T, S)``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.a_q = nn.Linear(dim, 1, bias=False)
        self.a_k = nn.Linear(dim, 1, bias=False)

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        return F.leaky_relu(self.a_q(query) + self.a_k(key).transpose(-2, -1), 0.2)  # (B, T, S)


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

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """:func:`attend` -> ``(output, weights)``; the weights are also kept, detached."""
        output, weights = attend(query, key, value, mask=mask, score=self.score)
        self.weights = weights.detach()
        return output, weights

    def extra_repr(self) -> str:
        return f"score={self.score!r}" if isinstance(self.score, str) else ""


# --------------------------------------------------------------------------------------- masks


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    """The causal (look-ahead) mask ``(T, T)``: query t may attend to keys ``0 .. t`` only.

    ``True`` on and below the diagonal. Shared by the batch: it broadcasts to ``(B, T, T)``.

    >>> causal_mask(3).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def key_padding_mask(mask: Tensor) -> Tensor:
    """A ``(B, S)`` token mask (``True`` = real token) as the key-padding mask ``(B, 1, S)``.

    The middle axis broadcasts over the queries: every query of example b ignores b's padding.
    """
    if mask.dim() != 2 or mask.dtype != torch.bool:
        raise ValueError(
            f"expected a bool token mask of shape (B, S), got {mask.dtype} {tuple(mask.shape)}"
        )
    return mask.unsqueeze(1)  # (B, 1, S)


def _check_mask(mask: Tensor, B: int, T: int, S: int) -> None:
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = attend), got dtype {mask.dtype}")
    if mask.dim() not in (2, 3):
        raise ValueError(
            f"mask must broadcast to (B, T, S) = {(B, T, S)} as (T, S), (1, T, S), (B, 1, S) or "
            f"(B, T, S); got {tuple(mask.shape)}"
        )
    try:
        torch.broadcast_shapes(tuple(mask.shape), (B, T, S))
    except RuntimeError as e:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to (B, T, S) = {(B, T, S)}"
        ) from e


# ------------------------------------------------------------------------ multi-head attention


class MultiHeadAttention(nn.Module):
    r"""Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2.2).

    .. math::

        \operatorname{MultiHead}(Q, K, V) = [\operatorname{head}_1; \dots; \operatorname{head}_H] W^O,
        \quad \operatorname{head}_h = \operatorname{softmax}\Big(\frac{(Q W_h^Q)(K W_h^K)^\top}{\sqrt{d_k}}\Big) V W_h^V

    Args:
        d_model: the model width D (of queries, keys, values and the output).
        heads: the number of heads H; must divide D. Each head is :math:`d_k = d_v = D/H` wide.
        dropout: dropout on the attention weights (training only), as in torch's module.
        bias: add biases to the four projections.
        fast: use ``scaled_dot_product_attention`` when no weights are asked for (default);
            ``False``: always the readable per-head loop through :func:`attnbook.attention.attend`.
        need_weights: the default of ``forward``'s ``need_weights``: True (as torch's module)
            computes and returns the weights; False takes the fast path and returns None.

    Parameters: ``w_q``, ``w_k``, ``w_v`` (``D -> H d_k``, i.e. the H blocks :math:`W_h^Q` side by
    side) and ``w_o`` (:math:`W^O`: ``H d_v -> D``), all ``nn.Linear``.

    Attributes:
        need_weights: if True (the default), a forward pass that does not say otherwise computes
            the weights (readable path); :func:`keep_weights` sets it on every such module of a model.
        weights: the weights of the last forward pass ``(B, H, T, S)``, detached; None before any
            and after a pass on the fast path (never an earlier batch's weights).

    Shapes:
        query ``(B, T, D)``, key ``(B, S, D)``, value ``(B, S, D)``; mask broadcastable to
        ``(B, T, S)`` (see :func:`attnbook.attention.attend`), shared by the heads ->
        ``(output (B, T, D), weights (B, H, T, S))``; the weights are None on the fast path.
        A query whose keys are all masked gets a zero attention output (then ``w_o``'s bias), on both paths.
    """

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0, bias: bool = True,
                 fast: bool = True, need_weights: bool = True) -> None:
        super().__init__()
        if heads < 1 or d_model % heads:
            raise ValueError(f"heads must divide d_model; got d_model={d_model}, heads={heads}")
        self.d_model, self.heads, self.d_k = d_model, heads, d_model // heads
        self.dropout, self.fast = dropout, fast
        self.w_q = nn.Linear(d_model, d_model, bias=bias)  # W^Q = [W_1^Q ... W_H^Q]
        self.w_k = nn.Linear(d_model, d_model, bias=bias)  # W^K
        self.w_v = nn.Linear(d_model, d_model, bias=bias)  # W^V
        self.w_o = nn.Linear(d_model, d_model, bias=bias)  # W^O: (H d_v) x D
        self.need_weights = need_weights
        self.weights: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.w_q, self.w_k, self.w_v, self.w_o):
            nn.init.xavier_uniform_(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        D = self.d_model
        shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        if query.dim() != 3 or key.dim() != 3 or value.dim() != 3:
            raise ValueError(f"expected query (B, T, {D}), key and value (B, S, {D}); got {shapes}")
        if query.shape[-1] != D or key.shape[-1] != D or value.shape[-1] != D:
            raise ValueError(f"{self!r} expects width D = {D}; got {shapes}")
        if not (query.shape[0] == key.shape[0] == value.shape[0]) or key.shape[1] != value.shape[1]:
            raise ValueError(
                f"expected query (B, T, D), key and value (B, S, D) with one B and one S; got {shapes}"
            )

    def _split(self, x: Tensor) -> Tensor:
        """``(B, L, D)`` -> ``(B, H, L, d_k)``: the H heads side by side become a head axis."""
        B, L, _ = x.shape
        return x.view(B, L, self.heads, self.d_k).transpose(1, 2)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        mask: Tensor | None = None,
        need_weights: bool | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend; see the class docstring.

        Args:
            query, key, value: ``(B, T, D)``, ``(B, S, D)``, ``(B, S, D)``.
            mask: boolean, ``True`` = attend, broadcastable to ``(B, T, S)``; None: no mask.
            need_weights: compute, keep and return the weights (readable path); False: the fast
                path, no weights (``.weights`` becomes None). Default: the module's
                ``need_weights`` attribute (True unless the module was built or set otherwise).

        Returns:
            ``(output (B, T, D), weights)``: weights ``(B, H, T, S)`` if they were computed (readable
            path), else None.
        """
        self._check(query, key, value)
        B, T, S = query.shape[0], query.shape[1], key.shape[1]
        if mask is not None:
            _check_mask(mask, B, T, S)
        want = self.need_weights if need_weights is None else need_weights
        # 1) project: Q = X W^Q, K = X W^K, V = X W^V, and split D into H heads of d_k
        q = self._split(self.w_q(query))  # (B, H, T, d_k)
        k = self._split(self.w_k(key))  # (B, H, S, d_k)
        v = self._split(self.w_v(value))  # (B, H, S, d_v)
        p = self.dropout if self.training else 0.0
        if self.fast and not want:
            out, weights = self._fast(q, k, v, mask, p), None  # (B, H, T, d_v)
            self.weights = None  # never leave an earlier batch's weights behind
        else:
            out, weights = self._readable(q, k, v, mask, p)  # (B, H, T, d_v), (B, H, T, S)
            self.weights = weights.detach()
        # 3) concatenate the heads, [head_1; ...; head_H] (B, T, H d_v), and mix them with W^O
        out = out.transpose(1, 2).reshape(B, T, self.d_model)
        return self.w_o(out), weights

    @staticmethod
    def _readable(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, p: float):
        """2) head_h = attend(Q_h, K_h, V_h): one scaled dot-product attention per head."""
        outs, weights = [], []
        for h in range(q.shape[1]):
            out_h, w_h = attend(q[:, h], k[:, h], v[:, h], mask=mask)  # (B, T, d_v), (B, T, S)
            if p > 0.0:  # dropout on the weights, as torch's module does (training only)
                out_h = F.dropout(w_h, p) @ v[:, h]
            outs.append(out_h)
            weights.append(w_h)
        return torch.stack(outs, 1), torch.stack(weights, 1)  # (B, H, T, d_v), (B, H, T, S)

    @staticmethod
    def _fast(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, p: float) -> Tensor:
        """2) all heads at once with ``scaled_dot_product_attention`` (no weights formed)."""
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        m = mask.unsqueeze(1) if mask.dim() == 3 else mask  # (B|1, 1, T|1, S) or (T, S)
        # A query with no key to attend to gets a zero output, as in attend: let it attend
        # everywhere (finite, whatever the kernel does with an all-masked row), then zero it.
        has_any = m.any(-1, keepdim=True)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=m | ~has_any, dropout_p=p)
        return out * has_any

    def extra_repr(self) -> str:
        return (f"{self.d_model}, heads={self.heads}, dropout={self.dropout}, fast={self.fast}, "
                f"need_weights={self.need_weights}")
