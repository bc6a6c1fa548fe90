r"""Attention for classification: a learned context vector as the query, and the Hierarchical
Attention Network (HAN) of Yang et al. (2016).

Taught in the chapter *Attention for classification and the HAN* (``notebooks/23_han``).

A classifier has no decoder state to ask with, so the query is a **learned context vector**
:math:`u`, one vector of parameters that asks "which positions tell me the class?". The keys are
the hidden states :math:`h_t` of a bidirectional GRU passed through one layer, the values are the
hidden states themselves (Yang et al. 2016, eqs. 5-7):

.. math::

    k_t = \tanh(W h_t + b), \qquad
    \alpha_t = \frac{\exp(u^\top k_t)}{\sum_{t'} \exp(u^\top k_{t'})}, \qquad
    s = \sum_t \alpha_t h_t .

That is ``attend(u, K, H, score="dot")`` with one query per example (tested equal), and
:func:`context_attention` takes its arguments in ``attend``'s order, ``(query, keys, values,
mask)``. Like every attention module of the package, :class:`ContextAttention` returns
``(output, weights)`` and keeps the last weights as ``.weights``. The pooled vector :math:`s` is
compared in the chapter with the mean, the maximum and the last state of the
same GRU (:class:`AttentionClassifier`, ``pooling=...``).

The HAN applies the same pooling twice: the words of each sentence are read by a word-level
bidirectional GRU and pooled with a word context vector into a sentence vector; the sentence
vectors are read by a sentence-level bidirectional GRU and pooled with a sentence context vector
into the document vector, which a linear layer classifies (:class:`HAN`).

Padding: recurrent networks here read only the real tokens (:class:`attnbook.rnn.BiGRUEncoder`),
and padded words and padded sentences get an attention weight of exactly 0 (``masked_softmax``), so a document's
prediction does not depend on how much padding its batch adds (tested).

Shapes (batch-first): tokens ``(B, L)`` with mask ``(B, L)``; documents ``(B, S, L)`` -- B
documents, S sentences, L words -- with ``word_mask (B, S, L)`` and ``sentence_mask (B, S)``, as
:func:`attnbook.data.text.pad_documents` returns them. Masks are boolean, ``True`` = real.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from attnbook.attention import masked_softmax
from attnbook.rnn import BiGRUEncoder

__all__ = [
    "context_attention",
    "ContextAttention",
    "POOLINGS",
    "pool",
    "AttentionClassifier",
    "HAN",
]


def _check_states_mask(states: Tensor, mask: Tensor | None, who: str) -> None:
    if states.dim() != 3:
        raise ValueError(f"{who} expects states of shape (B, L, D), got {tuple(states.shape)}")
    if mask is not None and tuple(mask.shape) != tuple(states.shape[:2]):
        raise ValueError(
            f"{who} expects a mask of shape (B, L) = {tuple(states.shape[:2])}, got "
            f"{tuple(mask.shape)}"
        )


def context_attention(
    query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    r"""Attention pooling with one learned query :math:`u` shared by every example.

    :math:`\alpha_t = \operatorname{softmax}_t(u^\top k_t)` over the unmasked positions,
    :math:`s = \sum_t \alpha_t v_t`. Equal to ``attend(query.expand(B, D), keys, values, mask,
    score="dot")`` (the same order of arguments), written out so that the three steps can be read.

    Args:
        query: the context vector :math:`u`, ``(D,)``: one query shared by every example.
        keys: ``(B, L, D)``, e.g. :math:`\tanh(W h_t + b)`.
        values: ``(B, L, Dv)``, e.g. the hidden states :math:`h_t`.
        mask: ``(B, L)`` bool, ``True`` = real position; padded positions get weight exactly 0.

    Returns:
        ``(output, weights)``: ``(B, Dv)`` and ``(B, L)``; a row with no real position gets
        all-zero weights and a zero output.
    """
    _check_states_mask(keys, mask, "context_attention")
    if values.dim() != 3 or values.shape[:2] != keys.shape[:2]:
        raise ValueError(
            f"context_attention expects values (B, L, Dv) with the keys' B and L, got keys "
            f"{tuple(keys.shape)} and values {tuple(values.shape)}"
        )
    if query.dim() != 1 or query.shape[0] != keys.shape[-1]:
        raise ValueError(
            f"context_attention expects a query (the context vector) of shape ({keys.shape[-1]},) "
            f"for keys {tuple(keys.shape)}, got {tuple(query.shape)}"
        )
    scores = keys @ query  # (B, L, D) @ (D,) -> (B, L): u^T k_t
    weights = masked_softmax(scores, mask, dim=-1)  # (B, L)
    output = (weights.unsqueeze(1) @ values).squeeze(1)  # (B, 1, L) @ (B, L, Dv) -> (B, Dv)
    return output, weights


class ContextAttention(nn.Module):
    r"""Context-vector attention of Yang et al. (2016): keys :math:`\tanh(W h_t + b)`, query
    :math:`u` (a parameter), values :math:`h_t`.

    Args:
        input_dim: width D of the states :math:`h_t`.
        attn_dim: width of the keys and of :math:`u` (default ``input_dim``).

    Shapes:
        states ``(B, L, D)``, mask ``(B, L)`` -> ``(pooled (B, D), weights (B, L))``, as every
        attention module of the package returns ``(output, weights)``.

    Attributes:
        weights: the weights of the last forward pass, detached, ``(B, L)``.
    """

    def __init__(self, input_dim: int, attn_dim: int | None = None) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.attn_dim = attn_dim or input_dim
        self.proj = nn.Linear(input_dim, self.attn_dim)  # W, b
        self.context = nn.Parameter(torch.empty(self.attn_dim))  # u
        self.weights: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.proj.reset_parameters()
        # u ~ N(0, 1/d): scores u^T k start with variance about 1, neither flat nor saturated
        nn.init.normal_(self.context, std=self.attn_dim**-0.5)

    def keys(self, states: Tensor) -> Tensor:
        """:math:`k_t = \\tanh(W h_t + b)`: ``(B, L, D)`` -> ``(B, L, attn_dim)``."""
        return torch.tanh(self.proj(states))

    def forward(self, states: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _check_states_mask(states, mask, repr(self))
        if states.shape[-1] != self.input_dim:
            raise ValueError(
                f"{self!r} expects states (B, L, {self.input_dim}), got {tuple(states.shape)}"
            )
        pooled, weights = context_attention(self.context, self.keys(states), states, mask)
        self.weights = weights.detach()
        return pooled, weights

    def __repr__(self) -> str:
        return f"ContextAttention({self.input_dim}, attn_dim={self.attn_dim})"


POOLINGS = ("attention", "mean", "max", "last")


def pool(
    states: Tensor,
    mask: Tensor,
    kind: str,
    final: Tensor | None = None,
    context: ContextAttention | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Pool ``states (B, L, D)`` over the real positions of ``mask (B, L)`` into ``(B, D)``.

    ``"attention"``: context-vector attention (needs the :class:`ContextAttention` ``context``); ``"mean"``: the average of
    the real states; ``"max"``: the coordinate-wise maximum of the real states; ``"last"``: the
    encoder's final state ``final`` (forward direction at the last real word, backward direction
    at the first). Rows without a real position pool to 0.

    Returns:
        ``(pooled, weights)``; ``weights (B, L)`` for attention and mean pooling (uniform over the
        real positions), ``None`` for max and last.
    """
    _check_states_mask(states, mask, "pool")
    if kind == "attention":
        if context is None:
            raise ValueError("attention pooling needs a ContextAttention module (context=...)")
        return context(states, mask)
    if kind == "mean":
        n = mask.sum(-1, keepdim=True).clamp(min=1)  # (B, 1)
        weights = mask.to(states.dtype) / n  # (B, L)
        return (weights.unsqueeze(1) @ states).squeeze(1), weights
    if kind == "max":
        filled = states.masked_fill(~mask.unsqueeze(-1), float("-inf"))
        pooled = filled.max(dim=1).values  # (B, D)
        return pooled.masked_fill(~mask.any(-1, keepdim=True), 0.0), None
    if kind == "last":
        if final is None:
            raise ValueError("last-state pooling needs the encoder's final state")
        return final, None
    raise ValueError(f"unknown pooling {kind!r}; choose one of {POOLINGS}")


