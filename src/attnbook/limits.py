r"""The limits of RNNs and CNNs, measured: cost per layer, sequential steps, path length.

Taught in the chapter *The limits of RNNs and CNNs* (``notebooks/31_limits``), which reproduces
Table 1 of Vaswani et al. (2017), "Attention Is All You Need", as measurements:

=========================  ====================  ===============  ==================
layer                      complexity per layer  sequential ops   max path length
=========================  ====================  ===============  ==================
self-attention             O(n^2 d)              O(1)             O(1)
recurrent                  O(n d^2)              O(n)             O(n)
convolutional (width k)    O(k n d^2)            O(1)             O(log_k n) dilated, O(n/k)
self-attention, window r   O(r n d)              O(1)             O(n/r)
=========================  ====================  ===============  ==================

What is here:

* :func:`band_mask` and :func:`local_attend` -- windowed (restricted) self-attention: every query
  attends to the keys at most ``radius`` positions away. ``attend(q, k, v, band_mask(...))`` is the
  readable path (it still forms all n x n scores); :func:`local_attend` is the fast path, which
  forms only the n (2r + 1) scores of the windows. Tested equal.
* :class:`SelfAttention` -- one single-head self-attention layer (projections W^Q, W^K, W^V, W^O
  around :func:`attnbook.attention.attend`), global or windowed.
* :class:`ConvStack` -- "same" 1-d convolutions of width k, optionally dilated 1, 2, 4, ...
* :func:`depends_on` -- which inputs each output depends on, read off the gradients
  :math:`\partial y_i / \partial x_j`; :func:`layers_to_connect` -- how many stacked layers it
  takes before output i depends on input j, against :math:`|i - j|`; :func:`recurrent_cuts` --
  for a recurrent cell, which hidden states lie on *every* path from x_j to h_i.
* cost per layer: :func:`table_layers` (one layer of each kind), :func:`count_flops` (counted),
  :func:`layer_times` (forward + backward, timed interleaved; never asserted on).
* the copy task (:func:`attnbook.data.synthetic.copy_task`: name the token delta positions back):
  :func:`copy_tagger` (a CNN, a GRU or one self-attention layer as the body of an
  :class:`attnbook.tagging.Tagger`), :func:`input_gradient_norms` and :func:`mean_update_gate`
  (where the gradient goes, what training changes in the GRU); the attention RNN of chapter
  *Attention in seq2seq* on the same task: :func:`attention_rnn`, :func:`copy_as_seq2seq`,
  :func:`accuracy_by_position`, :func:`source_gradients`, :func:`state_gradients`.

The diagram of receptive fields growing with depth is
:func:`attnbook.diagrams.receptive_fields`.

Shapes (batch-first): x ``(B, L, D)``; masks ``(L, L)`` bool, ``True`` = attend.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from attnbook.attention import attend
from attnbook.bench import time_interleaved
from attnbook.seq2seq import AttentionDecoder, ContextDecoder, Encoder, Seq2Seq
from attnbook.tagging import Tagger, sequence_output
from attnbook.utils import model_device

__all__ = [
    "band_mask",
    "local_attend",
    "SelfAttention",
    "ConvStack",
    "depends_on",
    "depends_on_source",
    "layers_to_connect",
    "recurrent_cuts",
    "table_layers",
    "count_flops",
    "layer_times",
    "COPY_KINDS",
    "copy_tagger",
    "input_gradient_norms",
    "mean_update_gate",
    "attention_rnn",
    "copy_as_seq2seq",
    "accuracy_by_position",
    "source_gradients",
    "state_gradients",
]


def band_mask(length: int, radius: int, device=None) -> Tensor:
    """``(L, L)`` bool, ``True`` where ``|i - j| <= radius``: the keys a windowed query sees."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    i = torch.arange(length, device=device)
    return (i.unsqueeze(1) - i.unsqueeze(0)).abs() <= radius  # (L, L)


