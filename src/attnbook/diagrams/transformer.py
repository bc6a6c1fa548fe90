r"""The Transformer's diagrams (chapters *Self-attention*, ``notebooks/40_self_attention``, and
*The Transformer*, ``notebooks/41_transformer``): the data flow of multi-head attention with its
shapes, one encoder layer (post-LN or pre-LN), and the whole encoder--decoder.

Coordinates are in a 0..1 box, so the drawing scales with the axes.
"""

from __future__ import annotations

from matplotlib.patches import FancyBboxPatch

from ._style import INK, MUTED, RESIDUAL, arrow, box, diagram, new_axes, title, tr

__all__ = ["multihead_attention", "encoder_block", "encoder_decoder"]


def _labels(lang: str) -> dict[str, str]:
    return {
        "mha": tr(lang, "Multi-head\nself-attention", "멀티헤드\n셀프 어텐션"),
        "norm": tr(lang, "LayerNorm", "층 정규화"),
        "add": tr(lang, "Add", "더하기"),
        "add_norm": tr(lang, "Add & LayerNorm", "더하기 & 층 정규화"),
        "ffn": tr(lang, "Feed-forward", "피드포워드"),
        "embed": tr(lang, "Embedding $\\cdot\\sqrt{D}$\n+ positional encoding",
                    "임베딩 $\\cdot\\sqrt{D}$\n+ 위치 인코딩"),
    }


@diagram
def multihead_attention(ax=None, *, lang: str = "en", heads: int = 3, show_title: bool = True):
    r"""The data flow of multi-head attention, bottom to top, with the shapes of
    :class:`attnbook.attention.MultiHeadAttention`:

    Q ``(B, T, D)``, K, V ``(B, S, D)`` -> per head h the projections :math:`W_h^Q, W_h^K`
    (``D x d_k``) and :math:`W_h^V` (``D x d_v``) -> scaled dot-product attention -> concatenation
    ``(B, T, H d_v)`` -> :math:`W^O` (``H d_v x D``) -> output ``(B, T, D)``. ``heads`` boxes are
    drawn stacked.
    """
    ax = new_axes(ax, (6.2, 6.4), (0, 1), (0, 1), equal=False)
    linear = tr(lang, "Linear", "선형")
    xs = {"Q": 0.22, "K": 0.5, "V": 0.78}
    ins = {n: box(ax, x, 0.06, f"{n}  (B, {'T' if n == 'Q' else 'S'}, D)", w=0.17, h=0.06,
                  color="output", fontsize=9)
           for n, x in xs.items()}
    off = 0.012  # the stacked copies, one per head
    for n, x in xs.items():
        width = "d_v" if n == "V" else "d_k"
        for h in reversed(range(heads)):
            box(ax, x + h * off, 0.26 + h * off, f"{linear} $W_h^{n}$\n$D \\times {width}$" if h == 0 else None,
                w=0.2, h=0.08, color="linear", fontsize=9)
        arrow(ax, ins[n].top, (x, 0.22))
        arrow(ax, (x, 0.30), (x, 0.45), text="(B, H, S, $d_v$)" if n == "V" else None)
    for h in reversed(range(heads)):
        box(ax, 0.5 + h * off, 0.5 + h * off,
            tr(lang, "Scaled dot-product attention, per head\n",
               "헤드마다 스케일드 내적 어텐션\n")
            + r"$\mathrm{softmax}(Q_h K_h^\top / \sqrt{d_k})\, V_h$"
            + tr(lang, "  (masked)", "  (마스크 적용)") if h == 0 else None,
            w=0.6, h=0.1, color="attention", fontsize=9)
    ax.text(0.81 + heads * off, 0.5 + heads * off, tr(lang, f"× H\n(here {heads})", f"× H\n(여기서 {heads})"),
            fontsize=8, va="center")
    cat = box(ax, 0.5, 0.7, tr(lang, "Concat", "이어 붙이기") + r" $[\mathrm{head}_1; \dots; \mathrm{head}_H]$",
              w=0.36, h=0.07, color="output", fontsize=9)
    arrow(ax, (0.5, 0.55), cat.bottom, text=tr(lang, "H heads, each (B, T, $d_v$)",
                                               "헤드 H개, 각각 (B, T, $d_v$)"))
    wo = box(ax, 0.5, 0.84, linear + r" $W^O$:  $(H d_v) \times D$", w=0.36, h=0.07, color="linear",
             fontsize=9)
    arrow(ax, cat.top, wo.bottom, text="(B, T, $H d_v$)")
    arrow(ax, wo.top, (0.5, 0.97), text=tr(lang, "output (B, T, D)", "출력 (B, T, D)"))
    if show_title:
        title(ax, tr(lang, "Multi-head attention", "멀티헤드 어텐션"))
    return ax


