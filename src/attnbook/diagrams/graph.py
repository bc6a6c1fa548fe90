r"""The graph diagrams of chapter *Graph attention networks* (``notebooks/50_gat``): a small graph
drawn from its edge list, and one GAT layer seen from one node."""

from __future__ import annotations

import math

from matplotlib.patches import Circle, FancyBboxPatch

from ._style import (
    ATTENTION_INK,
    MUTED,
    PALETTE,
    QUERY_INK,
    arrow,
    box,
    circle,
    diagram,
    new_axes,
    tr,
)

__all__ = ["toy_graph", "gat_layer"]

# where the chapter's 5-node toy graph puts its nodes (other graphs go on a circle)
_TOY_POSITIONS = {0: (0.0, 1.0), 1: (1.3, 2.0), 2: (2.4, 0.8), 3: (3.9, 1.5), 4: (5.2, 0.6)}
_TOY_EDGES = [[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]]


def _edge_pairs(edge_index) -> list[tuple[int, int]]:
    """``(source, target)`` pairs of an edge list ``(2, E)`` (a tensor or two sequences)."""
    sources, targets = edge_index[0], edge_index[1]
    if len(sources) != len(targets):
        raise ValueError(f"edge_index must have two rows of equal length (2, E), got rows of "
                         f"{len(sources)} and {len(targets)}")
    return [(int(s), int(t)) for s, t in zip(sources, targets, strict=True)]


@diagram
def toy_graph(ax=None, *, lang: str = "en", edge_index=None, num_nodes: int = 5,
              self_loops: bool = True):
    """A small graph drawn from its edge list: nodes, edges and (dashed) self-loops.

    An edge stored in both directions, :math:`(j, i)` and :math:`(i, j)`, is one line with two
    arrowheads; an edge stored in one direction only is one arrow from source to target. With
    ``self_loops`` every node gets a dashed loop, the self-loop :math:`(i, i)` that GAT and GCN add
    so that a node takes part in its own update; a node without neighbours is labelled so.

    Args:
        edge_index: ``(2, E)`` edge list, row 0 the sources, row 1 the targets; default: the
            chapter's toy graph (0-1, 1-2, 0-2, 2-3, both directions; node 4 has no neighbours).
        num_nodes: N.
        self_loops: draw the added self-loops.
    """
    pairs = _edge_pairs(_TOY_EDGES if edge_index is None else edge_index)
    for s, t in pairs:
        if not (0 <= s < num_nodes and 0 <= t < num_nodes):
            raise ValueError(f"edge ({s}, {t}) names a node outside [0, {num_nodes})")
    if num_nodes == len(_TOY_POSITIONS):
        pos = dict(_TOY_POSITIONS)
    else:
        pos = {i: (2.6 + 2.2 * math.cos(2 * math.pi * i / num_nodes),
                   1.2 + 1.2 * math.sin(2 * math.pi * i / num_nodes)) for i in range(num_nodes)}
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    ax = new_axes(ax, (6.4, 3.6), (min(xs) - 0.9, max(xs) + 0.9), (min(ys) - 1.15, max(ys) + 0.85))
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
        arrow(ax, (x0 + r * ux, y0 + r * uy), (x1 - r * ux, y1 - r * uy),
              style="<|-|>" if both else "-|>", lw=1.4)
    has_neighbour = {t for s, t in pairs if s != t} | {s for s, t in pairs if s != t}
    for i, (x, y) in pos.items():
        if self_loops:
            ax.add_patch(Circle((x, y + r + 0.16), 0.17, fc="none", ec=ATTENTION_INK, lw=1.2, ls="--"))
        circle(ax, x, y, str(i), r=r, color="input", fontsize=12)
        if i not in has_neighbour:
            ax.text(x, y - r - 0.12, tr(lang, "no neighbours", "이웃 없음"), ha="center", va="top",
                    fontsize=8, color=MUTED, style="italic" if lang == "en" else "normal")
    legend = tr(lang, "lines: edges, stored in both directions", "선: 엣지 (양방향으로 저장)")
    if self_loops:
        legend += tr(lang, "        dashed loops: the self-loops added, $(i, i)$",
                     "        점선 고리: 추가한 셀프 루프 $(i, i)$")
    ax.text((min(xs) + max(xs)) / 2, min(ys) - 0.85, legend, ha="center", va="center", fontsize=8.5)
    return ax