def local_attend(query: Tensor, key: Tensor, value: Tensor, radius: int) -> tuple[Tensor, Tensor]:
    r"""Windowed scaled dot-product self-attention, computing only the scores inside the window.

    Position t attends to positions ``t - radius .. t + radius`` that exist. Cost
    :math:`O(n (2r + 1) d)` instead of :math:`O(n^2 d)`.

    Args:
        query, key: ``(B, L, D)``; value ``(B, L, Dv)`` (self-attention: one length L).
        radius: r.

    Returns:
        ``(output, weights)``: ``(B, L, Dv)`` and ``(B, L, 2r + 1)``, where ``weights[b, t, j]`` is
        the weight of position ``t - r + j`` (0 outside the sequence). Equal to
        ``attend(query, key, value, band_mask(L, radius))``.
    """
    if query.dim() != 3 or key.shape != query.shape or value.shape[:2] != query.shape[:2]:
        raise ValueError(
            f"expected query and key (B, L, D) and value (B, L, Dv), got query "
            f"{tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        )
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    B, L, D = query.shape
    w = 2 * radius + 1
    # the window of keys of each position: pad r on both sides, then slide a window of 2r + 1
    k_win = F.pad(key, (0, 0, radius, radius)).unfold(1, w, 1)  # (B, L, D, w)
    v_win = F.pad(value, (0, 0, radius, radius)).unfold(1, w, 1)  # (B, L, Dv, w)
    scores = torch.einsum("bld,bldw->blw", query, k_win) / math.sqrt(D)  # (B, L, w)
    pos = torch.arange(L, device=query.device).unsqueeze(1) + torch.arange(w, device=query.device) - radius
    inside = (pos >= 0) & (pos < L)  # (L, w): the window position exists
    weights = torch.softmax(scores.masked_fill(~inside, float("-inf")), dim=-1)  # (B, L, w)
    return torch.einsum("blw,bldw->bld", weights, v_win), weights  # (B, L, Dv), (B, L, w)


class SelfAttention(nn.Module):
    r"""One single-head self-attention layer: :math:`Y = \operatorname{softmax}(QK^\top/\sqrt{D}) V W^O`
    with :math:`Q = XW^Q, K = XW^K, V = XW^V`, optionally restricted to a window of ``radius``.

    Args:
        d_model: D.
        radius: None for global attention; r for windowed (restricted) attention.
        fast: for a window, use :func:`local_attend` (only the window's scores); else
            :func:`attnbook.attention.attend` with :func:`band_mask` (all n x n scores, masked).

    Shapes:
        x ``(B, L, D)`` -> ``(B, L, D)``; ``self.weights`` keeps the last weights.
    """

    def __init__(self, d_model: int, radius: int | None = None, fast: bool = True) -> None:
        super().__init__()
        self.d_model, self.radius, self.fast = d_model, radius, fast
        self.w_q = nn.Linear(d_model, d_model, bias=False)
        self.w_k = nn.Linear(d_model, d_model, bias=False)
        self.w_v = nn.Linear(d_model, d_model, bias=False)
        self.w_o = nn.Linear(d_model, d_model, bias=False)
        self.weights: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"{self!r} expects x of shape (B, L, {self.d_model}), got {tuple(x.shape)}")
        q, k, v = self.w_q(x), self.w_k(x), self.w_v(x)  # each (B, L, D)
        if self.radius is not None and self.fast:
            out, w = local_attend(q, k, v, self.radius)  # (B, L, D), (B, L, 2r + 1)
        else:
            mask = None if self.radius is None else band_mask(x.shape[1], self.radius, x.device)
            out, w = attend(q, k, v, mask=mask)  # (B, L, D), (B, L, L)
        self.weights = w.detach()
        return self.w_o(out)

    def __repr__(self) -> str:
        return f"SelfAttention({self.d_model}, radius={self.radius})"


