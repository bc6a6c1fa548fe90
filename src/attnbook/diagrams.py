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
- :func:`toy_graph` -- a small graph drawn from its edge list, with its self-loops (chapter
  *Graph attention networks*, ``notebooks/50_gat``);
- :func:`gat_layer` -- one GAT layer seen from one node: the shared projection, the score as a
  query term plus a key term, the softmax over the neighbourhood, the weighted sum, and the heads
  concatenated or averaged (same chapter).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["unrolled_rnn", "lstm_cell", "seq2seq_context", "attention_decoder_step", "toy_graph",
           "gat_layer"]

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


def seq2seq_context(source: str = "26/8/2006", target: str = "2006-08-26") -> Figure:
    """An encoder--decoder with one fixed context vector c between them.

    The bidirectional encoder reads ``source``; only its two final states reach the decoder, through
    ``c``; every decoder step reads its previous output and the same ``c`` (one red line from
    ``c`` with a branch into every step). Pass the whole target: the decoder writes it and then
    ``<eos>``.
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
    bus = 0.78  # the red line that carries c to every decoder step
    ax.plot([cx, cx, d0 + gap * (T - 1) - 0.15], [0.45, bus, bus], color="#c0392b", lw=0.9)
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
        _arrow(ax, (x - 0.15, bus), (x - 0.15, 0.31), color="#c0392b", lw=0.9)  # c into the step
        if t:
            _arrow(ax, (x - gap + 0.31, 0), (x - 0.31, 0), lw=0.9)
    ax.text(d0 + gap * (T - 1) / 2, 2.15, "decoder (GRU): every step sees the same $c$",
            ha="center", fontsize=9)
    return fig


def attention_decoder_step(source: str = "mar 02 2014", weights=None) -> Figure:
    r"""One step of the attention decoder: the previous state :math:`s_{t-1}` is the query, the
    encoder states :math:`h_1 \dots h_S` are the keys and the values; the weights
    :math:`\alpha_{t,j}` (bars, one per source position :math:`j`) give the context
    :math:`c_t = \sum_j \alpha_{t,j} h_j`, which the
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
    ax.text(-0.45, 0.85, r"$\alpha_{t,j}$", ha="right", va="center", fontsize=10, color="#8e44ad")
    cx, cy = gap * (S - 1) / 2, 2.75
    _circle(ax, cx, cy, r"$\Sigma$", r=0.25, color="attention", fontsize=11)
    for s in range(S):
        _arrow(ax, (gap * s, 0.6 + 1.6 * weights[s]), (cx, cy - 0.25), color="#8e44ad",
               lw=0.4 + 4 * weights[s])
    ax.text(cx, cy + 0.55, r"$c_t = \sum_j \alpha_{t,j} h_j$", ha="center", fontsize=10)
    dx = gap * S + 1.8
    _box(ax, dx, 0, "$s_{t-1}$", w=0.9, h=0.55, color="decoder")
    _box(ax, dx, 1.5, "softmax$_j\\, f(s_{t-1}, h_j)$", w=2.3, h=0.5, color="attention", fontsize=8)
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


# --- chapter 50, Graph attention networks (notebooks/50_gat) ---------------------------------

# where the chapter's 5-node toy graph puts its nodes (other graphs go on a circle)
_TOY_POSITIONS = {0: (0.0, 1.0), 1: (1.3, 2.0), 2: (2.4, 0.8), 3: (3.9, 1.5), 4: (5.2, 0.6)}


def _edge_pairs(edge_index) -> list[tuple[int, int]]:
    """``(source, target)`` pairs of an edge list ``(2, E)`` (a tensor or two sequences)."""
    sources, targets = edge_index[0], edge_index[1]
    if len(sources) != len(targets):
        raise ValueError(f"edge_index must have two rows of equal length (2, E), got rows of "
                         f"{len(sources)} and {len(targets)}")
    return [(int(s), int(t)) for s, t in zip(sources, targets, strict=True)]


