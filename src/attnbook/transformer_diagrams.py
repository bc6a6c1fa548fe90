"""Diagrams of the Transformer's parts, drawn from code (matplotlib) so that they can be fixed like code.

Used in *Self-attention* (``notebooks/40_self_attention``) and *The Transformer*
(``notebooks/41_transformer``): :func:`multihead_attention` (the data flow of
:class:`attnbook.transformer.MultiHeadAttention`, with the shapes and the size of :math:`W^O`) and
:func:`encoder_block` (an :class:`attnbook.transformer.EncoderLayer`, post-LN or pre-LN). The
diagrams of the earlier chapters are in :mod:`attnbook.diagrams`.

Each function draws into ``ax`` (a new figure if None) and returns the axes; coordinates are in
a 0..1 box, so the drawing scales with the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["multihead_attention", "encoder_block"]

COLORS = {
    "linear": "#dbe9f6",
    "attention": "#fde0c5",
    "norm": "#e6f2d8",
    "ffn": "#e8e0f3",
    "io": "#f2f2f2",
}


def _box(ax, x: float, y: float, w: float, h: float, text: str | None, color: str,
         fontsize: float = 9) -> tuple[float, float, float, float]:
    """A rounded box centred at ``(x, y)``; ``text=None`` for an empty box (the copies behind a
    stack of heads). Returns ``(x, y, w, h)`` so that arrows can attach to its edges."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.006,rounding_size=0.015",
                                facecolor=color, edgecolor="#333333", linewidth=1.0))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return x, y, w, h


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str | None = None,
           color: str = "#333333") -> None:
    """An arrow from ``start`` to ``end``, optionally labelled beside its middle (a shape)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=1.0,
                                 color=color, shrinkA=0, shrinkB=0))
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(mx + 0.012, my, text, ha="left", va="center", fontsize=7.5, color="#555555")


def _top(b):
    return b[0], b[1] + b[3] / 2


def _bottom(b):
    return b[0], b[1] - b[3] / 2


def _new_ax(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return ax


def multihead_attention(ax=None, heads: int = 3, title: str | None = "Multi-head attention"):
    r"""The data flow of multi-head attention, bottom to top, with the shapes of
    :class:`attnbook.transformer.MultiHeadAttention`:

    Q ``(B, T, D)``, K, V ``(B, S, D)`` -> per head h the projections :math:`W_h^Q, W_h^K`
    (``D x d_k``) and :math:`W_h^V` (``D x d_v``) -> scaled dot-product attention -> concatenation
    ``(B, T, H d_v)`` -> :math:`W^O` (``H d_v x D``) -> output ``(B, T, D)``. ``heads`` boxes are
    drawn stacked.
    """
    ax = _new_ax(ax, (6.2, 6.4))
    xs = {"Q": 0.22, "K": 0.5, "V": 0.78}
    ins = {n: _box(ax, x, 0.06, 0.17, 0.06, f"{n}  (B, {'T' if n == 'Q' else 'S'}, D)", COLORS["io"])
           for n, x in xs.items()}
    off = 0.012  # the stacked copies, one per head
    for n, x in xs.items():
        width = "d_v" if n == "V" else "d_k"
        for h in reversed(range(heads)):
            _box(ax, x + h * off, 0.26 + h * off, 0.2, 0.08,
                 f"Linear $W_h^{n}$\n$D \\times {width}$" if h == 0 else None, COLORS["linear"])
        _arrow(ax, _top(ins[n]), (x, 0.22))
        _arrow(ax, (x, 0.30), (x, 0.45), text="(B, H, S, $d_v$)" if n == "V" else None)
    for h in reversed(range(heads)):
        _box(ax, 0.5 + h * off, 0.5 + h * off, 0.6, 0.1,
             "Scaled dot-product attention, per head\n"
             r"$\mathrm{softmax}(Q_h K_h^\top / \sqrt{d_k})\, V_h$  (masked)" if h == 0 else None,
             COLORS["attention"])
    ax.text(0.81 + heads * off, 0.5 + heads * off, f"× H\n(here {heads})", fontsize=8, va="center")
    cat = _box(ax, 0.5, 0.7, 0.36, 0.07, r"Concat $[\mathrm{head}_1; \dots; \mathrm{head}_H]$",
               COLORS["io"])
    _arrow(ax, (0.5, 0.55), _bottom(cat), text="H heads, each (B, T, $d_v$)")
    wo = _box(ax, 0.5, 0.84, 0.36, 0.07, r"Linear $W^O$:  $(H d_v) \times D$", COLORS["linear"])
    _arrow(ax, _top(cat), _bottom(wo), text="(B, T, $H d_v$)")
    _arrow(ax, _top(wo), (0.5, 0.97), text="output (B, T, D)")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def encoder_block(ax=None, norm_first: bool = False, title: str | None = None):
    r"""One encoder layer (:class:`attnbook.transformer.EncoderLayer`), bottom to top.

    post-LN (``norm_first=False``, the paper's text): x -> self-attention -> add x -> LayerNorm ->
    FFN -> add -> LayerNorm. pre-LN (``norm_first=True``, the paper's code): x -> LayerNorm ->
    self-attention -> add x -> LayerNorm -> FFN -> add (and one LayerNorm after the last layer).
    The residual paths are drawn at the left.
    """
    ax = _new_ax(ax, (3.6, 6.4))
    x, w = 0.55, 0.58
    if title is None:
        title = "pre-LN (the paper's code)" if norm_first else "post-LN (the paper's text)"
    ffn = "Feed-forward\n$\\max(0, xW_1 + b_1)W_2 + b_2$"
    inp = _box(ax, x, 0.05, w, 0.06, "input x  (B, L, D)", COLORS["io"])
    if norm_first:
        names = [("LayerNorm", "norm"), ("Multi-head\nself-attention", "attention"), ("Add", "io"),
                 ("LayerNorm", "norm"), (ffn, "ffn"), ("Add", "io")]
        adds, branches = (2, 5), (-1, 2)  # the residual leaves below box `branch`, joins at `add`
    else:
        names = [("Multi-head\nself-attention", "attention"), ("Add & LayerNorm", "norm"),
                 (ffn, "ffn"), ("Add & LayerNorm", "norm")]
        adds, branches = (1, 3), (-1, 1)
    ys = [0.21 + i * (0.68 / len(names)) for i in range(len(names))]
    boxes, prev = [], inp
    for (label, kind), y in zip(names, ys, strict=True):
        b = _box(ax, x, y, w, 0.09 if "\n" in label else 0.06, label, COLORS[kind], fontsize=8.5)
        _arrow(ax, _top(prev), _bottom(b))
        boxes.append(b)
        prev = b
    for src, dst in zip(branches, adds, strict=True):
        s = inp if src == -1 else boxes[src]
        sy = s[1] + s[3] / 2 + 0.02
        d = boxes[dst]
        ax.plot([x, 0.12, 0.12], [sy, sy, d[1]], color="#777777", linewidth=1.0)
        _arrow(ax, (0.12, d[1]), (x - w / 2, d[1]), color="#777777")
    ax.text(0.06, (ys[0] + ys[-1]) / 2, "residual", rotation=90, fontsize=8, color="#777777",
            va="center", ha="center")
    if norm_first:
        fin = _box(ax, x, 0.955, w, 0.05, "final LayerNorm (after the stack)", COLORS["norm"],
                   fontsize=7.5)
        _arrow(ax, _top(boxes[-1]), _bottom(fin))
    else:
        _arrow(ax, _top(boxes[-1]), (x, 0.97), text="(B, L, D)")
    ax.set_title(title, fontsize=10)
    return ax