@diagram
def gat_layer(ax=None, *, lang: str = "en", target: int = 0, neighbours=(0, 1, 2), heads: int = 3):
    r"""One GAT layer, seen from one node ``target`` (= :math:`i`), for one head, then the heads.

    Every node is projected by the same :math:`W` (width :math:`D_h`). The score of the edge
    :math:`j \to i`, :math:`e_{ij} = \mathrm{LeakyReLU}(a^\top [W h_i \Vert W h_j])`, splits into
    a **query term** :math:`a_{\mathrm{dst}}^\top W h_i` (one number per receiving node) plus a
    **key term** :math:`a_{\mathrm{src}}^\top W h_j` (one number per sending node); a softmax over
    the neighbourhood :math:`\mathcal{N}(i) \cup \{i\}` gives :math:`\alpha_{ij}`, and
    :math:`h_i' = \sigma(\sum_j \alpha_{ij} W h_j)`. :math:`H` heads, each with its own :math:`W`
    and :math:`a`, run side by side: a hidden layer concatenates them (width :math:`H D_h`), the
    output layer averages them.

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
    ax = new_axes(ax, (14.0, 0.77 * height), (-1.2, 17.0), (bottom - 0.5, top + 1.0))
    # the head's frame, with (up to two of) the other heads stacked behind it
    shown = min(heads, 3)
    for k in range(shown - 1, -1, -1):
        off = 0.13 * k
        ax.add_patch(FancyBboxPatch((-0.55 + off, bottom + off), right + 0.55, top - bottom,
                                    boxstyle="round,pad=0.02,rounding_size=0.15",
                                    fc="#fbfbfb", ec="gray", lw=0.9, zorder=-3 - k))
    ax.text(right - 0.12, bottom + 0.18,
            tr(lang, r"head 1 of $H$; each head has its own $W$ and $a$",
               r"헤드 $H$개 중 헤드 1; 헤드마다 자신의 $W$와 $a$가 있다"),
            ha="right", va="center", fontsize=8, color=MUTED)

    def chain(y, names, colors, widths, sizes):
        """A row of boxes joined by arrows, left to right."""
        xs = (xh, xw, xwh, xa)
        for x, text, color, w, fs in zip(xs, names, colors, widths, sizes, strict=True):
            box(ax, x, y, text, w=w, h=0.45, color=color, fontsize=fs)
        for k in range(len(xs) - 1):
            arrow(ax, (xs[k] + widths[k] / 2, y), (xs[k + 1] - widths[k + 1] / 2, y))

    widths, sizes = (0.7, 0.55, 0.95, 1.55), (10, 10, 10, 9)
    # the receiving node: projected, then its query term
    chain(y_query, (f"$h_{{{i}}}$", "$W$", f"$W h_{{{i}}}$", rf"$a_{{\mathrm{{dst}}}}^\top W h_{{{i}}}$"),
          ("decoder", "gate", "decoder", "decoder"), widths, sizes)
    ax.text(xa, y_query + 0.3,
            tr(lang, "query term (one number per receiving node)", "쿼리 항 (받는 노드마다 수 하나)"),
            ha="center", va="bottom", fontsize=7.5, color=MUTED)
    # the bus that adds the query term to every edge's key term
    ax.plot([xa + 0.78, xplus, xplus], [y_query, y_query, rows[-1]], color=QUERY_INK, lw=1.2,
            zorder=0)
    # one row per neighbour j (the self-loop too): key term, score, weight, weighted value
    for j, y in zip(neighbours, rows, strict=True):
        chain(y, (f"$h_{{{j}}}$", "$W$", f"$W h_{{{j}}}$", rf"$a_{{\mathrm{{src}}}}^\top W h_{{{j}}}$"),
              ("input", "gate", "encoder", "encoder"), widths, sizes)
        arrow(ax, (xa + 0.78, y), (xplus - 0.17, y))
        circle(ax, xplus, y, "+", r=0.17)
        box(ax, xlr, y, "LeakyReLU", w=1.1, h=0.4, color="gate", fontsize=8)
        arrow(ax, (xplus + 0.17, y), (xlr - 0.55, y))
        arrow(ax, (xlr + 0.55, y), (xsm - 0.4, y))
        ax.text((xlr + 0.55 + xsm - 0.4) / 2, y + 0.07, f"$e_{{{i}{j}}}$", ha="center",
                va="bottom", fontsize=9)
        arrow(ax, (xsm + 0.4, y), (xav - 0.7, y), color=ATTENTION_INK)
        ax.text((xsm + 0.4 + xav - 0.7) / 2, y + 0.07, rf"$\alpha_{{{i}{j}}}$", ha="center",
                va="bottom", fontsize=9, color=ATTENTION_INK)
        box(ax, xav, y, rf"$\alpha_{{{i}{j}}}\, W h_{{{j}}}$", w=1.4, h=0.45, color="attention",
            fontsize=9)
        dx, dy = xsum - (xav + 0.7), y_mid - y
        d = (dx * dx + dy * dy) ** 0.5
        arrow(ax, (xav + 0.7, y), (xsum - 0.24 * dx / d, y_mid - 0.24 * dy / d), lw=0.9)
    ax.text(xa, rows[-1] - 0.3,
            tr(lang, r"key term (one number per sending node $j$)", r"키 항 (보내는 노드 $j$마다 수 하나)"),
            ha="center", va="top", fontsize=7.5, color=MUTED)
    ax.text(xw, rows[-1] - 0.3, tr(lang, "the same $W$", "같은 $W$"), ha="center", va="top",
            fontsize=7.5, color=MUTED)
    ax.text(-0.85, y_mid, r"$j \in \mathcal{N}(" + str(i) + r") \cup \{" + str(i) + r"\}$",
            ha="center", va="center", fontsize=9, rotation=90)
    # the softmax over the neighbourhood
    ax.add_patch(FancyBboxPatch((xsm - 0.4, rows[-1] - 0.3), 0.8, rows[0] - rows[-1] + 0.6,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=PALETTE["attention"], ec="black", lw=1.0))
    ax.text(xsm, y_mid, tr(lang, "softmax over $j$", "$j$에 대한 소프트맥스"), ha="center",
            va="center", fontsize=9, rotation=90)
    # the weighted sum and the non-linearity: this head's output
    circle(ax, xsum, y_mid, r"$\Sigma_j$", r=0.24, color="attention", fontsize=9)
    # the heads: head 1 comes out of the front frame, the others from the frames behind it
    names = [str(k + 1) for k in range(shown - 1)] + ["H" if heads > 3 else str(heads)]
    head_ys = [y_mid + 0.62 * (1 - k) for k in range(shown)]
    for k, (name, y) in enumerate(zip(names, head_ys, strict=True)):
        box(ax, xhead, y, rf"$h_{{{i}}}'^{{({name})}}$", w=0.95, h=0.42, color="output", fontsize=9)
        if k == 0:
            arrow(ax, (xsum + 0.24, y_mid), (xhead - 0.475, y))
            ax.text(xsum + 0.75, y_mid - 0.02, r"$\sigma$", ha="center", va="top", fontsize=10)
        else:
            arrow(ax, (right + 0.13 * min(k, shown - 1) + 0.04, y), (xhead - 0.475, y), lw=0.8,
                  ls="--", color="gray")
    if heads > 3:
        ax.text(xhead + 0.62, (head_ys[-1] + head_ys[-2]) / 2, "⋮", ha="center", va="center",
                fontsize=10)
    combine = ((y_mid + 0.85, tr(lang, "concatenate $\\Vert$\n(hidden layer:\nwidth $H D_h$)",
                                 "이어 붙이기 $\\Vert$\n(은닉층:\n너비 $H D_h$)")),
               (y_mid - 0.85, tr(lang, "average\n(output layer)", "평균\n(출력층)")))
    for y, label in combine:
        box(ax, xcomb, y, label, w=1.9, h=0.95, color="context", fontsize=8)
        for yh in head_ys:
            arrow(ax, (xhead + 0.475, yh), (xcomb - 0.95, y + 0.25 * (yh - y_mid)), lw=0.7)
    # the score, written out
    ax.text(right / 2, top + 0.5,
            r"$e_{ij} = \mathrm{LeakyReLU}(a^\top [W h_i \Vert W h_j])"
            r" = \mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i + a_{\mathrm{src}}^\top W h_j)$,"
            r"   $a = [a_{\mathrm{dst}} \Vert a_{\mathrm{src}}]$"
            + tr(lang, ": a query term plus a key term", ": 쿼리 항 + 키 항"),
            ha="center", va="center", fontsize=9.5)
    return ax
