r"""Architecture diagrams drawn from code (matplotlib): the book keeps no picture without its source.

Each function draws one diagram on a new figure and returns the figure; the chapters call them
where the architecture is introduced. Boxes are computations, arrows carry vectors, and the labels
use the book's notation (the notation page).

- :func:`unrolled_rnn` -- an RNN folded (one cell with a loop) and unrolled over time, the same
  weights at every step (chapter *Recurrent networks*, ``notebooks/10_rnn``);
- :func:`lstm_cell` -- the LSTM cell: the cell state's additive path and the four gates (same
  chapter);
- :func:`seq2seq_context` -- an encoder--decoder whose decoder sees one fixed context vector
  (chapter *Sequence to sequence*, ``notebooks/11_seq2seq``);
- :func:`attention_decoder_step` -- one step of the attention decoder of Bahdanau et al.
  (chapter *Attention in seq2seq*, ``notebooks/21_attention_seq2seq``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["unrolled_rnn", "lstm_cell", "seq2seq_context", "attention_decoder_step"]

# One palette for every diagram: inputs, recurrent cells, the context/attention, outputs.
COLORS = {
    "input": "#dbe9f6",
    "cell": "#fde2c2",
    "encoder": "#fde2c2",
    "decoder": "#d9f0d3",
    "context": "#f4b6c2",
    "attention": "#e5d8f0",
    "output": "#f2f2f2",
    "gate": "#fff5b8",
}


def _canvas(width: float, height: float, xlim: tuple[float, float], ylim: tuple[float, float]):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, x: float, y: float, text: str, w: float = 1.0, h: float = 0.6, color: str = "cell",
         fontsize: float = 10, lw: float = 1.0):
    """A rounded box centred at (x, y)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=COLORS.get(color, color), ec="black", lw=lw))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _circle(ax, x: float, y: float, text: str, r: float = 0.18, color: str = "gate", fontsize: float = 10):
    ax.add_patch(Circle((x, y), r, fc=COLORS.get(color, color), ec="black", lw=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, color: str = "black", lw: float = 1.2, style: str = "-|>",
           rad: float = 0.0, ls: str = "-"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11, color=color, lw=lw,
                                 connectionstyle=f"arc3,rad={rad}", linestyle=ls, shrinkA=0, shrinkB=0))


def unrolled_rnn(steps: int = 4) -> Figure:
    """An RNN folded (left) and unrolled over ``steps`` time steps (right).

    The same cell -- the same :math:`W_{ih}, W_{hh}, b` -- is applied at every step; the hidden
    state :math:`h_t` is both the step's output and the next step's memory.
    """
    fig, ax = _canvas(2.2 + 1.6 * steps, 3.3, (-0.9, 2.4 + 1.6 * steps), (-1.75, 1.75))
    # folded: one cell with a loop
    _box(ax, 0.3, 0, "cell", w=1.0)
    _box(ax, 0.3, -1.1, "$x_t$", w=0.6, h=0.45, color="input")
    _box(ax, 0.3, 1.25, "$h_t$", w=0.6, h=0.45, color="output")
    _arrow(ax, (0.3, -0.875), (0.3, -0.3))
    _arrow(ax, (0.3, 0.3), (0.3, 1.025))
    _arrow(ax, (0.8, 0.2), (0.8, -0.2), rad=-1.9)  # the recurrence: h_{t-1} -> cell
    ax.text(1.25, 0.42, "$h_{t-1}$", ha="center", va="bottom", fontsize=9)
    ax.text(1.8, 0, "=", ha="center", va="center", fontsize=16)
    # unrolled
    x0 = 2.9
    ax.text(x0 - 0.55, 0, "$h_0$", ha="right", va="center", fontsize=10)
    for t in range(steps):
        x = x0 + 0.45 + 1.6 * t
        label = f"{t + 1}" if t < steps - 1 else "T"
        _box(ax, x, 0, "cell", w=1.0)
        _box(ax, x, -1.1, f"$x_{{{label}}}$", w=0.6, h=0.45, color="input")
        _box(ax, x, 1.25, f"$h_{{{label}}}$", w=0.6, h=0.45, color="output")
        _arrow(ax, (x, -0.875), (x, -0.3))
        _arrow(ax, (x, 0.3), (x, 1.025))
        _arrow(ax, (x - 1.1 if t else x0 - 0.5, 0), (x - 0.5, 0))
        if t == steps - 2 and steps > 3:
            ax.text(x + 0.8, 0.18, "…", ha="center", va="bottom", fontsize=12)
    ax.text(x0 + 0.45 + 0.8 * (steps - 1), -1.6, r"the same $W_{ih}, W_{hh}, b$ at every step",
            ha="center", va="center", fontsize=9, style="italic")
    return fig


