r"""Self-attention and the Transformer: multi-head attention, positional encodings, masks, the
encoder and decoder layers (post-LN and pre-LN), and an encoder--decoder model, all sized by one
:class:`TransformerConfig`. (The Noam schedule and the optimiser recipes: :mod:`attnbook.schedules`;
label smoothing: :func:`attnbook.seq2seq.label_smoothed_loss`.)

Taught in the chapters *Self-attention* (``notebooks/40_self_attention``: :class:`MultiHeadAttention`,
the positional encodings, the masks, :class:`EncoderLayer`) and *The Transformer*
(``notebooks/41_transformer``: :class:`DecoderLayer`, :class:`Transformer`). References: Vaswani et al. 2017 (*Attention is all you need*);
Ba et al. 2016 (*Layer normalization*); Xiong et al. 2020 (*On layer normalization in the
Transformer architecture*, the pre-LN placement).

**Self-attention.** Queries, keys and values are all linear maps of the same sequence
:math:`X \in \mathbb{R}^{L \times D}`:

.. math::

    Q = X W^Q, \quad K = X W^K, \quad V = X W^V, \qquad
    \operatorname{Attention}(Q, K, V) = \operatorname{softmax}\Big(\frac{Q K^\top}{\sqrt{d_k}}\Big) V .

(In cross-attention the queries come from one sequence, the keys and values from another.)

**Multi-head attention** runs H attentions side by side, each on its own projections of width
:math:`d_k = d_v = D / H`, and mixes the concatenated heads with :math:`W^O`:

.. math::

    \operatorname{head}_h = \operatorname{Attention}(Q W_h^Q, K W_h^K, V W_h^V), \qquad
    \operatorname{MultiHead}(Q, K, V) = [\operatorname{head}_1; \dots; \operatorname{head}_H]\, W^O,

with :math:`W_h^Q, W_h^K \in \mathbb{R}^{D \times d_k}`, :math:`W_h^V \in \mathbb{R}^{D \times d_v}`
and :math:`W^O \in \mathbb{R}^{H d_v \times D}` (here :math:`H d_v = D`). The H matrices
:math:`W_h^Q` are the column blocks of one :math:`D \times D` matrix :math:`W^Q` (likewise K, V), so
the code projects once and splits the result into heads.

**Positions.** Attention is a weighted sum over a *set*: permuting the input rows permutes the
output rows the same way (permutation equivariance), so order must be added to the input. The
sinusoidal encoding of Vaswani et al. (2017) is

.. math::

    PE_{(p, 2i)} = \sin\big(p / 10000^{2i/D}\big), \qquad PE_{(p, 2i+1)} = \cos\big(p / 10000^{2i/D}\big);

:class:`LearnedPositionalEncoding` learns one vector per position instead.

**Layers.** Each sub-layer (self-attention, cross-attention, the position-wise feed-forward network
:math:`\operatorname{FFN}(x) = \max(0, x W_1 + b_1) W_2 + b_2`) sits in a residual connection with
LayerNorm (Ba et al. 2016), in one of two placements (``norm_first``):

- post-LN, as the paper's text describes: :math:`x \leftarrow \operatorname{LN}(x + \operatorname{Sublayer}(x))`;
- pre-LN, as the paper's code (tensor2tensor) did: :math:`x \leftarrow x + \operatorname{Sublayer}(\operatorname{LN}(x))`,
  with a final LayerNorm after the stack; Xiong et al. (2020) show that it trains without warm-up.

Shapes (batch-first): queries ``(B, T, D)``, keys and values ``(B, S, D)``, weights
``(B, H, T, S)``; token ids ``(B, S)`` / ``(B, T)``; logits ``(B, T, V)``. Masks are boolean,
``True`` = attend, and broadcast to ``(B, T, S)`` exactly as in :func:`attnbook.attention.attend`
(key padding ``(B, 1, S)``, causal ``(T, S)``); every head uses the same mask.

**Multi-head attention and the masks** (:class:`MultiHeadAttention`, :func:`causal_mask`,
:func:`key_padding_mask`) live in :mod:`attnbook.attention`, with the one attention API
(``(output, weights)``, the last weights kept as ``.weights``); they are imported here, the
building blocks of the layers. The encoder and decoder layers build their attentions with
``need_weights=False`` (the fast path) so that training never forms the weights;
:func:`keep_weights` turns the weights on in a whole model for plotting.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.attention import MultiHeadAttention, causal_mask, key_padding_mask

__all__ = [
    "TransformerConfig",
    "MultiHeadAttention",
    "sinusoidal_encoding",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "causal_mask",
    "key_padding_mask",
    "PositionwiseFeedForward",
    "EncoderLayer",
    "DecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
    "keep_weights",
    "attention_maps",
    "copy_torch_weights",
]


# --------------------------------------------------------------------------------- positions


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> Tensor:
    r"""The sinusoidal positional encoding ``(L, D)`` of Vaswani et al. (2017, section 3.5).

    :math:`PE_{(p, 2i)} = \sin(p / 10000^{2i/D})`, :math:`PE_{(p, 2i+1)} = \cos(p / 10000^{2i/D})`,
    positions :math:`p = 0 \dots L-1`. Each pair of columns is a rotation at its own frequency,
    so :math:`PE_{p+k}` is a fixed linear function of :math:`PE_p` for every offset k.
    """
    if d_model % 2:
        raise ValueError(f"the sinusoidal encoding needs an even d_model, got {d_model}")
    pos = torch.arange(length, dtype=torch.float64).unsqueeze(1)  # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (D/2,): 2i
    angle = pos / base ** (two_i / d_model)  # (L, D/2)
    pe = torch.empty(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.float()


class SinusoidalPositionalEncoding(nn.Module):
    """Adds :func:`sinusoidal_encoding` to a ``(B, L, D)`` input, then dropout (no parameters).

    Args:
        d_model: the width D (even).
        dropout: dropout on the sum, as in the paper.
        max_len: positions precomputed; longer inputs are encoded on the fly.
    """

    def __init__(self, d_model: int, dropout: float = 0.0, max_len: int = 512) -> None:
        super().__init__()
        self.d_model = d_model
        self.drop = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"expected (B, L, {self.d_model}), got {tuple(x.shape)}")
        L = x.shape[1]
        pe = self.pe[:L] if L <= self.pe.shape[0] else sinusoidal_encoding(L, self.d_model).to(x.device)
        return self.drop(x + pe.to(x.dtype))  # (B, L, D) + (L, D)


class LearnedPositionalEncoding(nn.Module):
    """Adds a learned vector per position (an ``nn.Embedding`` of ``max_len`` rows), then dropout.

    Unlike the sinusoids it cannot encode a position it never saw in training.
    """

    def __init__(self, d_model: int, dropout: float = 0.0, max_len: int = 512) -> None:
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.drop = nn.Dropout(dropout)
        self.embed = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"expected (B, L, {self.d_model}), got {tuple(x.shape)}")
        L = x.shape[1]
        if L > self.max_len:
            raise ValueError(f"input of length {L} (shape {tuple(x.shape)}) exceeds max_len={self.max_len}")
        return self.drop(x + self.embed.weight[:L])


# ------------------------------------------------------------------------------------ layers


class PositionwiseFeedForward(nn.Module):
    r""":math:`\operatorname{FFN}(x) = \max(0, x W_1 + b_1) W_2 + b_2`, applied to each position alone.

    ``d_ff`` is the inner width (the paper: 2048 for D = 512, i.e. 4D). Dropout after the ReLU,
    as in torch's layers.
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_ff)
        self.w_2 = nn.Linear(d_ff, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.w_2(self.drop(F.relu(self.w_1(x))))  # (B, L, D) -> (B, L, d_ff) -> (B, L, D)


class EncoderLayer(nn.Module):
    r"""One encoder layer: self-attention, then the feed-forward network, each in a residual
    connection with LayerNorm.

    - post-LN (``norm_first=False``, the paper's text): :math:`x \leftarrow \operatorname{LN}(x +
      \operatorname{Dropout}(\operatorname{SelfAttn}(x)))`, then :math:`x \leftarrow
      \operatorname{LN}(x + \operatorname{Dropout}(\operatorname{FFN}(x)))`;
    - pre-LN (``norm_first=True``, the paper's code): :math:`x \leftarrow x +
      \operatorname{Dropout}(\operatorname{SelfAttn}(\operatorname{LN}(x)))`, likewise for the FFN.

    The same computation as ``torch.nn.TransformerEncoderLayer(batch_first=True,
    activation="relu")`` (tested with copied weights, :func:`copy_torch_weights`).

    Args:
        d_model, heads: width D and number of heads H.
        d_ff: the feed-forward inner width (default 4D).
        dropout: on each sub-layer's output, inside the FFN and on the attention weights.
        norm_first: pre-LN if True, post-LN (default) if False.
        fast: passed to :class:`MultiHeadAttention` (built with ``need_weights=False``: the fast
            path, unless :func:`keep_weights` turns the weights on).

    Shapes:
        ``x (B, L, D)``, ``mask`` broadcastable to ``(B, L, L)`` (e.g. :func:`key_padding_mask`)
        -> ``(B, L, D)``.
    """

    def __init__(self, d_model: int, heads: int, d_ff: int | None = None, dropout: float = 0.0,
                 norm_first: bool = False, fast: bool = True) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, heads, dropout=dropout, fast=fast, need_weights=False)
        self.ff = PositionwiseFeedForward(d_model, d_ff or 4 * d_model, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def _sa(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return self.drop1(self.self_attn(x, x, x, mask)[0])

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if self.norm_first:  # pre-LN: x + Sublayer(LN(x))
            x = x + self._sa(self.norm1(x), mask)
            return x + self.drop2(self.ff(self.norm2(x)))
        x = self.norm1(x + self._sa(x, mask))  # post-LN: LN(x + Sublayer(x))
        return self.norm2(x + self.drop2(self.ff(x)))


class DecoderLayer(nn.Module):
    r"""One decoder layer: masked self-attention, cross-attention to the encoder's output
    (queries from the decoder, keys = values = the memory), then the feed-forward network; each in
    a residual connection with LayerNorm, post-LN or pre-LN as in :class:`EncoderLayer`.

    The same computation as ``torch.nn.TransformerDecoderLayer(batch_first=True,
    activation="relu")`` (tested with copied weights). Arguments as :class:`EncoderLayer`'s.

    Shapes:
        ``x (B, T, D)``, ``memory (B, S, D)``, ``self_mask`` broadcastable to ``(B, T, T)``
        (e.g. :func:`causal_mask`), ``memory_mask`` broadcastable to ``(B, T, S)`` (e.g.
        :func:`key_padding_mask`) -> ``(B, T, D)``.
    """

    def __init__(self, d_model: int, heads: int, d_ff: int | None = None, dropout: float = 0.0,
                 norm_first: bool = False, fast: bool = True) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, heads, dropout=dropout, fast=fast, need_weights=False)
        self.cross_attn = MultiHeadAttention(d_model, heads, dropout=dropout, fast=fast, need_weights=False)
        self.ff = PositionwiseFeedForward(d_model, d_ff or 4 * d_model, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.drop1, self.drop2, self.drop3 = (nn.Dropout(dropout) for _ in range(3))

    def forward(self, x: Tensor, memory: Tensor, self_mask: Tensor | None = None,
                memory_mask: Tensor | None = None) -> Tensor:
        def sa(h):
            return self.drop1(self.self_attn(h, h, h, self_mask)[0])

        def ca(h):
            return self.drop2(self.cross_attn(h, memory, memory, memory_mask)[0])

        if self.norm_first:
            x = x + sa(self.norm1(x))
            x = x + ca(self.norm2(x))
            return x + self.drop3(self.ff(self.norm3(x)))
        x = self.norm1(x + sa(x))
        x = self.norm2(x + ca(x))
        return self.norm3(x + self.drop3(self.ff(x)))


# ----------------------------------------------------------------------------------- models


def _check_ids(ids: Tensor, mask: Tensor | None, what: str) -> None:
    if ids.dim() != 2 or ids.dtype != torch.long:
        raise ValueError(f"expected {what} ids of shape (B, L), int64; got {ids.dtype} {tuple(ids.shape)}")
    if mask is not None and (mask.dtype != torch.bool or mask.shape != ids.shape):
        raise ValueError(
            f"expected a bool mask of the {what} ids' shape {tuple(ids.shape)}, got "
            f"{mask.dtype} {tuple(mask.shape)}"
        )


class _Embedding(nn.Module):
    r"""Token embedding scaled by :math:`\sqrt{D}`, plus the positional encoding (then dropout).

    The embeddings start with standard deviation :math:`D^{-1/2}`, so after the scaling they have
    unit variance, the scale of the positional encoding.
    """

    def __init__(self, vocab_size: int, d_model: int, dropout: float, positional: str,
                 max_len: int, pad_id: int | None) -> None:
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)
        if pad_id is not None:
            with torch.no_grad():
                self.embed.weight[pad_id].zero_()
        if positional == "sinusoidal":
            self.pos = SinusoidalPositionalEncoding(d_model, dropout, max_len)
        elif positional == "learned":
            self.pos = LearnedPositionalEncoding(d_model, dropout, max_len)
        elif positional == "none":
            self.pos = nn.Dropout(dropout)
        else:
            raise ValueError(f"unknown positional {positional!r}; choose 'sinusoidal', 'learned' or 'none'")

    def forward(self, ids: Tensor) -> Tensor:
        return self.pos(self.embed(ids) * math.sqrt(self.d_model))  # (B, L, D)


@dataclass(frozen=True)
class TransformerConfig:
    """The shape and settings of a :class:`Transformer`, its :class:`TransformerEncoder` and
    :class:`TransformerDecoder` (the vocabulary sizes apart).

    Attributes:
        d_model: the width D (the paper's base model: 512).
        heads: H (base: 8).
        layers: N encoder layers (base: 6), and decoder layers unless ``decoder_layers`` is set.
        decoder_layers: the decoder's layers (None: ``layers``).
        d_ff: the feed-forward inner width (None: 4D).
        dropout: the dropout rate everywhere (base: 0.1).
        norm_first: pre-LN (True) or post-LN (False, the paper's text).
        positional: ``"sinusoidal"``, ``"learned"`` or ``"none"``.
        max_len: the longest sequence the learned encoding supports (sinusoids: any length).
        pad_id: the padding id of the vocabularies (its embedding stays zero); None: no padding.
        fast: passed to every :class:`MultiHeadAttention`.

    Example: ``Transformer(V_src, V_tgt, TransformerConfig(d_model=64, heads=4, layers=1))``; the
    models also take the fields as keywords, ``Transformer(V_src, V_tgt, d_model=64)``, and a
    config with keywords overrides those fields (:func:`dataclasses.replace`).
    """

    d_model: int = 128
    heads: int = 4
    layers: int = 2
    decoder_layers: int | None = None
    d_ff: int | None = None
    dropout: float = 0.1
    norm_first: bool = False
    positional: str = "sinusoidal"
    max_len: int = 512
    pad_id: int | None = 0
    fast: bool = True

    def __post_init__(self) -> None:
        if self.heads < 1 or self.d_model % self.heads:
            raise ValueError(f"heads must divide d_model; got d_model={self.d_model}, heads={self.heads}")
        if self.positional not in ("sinusoidal", "learned", "none"):
            raise ValueError(
                f"unknown positional {self.positional!r}; choose 'sinusoidal', 'learned' or 'none'"
            )

    @classmethod
    def of(cls, config: TransformerConfig | None = None, **options) -> TransformerConfig:
        """``config`` (default: the defaults) with the fields in ``options`` replaced."""
        return dataclasses.replace(config or cls(), **options)


class TransformerEncoder(nn.Module):
    """Embedding (scaled by sqrt(D)) + positional encoding, N :class:`EncoderLayer`, and a final
    LayerNorm for pre-LN.

    ``TransformerEncoder(vocab_size, config, **options)``: see :class:`TransformerConfig`.

    ``forward(src (B, S), src_mask (B, S) or None) -> (memory (B, S, D), None)``: the pair has the
    form of :class:`attnbook.seq2seq.Encoder`'s ``(states, final)`` so that
    :func:`attnbook.seq2seq.greedy_decode` works unchanged; a Transformer has no final vector.
    """

    def __init__(self, vocab_size: int, config: TransformerConfig | None = None, **options) -> None:
        super().__init__()
        self.config = c = TransformerConfig.of(config, **options)
        self.d_model = c.d_model
        self.embed = _Embedding(vocab_size, c.d_model, c.dropout, c.positional, c.max_len, c.pad_id)
        self.layers = nn.ModuleList(
            EncoderLayer(c.d_model, c.heads, c.d_ff, c.dropout, c.norm_first, c.fast) for _ in range(c.layers)
        )
        self.norm = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()

    def forward(self, src: Tensor, src_mask: Tensor | None = None) -> tuple[Tensor, None]:
        _check_ids(src, src_mask, "source")
        mask = None if src_mask is None else key_padding_mask(src_mask)  # (B, 1, S)
        x = self.embed(src)  # (B, S, D)
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x), None