@diagram
def encoder_block(ax=None, *, lang: str = "en", norm_first: bool = False, show_title: bool = True):
    r"""One encoder layer (:class:`attnbook.transformer.EncoderLayer`), bottom to top.

    post-LN (``norm_first=False``, the paper's text): x -> self-attention -> add x -> LayerNorm ->
    FFN -> add -> LayerNorm. pre-LN (``norm_first=True``, the paper's code): x -> LayerNorm ->
    self-attention -> add x -> LayerNorm -> FFN -> add (and one LayerNorm after the last layer).
    The residual paths are drawn at the left.
    """
    ax = new_axes(ax, (3.6, 6.4), (0, 1), (0, 1), equal=False)
    L = _labels(lang)
    x, w = 0.55, 0.58
    ffn = L["ffn"] + "\n$\\max(0, xW_1 + b_1)W_2 + b_2$"
    inp = box(ax, x, 0.05, tr(lang, "input x  (B, L, D)", "입력 x  (B, L, D)"), w=w, h=0.06,
              color="output", fontsize=9)
    if norm_first:
        names = [(L["norm"], "norm"), (L["mha"], "attention"), (L["add"], "output"),
                 (L["norm"], "norm"), (ffn, "ffn"), (L["add"], "output")]
        adds, branches = (2, 5), (-1, 2)  # the residual leaves below box `branch`, joins at `add`
    else:
        names = [(L["mha"], "attention"), (L["add_norm"], "norm"), (ffn, "ffn"),
                 (L["add_norm"], "norm")]
        adds, branches = (1, 3), (-1, 1)
    ys = [0.21 + i * (0.68 / len(names)) for i in range(len(names))]
    boxes, prev = [], inp
    for (label, kind), y in zip(names, ys, strict=True):
        b = box(ax, x, y, label, w=w, h=0.09 if "\n" in label else 0.06, color=kind, fontsize=8.5)
        arrow(ax, prev.top, b.bottom)
        boxes.append(b)
        prev = b
    for src, dst in zip(branches, adds, strict=True):
        s = inp if src == -1 else boxes[src]
        sy = s.y + s.h / 2 + 0.02
        d = boxes[dst]
        ax.plot([x, 0.12, 0.12], [sy, sy, d.y], color=RESIDUAL, linewidth=1.0)
        arrow(ax, (0.12, d.y), (x - w / 2, d.y), color=RESIDUAL)
    ax.text(0.06, (ys[0] + ys[-1]) / 2, tr(lang, "residual", "잔차 연결"), rotation=90, fontsize=8,
            color=RESIDUAL, va="center", ha="center")
    if norm_first:
        fin = box(ax, x, 0.955, tr(lang, "final LayerNorm (after the stack)", "마지막 층 정규화 (스택 뒤)"),
                  w=w, h=0.05, color="norm", fontsize=7.5)
        arrow(ax, boxes[-1].top, fin.bottom)
    else:
        arrow(ax, boxes[-1].top, (x, 0.97), text="(B, L, D)")
    if show_title:
        title(ax, tr(lang, "pre-LN (the paper's code)", "pre-LN (논문의 코드)") if norm_first
              else tr(lang, "post-LN (the paper's text)", "post-LN (논문의 본문)"), fontsize=10)
    return ax


