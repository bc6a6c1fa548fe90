"""Diagrams of the Transformer's parts, drawn from code (matplotlib) so that they can be fixed like code.

Used in *Self-attention* (``notebooks/40_self_attention``) and *The Transformer*
(``notebooks/41_transformer``): :func:`multihead_attention` (the data flow of
:class:`attnbook.transformer.MultiHeadAttention`, with the shapes and the size of :math:`W^O`) and
:func:`encoder_block` (an :class:`attnbook.transformer.EncoderLayer`, post-LN or pre-LN), and, in
*The Transformer*, :func:`encoder_decoder` (the whole :class:`attnbook.transformer.Transformer`). The
diagrams of the earlier chapters are in :mod:`attnbook.diagrams`.

Each function draws into ``ax`` (a new figure if None) and returns the axes; coordinates are in
a 0..1 box, so the drawing scales with the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["multihead_attention", "encoder_block", "encoder_decoder"]

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


def encoder_decoder(ax=None, layers: str = "N", title: str | None = "The Transformer (encoder–decoder)"):
    r"""The whole encoder--decoder (:class:`attnbook.transformer.Transformer`), bottom to top, in the
    layout of Vaswani et al. (2017, Figure 1), post-LN as the paper's text describes.

    Left, the encoder: source embedding (scaled by :math:`\sqrt{D}`) + positional encoding, then
    ``layers`` x [self-attention, Add & LayerNorm, feed-forward, Add & LayerNorm] -> the memory
    ``(B, S, D)``. Right, the decoder: target embedding of the shifted target + positional
    encoding, then ``layers`` x [masked (causal) self-attention, Add & LayerNorm, cross-attention
    (queries from the decoder, keys and values from the memory), Add & LayerNorm, feed-forward,
    Add & LayerNorm] -> Linear -> softmax over the target vocabulary. Residual paths are drawn at
    the outer sides.
    """
    ax = _new_ax(ax, (7.0, 7.2))
    w = 0.3
    ffn = "Feed-forward"

    def column(x, y0, names, side):
        """Boxes stacked upwards from y0; the residual paths on ``side`` (-1 left, +1 right)."""
        boxes, y = [], y0
        for label, kind in names:
            h = 0.065 if "\n" in label else 0.045
            y += h / 2
            boxes.append(_box(ax, x, y, w, h, label, COLORS[kind], fontsize=8))
            y += h / 2 + 0.028
        for a, b in zip(boxes, boxes[1:], strict=False):
            _arrow(ax, _top(a), _bottom(b))
        rx = x + side * (w / 2 + 0.035)
        for i, (label, _) in enumerate(names):
            if label.startswith("Add"):
                sy = boxes[i - 1][1] - boxes[i - 1][3] / 2 - 0.014  # just below the sub-layer
                ax.plot([x, rx, rx], [sy, sy, boxes[i][1]], color="#777777", linewidth=0.9)
                _arrow(ax, (rx, boxes[i][1]), (x + side * w / 2, boxes[i][1]), color="#777777")
        return boxes

    ex, dx = 0.27, 0.7
    # inputs and embeddings
    src = _box(ax, ex, 0.035, w, 0.04, "source ids (B, S)", COLORS["io"], fontsize=8)
    emb_e = _box(ax, ex, 0.11, w, 0.055, "Embedding $\\cdot\\sqrt{D}$\n+ positional encoding",
                 COLORS["linear"], fontsize=8)
    _arrow(ax, _top(src), _bottom(emb_e))
    tgt = _box(ax, dx, 0.035, w, 0.04, "target shifted right (B, T)", COLORS["io"], fontsize=8)
    emb_d = _box(ax, dx, 0.11, w, 0.055, "Embedding $\\cdot\\sqrt{D}$\n+ positional encoding",
                 COLORS["linear"], fontsize=8)
    _arrow(ax, _top(tgt), _bottom(emb_d))
    enc = column(ex, 0.2, [("Multi-head\nself-attention", "attention"), ("Add & LayerNorm", "norm"),
                           (ffn, "ffn"), ("Add & LayerNorm", "norm")], side=-1)
    dec = column(dx, 0.2, [("Masked multi-head\nself-attention (causal)", "attention"),
                           ("Add & LayerNorm", "norm"),
                           ("Multi-head\ncross-attention", "attention"), ("Add & LayerNorm", "norm"),
                           (ffn, "ffn"), ("Add & LayerNorm", "norm")], side=+1)
    _arrow(ax, _top(emb_e), _bottom(enc[0]), text="(B, S, D)")
    _arrow(ax, _top(emb_d), _bottom(dec[0]), text="(B, T, D)")
    # the stacks: a frame around each repeated layer
    for boxes, x, side in ((enc, ex, -1), (dec, dx, +1)):
        top = boxes[-1][1] + boxes[-1][3] / 2 + 0.012
        bot = boxes[0][1] - boxes[0][3] / 2 - 0.025
        ax.add_patch(FancyBboxPatch((x - w / 2 - 0.055, bot), w + 0.11, top - bot,
                                    boxstyle="round,pad=0.004,rounding_size=0.02", fill=False,
                                    edgecolor="#999999", linewidth=1.0, linestyle="--"))
        ax.text(x + side * (w / 2 + 0.075), (top + bot) / 2, f"× {layers}", fontsize=10,
                ha="center", va="center")
    # the memory feeds every decoder layer's cross-attention (keys and values)
    mem_y = enc[-1][1] + enc[-1][3] / 2 + 0.05
    ax.text(ex, mem_y + 0.012, "memory (B, S, D)", fontsize=8, ha="center", color="#555555")
    ax.plot([ex, ex], [enc[-1][1] + enc[-1][3] / 2, mem_y], color="#333333", linewidth=1.0)
    cross = dec[2]
    mx = (ex + dx) / 2 - 0.02
    ax.plot([ex, mx, mx], [mem_y, mem_y, cross[1]], color="#333333", linewidth=1.0)
    _arrow(ax, (mx, cross[1]), (dx - w / 2, cross[1]))
    ax.text((mx + dx - w / 2) / 2, cross[1] + 0.012, "K, V", fontsize=8, ha="center", va="bottom")
    # output
    lin = _box(ax, dx, dec[-1][1] + 0.11, w, 0.045, "Linear  D → V", COLORS["linear"], fontsize=8)
    _arrow(ax, _top(dec[-1]), _bottom(lin))
    soft = _box(ax, dx, lin[1] + 0.075, w, 0.045, "softmax: p(y_t | y_<t, x)", COLORS["io"],
                fontsize=8)
    _arrow(ax, _top(lin), _bottom(soft), text="logits (B, T, V)")
    ax.set_ylim(0, soft[1] + soft[3] / 2 + 0.01)
    if title:
        ax.set_title(title, fontsize=11)
    return ax