class TransformerDecoder(nn.Module):
    """Embedding + positional encoding, N :class:`DecoderLayer` (causal self-attention,
    cross-attention to the memory), a final LayerNorm for pre-LN, and the output projection.

    ``TransformerDecoder(vocab_size, config, **options)``: see :class:`TransformerConfig` (N is
    ``decoder_layers``, or ``layers`` if that is None).

    ``forward(tgt_in (B, T), memory (B, S, D), src_mask (B, S)) -> logits (B, T, V)``.

    It also speaks the step protocol of :mod:`attnbook.seq2seq` decoders (``init``/``step``), so
    :func:`attnbook.seq2seq.greedy_decode` and :func:`attnbook.seq2seq.translate` decode a
    :class:`Transformer` unchanged: each step reruns the decoder on the prefix produced so far
    (no cache; fine for short outputs) and returns the last position's logits and the last layer's
    cross-attention weights averaged over the heads.
    """

    uses_attention = True

    def __init__(self, vocab_size: int, config: TransformerConfig | None = None, **options) -> None:
        super().__init__()
        self.config = c = TransformerConfig.of(config, **options)
        self.vocab_size, self.d_model = vocab_size, c.d_model
        n = c.layers if c.decoder_layers is None else c.decoder_layers
        self.embed = _Embedding(vocab_size, c.d_model, c.dropout, c.positional, c.max_len, c.pad_id)
        self.layers = nn.ModuleList(
            DecoderLayer(c.d_model, c.heads, c.d_ff, c.dropout, c.norm_first, c.fast) for _ in range(n)
        )
        self.norm = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.out = nn.Linear(c.d_model, vocab_size)

    def forward(self, tgt_in: Tensor, memory: Tensor, src_mask: Tensor | None = None) -> Tensor:
        _check_ids(tgt_in, None, "target")
        if memory.dim() != 3 or memory.shape[0] != tgt_in.shape[0] or memory.shape[-1] != self.d_model:
            raise ValueError(
                f"expected memory (B, S, {self.d_model}) for tgt_in {tuple(tgt_in.shape)}, got "
                f"{tuple(memory.shape)}"
            )
        self_mask = causal_mask(tgt_in.shape[1], tgt_in.device)  # (T, T)
        memory_mask = None if src_mask is None else key_padding_mask(src_mask)  # (B, 1, S)
        x = self.embed(tgt_in)  # (B, T, D)
        for layer in self.layers:
            x = layer(x, memory, self_mask, memory_mask)
        return self.out(self.norm(x))  # (B, T, V)

    # -- the step protocol of attnbook.seq2seq (greedy decoding)
    def init(self, states: Tensor, final: Tensor | None, mask: Tensor) -> dict:
        return {"ys": torch.zeros(states.shape[0], 0, dtype=torch.long, device=states.device)}

    def step(self, y_prev: Tensor, memory: dict, states: Tensor, mask: Tensor):
        """One step: ``y_prev (B,)`` -> ``(logits (B, V), memory, weights (B, S))``."""
        ys = torch.cat([memory["ys"], y_prev.unsqueeze(1)], dim=1)  # (B, t)
        last = self.layers[-1].cross_attn
        old = last.need_weights
        last.need_weights = True
        try:
            logits = self(ys, states, mask)[:, -1]  # (B, V)
        finally:
            last.need_weights = old
        weights = last.weights[:, :, -1].mean(1)  # (B, H, t, S) -> (B, S)
        return logits, {"ys": ys}, weights