def toy_graph(edge_index=None, num_nodes: int = 5, self_loops: bool = True) -> Figure:
    """A small graph drawn from its edge list: nodes, edges and (dashed) self-loops.

    An edge stored in both directions, :math:`(j, i)` and :math:`(i, j)`, is one line with two
    arrowheads; an edge stored in one direction only is one arrow from source to target. With
    ``self_loops`` every node gets a dashed loop, the self-loop :math:`(i, i)` that GAT and GCN add
    so that a node takes part in its own update; a node without neighbours is labelled so.
    (Chapter *Graph attention networks*, ``notebooks/50_gat``.)

    Args:
        edge_index: ``(2, E)`` edge list, row 0 the sources, row 1 the targets; default: the
            chapter's toy graph (0-1, 1-2, 0-2, 2-3, both directions; node 4 has no neighbours).
        num_nodes: N.
        self_loops: draw the added self-loops.
    """
    if edge_index is None:
        edge_index = [[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]]
    pairs = _edge_pairs(edge_index)
    for s, t in pairs:
        if not (0 <= s < num_nodes and 0 <= t < num_nodes):
            raise ValueError(f"edge ({s}, {t}) names a node outside [0, {num_nodes})")
    if num_nodes == len(_TOY_POSITIONS):
        pos = dict(_TOY_POSITIONS)
    else:
        import math

        pos = {i: (2.6 + 2.2 * math.cos(2 * math.pi * i / num_nodes),
                   1.2 + 1.2 * math.sin(2 * math.pi * i / num_nodes)) for i in range(num_nodes)}
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    fig, ax = _canvas(6.4, 3.6, (min(xs) - 0.9, max(xs) + 0.9), (min(ys) - 1.15, max(ys) + 0.85))
    r = 0.27
    drawn = set()
    for s, t in pairs:
        if s == t or (s, t) in drawn:
            continue
        both = (t, s) in pairs
        drawn.update({(s, t), (t, s)} if both else {(s, t)})
        (x0, y0), (x1, y1) = pos[s], pos[t]
        d = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        ux, uy = (x1 - x0) / d, (y1 - y0) / d
        _arrow(ax, (x0 + r * ux, y0 + r * uy), (x1 - r * ux, y1 - r * uy),
               style="<|-|>" if both else "-|>", lw=1.4)
    has_neighbour = {t for s, t in pairs if s != t} | {s for s, t in pairs if s != t}
    for i, (x, y) in pos.items():
        if self_loops:
            ax.add_patch(Circle((x, y + r + 0.16), 0.17, fc="none", ec="#8e44ad", lw=1.2, ls="--"))
        _circle(ax, x, y, str(i), r=r, color="input", fontsize=12)
        if i not in has_neighbour:
            ax.text(x, y - r - 0.12, "no neighbours", ha="center", va="top", fontsize=8,
                    color="dimgray", style="italic")
    legend = "lines: edges, stored in both directions"
    if self_loops:
        legend += "        dashed loops: the self-loops added, $(i, i)$"
    ax.text((min(xs) + max(xs)) / 2, min(ys) - 0.85, legend, ha="center", va="center", fontsize=8.5)
    return fig


