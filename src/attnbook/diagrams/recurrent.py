r"""The recurrent diagrams: an RNN unrolled, the LSTM cell, seq2seq's fixed context vector and
one step of the attention decoder (chapters *Recurrent networks*, *Sequence to sequence* and
*Attention in seq2seq*)."""

from __future__ import annotations

from matplotlib.patches import FancyBboxPatch

from ._style import ATTENTION_INK, CONTEXT_INK, MUTED, arrow, box, circle, diagram, new_axes, tr

__all__ = ["unrolled_rnn", "lstm_cell", "seq2seq_context", "attention_decoder_step"]


@diagram
def unrolled_rnn(ax=None, *, lang: str = "en", steps: int = 4):
    """An RNN folded (left) and unrolled over ``steps`` time steps (right).

    The same cell -- the same :math:`W_{ih}, W_{hh}, b` -- is applied at every step; the hidden
    state :math:`h_t` is both the step's output and the next step's memory.
    (Chapter *Recurrent networks*, ``notebooks/10_rnn``.)
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    ax = new_axes(ax, (2.2 + 1.6 * steps, 3.3), (-0.9, 2.4 + 1.6 * steps), (-1.75, 1.75))
    cell = tr(lang, "cell", "셀")
    # folded: one cell with a loop
    box(ax, 0.3, 0, cell, w=1.0)
    box(ax, 0.3, -1.1, "$x_t$", w=0.6, h=0.45, color="input")
    box(ax, 0.3, 1.25, "$h_t$", w=0.6, h=0.45, color="output")
    arrow(ax, (0.3, -0.875), (0.3, -0.3))
    arrow(ax, (0.3, 0.3), (0.3, 1.025))
    arrow(ax, (0.8, 0.2), (0.8, -0.2), rad=-1.9)  # the recurrence: h_{t-1} -> cell
    ax.text(1.25, 0.42, "$h_{t-1}$", ha="center", va="bottom", fontsize=9)
    ax.text(1.8, 0, "=", ha="center", va="center", fontsize=16)
    # unrolled
    x0 = 2.9
    ax.text(x0 - 0.55, 0, "$h_0$", ha="right", va="center", fontsize=10)
    for t in range(steps):
        x = x0 + 0.45 + 1.6 * t
        label = f"{t + 1}" if t < steps - 1 else "T"
        box(ax, x, 0, cell, w=1.0)
        box(ax, x, -1.1, f"$x_{{{label}}}$", w=0.6, h=0.45, color="input")
        box(ax, x, 1.25, f"$h_{{{label}}}$", w=0.6, h=0.45, color="output")
        arrow(ax, (x, -0.875), (x, -0.3))
        arrow(ax, (x, 0.3), (x, 1.025))
        arrow(ax, (x - 1.1 if t else x0 - 0.5, 0), (x - 0.5, 0))
        if t == steps - 2 and steps > 3:
            ax.text(x + 0.8, 0.18, "…", ha="center", va="bottom", fontsize=12)
    ax.text(x0 + 0.45 + 0.8 * (steps - 1), -1.6,
            tr(lang, r"the same $W_{ih}, W_{hh}, b$ at every step",
               r"모든 시점에 같은 $W_{ih}, W_{hh}, b$"),
            ha="center", va="center", fontsize=9, style="italic" if lang == "en" else "normal")
    return ax


@diagram
def lstm_cell(ax=None, *, lang: str = "en"):
    r"""The LSTM cell: the cell state runs along the top and is changed only by a product with the
    forget gate and a sum with the gated candidate,
    :math:`c_t = f_t \odot c_{t-1} + i_t \odot g_t`; the output is :math:`h_t = o_t \odot \tanh(c_t)`.
    (Chapter *Recurrent networks*, ``notebooks/10_rnn``.)
    """
    ax = new_axes(ax, (7.2, 4.0), (-0.4, 8.8), (-1.55, 3.45))
    ax.add_patch(FancyBboxPatch((0.6, -0.75), 6.8, 3.5, boxstyle="round,pad=0.02,rounding_size=0.2",
                                fc="#fafafa", ec="gray", lw=1.0))
    top, gate_y = 2.2, 0.35
    # the cell-state highway
    ax.text(0.0, top, "$c_{t-1}$", ha="center", va="center", fontsize=11)
    arrow(ax, (0.3, top), (1.97, top), lw=2.2)
    circle(ax, 2.15, top, r"$\times$")
    arrow(ax, (2.33, top), (3.97, top), lw=2.2)
    circle(ax, 4.15, top, "+")
    arrow(ax, (4.33, top), (8.15, top), lw=2.2)
    ax.text(8.45, top, "$c_t$", ha="center", va="center", fontsize=11)
    # inputs: [h_{t-1}; x_t] feed the four gates
    ax.text(0.0, -0.35, "$h_{t-1}$", ha="center", va="center", fontsize=11)
    ax.text(1.2, -1.35, "$x_t$", ha="center", va="center", fontsize=11)
    ax.plot([0.3, 6.0], [-0.35, -0.35], color="black", lw=1.2)
    arrow(ax, (1.2, -1.15), (1.2, -0.37))
    gates = [(2.15, r"$\sigma$", "$f_t$"), (3.35, r"$\sigma$", "$i_t$"), (4.15, "tanh", "$g_t$"),
             (5.9, r"$\sigma$", "$o_t$")]
    for x, fn, name in gates:
        box(ax, x, gate_y, fn, w=0.62, h=0.45, color="gate", fontsize=9)
        arrow(ax, (x, -0.35), (x, gate_y - 0.225))
        ax.text(x + 0.36, gate_y + 0.36, name, ha="left", va="center", fontsize=9, color=MUTED)
    arrow(ax, (2.15, gate_y + 0.225), (2.15, top - 0.18))  # f_t multiplies c_{t-1}
    circle(ax, 3.75, 1.3, r"$\times$")  # i_t * g_t
    arrow(ax, (3.35, gate_y + 0.225), (3.63, 1.17))
    arrow(ax, (4.15, gate_y + 0.225), (3.87, 1.17))
    arrow(ax, (3.88, 1.43), (4.08, top - 0.17))
    # output: h_t = o_t * tanh(c_t)
    box(ax, 6.6, 1.3, "tanh", w=0.62, h=0.4, color="gate", fontsize=9)
    arrow(ax, (6.6, top), (6.6, 1.5))
    circle(ax, 6.6, 0.35, r"$\times$")
    arrow(ax, (6.6, 1.1), (6.6, 0.53))
    arrow(ax, (6.12, gate_y), (6.42, 0.35))
    arrow(ax, (6.78, 0.35), (8.15, 0.35))
    ax.text(8.45, 0.35, "$h_t$", ha="center", va="center", fontsize=11)
    ax.text(4.0, 3.1, tr(lang,
                         r"the cell state: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ "
                         r"(no weight matrix on this path)",
                         r"셀 상태: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ (이 경로에는 가중치 행렬이 없다)"),
            ha="center", va="center", fontsize=9, style="italic" if lang == "en" else "normal")
    return ax


@diagram
def seq2seq_context(ax=None, *, lang: str = "en", source: str = "26/8/2006",
                    target: str = "2006-08-26"):
    """An encoder--decoder with one fixed context vector c between them.

    The bidirectional encoder reads ``source``; only its two final states reach the decoder, through
    ``c``; every decoder step reads its previous output and the same ``c`` (one red line from
    ``c`` with a branch into every step). Pass the whole target: the decoder writes it and then
    ``<eos>``. (Chapter *Sequence to sequence*, ``notebooks/11_seq2seq``.)
    """
    S, T = len(source), len(target) + 1
    gap = 0.9
    width = gap * (S + T) + 3.2
    ax = new_axes(ax, (min(0.62 * width, 13), 3.7), (-0.6, width - 0.4), (-1.55, 2.45))
    for s, ch in enumerate(source):
        x = gap * s
        box(ax, x, -1.15, ch, w=0.5, h=0.42, color="input")
        box(ax, x, 0, "", w=0.62, h=0.62, color="encoder")
        arrow(ax, (x, -0.94), (x, -0.31))
        if s:
            arrow(ax, (x - gap + 0.31, 0.1), (x - 0.31, 0.1), lw=0.9)
            arrow(ax, (x - 0.31, -0.1), (x - gap + 0.31, -0.1), lw=0.9)
    ax.text(gap * (S - 1) / 2, 0.62, tr(lang, "encoder (bidirectional GRU)", "인코더 (양방향 GRU)"),
            ha="center", fontsize=9)
    cx = gap * (S - 1) + 1.5
    box(ax, cx, 0, "$c$", w=0.7, h=0.9, color="context", fontsize=13, lw=1.8)
    arrow(ax, (gap * (S - 1) + 0.31, 0.1), (cx - 0.35, 0.1), lw=1.6)
    arrow(ax, (0.0, -0.31), (cx - 0.35, -0.2), lw=1.0, rad=0.18, ls="--")
    ax.text(cx, -0.75, tr(lang, "one vector,\nfixed size", "고정 크기\n벡터 하나"), ha="center",
            va="top", fontsize=8)
    d0 = cx + 1.5
    outputs = list(target) + ["<eos>"]
    bus = 0.78  # the red line that carries c to every decoder step
    ax.plot([cx, cx, d0 + gap * (T - 1) - 0.15], [0.45, bus, bus], color=CONTEXT_INK, lw=0.9)
    inputs = ["<bos>"] + list(target)
    for t in range(T):
        x = d0 + gap * t
        box(ax, x, 0, "", w=0.62, h=0.62, color="decoder")
        box(ax, x, -1.15, inputs[t], w=0.66 if len(inputs[t]) > 1 else 0.5, h=0.42, color="input",
            fontsize=7 if len(inputs[t]) > 1 else 10)
        box(ax, x, 1.35, outputs[t], w=0.66 if len(outputs[t]) > 1 else 0.5, h=0.42, color="output",
            fontsize=7 if len(outputs[t]) > 1 else 10)
        arrow(ax, (x, -0.94), (x, -0.31))
        arrow(ax, (x, 0.31), (x, 1.14))
        arrow(ax, (x - 0.15, bus), (x - 0.15, 0.31), color=CONTEXT_INK, lw=0.9)  # c into the step
        if t:
            arrow(ax, (x - gap + 0.31, 0), (x - 0.31, 0), lw=0.9)
    ax.text(d0 + gap * (T - 1) / 2, 2.15,
            tr(lang, "decoder (GRU): every step sees the same $c$",
               "디코더 (GRU): 모든 시점이 같은 $c$를 본다"),
            ha="center", fontsize=9)
    return ax


@diagram
def attention_decoder_step(ax=None, *, lang: str = "en", source: str = "mar 02 2014", weights=None):
    r"""One step of the attention decoder: the previous state :math:`s_{t-1}` is the query, the
    encoder states :math:`h_1 \dots h_S` are the keys and the values; the weights
    :math:`\alpha_{t,j}` (bars, one per source position :math:`j`) give the context
    :math:`c_t = \sum_j \alpha_{t,j} h_j`, which the
    GRU reads with the previous output to make :math:`s_t` and predict :math:`y_t`.
    (Chapter *Attention in seq2seq*, ``notebooks/21_attention_seq2seq``.)

    Args:
        source: the source characters drawn under the encoder.
        weights: the bar heights (one per source character, summing to 1); default: an
            illustrative peak on the last characters.
    """
    S = len(source)
    if weights is None:
        raw = [0.02] * S
        for j, v in zip(range(max(S - 4, 0), S), (0.06, 0.12, 0.3, 0.4)[-min(S, 4):], strict=True):
            raw[j] = v
        total = sum(raw)
        weights = [w / total for w in raw]
    if len(weights) != S:
        raise ValueError(f"expected {S} weights (one per source character), got {len(weights)}")
    gap = 0.75
    width = gap * S + 4.6
    ax = new_axes(ax, (min(0.8 * width, 12), 4.6), (-0.6, width - 0.6), (-1.5, 4.1))
    for s, ch in enumerate(source):
        x = gap * s
        box(ax, x, -1.1, ch if ch != " " else "␣", w=0.5, h=0.4, color="input")
        box(ax, x, 0, f"$h_{{{s + 1}}}$", w=0.6, h=0.55, color="encoder", fontsize=8)
        arrow(ax, (x, -0.9), (x, -0.275))
        # the weight of this key, as a bar
        ax.add_patch(FancyBboxPatch((x - 0.2, 0.55), 0.4, 1.6 * weights[s], boxstyle="square,pad=0",
                                    fc=ATTENTION_INK, ec="none", alpha=0.85))
    ax.text(-0.45, 0.85, r"$\alpha_{t,j}$", ha="right", va="center", fontsize=10, color=ATTENTION_INK)
    cx, cy = gap * (S - 1) / 2, 2.75
    circle(ax, cx, cy, r"$\Sigma$", r=0.25, color="attention", fontsize=11)
    for s in range(S):
        arrow(ax, (gap * s, 0.6 + 1.6 * weights[s]), (cx, cy - 0.25), color=ATTENTION_INK,
              lw=0.4 + 4 * weights[s])
    ax.text(cx, cy + 0.55, r"$c_t = \sum_j \alpha_{t,j} h_j$", ha="center", fontsize=10)
    dx = gap * S + 1.8
    box(ax, dx, 0, "$s_{t-1}$", w=0.9, h=0.55, color="decoder")
    box(ax, dx, 1.5, "softmax$_j\\, f(s_{t-1}, h_j)$", w=2.3, h=0.5, color="attention", fontsize=8)
    arrow(ax, (dx, 0.275), (dx, 1.25))
    arrow(ax, (dx - 1.15, 1.5), (gap * (S - 1) + 0.35, 1.2), color=ATTENTION_INK, lw=1.0)
    ax.text(dx + 0.08, 0.75, tr(lang, "query", "쿼리"), ha="left", va="center", fontsize=8,
            color=MUTED)
    box(ax, dx, 2.75, "GRU", w=0.9, h=0.55, color="decoder")
    arrow(ax, (cx + 0.25, cy), (dx - 0.45, 2.75), lw=1.4)
    box(ax, dx + 1.55, 2.75, "$y_{t-1}$", w=0.7, h=0.45, color="input", fontsize=9)
    arrow(ax, (dx + 1.2, 2.75), (dx + 0.45, 2.75))
    box(ax, dx, 3.75, "$s_t \\to y_t$", w=1.1, h=0.45, color="output", fontsize=9)
    arrow(ax, (dx, 3.025), (dx, 3.525))
    arrow(ax, (dx - 0.45, 0.0), (dx - 0.45, 2.5), lw=0.9, ls="--")
    return ax