class Transformer(nn.Module):
    """The encoder--decoder Transformer of Vaswani et al. (2017), small.

    ``Transformer(src_vocab, tgt_vocab, config, **options)``: the vocabulary sizes, and the shape
    and settings as a :class:`TransformerConfig` (default: its defaults), whose fields ``options``
    replace.

    ``forward(src (B, S), src_mask (B, S), tgt_in (B, T)) -> logits (B, T, V)``, the signature of
    :class:`attnbook.seq2seq.Seq2Seq`, so :func:`attnbook.seq2seq.make_batch`,
    :func:`attnbook.seq2seq.teacher_forcing_loss`, :func:`attnbook.train.fit`,
    :func:`attnbook.seq2seq.greedy_decode` and :func:`attnbook.seq2seq.translate` work unchanged.
    All target positions are computed at once (teacher forcing with a causal mask), not step by step.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, config: TransformerConfig | None = None,
                 **options) -> None:
        super().__init__()
        self.config = TransformerConfig.of(config, **options)
        self.encoder = TransformerEncoder(src_vocab, self.config)
        self.decoder = TransformerDecoder(tgt_vocab, self.config)

    def encode(self, src: Tensor, src_mask: Tensor) -> Tensor:
        """The encoder's output (the memory) ``(B, S, D)``."""
        return self.encoder(src, src_mask)[0]

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> Tensor:
        _check_ids(src, src_mask, "source")
        if tgt_in.dim() != 2 or tgt_in.shape[0] != src.shape[0]:
            raise ValueError(
                f"expected tgt_in of shape (B, T) with B = {src.shape[0]} (src {tuple(src.shape)}), "
                f"got {tuple(tgt_in.shape)}"
            )
        memory = self.encode(src, src_mask)  # (B, S, D)
        return self.decoder(tgt_in, memory, src_mask)  # (B, T, V)