def lstm_cell() -> Figure:
    r"""The LSTM cell: the cell state runs along the top and is changed only by a product with the
    forget gate and a sum with the gated candidate,
    :math:`c_t = f_t \odot c_{t-1} + i_t \odot g_t`; the output is :math:`h_t = o_t \odot \tanh(c_t)`.
    """
    fig, ax = _canvas(7.2, 4.0, (-0.4, 8.8), (-1.55, 3.45))
    ax.add_patch(FancyBboxPatch((0.6, -0.75), 6.8, 3.5, boxstyle="round,pad=0.02,rounding_size=0.2",
                                fc="#fafafa", ec="gray", lw=1.0))
    top, gate_y = 2.2, 0.35
    # the cell-state highway
    ax.text(0.0, top, "$c_{t-1}$", ha="center", va="center", fontsize=11)
    _arrow(ax, (0.3, top), (1.97, top), lw=2.2)
    _circle(ax, 2.15, top, r"$\times$")
    _arrow(ax, (2.33, top), (3.97, top), lw=2.2)
    _circle(ax, 4.15, top, "+")
    _arrow(ax, (4.33, top), (8.15, top), lw=2.2)
    ax.text(8.45, top, "$c_t$", ha="center", va="center", fontsize=11)
    # inputs: [h_{t-1}; x_t] feed the four gates
    ax.text(0.0, -0.35, "$h_{t-1}$", ha="center", va="center", fontsize=11)
    ax.text(1.2, -1.35, "$x_t$", ha="center", va="center", fontsize=11)
    ax.plot([0.3, 6.0], [-0.35, -0.35], color="black", lw=1.2)
    _arrow(ax, (1.2, -1.15), (1.2, -0.37))
    gates = [(2.15, r"$\sigma$", "$f_t$"), (3.35, r"$\sigma$", "$i_t$"), (4.15, "tanh", "$g_t$"),
             (5.9, r"$\sigma$", "$o_t$")]
    for x, fn, name in gates:
        _box(ax, x, gate_y, fn, w=0.62, h=0.45, color="gate", fontsize=9)
        _arrow(ax, (x, -0.35), (x, gate_y - 0.225))
        ax.text(x + 0.36, gate_y + 0.36, name, ha="left", va="center", fontsize=9, color="dimgray")
    _arrow(ax, (2.15, gate_y + 0.225), (2.15, top - 0.18))  # f_t multiplies c_{t-1}
    _circle(ax, 3.75, 1.3, r"$\times$")  # i_t * g_t
    _arrow(ax, (3.35, gate_y + 0.225), (3.63, 1.17))
    _arrow(ax, (4.15, gate_y + 0.225), (3.87, 1.17))
    _arrow(ax, (3.88, 1.43), (4.08, top - 0.17))
    # output: h_t = o_t * tanh(c_t)
    _box(ax, 6.6, 1.3, "tanh", w=0.62, h=0.4, color="gate", fontsize=9)
    _arrow(ax, (6.6, top), (6.6, 1.5))
    _circle(ax, 6.6, 0.35, r"$\times$")
    _arrow(ax, (6.6, 1.1), (6.6, 0.53))
    _arrow(ax, (6.12, gate_y), (6.42, 0.35))
    _arrow(ax, (6.78, 0.35), (8.15, 0.35))
    ax.text(8.45, 0.35, "$h_t$", ha="center", va="center", fontsize=11)
    ax.text(4.0, 3.1, r"the cell state: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ (no weight matrix on this path)",
            ha="center", va="center", fontsize=9, style="italic")
    return fig


def seq2seq_context(source: str = "26/8/2006", target: str = "2006-") -> Figure:
    """An encoder--decoder with one fixed context vector c between them.

    The bidirectional encoder reads ``source``; only its two final states reach the decoder, through
    ``c``; every decoder step reads its previous output and the same ``c``.
    """
    S, T = len(source), len(target) + 1
    gap = 0.9
    width = gap * (S + T) + 3.2
    fig, ax = _canvas(min(0.62 * width, 13), 3.7, (-0.6, width - 0.4), (-1.55, 2.45))
    for s, ch in enumerate(source):
        x = gap * s
        _box(ax, x, -1.15, ch, w=0.5, h=0.42, color="input")
        _box(ax, x, 0, "", w=0.62, h=0.62, color="encoder")
        _arrow(ax, (x, -0.94), (x, -0.31))
        if s:
            _arrow(ax, (x - gap + 0.31, 0.1), (x - 0.31, 0.1), lw=0.9)
            _arrow(ax, (x - 0.31, -0.1), (x - gap + 0.31, -0.1), lw=0.9)
    ax.text(gap * (S - 1) / 2, 0.62, "encoder (bidirectional GRU)", ha="center", fontsize=9)
    cx = gap * (S - 1) + 1.5
    _box(ax, cx, 0, "$c$", w=0.7, h=0.9, color="context", fontsize=13, lw=1.8)
    _arrow(ax, (gap * (S - 1) + 0.31, 0.1), (cx - 0.35, 0.1), lw=1.6)
    _arrow(ax, (0.0, -0.31), (cx - 0.35, -0.2), lw=1.0, rad=0.18, ls="--")
    ax.text(cx, -0.75, "one vector,\nfixed size", ha="center", va="top", fontsize=8)
    d0 = cx + 1.5
    outputs = list(target) + ["<eos>"]
    inputs = ["<bos>"] + list(target)
    for t in range(T):
        x = d0 + gap * t
        _box(ax, x, 0, "", w=0.62, h=0.62, color="decoder")
        _box(ax, x, -1.15, inputs[t], w=0.66 if len(inputs[t]) > 1 else 0.5, h=0.42, color="input",
             fontsize=7 if len(inputs[t]) > 1 else 10)
        _box(ax, x, 1.35, outputs[t], w=0.66 if len(outputs[t]) > 1 else 0.5, h=0.42, color="output",
             fontsize=7 if len(outputs[t]) > 1 else 10)
        _arrow(ax, (x, -0.94), (x, -0.31))
        _arrow(ax, (x, 0.31), (x, 1.14))
        _arrow(ax, (cx + 0.2, 0.45), (x - 0.15, 0.31), color="#c0392b", lw=0.9, rad=-0.25)
        if t:
            _arrow(ax, (x - gap + 0.31, 0), (x - 0.31, 0), lw=0.9)
    ax.text(d0 + gap * (T - 1) / 2, 2.15, "decoder (GRU): every step sees the same $c$",
            ha="center", fontsize=9)
    return fig