class ConvStack(nn.Module):
    """``depth`` "same" 1-d convolutions of width ``k`` (odd), each followed by an activation.

    With ``dilated=True`` layer l (from 0) has dilation :math:`2^l` (WaveNet, ByteNet), so the
    receptive field grows exponentially with depth instead of linearly. ``activation="tanh"``
    suits measurements read off gradients: a ReLU unit that is off has a gradient of exactly 0
    and would hide a dependence that the architecture has.

    Shapes:
        x ``(B, L, D)`` -> ``(B, L, D)``.
    """

    def __init__(self, d_model: int, depth: int, k: int = 3, dilated: bool = False,
                 activation: str = "relu") -> None:
        super().__init__()
        if k % 2 == 0 or k < 1:
            raise ValueError(f"'same' convolutions need an odd width k, got {k}")
        acts = {"relu": F.relu, "tanh": torch.tanh}
        if activation not in acts:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(acts)}")
        self.activation, self._act = activation, acts[activation]
        self.d_model, self.depth, self.k, self.dilated = d_model, depth, k, dilated
        self.layers = nn.ModuleList(
            nn.Conv1d(d_model, d_model, k, padding=(k // 2) * (2**i if dilated else 1),
                      dilation=2**i if dilated else 1)
            for i in range(depth)
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"{self!r} expects x of shape (B, L, {self.d_model}), got {tuple(x.shape)}")
        h = x.transpose(1, 2)  # (B, D, L)
        for conv in self.layers:
            h = self._act(conv(h))
        return h.transpose(1, 2)  # (B, L, D)

    def receptive_radius(self) -> int:
        """How far (in positions) an output can see on each side: the sum of the layers' reach."""
        return sum((self.k // 2) * (2**i if self.dilated else 1) for i in range(self.depth))

    def __repr__(self) -> str:
        return f"ConvStack({self.d_model}, depth={self.depth}, k={self.k}, dilated={self.dilated})"


def depends_on(model: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    r"""``(L, L)`` bool: entry ``[i, j]`` is ``True`` iff :math:`\partial y_i / \partial x_j \ne 0`
    for the single example ``x`` ``(1, L, D)`` (one backward pass per output position)."""
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"depends_on expects one example x of shape (1, L, D), got {tuple(x.shape)}")
    x = x.detach().requires_grad_(True)
    y = model(x)  # (1, L, D')
    if y.dim() != 3 or y.shape[1] != x.shape[1]:
        raise ValueError(f"the model must return (1, L, D'), got {tuple(y.shape)} for x {tuple(x.shape)}")
    rows = []
    for i in range(x.shape[1]):
        (g,) = torch.autograd.grad(y[0, i].sum(), x, retain_graph=True)
        rows.append(g[0].abs().sum(-1) > 0)  # (L,)
    return torch.stack(rows)  # (L, L)


def depends_on_source(model: Callable[[Tensor], Tensor], x: Tensor, source: int) -> Tensor:
    r"""``(L,)`` bool: entry i is ``True`` iff :math:`\partial y_i / \partial x_{source} \ne 0`.

    One forward-mode pass (``torch.autograd.forward_ad``) with a random tangent at position ``source`` only:
    the output's tangent at position i is :math:`\sum_d (\partial y_i / \partial x_{source,d})
    v_d`, non-zero exactly where the gradient is (up to a cancellation of probability zero).
    The column ``source`` of :func:`depends_on`, in one pass instead of L.
    """
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"expected one example x of shape (1, L, D), got {tuple(x.shape)}")
    if not 0 <= source < x.shape[1]:
        raise ValueError(f"source must be in [0, {x.shape[1]}), got {source}")
    tangent = torch.zeros_like(x)
    tangent[0, source] = torch.randn(x.shape[-1], generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(), torch.autograd.forward_ad.dual_level():
        # torch loads its forward-mode rules with torch.jit.script, which warns on first use
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
        y = model(torch.autograd.forward_ad.make_dual(x.detach(), tangent))
        out = torch.autograd.forward_ad.unpack_dual(y).tangent  # (1, L, D')
    return out[0].abs().sum(-1) > 0  # (L,)


def layers_to_connect(
    make_stack: Callable[[int], Callable[[Tensor], Tensor]],
    x: Tensor,
    max_depth: int,
    source: int = 0,
) -> list[int | None]:
    r"""For each distance :math:`\delta`, the fewest stacked layers after which output
    ``source + delta`` depends on input ``source`` (gradient non-zero), or None if ``max_depth``
    layers are not enough.

    Args:
        make_stack: ``depth -> model`` mapping ``(1, L, D)`` to ``(1, L, D)``.
        x: ``(1, L, D)``, one example.
        max_depth: the deepest stack tried.
        source: the input position j.

    Returns:
        a list over :math:`\delta = 0 .. L - 1 - source`.
    """
    L = x.shape[1]
    found: list[int | None] = [None] * (L - source)
    for depth in range(1, max_depth + 1):
        dep = depends_on_source(make_stack(depth), x, source)  # (L,): y_i depends on x_source?
        for delta in range(L - source):
            if found[delta] is None and bool(dep[source + delta]):
                found[delta] = depth
        if all(f is not None for f in found):
            break
    return found


def recurrent_cuts(cell: nn.Module, x: Tensor, i: int, j: int) -> list[int]:
    r"""The positions t whose hidden state :math:`h_t` lies on every path from :math:`x_j` to
    :math:`h_i`: cutting the graph there (``detach``) makes :math:`\partial h_i / \partial x_j = 0`.

    For a recurrent cell the answer is every t in ``j .. i - 1``: the signal must pass through all
    i - j intermediate states, so the path from x_j to h_i has i - j + 1 cell applications.

    Args:
        cell: a recurrent cell ``(x_t (B, F), h (B, H)) -> h`` (``attnbook.rnn.GRUCell`` etc.).
        x: ``(1, L, F)``.
        i, j: output and input positions, ``j <= i``.
    """
    if not 0 <= j <= i < x.shape[1]:
        raise ValueError(f"need 0 <= j <= i < L = {x.shape[1]}, got i={i}, j={j}")

    def grad_norm(cut: int | None) -> float:
        xs = x.detach().clone().requires_grad_(True)
        h = xs.new_zeros(1, cell.hidden_size)
        for t in range(i + 1):
            h = cell(xs[:, t], h)
            if t == cut:
                h = h.detach()
        (g,) = torch.autograd.grad(h.sum(), xs)
        return float(g[0, j].abs().sum())

    if grad_norm(None) == 0:
        return []
    return [t for t in range(j, i) if grad_norm(t) == 0]


# --- cost per layer: the layers of Table 1, counted and timed ---------------------------------


class _BatchFirst(nn.Module):
    """A ``Conv1d`` that reads and writes batch-first sequences: ``(B, L, D) -> (B, L, D)``."""

    def __init__(self, conv: nn.Conv1d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, D, L) inside


def table_layers(d: int, radius: int, seed: int = 0) -> dict[str, nn.Module]:
    """One layer of each kind that Table 1 compares, all of width ``d``, ``(B, L, d)`` in and out.

    ``"GRU"`` (``nn.GRU``, which returns ``(outputs, h_n)``: read it with
    :func:`attnbook.tagging.sequence_output`), ``"convolution"`` (``nn.Conv1d`` of width 3),
    ``"self-attention"`` and ``"windowed self-attention"`` (:class:`SelfAttention`, window
    ``radius``). The weights are drawn from ``torch.manual_seed(seed)`` (a measurement of cost, not
    of a trained model: no seed offset) without touching the global random state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        conv = nn.Conv1d(d, d, 3, padding=1)
        return {
            "GRU": nn.GRU(d, d, batch_first=True),
            "convolution": _BatchFirst(conv),
            "self-attention": SelfAttention(d),
            "windowed self-attention": SelfAttention(d, radius=radius),
        }


def count_flops(layer: nn.Module, n: int, d: int) -> int:
    """The floating-point operations of one forward pass of ``layer`` on one ``(1, n, d)`` sequence,
    as ``torch.utils.flop_counter.FlopCounterMode`` counts them (matrix products and convolutions,
    2 per multiply-add)."""
    x = torch.zeros(1, n, d)  # the count does not depend on the values
    with FlopCounterMode(display=False) as counter:
        sequence_output(layer, x)
    return counter.get_total_flops()


def layer_times(shapes: Sequence[tuple[int, int]], radius: int, batch: int = 4,
                repeats: int = 5) -> dict[str, list[float]]:
    """Median wall-clock seconds of a forward and a backward pass of each of :func:`table_layers`,
    for each ``(n, d)`` in ``shapes``, on ``batch`` sequences of length n.

    At each shape the layers take turns (:func:`attnbook.bench.time_interleaved`: one warm-up
    call, then ``repeats`` rounds), so that a change in the machine's load hits all of them alike.
    Report ratios between layers; never assert on them.

    Returns:
        ``{layer name: [seconds at each shape]}``.
    """
    def forward_backward(layer: nn.Module, x: Tensor) -> Callable[[], None]:
        def run() -> None:
            layer.zero_grad(set_to_none=True)
            sequence_output(layer, x).sum().backward()
        return run

    out: dict[str, list[float]] = {}
    for n, d in shapes:
        layers = table_layers(d, radius)
        x = torch.randn(batch, n, d, generator=torch.Generator().manual_seed(0), requires_grad=True)
        t = time_interleaved({name: forward_backward(layer, x) for name, layer in layers.items()},
                             n=1, repeats=repeats, warmup=1, clock="wall")
        for name in layers:
            out.setdefault(name, []).append(t[name])
    return out


# --- the copy task: three taggers and the attention RNN ---------------------------------------

COPY_KINDS = ("CNN", "GRU", "self-attention")


def copy_tagger(kind: str, n_symbols: int, length: int, width: int) -> Tagger:
    """A :class:`attnbook.tagging.Tagger` for :func:`attnbook.data.synthetic.copy_task`: embeddings
    of ``width``, one of three bodies, a read-out over the ``n_symbols`` symbols at every position.

    ``kind``: ``"CNN"`` -- a :class:`ConvStack` of depth 3 and width 3 (it sees 3 positions back);
    ``"GRU"`` -- one ``nn.GRU`` layer; ``"self-attention"`` -- one :class:`SelfAttention` layer on
    the symbol's vector concatenated with a learned position vector (``length`` of them), so that a
    query can look for "the position delta back". Built (drawn) in the order embedding, positions,
    body, read-out.
    """
    if kind not in COPY_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {COPY_KINDS}")
    embed = nn.Embedding(n_symbols, width)
    if kind == "CNN":
        return Tagger(ConvStack(width, depth=3, k=3), width, n_symbols, embed=embed)
    if kind == "GRU":
        return Tagger(nn.GRU(width, width, batch_first=True), width, n_symbols, embed=embed)
    positions = nn.Embedding(length, width)
    return Tagger(SelfAttention(2 * width), 2 * width, n_symbols, embed=embed, positions=positions)


def input_gradient_norms(model: Tagger, tokens: Tensor) -> Tensor:
    r"""``(L,)``: :math:`\lVert \partial o / \partial e(x_{L-1-k}) \rVert` for k = 0 .. L - 1, where
    o is a scalar of the last position's output (the log-sum-exp of its logits) and e(x) the token
    vectors; averaged over the batch ``tokens`` ``(B, L)``. Index k = distance from the last
    position."""
    x = model.embed(tokens).detach().requires_grad_(True)  # (B, L, W)
    logits = model(tokens, x)  # (B, L, C)
    target = logits[:, -1].logsumexp(-1).sum()  # a scalar of the last position's output
    (g,) = torch.autograd.grad(target, x)
    return g.norm(dim=-1).mean(0).flip(0)  # (L,): index = distance from the last position


def mean_update_gate(gru: nn.GRU, x: Tensor) -> float:
    r"""The mean of a one-layer ``nn.GRU``'s update gate :math:`z_t` over the inputs ``x`` ``(B, L, F)``
    (in :math:`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}`, near 1 holds the state)."""
    h, _ = gru(x)  # (B, L, W)
    h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)  # (B, L, W)
    W = gru.hidden_size  # torch's gate order: reset, update, new
    z = torch.sigmoid(x @ gru.weight_ih_l0[W:2 * W].T + gru.bias_ih_l0[W:2 * W]
                      + h_prev @ gru.weight_hh_l0[W:2 * W].T + gru.bias_hh_l0[W:2 * W])
    return z.mean().item()


def attention_rnn(n_symbols: int, attention: bool = True) -> Seq2Seq:
    """Chapter *Attention in seq2seq*'s model (its sizes) for the copy task as seq2seq: source ids
    1 .. n_symbols (0: padding, unused), target ids 1 .. n_symbols and ``n_symbols + 1``, which is
    both ``<bos>`` and the answer "blank" (:func:`copy_as_seq2seq`). ``attention=False``: the
    fixed-context decoder of chapter *Sequence to sequence* instead."""
    enc = Encoder(n_symbols + 1, 16, 48)
    dec = (AttentionDecoder(n_symbols + 2, 16, 96, enc.out_dim) if attention
           else ContextDecoder(n_symbols + 2, 16, 96, enc.out_dim))
    return Seq2Seq(enc, dec)


def copy_as_seq2seq(tokens: Tensor, targets: Tensor, n_symbols: int
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``copy_task``'s ``(tokens, targets)`` as :func:`attention_rnn`'s ids: ``(source, mask,
    decoder input, decoder targets)``, each ``(B, L)``. Symbols are ids 1 .. n_symbols; the decoder
    input is the answers shifted right after ``<bos>`` (= blank = ``n_symbols + 1``, also the
    answer where ``t < delta``); the decoder targets keep ``-100`` (ignored by the loss) there."""
    blank = n_symbols + 1
    src = tokens + 1  # (B, L)
    tgt = torch.where(targets >= 0, targets + 1, torch.full_like(targets, blank))  # (B, L)
    tgt_in = torch.cat([torch.full_like(tgt[:, :1], blank), tgt[:, :-1]], dim=1)  # (B, L)
    tgt_out = torch.where(targets >= 0, targets + 1, targets)  # (B, L)
    return src, torch.ones_like(src, dtype=torch.bool), tgt_in, tgt_out


@torch.no_grad()
def accuracy_by_position(model: Seq2Seq, tokens: Tensor, targets: Tensor, n_symbols: int,
                         distance: int) -> tuple[float, Tensor]:
    """The teacher-forced accuracy of :func:`attention_rnn` on ``copy_task`` data, overall (the
    positions with an answer) and by the source position ``t - distance`` of the symbol to name.

    Returns:
        ``(accuracy, by_position)``, ``by_position`` ``(L - distance,)`` on the CPU.
    """
    device = model_device(model)
    src, mask, tgt_in, tgt = (t.to(device) for t in copy_as_seq2seq(tokens, targets, n_symbols))
    pred = model(src, mask, tgt_in).argmax(-1)  # (B, L)
    right = (pred == tgt).float().cpu()  # (B, L)
    keep = (tgt != -100).cpu()
    return right[keep].mean().item(), right[:, distance:].mean(0)  # index = source position t - δ


def source_gradients(model: Seq2Seq, src: Tensor, bos: int) -> Tensor:
    r"""``(S,)``: :math:`\lVert \partial o / \partial e(x_j) \rVert` for every source position j,
    where o is a scalar of the first output (the log-sum-exp of its logits, decoder input ``bos``)
    and e(x) the source's embeddings; averaged over the batch ``src`` ``(B, S)`` (no padding)."""
    emb = model.encoder.embed(src).detach().requires_grad_(True)  # (B, S, E)
    hook = model.encoder.embed.register_forward_hook(lambda mod, inp, out: emb)
    try:
        logits = model(src, torch.ones_like(src, dtype=torch.bool), torch.full_like(src[:, :1], bos))
    finally:
        hook.remove()
    (g,) = torch.autograd.grad(logits[:, 0].logsumexp(-1).sum(), emb)
    return g.norm(dim=-1).mean(0).cpu()  # (S,)


def state_gradients(encoder: Encoder, src: Tensor) -> Tensor:
    r"""``(S,)``: :math:`\lVert \partial \overrightarrow{h}_j / \partial e(x_1) \rVert` for every
    j, the forward states of a bidirectional :class:`attnbook.seq2seq.Encoder`: what the recurrence
    carries from the first token; averaged over the batch ``src`` ``(B, S)``."""
    emb = encoder.embed(src).detach().requires_grad_(True)  # (B, S, E)
    fwd = encoder.rnn(emb)[0][..., :encoder.hidden_size]  # (B, S, H): the left-to-right half
    return torch.stack([torch.autograd.grad(fwd[:, j].sum(), emb, retain_graph=True)[0][:, 0]
                        .norm(dim=-1).mean() for j in range(src.shape[1])]).cpu()  # (S,)