def gat_layer(target: int = 0, neighbours=(0, 1, 2), heads: int = 3) -> Figure:
    r"""One GAT layer, seen from one node ``target`` (= :math:`i`), for one head, then the heads.

    Every node is projected by the same :math:`W` (width :math:`D_h`). The score of the edge
    :math:`j \to i`, :math:`e_{ij} = \mathrm{LeakyReLU}(a^\top [W h_i \Vert W h_j])`, splits into
    a **query term** :math:`a_{\mathrm{dst}}^\top W h_i` (one number per receiving node) plus a
    **key term** :math:`a_{\mathrm{src}}^\top W h_j` (one number per sending node); a softmax over
    the neighbourhood :math:`\mathcal{N}(i) \cup \{i\}` gives :math:`\alpha_{ij}`, and
    :math:`h_i' = \sigma(\sum_j \alpha_{ij} W h_j)`. :math:`H` heads, each with its own :math:`W`
    and :math:`a`, run side by side: a hidden layer concatenates them (width :math:`H D_h`), the
    output layer averages them. (Chapter *Graph attention networks*, ``notebooks/50_gat``.)

    Args:
        target: the receiving node :math:`i`.
        neighbours: the nodes :math:`j` it attends to, its self-loop included (default: node 0 of
            the chapter's toy graph, which the chapter checks by hand).
        heads: how many heads to draw (at least 2).
    """
    neighbours = [int(j) for j in neighbours]
    if not neighbours:
        raise ValueError("neighbours must name at least one node (the self-loop at least)")
    if heads < 2:
        raise ValueError(f"heads must be at least 2 to show how heads combine, got {heads}")
    i = int(target)
    n = len(neighbours)
    gap = 1.05
    y_query = 1.0 + gap * n
    rows = [y_query - 1.25 - gap * k for k in range(n)]
    top, bottom = y_query + 0.75, rows[-1] - 0.75
    xh, xw, xwh, xa, xplus, xlr, xsm, xav, xsum = 0.0, 1.2, 2.45, 4.1, 5.7, 6.95, 8.65, 10.3, 11.95
    right = 12.6  # the head's frame ends here
    xhead, xcomb = 13.75, 15.95
    y_mid = (rows[0] + rows[-1]) / 2
    height = top - bottom + 1.5
    fig, ax = _canvas(14.0, 0.77 * height, (-1.2, 17.0), (bottom - 0.5, top + 1.0))
    # the head's frame, with (up to two of) the other heads stacked behind it
    shown = min(heads, 3)
    for k in range(shown - 1, -1, -1):
        off = 0.13 * k
        ax.add_patch(FancyBboxPatch((-0.55 + off, bottom + off), right + 0.55, top - bottom,
                                    boxstyle="round,pad=0.02,rounding_size=0.15",
                                    fc="#fbfbfb", ec="gray", lw=0.9, zorder=-3 - k))
    ax.text(right - 0.12, bottom + 0.18, r"head 1 of $H$; each head has its own $W$ and $a$",
            ha="right", va="center", fontsize=8, color="dimgray")

    def chain(y, names, colors, widths, sizes):
        """A row of boxes joined by arrows, left to right."""
        xs = (xh, xw, xwh, xa)
        for x, text, color, w, fs in zip(xs, names, colors, widths, sizes, strict=True):
            _box(ax, x, y, text, w=w, h=0.45, color=color, fontsize=fs)
        for k in range(len(xs) - 1):
            _arrow(ax, (xs[k] + widths[k] / 2, y), (xs[k + 1] - widths[k + 1] / 2, y))

    widths, sizes = (0.7, 0.55, 0.95, 1.55), (10, 10, 10, 9)
    # the receiving node: projected, then its query term
    chain(y_query, (f"$h_{{{i}}}$", "$W$", f"$W h_{{{i}}}$", rf"$a_{{\mathrm{{dst}}}}^\top W h_{{{i}}}$"),
          ("decoder", "gate", "decoder", "decoder"), widths, sizes)
    ax.text(xa, y_query + 0.3, "query term (one number per receiving node)", ha="center",
            va="bottom", fontsize=7.5, color="dimgray")
    # the bus that adds the query term to every edge's key term
    ax.plot([xa + 0.78, xplus, xplus], [y_query, y_query, rows[-1]], color="#2e7d32", lw=1.2,
            zorder=0)
    # one row per neighbour j (the self-loop too): key term, score, weight, weighted value
    for j, y in zip(neighbours, rows, strict=True):
        chain(y, (f"$h_{{{j}}}$", "$W$", f"$W h_{{{j}}}$", rf"$a_{{\mathrm{{src}}}}^\top W h_{{{j}}}$"),
              ("input", "gate", "encoder", "encoder"), widths, sizes)
        _arrow(ax, (xa + 0.78, y), (xplus - 0.17, y))
        _circle(ax, xplus, y, "+", r=0.17)
        _box(ax, xlr, y, "LeakyReLU", w=1.1, h=0.4, color="gate", fontsize=8)
        _arrow(ax, (xplus + 0.17, y), (xlr - 0.55, y))
        _arrow(ax, (xlr + 0.55, y), (xsm - 0.4, y))
        ax.text((xlr + 0.55 + xsm - 0.4) / 2, y + 0.07, f"$e_{{{i}{j}}}$", ha="center",
                va="bottom", fontsize=9)
        _arrow(ax, (xsm + 0.4, y), (xav - 0.7, y), color="#8e44ad")
        ax.text((xsm + 0.4 + xav - 0.7) / 2, y + 0.07, rf"$\alpha_{{{i}{j}}}$", ha="center",
                va="bottom", fontsize=9, color="#8e44ad")
        _box(ax, xav, y, rf"$\alpha_{{{i}{j}}}\, W h_{{{j}}}$", w=1.4, h=0.45, color="attention",
             fontsize=9)
        dx, dy = xsum - (xav + 0.7), y_mid - y
        d = (dx * dx + dy * dy) ** 0.5
        _arrow(ax, (xav + 0.7, y), (xsum - 0.24 * dx / d, y_mid - 0.24 * dy / d), lw=0.9)
    ax.text(xa, rows[-1] - 0.3, r"key term (one number per sending node $j$)", ha="center",
            va="top", fontsize=7.5, color="dimgray")
    ax.text(xw, rows[-1] - 0.3, "the same $W$", ha="center", va="top", fontsize=7.5,
            color="dimgray")
    ax.text(-0.85, y_mid, r"$j \in \mathcal{N}(" + str(i) + r") \cup \{" + str(i) + r"\}$",
            ha="center", va="center", fontsize=9, rotation=90)
    # the softmax over the neighbourhood
    ax.add_patch(FancyBboxPatch((xsm - 0.4, rows[-1] - 0.3), 0.8, rows[0] - rows[-1] + 0.6,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=COLORS["attention"], ec="black", lw=1.0))
    ax.text(xsm, y_mid, "softmax over $j$", ha="center", va="center", fontsize=9, rotation=90)
    # the weighted sum and the non-linearity: this head's output
    _circle(ax, xsum, y_mid, r"$\Sigma_j$", r=0.24, color="attention", fontsize=9)
    # the heads: head 1 comes out of the front frame, the others from the frames behind it
    names = [str(k + 1) for k in range(shown - 1)] + ["H" if heads > 3 else str(heads)]
    head_ys = [y_mid + 0.62 * (1 - k) for k in range(shown)]
    for k, (name, y) in enumerate(zip(names, head_ys, strict=True)):
        _box(ax, xhead, y, rf"$h_{{{i}}}'^{{({name})}}$", w=0.95, h=0.42, color="output",
             fontsize=9)
        if k == 0:
            _arrow(ax, (xsum + 0.24, y_mid), (xhead - 0.475, y))
            ax.text(xsum + 0.75, y_mid - 0.02, r"$\sigma$", ha="center", va="top", fontsize=10)
        else:
            _arrow(ax, (right + 0.13 * min(k, shown - 1) + 0.04, y), (xhead - 0.475, y), lw=0.8,
                   ls="--", color="gray")
    if heads > 3:
        ax.text(xhead + 0.62, (head_ys[-1] + head_ys[-2]) / 2, "⋮", ha="center", va="center",
                fontsize=10)
    for y, label in ((y_mid + 0.85, "concatenate $\\Vert$\n(hidden layer:\nwidth $H D_h$)"),
                     (y_mid - 0.85, "average\n(output layer)")):
        _box(ax, xcomb, y, label, w=1.9, h=0.95, color="context", fontsize=8)
        for yh in head_ys:
            _arrow(ax, (xhead + 0.475, yh), (xcomb - 0.95, y + 0.25 * (yh - y_mid)), lw=0.7)
    # the score, written out
    ax.text(right / 2, top + 0.5,
            r"$e_{ij} = \mathrm{LeakyReLU}(a^\top [W h_i \Vert W h_j])"
            r" = \mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i + a_{\mathrm{src}}^\top W h_j)$,"
            r"   $a = [a_{\mathrm{dst}} \Vert a_{\mathrm{src}}]$: a query term plus a key term",
            ha="center", va="center", fontsize=9.5)
    return fig