@diagram
def encoder_decoder(ax=None, *, lang: str = "en", layers: str = "N", show_title: bool = True):
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
    ax = new_axes(ax, (7.0, 7.2), (0, 1), (0, 1), equal=False)
    L = _labels(lang)
    w = 0.3

    def column(x, y0, names, side):
        """Boxes stacked upwards from y0; the residual paths on ``side`` (-1 left, +1 right).
        A box of kind "add" gets a residual from just below the box before it."""
        boxes, y = [], y0
        for label, kind in names:
            h = 0.065 if "\n" in label else 0.045
            y += h / 2
            boxes.append(box(ax, x, y, label, w=w, h=h, color="norm" if kind == "add" else kind,
                             fontsize=8))
            y += h / 2 + 0.028
        for a, b in zip(boxes, boxes[1:], strict=False):
            arrow(ax, a.top, b.bottom)
        rx = x + side * (w / 2 + 0.035)
        for i, (_, kind) in enumerate(names):
            if kind == "add":
                sy = boxes[i - 1].y - boxes[i - 1].h / 2 - 0.014  # just below the sub-layer
                ax.plot([x, rx, rx], [sy, sy, boxes[i].y], color=RESIDUAL, linewidth=0.9)
                arrow(ax, (rx, boxes[i].y), (x + side * w / 2, boxes[i].y), color=RESIDUAL)
        return boxes

    ex, dx = 0.27, 0.7
    # inputs and embeddings
    src = box(ax, ex, 0.035, tr(lang, "source ids (B, S)", "소스 id (B, S)"), w=w, h=0.04,
              color="output", fontsize=8)
    emb_e = box(ax, ex, 0.11, L["embed"], w=w, h=0.055, color="linear", fontsize=8)
    arrow(ax, src.top, emb_e.bottom)
    tgt = box(ax, dx, 0.035, tr(lang, "target shifted right (B, T)", "오른쪽으로 민 타깃 (B, T)"),
              w=w, h=0.04, color="output", fontsize=8)
    emb_d = box(ax, dx, 0.11, L["embed"], w=w, h=0.055, color="linear", fontsize=8)
    arrow(ax, tgt.top, emb_d.bottom)
    add = (L["add_norm"], "add")
    enc = column(ex, 0.2, [(L["mha"], "attention"), add, (L["ffn"], "ffn"), add], side=-1)
    dec = column(dx, 0.2, [(tr(lang, "Masked multi-head\nself-attention (causal)",
                               "마스크된 멀티헤드\n셀프 어텐션 (룩어헤드)"), "attention"), add,
                           (tr(lang, "Multi-head\ncross-attention", "멀티헤드\n크로스 어텐션"), "attention"),
                           add, (L["ffn"], "ffn"), add], side=+1)
    arrow(ax, emb_e.top, enc[0].bottom, text="(B, S, D)")
    arrow(ax, emb_d.top, dec[0].bottom, text="(B, T, D)")
    # the stacks: a frame around each repeated layer
    for boxes, x, side in ((enc, ex, -1), (dec, dx, +1)):
        top = boxes[-1].y + boxes[-1].h / 2 + 0.012
        bot = boxes[0].y - boxes[0].h / 2 - 0.025
        ax.add_patch(FancyBboxPatch((x - w / 2 - 0.055, bot), w + 0.11, top - bot,
                                    boxstyle="round,pad=0.004,rounding_size=0.02", fill=False,
                                    edgecolor="#999999", linewidth=1.0, linestyle="--"))
        ax.text(x + side * (w / 2 + 0.075), (top + bot) / 2, f"× {layers}", fontsize=10,
                ha="center", va="center")
    # the memory feeds every decoder layer's cross-attention (keys and values)
    mem_y = enc[-1].y + enc[-1].h / 2 + 0.05
    ax.text(ex, mem_y + 0.012, tr(lang, "memory (B, S, D)", "메모리 (B, S, D)"), fontsize=8,
            ha="center", color=MUTED)
    ax.plot([ex, ex], [enc[-1].y + enc[-1].h / 2, mem_y], color=INK, linewidth=1.0)
    cross = dec[2]
    mx = (ex + dx) / 2 - 0.02
    ax.plot([ex, mx, mx], [mem_y, mem_y, cross.y], color=INK, linewidth=1.0)
    arrow(ax, (mx, cross.y), (dx - w / 2, cross.y))
    ax.text((mx + dx - w / 2) / 2, cross.y + 0.012, "K, V", fontsize=8, ha="center", va="bottom")
    # output
    lin = box(ax, dx, dec[-1].y + 0.11, tr(lang, "Linear  D → V", "선형  D → V"), w=w, h=0.045,
              color="linear", fontsize=8)
    arrow(ax, dec[-1].top, lin.bottom)
    soft = box(ax, dx, lin.y + 0.075, tr(lang, "softmax", "소프트맥스") + ": p(y_t | y_<t, x)", w=w,
               h=0.045, color="output", fontsize=8)
    arrow(ax, lin.top, soft.bottom, text=tr(lang, "logits (B, T, V)", "로짓 (B, T, V)"))
    ax.set_ylim(0, soft.y + soft.h / 2 + 0.01)
    if show_title:
        title(ax, tr(lang, "The Transformer (encoder–decoder)", "트랜스포머 (인코더–디코더)"))
    return ax