# ------------------------------------------------------------------------- weights, plotting


def keep_weights(model: nn.Module, on: bool = True) -> nn.Module:
    """Make every :class:`MultiHeadAttention` in ``model`` compute and keep its weights (readable
    path) on each forward pass (``on=False``: back to the fast path). Returns ``model``."""
    for m in model.modules():
        if isinstance(m, MultiHeadAttention):
            m.need_weights = on
            if not on:
                m.weights = None
    return model


def attention_maps(model: nn.Module) -> dict[str, Tensor]:
    """The weights ``(B, H, T, S)`` kept by each :class:`MultiHeadAttention` of ``model``, by module
    name (e.g. ``"encoder.layers.0.self_attn"``, ``"decoder.layers.1.cross_attn"``)."""
    return {
        name: m.weights
        for name, m in model.named_modules()
        if isinstance(m, MultiHeadAttention) and m.weights is not None
    }


@torch.no_grad()
def copy_torch_weights(ours: nn.Module, theirs: nn.Module) -> nn.Module:
    """Copy the weights of a torch module into ours: ``nn.MultiheadAttention`` ->
    :class:`MultiHeadAttention`, ``nn.TransformerEncoderLayer`` -> :class:`EncoderLayer`,
    ``nn.TransformerDecoderLayer`` -> :class:`DecoderLayer`. Returns ``ours``.

    torch keeps :math:`W^Q, W^K, W^V` stacked in one ``in_proj_weight`` ``(3D, D)``.
    """
    if isinstance(ours, MultiHeadAttention) and isinstance(theirs, nn.MultiheadAttention):
        if theirs.in_proj_weight is None or theirs.embed_dim != ours.d_model or theirs.num_heads != ours.heads:
            raise ValueError(f"cannot copy {theirs} into {ours!r}")
        for lin, w in zip((ours.w_q, ours.w_k, ours.w_v), theirs.in_proj_weight.chunk(3), strict=True):
            lin.weight.copy_(w)
        if ours.w_q.bias is not None:
            for lin, b in zip((ours.w_q, ours.w_k, ours.w_v), theirs.in_proj_bias.chunk(3), strict=True):
                lin.bias.copy_(b)
            ours.w_o.bias.copy_(theirs.out_proj.bias)
        ours.w_o.weight.copy_(theirs.out_proj.weight)
        return ours
    pairs: list[tuple[nn.Module, nn.Module]]
    if isinstance(ours, EncoderLayer) and isinstance(theirs, nn.TransformerEncoderLayer):
        copy_torch_weights(ours.self_attn, theirs.self_attn)
        pairs = [(ours.norm1, theirs.norm1), (ours.norm2, theirs.norm2)]
    elif isinstance(ours, DecoderLayer) and isinstance(theirs, nn.TransformerDecoderLayer):
        copy_torch_weights(ours.self_attn, theirs.self_attn)
        copy_torch_weights(ours.cross_attn, theirs.multihead_attn)
        pairs = [(ours.norm1, theirs.norm1), (ours.norm2, theirs.norm2), (ours.norm3, theirs.norm3)]
    else:
        raise TypeError(f"cannot copy a {type(theirs).__name__} into a {type(ours).__name__}")
    if ours.norm_first != theirs.norm_first:
        raise ValueError(f"norm_first differs: ours {ours.norm_first}, torch's {theirs.norm_first}")
    pairs += [(ours.ff.w_1, theirs.linear1), (ours.ff.w_2, theirs.linear2)]
    for a, b in pairs:
        a.load_state_dict(b.state_dict())
    return ours