class AttentionClassifier(nn.Module):
    """The "RNN document classification" of the lecture notes: embedding -> bidirectional GRU ->
    pooling -> linear, reading a document as one flat sequence of words.

    Args:
        vocab_size: number of token ids (id ``pad_id`` is padding).
        num_classes: number of classes.
        embed_dim: width of the word embeddings.
        hidden_size: H per direction of the GRU (states ``2H``).
        pooling: ``"attention"`` (a learned context vector), ``"mean"``, ``"max"`` or ``"last"``.
        attn_dim: width of the keys and of the context vector (default ``2H``).
        dropout: dropout on the embeddings and on the pooled vector.
        pad_id: the padding id (its embedding is kept at 0).

    Shapes:
        tokens ``(B, L)`` int64, mask ``(B, L)`` bool -> logits ``(B, num_classes)``.

    Attributes:
        context: the :class:`ContextAttention` of attention pooling (None for the other poolings).
        weights: the pooling weights of the last forward pass ``(B, L)`` (attention or mean), or
            None.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 64,
        hidden_size: int = 32,
        pooling: str = "attention",
        attn_dim: int | None = None,
        dropout: float = 0.0,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
        self.pooling = pooling
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.encoder = BiGRUEncoder(embed_dim, hidden_size)
        self.context = ContextAttention(2 * hidden_size, attn_dim) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden_size, num_classes)
        self.weights: Tensor | None = None

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        if tokens.dim() != 2:
            raise ValueError(f"expected tokens of shape (B, L), got {tuple(tokens.shape)}")
        if mask is None:
            mask = tokens != self.embed.padding_idx
        if mask.shape != tokens.shape:
            raise ValueError(
                f"expected a mask of the tokens' shape {tuple(tokens.shape)}, got {tuple(mask.shape)}"
            )
        x = self.dropout(self.embed(tokens))  # (B, L, E)
        states, final = self.encoder(x, mask)  # (B, L, 2H), (B, 2H)
        pooled, weights = pool(states, mask, self.pooling, final, self.context)  # (B, 2H)
        self.weights = None if weights is None else weights.detach()
        return self.out(self.dropout(pooled))  # (B, C)


class HAN(nn.Module):
    """The Hierarchical Attention Network of Yang et al. (2016).

    1. word level: embed the words of every sentence, read each sentence with a bidirectional GRU,
       pool its states with the word context vector into a sentence vector;
    2. sentence level: read the sentence vectors with a bidirectional GRU, pool its states with the
       sentence context vector into the document vector;
    3. classify the document vector with a linear layer.

    Args:
        vocab_size: number of word ids (``pad_id`` is padding).
        num_classes: number of classes.
        embed_dim: width of the word embeddings.
        word_hidden: H of the word GRU per direction (sentence vectors are ``2 * word_hidden``).
        sentence_hidden: H of the sentence GRU per direction (document vector ``2 *
            sentence_hidden``).
        dropout: dropout on the embeddings, the sentence vectors and the document vector.
        pad_id: the padding id.
        word_buckets: the word GRU runs the sentences of a batch in this many groups of similar
            length (:class:`attnbook.rnn.BiGRUEncoder`); a speed-up only.

    Shapes:
        ids ``(B, S, L)`` int64, word_mask ``(B, S, L)`` bool, sentence_mask ``(B, S)`` bool
        (default: the sentences with at least one word) -> logits ``(B, num_classes)``.

    Attributes:
        word_weights: word attention of the last forward pass, ``(B, S, L)``, detached; each real
            sentence's row sums to 1, padded words and sentences are 0.
        sentence_weights: sentence attention, ``(B, S)``, detached.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 64,
        word_hidden: int = 32,
        sentence_hidden: int = 32,
        dropout: float = 0.0,
        pad_id: int = 0,
        word_buckets: int = 4,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.word_encoder = BiGRUEncoder(embed_dim, word_hidden, buckets=word_buckets)
        self.word_attention = ContextAttention(2 * word_hidden)
        self.sentence_encoder = BiGRUEncoder(2 * word_hidden, sentence_hidden)
        self.sentence_attention = ContextAttention(2 * sentence_hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * sentence_hidden, num_classes)
        self.word_weights: Tensor | None = None
        self.sentence_weights: Tensor | None = None

    def encode(
        self, ids: Tensor, word_mask: Tensor, sentence_mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The document vectors ``(B, 2 * sentence_hidden)`` with the word ``(B, S, L)`` and
        sentence ``(B, S)`` attention weights."""
        if ids.dim() != 3:
            raise ValueError(f"HAN expects ids of shape (B, S, L), got {tuple(ids.shape)}")
        if word_mask.shape != ids.shape:
            raise ValueError(
                f"HAN expects a word_mask of the ids' shape (B, S, L) = {tuple(ids.shape)}, got "
                f"{tuple(word_mask.shape)}"
            )
        if sentence_mask is None:
            sentence_mask = word_mask.any(-1)
        if tuple(sentence_mask.shape) != tuple(ids.shape[:2]):
            raise ValueError(
                f"HAN expects a sentence_mask of shape (B, S) = {tuple(ids.shape[:2])}, got "
                f"{tuple(sentence_mask.shape)}"
            )
        b, s, length = ids.shape
        # padded sentences take no part at the word level either
        word_mask = word_mask & sentence_mask.unsqueeze(-1)  # (B, S, L)
        # 1) word level: every real sentence of every document is one sequence (N of them)
        real = sentence_mask.reshape(b * s).nonzero().squeeze(-1)  # (N,) indices into B*S
        sent_ids = ids.reshape(b * s, length)[real]  # (N, L)
        sent_mask = word_mask.reshape(b * s, length)[real]  # (N, L)
        x = self.dropout(self.embed(sent_ids))  # (N, L, E)
        word_states, _ = self.word_encoder(x, sent_mask)  # (N, L, 2Hw)
        vectors, w = self.word_attention(word_states, sent_mask)  # (N, 2Hw), (N, L)
        # scatter back: padded sentences get a zero vector and zero word weights
        sentences = vectors.new_zeros(b * s, vectors.shape[-1]).index_copy(0, real, vectors)
        word_w = w.new_zeros(b * s, length).index_copy(0, real, w)
        sentences = self.dropout(sentences.reshape(b, s, -1))  # (B, S, 2Hw)
        # 2) sentence level
        sentence_states, _ = self.sentence_encoder(sentences, sentence_mask)  # (B, S, 2Hs)
        doc, sent_w = self.sentence_attention(sentence_states, sentence_mask)  # (B, 2Hs), (B, S)
        return doc, word_w.reshape(b, s, length), sent_w

    def forward(
        self, ids: Tensor, word_mask: Tensor, sentence_mask: Tensor | None = None
    ) -> Tensor:
        doc, word_w, sent_w = self.encode(ids, word_mask, sentence_mask)
        self.word_weights, self.sentence_weights = word_w.detach(), sent_w.detach()
        return self.out(self.dropout(doc))  # (B, C)
