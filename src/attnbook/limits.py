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
* :func:`time_interleaved` -- medians of interleaved wall-clock runs (never asserted on).
* :func:`copy_task` -- the long-range task: at every position, name the token d positions back.
* :func:`draw_receptive_fields` -- the diagram of receptive fields growing with depth.

Shapes (batch-first): x ``(B, L, D)``; masks ``(L, L)`` bool, ``True`` = attend.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook import timing
from attnbook.attention import attend
from attnbook.utils import generator

__all__ = [
    "band_mask",
    "local_attend",
    "SelfAttention",
    "ConvStack",
    "depends_on",
    "depends_on_source",
    "layers_to_connect",
    "recurrent_cuts",
    "time_interleaved",
    "copy_task",
    "draw_receptive_fields",
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


def time_interleaved(
    fns: dict[str, Callable[[], object]], repeats: int = 7, warmup: int = 1
) -> dict[str, float]:
    """Median wall-clock seconds of each named function, the calls interleaved.

    Each round calls every function once, in the same order; a change in the machine's load during
    the measurement then hits all candidates alike, and the median discards the rounds it hit
    hardest. Report ratios between candidates; never assert on them.
    """
    return timing.time_interleaved(fns, n=1, repeats=repeats, warmup=warmup, clock="wall")


def copy_task(
    n: int, length: int, distance: int, n_symbols: int = 8, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """The long-range task: at every position t >= distance, name the token at t - distance.

    Returns:
        ``(tokens, targets)``: ``(n, length)`` int64 uniform in ``[0, n_symbols)`` and
        ``(n, length)`` int64 with ``targets[:, t] = tokens[:, t - distance]`` and ``-100`` (the
        ignore index of ``cross_entropy``) for ``t < distance``.
    """
    if not 0 <= distance < length:
        raise ValueError(f"need 0 <= distance < length, got distance={distance}, length={length}")
    g = generator(seed)
    tokens = torch.randint(0, n_symbols, (n, length), generator=g)
    targets = torch.full_like(tokens, -100)
    targets[:, distance:] = tokens[:, : length - distance]
    return tokens, targets


def draw_receptive_fields(ax, depth: int = 3, length: int = 17, k: int = 3, dilated: bool = False,
                          target: int | None = None):
    """Draw which inputs one output of a ``ConvStack`` sees, layer by layer (the chapter's diagram).

    Rows are layers (inputs at the bottom); filled dots are the positions that the output at
    ``target`` (default: the middle) depends on, read off the gradients of a real
    :class:`ConvStack`; lines join each position to the inputs of its window.
    """
    target = length // 2 if target is None else target
    with torch.random.fork_rng(devices=[]):  # the init is overwritten: leave the global RNG alone
        stack = ConvStack(1, depth, k=k, dilated=dilated)
    with torch.no_grad():
        for conv in stack.layers:
            conv.weight.fill_(1.0)
            conv.bias.fill_(1.0)  # every unit active, so no ReLU hides a dependence
    # positions each layer's output at `target` depends on, from the top down
    seen = {depth: {target}}
    for layer in range(depth, 0, -1):
        dil = 2 ** (layer - 1) if dilated else 1
        below = set()
        for p in seen[layer]:
            for o in range(-(k // 2), k // 2 + 1):
                q = p + o * dil
                if 0 <= q < length:
                    below.add(q)
                    ax.plot([p, q], [layer, layer - 1], color="tab:blue", lw=0.8, alpha=0.6)
        seen[layer - 1] = below
    # the drawing must agree with the gradients of the real stack
    dep = depends_on(stack, torch.ones(1, length, 1))[target]  # (L,)
    if set(dep.nonzero().flatten().tolist()) != seen[0]:
        raise AssertionError("the drawn receptive field disagrees with the stack's gradients")
    for layer in range(depth + 1):
        for p in range(length):
            on = p in seen[layer]
            ax.plot(p, layer, "o", ms=6, color="tab:blue" if on else "lightgray", zorder=3)
    ax.set_yticks(range(depth + 1), ["input"] + [f"layer {i}" for i in range(1, depth + 1)])
    ax.set_xticks([])
    ax.set_title(f"{'dilated' if dilated else 'contiguous'}, k = {k}: sees "
                 f"{len(seen[0])} inputs after {depth} layers", fontsize=9)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return seen