def attention_decoder_step(source: str = "mar 02 2014", weights=None) -> Figure:
    r"""One step of the attention decoder: the previous state :math:`s_{t-1}` is the query, the
    encoder states :math:`h_1 \dots h_S` are the keys and the values; the weights
    :math:`\alpha_{t,s}` (bars) give the context :math:`c_t = \sum_s \alpha_{t,s} h_s`, which the
    GRU reads with the previous output to make :math:`s_t` and predict :math:`y_t`.

    Args:
        source: the source characters drawn under the encoder.
        weights: the bar heights (one per source character, summing to 1); default: an
            illustrative peak on the last characters.
    """
    S = len(source)
    if weights is None:
        raw = [0.02] * S
        for j, v in zip(range(S - 4, S), (0.06, 0.12, 0.3, 0.4), strict=True):
            raw[j] = v
        total = sum(raw)
        weights = [w / total for w in raw]
    if len(weights) != S:
        raise ValueError(f"expected {S} weights (one per source character), got {len(weights)}")
    gap = 0.75
    width = gap * S + 4.6
    fig, ax = _canvas(min(0.8 * width, 12), 4.6, (-0.6, width - 0.6), (-1.5, 4.1))
    for s, ch in enumerate(source):
        x = gap * s
        _box(ax, x, -1.1, ch if ch != " " else "␣", w=0.5, h=0.4, color="input")
        _box(ax, x, 0, f"$h_{{{s + 1}}}$", w=0.6, h=0.55, color="encoder", fontsize=8)
        _arrow(ax, (x, -0.9), (x, -0.275))
        # the weight of this key, as a bar
        ax.add_patch(FancyBboxPatch((x - 0.2, 0.55), 0.4, 1.6 * weights[s], boxstyle="square,pad=0",
                                    fc="#8e44ad", ec="none", alpha=0.85))
    ax.text(-0.45, 0.85, r"$\alpha_{t,s}$", ha="right", va="center", fontsize=10, color="#8e44ad")
    cx, cy = gap * (S - 1) / 2, 2.75
    _circle(ax, cx, cy, r"$\Sigma$", r=0.25, color="attention", fontsize=11)
    for s in range(S):
        _arrow(ax, (gap * s, 0.6 + 1.6 * weights[s]), (cx, cy - 0.25), color="#8e44ad",
               lw=0.4 + 4 * weights[s])
    ax.text(cx, cy + 0.55, r"$c_t = \sum_s \alpha_{t,s} h_s$", ha="center", fontsize=10)
    dx = gap * S + 1.8
    _box(ax, dx, 0, "$s_{t-1}$", w=0.9, h=0.55, color="decoder")
    _box(ax, dx, 1.5, "softmax$_s\\, f(s_{t-1}, h_s)$", w=2.3, h=0.5, color="attention", fontsize=8)
    _arrow(ax, (dx, 0.275), (dx, 1.25))
    _arrow(ax, (dx - 1.15, 1.5), (gap * (S - 1) + 0.35, 1.2), color="#8e44ad", lw=1.0)
    ax.text(dx + 0.08, 0.75, "query", ha="left", va="center", fontsize=8, color="dimgray")
    _box(ax, dx, 2.75, "GRU", w=0.9, h=0.55, color="decoder")
    _arrow(ax, (cx + 0.25, cy), (dx - 0.45, 2.75), lw=1.4)
    _box(ax, dx + 1.55, 2.75, "$y_{t-1}$", w=0.7, h=0.45, color="input", fontsize=9)
    _arrow(ax, (dx + 1.2, 2.75), (dx + 0.45, 2.75))
    _box(ax, dx, 3.75, "$s_t \\to y_t$", w=1.1, h=0.45, color="output", fontsize=9)
    _arrow(ax, (dx, 3.025), (dx, 3.525))
    _arrow(ax, (dx - 0.45, 0.0), (dx - 0.45, 2.5), rad=0.0, lw=0.9, ls="--")
    return fig
