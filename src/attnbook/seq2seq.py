r"""Sequence to sequence: a recurrent encoder, a decoder with one fixed context vector, an attention
decoder, and greedy decoding.

Taught in the chapters *Sequence to sequence* (``notebooks/11_seq2seq``: :class:`Encoder`,
:class:`ContextDecoder`, :func:`greedy_decode`) and *Attention in seq2seq*
(``notebooks/21_attention_seq2seq``: :class:`AttentionDecoder`).

**Without attention** (Cho et al. 2014; Sutskever et al. 2014) the encoder compresses the whole
source into one vector :math:`c` (here :math:`c = \tanh(W_c [\overrightarrow{h}_S ;
\overleftarrow{h}_1])`, the final states of a bidirectional GRU), and every decoder step sees only
:math:`c`, its previous output and its own state:

.. math::

    s_t = \operatorname{GRU}([e(y_{t-1}) ; c],\ s_{t-1}), \quad s_0 = c, \qquad
    p(y_t \mid y_{<t}, x) = \operatorname{softmax}(W_o [s_t ; c ; e(y_{t-1})]).

**With attention** (Bahdanau et al. 2015) the context is recomputed at every step: the query is the
decoder state, keys and values are the encoder states :math:`h_1 \dots h_S`:

.. math::

    \alpha_{t,s} = \operatorname{softmax}_s f(s_{t-1}, h_s), \quad c_t = \sum_s \alpha_{t,s} h_s,
    \quad s_t = \operatorname{GRU}([e(y_{t-1}) ; c_t],\ s_{t-1}),

with the additive score :math:`f(q, k) = w^\top \tanh(W_q q + W_k k)`, or Luong et al.'s (2015)
dot :math:`q^\top k` and general :math:`q^\top W k` scores, all from :mod:`attnbook.attention`.
Padded source positions get a weight of exactly 0 (the mask of :func:`attnbook.attention.attend`);
``AttentionDecoder(..., use_mask=False)`` lets the attention see them, for the experiment of
chapter 21's exercise 21.2.

Shapes (batch-first): source ids ``(B, S)`` with a mask ``(B, S)`` (``True`` = real token), target
ids ``(B, T)``, logits ``(B, T, V)``, attention weights ``(B, T, S)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from attnbook.attention import AdditiveScore, GeneralScore, attend
from attnbook.data.text import Vocab, pad_batch

__all__ = [
    "Encoder",
    "ContextDecoder",
    "AttentionDecoder",
    "Seq2Seq",
    "Decoded",
    "greedy_decode",
    "Batch",
    "make_batch",
    "teacher_forcing_loss",
    "label_smoothed_loss",
    "translate",
    "accuracy_by_length",
]


def _check_source(src: Tensor, mask: Tensor) -> None:
    if src.dim() != 2:
        raise ValueError(f"expected source ids of shape (B, S), got {tuple(src.shape)}")
    if mask.shape != src.shape or mask.dtype != torch.bool:
        raise ValueError(
            f"expected a bool source mask of the source's shape {tuple(src.shape)}, got "
            f"{mask.dtype} {tuple(mask.shape)}"
        )
    if src.shape[0] and not bool(mask[:, 0].all()):
        raise ValueError("every source sequence needs at least one token, left-aligned (mask[:, 0] all True)")


class Encoder(nn.Module):
    """Embedding -> GRU over the real tokens (padding is skipped by packing), bi- or unidirectional.

    Args:
        vocab_size: source vocabulary size V_s.
        embed_dim: width of the embeddings.
        hidden_size: D per direction; the encoder states are ``2D`` wide (``D`` if unidirectional).
        pad_id: the padding id (its embedding is kept at zero).
        bidirectional: read the source in both directions (the default, as in Bahdanau et al.
            2015); ``False`` gives the left-to-right encoder of Cho et al. (2014) and Sutskever et
            al. (2014).

    Shapes:
        src ``(B, S)``, mask ``(B, S)`` -> states ``(B, S, out_dim)`` (zeros at padding) and final
        ``(B, out_dim)`` = :math:`[\\overrightarrow{h}_{\\text{last}} ; \\overleftarrow{h}_1]`
        (:math:`\\overrightarrow{h}_{\\text{last}}` alone if unidirectional), where ``out_dim`` is
        ``2D`` or ``D``. The mask decides what is read: the GRU runs over the first
        ``mask.sum(1)`` tokens of each row, so padding changes neither the states of the real
        tokens nor the final vector.
    """

    def __init__(
        self, vocab_size: int, embed_dim: int, hidden_size: int, pad_id: int = 0,
        bidirectional: bool = True,
    ) -> None:
        super().__init__()
        self.hidden_size, self.bidirectional = hidden_size, bidirectional
        self.out_dim = (2 if bidirectional else 1) * hidden_size
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(embed_dim, hidden_size, batch_first=True, bidirectional=bidirectional)

    def forward(self, src: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        _check_source(src, mask)
        lengths = mask.sum(1).cpu()  # (B,)
        packed = pack_padded_sequence(self.embed(src), lengths, batch_first=True, enforce_sorted=False)
        out, h_n = self.rnn(packed)  # h_n (directions, B, D)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])  # (B, S, out_dim)
        final = torch.cat(list(h_n), dim=-1)  # (B, out_dim)
        return states, final


class ContextDecoder(nn.Module):
    """The decoder of Cho et al. (2014): every step sees the same context vector c.

    Args:
        vocab_size: target vocabulary size V.
        embed_dim: width of the target embeddings.
        hidden_size: width of the decoder state.
        context_dim: width of the encoder's final vector (``Encoder.out_dim``).

    ``init`` maps the encoder's final vector to ``(state, c)``; ``step`` takes one step (the
    readable path, used by :func:`greedy_decode`). Because c does not change, the input of every
    step, :math:`[e(y_{t-1}) ; c]`, is known in advance under teacher forcing, so
    :meth:`teacher_forced` runs the GRU over all steps in one call (the fast path that
    :class:`Seq2Seq` uses for training; the same numbers, tested).
    """

    uses_attention = False

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, context_dim: int) -> None:
        super().__init__()
        self.vocab_size, self.hidden_size, self.context_dim = vocab_size, hidden_size, context_dim
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.bridge = nn.Linear(context_dim, hidden_size)
        self.rnn = nn.GRU(embed_dim + hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(2 * hidden_size + embed_dim, vocab_size)

    def init(self, states: Tensor, final: Tensor, mask: Tensor) -> dict:
        if final.dim() != 2 or final.shape[-1] != self.context_dim:
            raise ValueError(
                f"{type(self).__name__} expects the encoder's final vector (B, {self.context_dim}), "
                f"got {tuple(final.shape)}"
            )
        c = torch.tanh(self.bridge(final))  # (B, D_dec): the one fixed context vector
        return {"s": c, "c": c}

    def step(self, y_prev: Tensor, memory: dict, states: Tensor, mask: Tensor):
        """One step: ``y_prev (B,)`` -> ``(logits (B, V), memory, weights=None)``."""
        e = self.embed(y_prev)  # (B, E)
        x = torch.cat([e, memory["c"]], dim=-1).unsqueeze(1)  # (B, 1, E + D_dec): one time step
        s = self.rnn(x, memory["s"].unsqueeze(0))[0][:, 0]  # (B, D_dec)
        logits = self.out(torch.cat([s, memory["c"], e], dim=-1))  # (B, V)
        return logits, {"s": s, "c": memory["c"]}, None

    def teacher_forced(self, tgt_in: Tensor, memory: dict) -> Tensor:
        """All steps at once under teacher forcing: ``tgt_in (B, T)`` -> logits ``(B, T, V)``."""
        e = self.embed(tgt_in)  # (B, T, E)
        c = memory["c"].unsqueeze(1).expand(-1, tgt_in.shape[1], -1)  # (B, T, D_dec): the same c
        s, _ = self.rnn(torch.cat([e, c], dim=-1), memory["s"].unsqueeze(0))  # (B, T, D_dec)
        return self.out(torch.cat([s, c, e], dim=-1))  # (B, T, V)


class AttentionDecoder(nn.Module):
    """The attention decoder of Bahdanau et al. (2015), with a choice of score function.

    At step t the query is the previous decoder state :math:`s_{t-1}`; keys and values are the
    encoder states. ``score="additive"`` (Bahdanau), ``"dot"`` or ``"general"`` (Luong et al.
    2015); the dot score needs ``hidden_size == key_dim``.

    Args:
        vocab_size: target vocabulary size V.
        embed_dim: width of the target embeddings.
        hidden_size: width of the decoder state (the query).
        key_dim: width of the encoder states (``2D`` of :class:`Encoder`).
        score: ``"additive"``, ``"dot"`` or ``"general"``.
        attn_dim: the hidden width of the additive score.
        precompute_keys: for the additive score, compute :math:`W_k h_s` once per source instead of
            at every step (the fast path; the same numbers, tested).
        use_mask: pass the source mask to the attention (the default), so that padded positions
            get a weight of exactly 0. ``False`` attends over every position of the padded batch,
            padding included (the encoder still packs, so the states there are zero vectors): an
            experiment, not a model to use -- its output for a source depends on how much padding
            the source gets in its batch.

    Attributes:
        weights: after a forward pass of :class:`Seq2Seq`, the stacked weights ``(B, T, S)``.
    """

    uses_attention = True

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        key_dim: int,
        score: str = "additive",
        attn_dim: int | None = None,
        precompute_keys: bool = True,
        use_mask: bool = True,
    ) -> None:
        super().__init__()
        self.vocab_size, self.hidden_size, self.key_dim = vocab_size, hidden_size, key_dim
        self.precompute_keys, self.use_mask = precompute_keys, use_mask
        if score == "additive":
            self.score = AdditiveScore(hidden_size, key_dim, attn_dim or hidden_size)
        elif score == "general":
            self.score = GeneralScore(hidden_size, key_dim)
        elif score == "dot":
            if hidden_size != key_dim:
                raise ValueError(
                    f"the dot score needs queries and keys of one width; hidden_size={hidden_size}, "
                    f"key_dim={key_dim}"
                )
            self.score = "dot"
        else:
            raise ValueError(f"unknown score {score!r}; choose 'additive', 'dot' or 'general'")
        self.score_name = score
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.bridge = nn.Linear(key_dim, hidden_size)
        self.cell = nn.GRUCell(embed_dim + key_dim, hidden_size)
        self.out = nn.Linear(hidden_size + key_dim + embed_dim, vocab_size)

    def init(self, states: Tensor, final: Tensor, mask: Tensor) -> dict:
        memory = {"s": torch.tanh(self.bridge(final))}  # s_0 (B, D_dec)
        if self.precompute_keys and isinstance(self.score, AdditiveScore):
            # Fast path: W_k h_s does not change from step to step, so project the keys once.
            memory["keys"] = self.score.w_k(states)  # (B, S, attn_dim)
        return memory

    def _projected_additive(self, query: Tensor, projected_keys: Tensor) -> Tensor:
        """:class:`AdditiveScore` with the keys already multiplied by ``W_k``: the same numbers."""
        hidden = torch.tanh(self.score.w_q(query).unsqueeze(2) + projected_keys.unsqueeze(1))  # (B, T, S, A)
        return self.score.w_v(hidden).squeeze(-1)  # (B, T, S)

    def step(self, y_prev: Tensor, memory: dict, states: Tensor, mask: Tensor):
        """One step: ``y_prev (B,)`` -> ``(logits (B, V), memory, weights (B, S))``."""
        e = self.embed(y_prev)  # (B, E)
        # 1) query = s_{t-1}; keys = values = encoder states; padded positions masked out
        #    (unless use_mask=False: then the padding takes part in the softmax too)
        attn_mask = mask if self.use_mask else None
        if "keys" in memory:
            c, weights = attend(memory["s"], memory["keys"], states, mask=attn_mask,
                                score=self._projected_additive)
        else:
            # (B, 2D), (B, S)
            c, weights = attend(memory["s"], states, states, mask=attn_mask, score=self.score)
        # 2) update the state with the previous output and the fresh context
        s = self.cell(torch.cat([e, c], dim=-1), memory["s"])  # (B, D_dec)
        # 3) predict from the state, the context and the previous output
        logits = self.out(torch.cat([s, c, e], dim=-1))  # (B, V)
        return logits, {**memory, "s": s}, weights


@dataclass
class Decoded:
    """The result of :func:`greedy_decode`.

    Attributes:
        ids: ``(B, T')`` predicted ids, ``pad_id`` after each sequence's end token (which is kept).
        lengths: ``(B,)`` number of ids up to and including the end token (or ``max_len``).
        weights: ``(B, T', S)`` attention weights, or None for a decoder without attention.
    """

    ids: Tensor
    lengths: Tensor
    weights: Tensor | None


class Seq2Seq(nn.Module):
    """Encoder + decoder, trained with teacher forcing.

    Args:
        encoder: an :class:`Encoder`.
        decoder: a :class:`ContextDecoder` or :class:`AttentionDecoder`.
        fast: when the decoder offers ``teacher_forced`` (:class:`ContextDecoder`), run all
            teacher-forced steps in one call instead of the step loop (same numbers, tested).

    Shapes:
        ``forward(src (B, S), src_mask (B, S), tgt_in (B, T))`` -> logits ``(B, T, V)``, where
        ``tgt_in`` is the target shifted right (``<bos> y_1 ... y_{T-1}``): at step t the decoder is
        fed the *true* previous token, not its own guess (teacher forcing).
    """

    def __init__(
        self, encoder: Encoder, decoder: ContextDecoder | AttentionDecoder, fast: bool = True
    ) -> None:
        super().__init__()
        self.encoder, self.decoder, self.fast = encoder, decoder, fast
        self.weights: Tensor | None = None

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> Tensor:
        _check_source(src, src_mask)
        if tgt_in.dim() != 2 or tgt_in.shape[0] != src.shape[0]:
            raise ValueError(
                f"expected tgt_in of shape (B, T) with B = {src.shape[0]}, got {tuple(tgt_in.shape)}"
            )
        states, final = self.encoder(src, src_mask)  # (B, S, 2D), (B, 2D)
        memory = self.decoder.init(states, final, src_mask)
        if self.fast and hasattr(self.decoder, "teacher_forced"):
            self.weights = None
            return self.decoder.teacher_forced(tgt_in, memory)  # all steps in one call
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            lg, memory, w = self.decoder.step(tgt_in[:, t], memory, states, src_mask)
            logits.append(lg)
            if w is not None:
                weights.append(w)
        self.weights = torch.stack(weights, 1).detach() if weights else None  # (B, T, S)
        if not logits:
            return states.new_zeros(src.shape[0], 0, self.decoder.vocab_size)
        return torch.stack(logits, dim=1)  # (B, T, V)


@torch.no_grad()
def greedy_decode(
    model: Seq2Seq,
    src: Tensor,
    src_mask: Tensor,
    bos_id: int,
    eos_id: int,
    max_len: int,
    pad_id: int = 0,
) -> Decoded:
    """Greedy decoding: feed back the most probable token until ``<eos>`` or ``max_len`` tokens.

    Args:
        model: a :class:`Seq2Seq`.
        src, src_mask: ``(B, S)`` source ids and mask.
        bos_id, eos_id, pad_id: special ids of the target vocabulary.
        max_len: the most tokens to produce per sequence (the end token included), >= 1.

    Returns:
        a :class:`Decoded`; decoding stops as soon as every sequence has produced ``<eos>``.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    was_training = model.training
    model.eval()
    try:
        B = src.shape[0]
        states, final = model.encoder(src, src_mask)
        memory = model.decoder.init(states, final, src_mask)
        y = torch.full((B,), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        lengths = torch.full((B,), max_len, dtype=torch.long, device=src.device)
        ids, weights = [], []
        for t in range(max_len):
            logits, memory, w = model.decoder.step(y, memory, states, src_mask)
            y = logits.argmax(-1)  # (B,)
            ids.append(torch.where(done, torch.full_like(y, pad_id), y))
            if w is not None:
                weights.append(w.masked_fill(done.unsqueeze(-1), 0.0))
            finished = ~done & (y == eos_id)
            lengths[finished] = t + 1
            done = done | finished
            if bool(done.all()):
                break
    finally:
        model.train(was_training)
    return Decoded(
        ids=torch.stack(ids, 1),
        lengths=lengths,
        weights=torch.stack(weights, 1) if weights else None,
    )


@dataclass
class Batch:
    """A padded batch of pairs: ``src``/``src_mask`` ``(B, S)``; ``tgt_in`` = ``<bos> y``, and
    ``tgt_out`` = ``y <eos>``, both ``(B, T)`` (padded with the target pad id)."""

    src: Tensor
    src_mask: Tensor
    tgt_in: Tensor
    tgt_out: Tensor


def make_batch(
    pairs: Sequence[tuple[Sequence[str], Sequence[str]]], src_vocab: Vocab, tgt_vocab: Vocab
) -> Batch:
    """Encode and pad ``(source tokens, target tokens)`` pairs for teacher forcing."""
    src_ids, _, src_mask = pad_batch([src_vocab.encode(s) for s, _ in pairs], src_vocab.pad_id)
    tgt = [tgt_vocab.encode(t) for _, t in pairs]
    tgt_in, _, _ = pad_batch([[tgt_vocab.bos_id, *t] for t in tgt], tgt_vocab.pad_id)
    tgt_out, _, _ = pad_batch([[*t, tgt_vocab.eos_id] for t in tgt], tgt_vocab.pad_id)
    return Batch(src_ids, src_mask, tgt_in, tgt_out)


def teacher_forcing_loss(model: Seq2Seq, batch: Batch, pad_id: int = 0) -> Tensor:
    """Mean cross-entropy of the next target token over the real (non-pad) target positions."""
    logits = model(batch.src, batch.src_mask, batch.tgt_in)  # (B, T, V)
    return F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=pad_id)


def label_smoothed_loss(model: nn.Module, batch: Batch, smoothing: float = 0.1, pad_id: int = 0) -> Tensor:
    r""":func:`teacher_forcing_loss` with label smoothing (Szegedy et al. 2016; Vaswani et al. 2017
    use :math:`\epsilon_{ls} = 0.1`, taught in *The Transformer*, ``notebooks/41_transformer``): the
    target distribution puts :math:`1 - \epsilon` on the true token and spreads :math:`\epsilon`
    uniformly over the vocabulary (torch's ``label_smoothing``). Padding positions are ignored.
    """
    logits = model(batch.src, batch.src_mask, batch.tgt_in)  # (B, T, V)
    return F.cross_entropy(
        logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=pad_id, label_smoothing=smoothing
    )


@torch.no_grad()
def translate(
    model: Seq2Seq,
    sources: Sequence[Sequence[str]],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    max_len: int,
    batch_size: int = 512,
) -> tuple[list[list[str]], list[Tensor | None]]:
    """Greedy translations of token lists, with each example's attention weights.

    Returns:
        ``(outputs, weights)``: the output tokens (without ``<eos>``) and, per example, the weights
        ``(T_i, S_i)`` over its own source tokens for the ``T_i`` output tokens plus the end token
        (None for a decoder without attention).
    """
    device = next(model.parameters()).device
    outputs: list[list[str]] = []
    weights: list[Tensor | None] = []
    for start in range(0, len(sources), batch_size):
        chunk = sources[start : start + batch_size]
        src, _, mask = pad_batch([src_vocab.encode(s) for s in chunk], src_vocab.pad_id)
        dec = greedy_decode(
            model, src.to(device), mask.to(device), tgt_vocab.bos_id, tgt_vocab.eos_id, max_len,
            tgt_vocab.pad_id,
        )
        for i, s in enumerate(chunk):
            n = int(dec.lengths[i])
            outputs.append(tgt_vocab.decode(dec.ids[i, :n], stop_at_eos=True))
            weights.append(None if dec.weights is None else dec.weights[i, :n, : len(s)].cpu())
    return outputs, weights


def accuracy_by_length(
    lengths: Sequence[int], correct: Sequence[bool], edges: Sequence[int]
) -> list[tuple[int, int, float, int]]:
    """Accuracy in length buckets: the bottleneck made visible.

    Args:
        lengths: the source length of each example.
        correct: whether each example was translated exactly.
        edges: increasing bucket boundaries; bucket i holds ``edges[i] <= length < edges[i + 1]``.

    Returns:
        one ``(lo, hi, accuracy, count)`` per non-empty bucket, ``hi`` exclusive.
    """
    if len(lengths) != len(correct):
        raise ValueError(f"got {len(lengths)} lengths but {len(correct)} results")
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"edges must increase, got {list(edges)}")
    out = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        hits = [c for n, c in zip(lengths, correct, strict=True) if lo <= n < hi]
        if hits:
            out.append((lo, hi, sum(hits) / len(hits), len(hits)))
    return out
