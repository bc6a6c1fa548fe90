r"""Graph Attention Networks (Veličković et al., 2018) and GATv2 (Brody et al., 2022): the layers and
the paper's model.

Taught in the chapter *Graph Attention Networks* (``notebooks/50_gat``: the layer, dense vs
edge-list, the reproduction on Cora and Citeseer) and ``notebooks/51_gat_inside`` (what the heads
learn, GAT as masked self-attention, GATv2). The lecture notes call the model "GAN"; the standard
name is GAT (GAN means generative adversarial network).

The GAT layer. Node i with features :math:`h_i \in \mathbb{R}^F` attends to its neighbours
:math:`\mathcal{N}(i)` *including itself*:

.. math::

    e_{ij} = \mathrm{LeakyReLU}\big(a^\top [W h_i \,\|\, W h_j]\big), \qquad
    \alpha_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}(e_{ij}), \qquad
    h_i' = \sigma\Big(\sum_{j} \alpha_{ij} W h_j\Big).

Splitting :math:`a = [a_{\mathrm{dst}} \,\|\, a_{\mathrm{src}}]` turns the score into a sum of two
per-node numbers, :math:`a^\top [W h_i \| W h_j] = a_{\mathrm{dst}}^\top W h_i + a_{\mathrm{src}}^\top
W h_j`, computed once per node instead of once per pair: "dst" is the receiving node i (the query),
"src" the sending neighbour j (the key), as in PyG's ``GATConv``. So GAT's score is a query term
plus a key term under a monotone LeakyReLU -- *static* attention: every query ranks the keys
alike. It is not Bahdanau's additive score :math:`w^\top \tanh(W_q q + W_k k)`, an MLP of the
pair whose ranking depends on the query (*dynamic*); that form is GATv2's (:class:`GATv2Layer`).
With H heads, H independent copies of :math:`(W, a)` run side by side; hidden layers concatenate
the heads, the output layer averages them.

Two implementations that give the same numbers (tested):

- :class:`DenseGATLayer` -- reads like the equation: an ``(H, N, N)`` score matrix masked by the
  adjacency with :func:`attnbook.attention.masked_softmax`. O(N²) memory: for teaching.
- :class:`GATLayer` -- an edge list: one score per edge (:func:`gat_scores`) and a softmax over
  each node's incoming edges that weights the messages (:func:`edge_attention`). O(E): what one
  uses. The same two functions run :class:`attnbook.ensemble.GATEnsemble`.

Beside them: :class:`GAT` (the paper's two-layer model), :class:`GATv2Layer`, :class:`LookupNet`
(one attention layer for GATv2's dictionary-lookup task,
:func:`attnbook.data.synthetic.dictionary_lookup`), :func:`gat_optimizer` (the paper's Adam and
weight decay, :meth:`GAT.configure_optimizer`) and :func:`attention_entropy` (how far a
node's attention is from uniform). Every layer keeps its last coefficients, detached, as
``.weights``; ``return_attention=True`` also returns them. The GCN baseline is :mod:`attnbook.gcn`; R models trained
at once, :mod:`attnbook.ensemble`; the training loop, :mod:`attnbook.graph_train`.

Shapes (the book's notation page): N nodes, E edges, F input features, H heads, Dh (:math:`D_h`,
the paper's F') features per head, C classes, R models (seeds).
``edge_index`` is ``(2, E)`` with rows (source j, target i) -- see :mod:`attnbook.graph`.
"""

from __future__ import annotations

import re
from typing import Literal, overload

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.attention import masked_softmax
from attnbook.graph import (
    SparseRows,
    add_self_loops,
    check_edge_index,
    check_features,
    dropout,
    edge_softmax,
    scatter_sum,
    to_dense_adj,
)

__all__ = [
    "gat_scores",
    "edge_attention",
    "GATLayer",
    "DenseGATLayer",
    "GATv2Layer",
    "GAT",
    "LookupNet",
    "attention_parameters",
    "gat_optimizer",
    "attention_entropy",
    "attention_spread",
]


def gat_scores(xw: Tensor, att_src: Tensor, att_dst: Tensor, src: Tensor, query: Tensor,
               negative_slope: float = 0.2) -> Tensor:
    r"""GAT's score of every edge: :math:`e_{ij} = \mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i
    + a_{\mathrm{src}}^\top W h_j)`.

    The two halves are computed once per node, then gathered per edge.

    Args:
        xw: ``(N, *, H, Dh)`` the projected features :math:`W h` (``*``: e.g. a model axis R).
        att_src, att_dst: ``(*, H, Dh)`` the two halves of :math:`a`.
        src: ``(E,)`` the sending node j of each edge.
        query: ``(E,)`` the receiving node i of each edge, as a row of ``xw``.
        negative_slope: the LeakyReLU's slope.

    Returns:
        ``(E, *, H)`` scores.
    """
    s_src = (xw * att_src).sum(-1)  # a_src^T W h_j for every node: (N, *, H)
    s_dst = (xw * att_dst).sum(-1)  # a_dst^T W h_i for every node: (N, *, H)
    return F.leaky_relu(s_dst.index_select(0, query) + s_src.index_select(0, src), negative_slope)


def edge_attention(scores: Tensor, values: Tensor, src: Tensor, dst: Tensor, num_nodes: int,
                   p: float = 0.0, training: bool = False, value_dropout: bool = False
                   ) -> tuple[Tensor, Tensor]:
    r"""Attention over each node's incoming edges: :math:`h'_i = \sum_j \alpha_{ij} v_j` with
    :math:`\alpha_{ij} = \operatorname{softmax}_j(e_{ij})`.

    Args:
        scores: ``(E, *, H)`` one score per edge (and head).
        values: ``(N_src, *, H, Dh)`` the message of each sending node (:math:`W h_j`).
        src: ``(E,)`` row of ``values`` each edge reads.
        dst: ``(E,)`` output node each edge writes, in ``[0, num_nodes)``.
        num_nodes: N, the rows of the output.
        p, training: dropout on the coefficients (in training only).
        value_dropout: also drop the values, as the GAT paper's code does (PyG does not).

    Returns:
        ``(out, alpha)``: ``(N, *, H, Dh)`` and the coefficients before dropout ``(E, *, H)``.
    """
    alpha = edge_softmax(scores, dst, num_nodes)  # sums to 1 over the edges into each node
    a = dropout(alpha, p, training)
    if value_dropout:
        values = dropout(values, p, training)
    # h'_i = sum_j alpha_ij v_j: (E, *, H, Dh) messages added into their targets -> (N, *, H, Dh)
    out = scatter_sum(a.unsqueeze(-1) * values.index_select(0, src), dst, num_nodes)
    return out, alpha


class _HeadsBase(nn.Module):
    """What every attention layer here shares: settings, the bias, heads concatenated or averaged.

    Subclasses create their weights in ``_make_weights`` and initialise them in ``_init_weights``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features, self.heads = in_features, out_features, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self._make_weights()
        width = heads * out_features if concat else out_features
        self.bias = nn.Parameter(torch.empty(width)) if bias else None
        self.reset_parameters()
        self.weights: Tensor | None = None  # the last forward's coefficients, detached, for plotting

    def _make_weights(self) -> None:
        raise NotImplementedError

    def _init_weights(self) -> None:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Glorot (Xavier) uniform weights and attention vectors, zero bias, as in the paper."""
        self._init_weights()
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def _finish(self, out: Tensor) -> Tensor:
        # (N, H, Dh) -> (N, H*Dh) for hidden layers, or the mean over heads (N, Dh) for the output
        out = out.reshape(out.shape[0], -1) if self.concat else out.mean(dim=1)
        return out + self.bias if self.bias is not None else out

    def _edges(self, x, edge_index: Tensor) -> Tensor:
        check_features(x, self.in_features, repr(self))
        check_edge_index(edge_index, x.shape[0])
        return add_self_loops(edge_index, x.shape[0]) if self.add_self_loops else edge_index

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_features}, {self.out_features}, heads={self.heads})"


class _GATBase(_HeadsBase):
    """Parameters shared by the dense and the edge-list GAT layer (same names, same init)."""

    def _make_weights(self) -> None:
        H, Dh = self.heads, self.out_features
        # W: (F, H*Dh), one (F, Dh) block per head
        self.weight = nn.Parameter(torch.empty(self.in_features, H * Dh))
        # a = [a_dst || a_src], one pair per head: (H, Dh) each
        self.att_src = nn.Parameter(torch.empty(H, Dh))
        self.att_dst = nn.Parameter(torch.empty(H, Dh))

    def _init_weights(self) -> None:
        nn.init.xavier_uniform_(self.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

class GATLayer(_GATBase):
    r"""The graph attention layer of Veličković et al. (2018), on an edge list.

    .. math::

        \alpha_{ij} = \frac{\exp\big(\mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i
        + a_{\mathrm{src}}^\top W h_j)\big)}{\sum_{k \in \mathcal{N}(i) \cup \{i\}}
        \exp\big(\mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i + a_{\mathrm{src}}^\top W h_k)\big)},
        \qquad h_i' = \Big\Vert_{h=1}^{H} \sum_{j \in \mathcal{N}(i) \cup \{i\}} \alpha^{h}_{ij} W^{h} h_j

    (heads concatenated; averaged when ``concat=False``), plus a bias. The activation
    :math:`\sigma` is left to the model. One score per edge, a softmax over the edges that arrive
    at each node: time and memory grow with E, not N². Equals PyG's ``GATConv`` given the same
    weights (tested).

    Args:
        in_features: F, the width of an input node feature.
        out_features: Dh, the width of each head's output.
        heads: H, the number of attention heads (default 1).
        concat: concatenate the heads (``True``, default, hidden layers) or average them
            (``False``, the output layer).
        negative_slope: slope of the LeakyReLU for negative scores (default 0.2).
        dropout: dropout probability on the attention coefficients (default 0).
        add_self_loops: let each node attend to itself (default ``True``).
        bias: add a learnable bias (default ``True``).

    Shapes:
        - input: x ``(N, F)`` (a Tensor or :class:`attnbook.graph.SparseRows`), edge_index ``(2, E)``
        - output: ``(N, H*Dh)`` if ``concat`` else ``(N, Dh)``; with ``return_attention=True`` also
          ``(edge_index with loops (2, E'), alpha (E', H))``, as PyG's
          ``return_attention_weights=True``.

    Attributes:
        weights: the last forward's coefficients alpha ``(E', H)``, detached (the edges of the
            returned ``edge_index``: the input's, plus self-loops).
    """

    @overload
    def forward(self, x: Tensor | SparseRows, edge_index: Tensor,
                return_attention: Literal[False] = False) -> Tensor: ...

    @overload
    def forward(self, x: Tensor | SparseRows, edge_index: Tensor,
                return_attention: Literal[True]) -> tuple[Tensor, tuple[Tensor, Tensor]]: ...

    def forward(
        self, x: Tensor | SparseRows, edge_index: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        edge_index = self._edges(x, edge_index)
        N, H, Dh = x.shape[0], self.heads, self.out_features
        src, dst = edge_index  # (E,), (E,): messages flow src j -> dst i
        xw = x.matmul(self.weight).view(N, H, Dh)  # W h for every node and head: (N, H, Dh)
        e = gat_scores(xw, self.att_src, self.att_dst, src, dst, self.negative_slope)  # (E, H)
        out, alpha = edge_attention(e, xw, src, dst, N, self.dropout, self.training)  # (N, H, Dh)
        self.weights = alpha.detach()
        out = self._finish(out)
        return (out, (edge_index, alpha)) if return_attention else out


class DenseGATLayer(_GATBase):
    r"""The same GAT layer written as masked attention over all N×N pairs (for teaching).

    The scores of all pairs form an ``(H, N, N)`` tensor (row i = query node i, column j = key
    node j); :func:`attnbook.attention.masked_softmax` with the adjacency as the mask keeps only
    the neighbours. Same parameters and numbers as :class:`GATLayer`, O(N²) memory.

    Args: as :class:`GATLayer`.

    Shapes:
        - input: x ``(N, F)``, adj ``(N, N)`` bool with ``adj[i, j] = True`` iff j -> i is an edge
          (:func:`attnbook.graph.to_dense_adj`)
        - output: ``(N, H*Dh)`` or ``(N, Dh)``; with ``return_attention=True`` also alpha ``(H, N, N)``.

    Attributes:
        weights: the last forward's coefficients alpha ``(H, N, N)``, detached.
    """

    @overload
    def forward(self, x: Tensor, adj: Tensor, return_attention: Literal[False] = False) -> Tensor: ...

    @overload
    def forward(self, x: Tensor, adj: Tensor, return_attention: Literal[True]) -> tuple[Tensor, Tensor]: ...

    def forward(
        self, x: Tensor, adj: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        if isinstance(x, SparseRows):
            x = x.to_dense()
        check_features(x, self.in_features, repr(self))
        N, H, Dh = x.shape[0], self.heads, self.out_features
        if adj.dtype != torch.bool or adj.shape != (N, N):
            raise ValueError(
                f"{self!r}: expected a bool adj of shape ({N}, {N}), got {adj.dtype} {tuple(adj.shape)}"
            )
        if self.add_self_loops:
            adj = adj | torch.eye(N, dtype=torch.bool, device=adj.device)
        # W h: (N, F) @ (F, H*Dh) -> (H, N, Dh)
        xw = (x @ self.weight).view(N, H, Dh).transpose(0, 1)
        # a_dst^T W h_i for the query i and a_src^T W h_j for the key j: (H, N) each
        s_dst = (xw * self.att_dst.unsqueeze(1)).sum(-1)
        s_src = (xw * self.att_src.unsqueeze(1)).sum(-1)
        # e[h, i, j] = LeakyReLU(a^T [W h_i || W h_j]): (H, N, 1) + (H, 1, N) -> (H, N, N)
        e = F.leaky_relu(s_dst.unsqueeze(2) + s_src.unsqueeze(1), self.negative_slope)
        # softmax over the neighbours j of i only: (H, N, N), each row sums to 1
        alpha = masked_softmax(e, adj.unsqueeze(0), dim=-1)
        self.weights = alpha.detach()
        a = dropout(alpha, self.dropout, self.training)
        # h'_i = sum_j alpha_ij W h_j: (H, N, N) @ (H, N, Dh) -> (H, N, Dh) -> (N, H, Dh)
        out = (a @ xw).transpose(0, 1)
        out = self._finish(out)
        return (out, alpha) if return_attention else out


class GATv2Layer(_HeadsBase):
    r"""GATv2 (Brody et al., 2022): the attention vector is applied *after* the non-linearity.

    .. math::

        e_{ij} = a^\top \mathrm{LeakyReLU}\big(W_{\mathrm{dst}} h_i + W_{\mathrm{src}} h_j\big),
        \qquad h_i' = \sum_j \alpha_{ij} W_{\mathrm{src}} h_j .

    In GAT, :math:`e_{ij} = \mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i + a_{\mathrm{src}}^\top W h_j)`
    is monotone in the key's term :math:`a_{\mathrm{src}}^\top W h_j`, so every query node ranks
    the keys in the same order (*static* attention). GATv2's score is an MLP of the pair -- the
    form of Bahdanau's additive score -- mixing query and key before the non-linearity, so the
    ranking can depend on the query (*dynamic* attention). Equals PyG's
    ``GATv2Conv`` (``share_weights=False``) given the same weights.

    Args: as :class:`GATLayer`.

    Shapes: as :class:`GATLayer` (x must be a dense Tensor).

    Attributes:
        weights: as :class:`GATLayer`'s.
    """

    def _make_weights(self) -> None:
        H, Dh = self.heads, self.out_features
        self.weight_src = nn.Parameter(torch.empty(self.in_features, H * Dh))
        self.weight_dst = nn.Parameter(torch.empty(self.in_features, H * Dh))
        self.att = nn.Parameter(torch.empty(H, Dh))

    def _init_weights(self) -> None:
        nn.init.xavier_uniform_(self.weight_src)
        nn.init.xavier_uniform_(self.weight_dst)
        nn.init.xavier_uniform_(self.att)

    @overload
    def forward(self, x: Tensor, edge_index: Tensor,
                return_attention: Literal[False] = False) -> Tensor: ...

    @overload
    def forward(self, x: Tensor, edge_index: Tensor,
                return_attention: Literal[True]) -> tuple[Tensor, tuple[Tensor, Tensor]]: ...

    def forward(
        self, x: Tensor, edge_index: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        edge_index = self._edges(x, edge_index)
        N, H, Dh = x.shape[0], self.heads, self.out_features
        src, dst = edge_index
        # W_src h_j (the message, and the key's part) and W_dst h_i (the query's part): (N, H, Dh)
        xs = x.matmul(self.weight_src).view(N, H, Dh)
        xd = x.matmul(self.weight_dst).view(N, H, Dh)
        # e_ij = a^T LeakyReLU(W_dst h_i + W_src h_j): (E, H, Dh) -> (E, H)
        e = F.leaky_relu(xd.index_select(0, dst) + xs.index_select(0, src), self.negative_slope)
        e = (e * self.att).sum(-1)
        out, alpha = edge_attention(e, xs, src, dst, N, self.dropout, self.training)  # (N, H, Dh)
        self.weights = alpha.detach()
        out = self._finish(out)
        return (out, (edge_index, alpha)) if return_attention else out


class GAT(nn.Module):
    r"""The paper's two-layer GAT for transductive node classification (Cora, Citeseer).

    dropout -> GAT layer (``heads`` heads of ``hidden`` features, concatenated) -> ELU -> dropout ->
    GAT layer (``out_heads`` heads of C features, averaged) -> class scores. Dropout ``dropout`` is
    applied to both layers' inputs and to the attention coefficients.

    Args:
        in_features: F.
        num_classes: C.
        hidden: features per head in the hidden layer (default 8).
        heads: heads in the hidden layer (default 8).
        out_heads: heads in the output layer (default 1; the paper uses 8 on Pubmed).
        dropout: dropout probability (default 0.6).
        negative_slope: LeakyReLU slope (default 0.2).
        dense: use :class:`DenseGATLayer` (O(N²), for teaching) instead of :class:`GATLayer`.

    Shapes: x ``(N, F)`` (Tensor or :class:`~attnbook.graph.SparseRows`), edge_index ``(2, E)`` -> logits ``(N, C)``.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden: int = 8,
        heads: int = 8,
        out_heads: int = 1,
        dropout: float = 0.6,
        negative_slope: float = 0.2,
        dense: bool = False,
    ) -> None:
        super().__init__()
        Layer = DenseGATLayer if dense else GATLayer
        self.dense, self.dropout = dense, dropout
        self.conv1 = Layer(in_features, hidden, heads, True, negative_slope, dropout)
        self.conv2 = Layer(heads * hidden, num_classes, out_heads, False, negative_slope, dropout)

    def forward(self, x: Tensor | SparseRows, edge_index: Tensor) -> Tensor:
        graph = to_dense_adj(edge_index, x.shape[0]) if self.dense else edge_index
        if self.dense and isinstance(x, SparseRows):
            x = x.to_dense()
        x = dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, graph))  # (N, H*Dh)
        x = dropout(x, self.dropout, self.training)
        return self.conv2(x, graph)  # (N, C)

    def configure_optimizer(self, lr: float = 0.005, weight_decay: float = 5e-4,
                            attention_weight_decay: float | None = None) -> torch.optim.Adam:
        """The paper's optimiser for this model: :func:`gat_optimizer`."""
        return gat_optimizer(self, lr, weight_decay, attention_weight_decay)


class LookupNet(nn.Module):
    """One attention layer (GAT or GATv2, no self-loops) and a linear read-out of the value: the
    model of GATv2's dictionary-lookup task (:func:`attnbook.data.synthetic.dictionary_lookup`).

    Args:
        layer: ``"gat"`` or ``"gatv2"``.
        k: the number of keys (and classes).
        hidden: the layer's width (default 32).
        heads: attention heads (default 1).

    Shapes: x ``(N, 2k+1)``, edge_index ``(2, E)`` -> logits ``(N, k)``.
    """

    def __init__(self, layer: str, k: int, hidden: int = 32, heads: int = 1) -> None:
        super().__init__()
        Layer = {"gat": GATLayer, "gatv2": GATv2Layer}[layer]
        self.conv = Layer(2 * k + 1, hidden, heads=heads, add_self_loops=False)
        self.out = nn.Linear(hidden * heads, k)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.out(F.relu(self.conv(x, edge_index)))


_ATTENTION_VECTOR = re.compile(r"(^|\.)att_(src|dst)\d*$")


def attention_parameters(model: nn.Module) -> list[nn.Parameter]:
    r"""The attention vectors :math:`a_{\mathrm{src}}, a_{\mathrm{dst}}` of every GAT layer in
    ``model``, in the model's order: the parameters named ``att_src``/``att_dst`` (also those of
    PyG's ``GATConv``, and :class:`~attnbook.ensemble.GATEnsemble`'s stacked ``att_src1``, ...)."""
    return [p for name, p in model.named_parameters() if _ATTENTION_VECTOR.search(name)]


def gat_optimizer(model: nn.Module, lr: float = 0.005, weight_decay: float = 5e-4,
                  attention_weight_decay: float | None = None) -> torch.optim.Adam:
    """The GAT paper's optimiser on Cora and Citeseer: Adam, learning rate 0.005, L2 weight decay
    5e-4 on every parameter.

    Args:
        model: a :class:`GAT`, a :class:`~attnbook.ensemble.GATEnsemble` or any module (e.g.
            PyG's ``GATConv`` layers): its parameters in one group.
        lr, weight_decay: Adam's learning rate and weight decay.
        attention_weight_decay: another weight decay for the attention vectors
            (:func:`attention_parameters`, a second parameter group); None (default): the same as
            every weight, as in the paper. ``notebooks/51_gat_inside`` sets it to 0 to see what
            decay does to the attention.

    Example::

        opt = gat_optimizer(model)  # = model.configure_optimizer()
    """
    att = attention_parameters(model) if attention_weight_decay is not None else []
    rest = [p for p in model.parameters() if all(p is not q for q in att)]
    groups = [{"params": rest, "weight_decay": weight_decay}]
    if att:
        groups.append({"params": att, "weight_decay": attention_weight_decay})
    return torch.optim.Adam(groups, lr=lr)


def attention_entropy(alpha: Tensor, index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    r"""Entropy of each node's attention distribution, and that of uniform attention over the same edges.

    :math:`H_i = -\sum_j \alpha_{ij} \log \alpha_{ij}`; uniform attention over :math:`d_i` incoming
    edges has entropy :math:`\log d_i`.

    Args:
        alpha: ``(E,)`` or ``(E, H)`` coefficients from a GAT layer.
        index: ``(E,)`` the target node of each edge.
        num_nodes: N.

    Returns:
        ``(entropy, uniform)``: ``(N, H)`` (or ``(N,)``) and ``(N,)``, in nats.
    """
    plogp = torch.where(alpha > 0, alpha * alpha.clamp_min(1e-30).log(), torch.zeros_like(alpha))
    ent = -scatter_sum(plogp, index, num_nodes)
    deg = torch.bincount(index, minlength=num_nodes).float()
    return ent, deg.clamp_min(1).log()


def attention_spread(alpha: Tensor, index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    r"""How far each node's attention is from uniform, in two numbers.

    - the *excess* of its largest weight over uniform, :math:`\max_j \alpha_{ij} - 1/\hat d_i`
      (0 for uniform attention);
    - the *score range* :math:`\max_j e_{ij} - \min_j e_{ij}` over its incoming edges, read from
      the weights: :math:`\alpha_{ij} \propto \exp(e_{ij})`, so it equals
      :math:`\log(\max_j \alpha_{ij} / \min_j \alpha_{ij})` -- the largest weight is
      :math:`e^{\text{range}}` times the smallest. A range of 0.05 means weights within 5 % of
      each other. Works for any softmax attention (GAT, GATv2).

    Used in ``notebooks/51_gat_inside`` to explain why GAT's attention on Cora is nearly uniform.

    Args:
        alpha: ``(E,)`` or ``(E, H)`` coefficients, positive, summing to 1 over the edges into
            each node.
        index: ``(E,)`` the target node of each edge.
        num_nodes: N.

    Returns:
        ``(excess, score_range)``, each ``(N, H)`` (or ``(N,)``); 0 for nodes without edges.
    """
    if alpha.shape[0] != index.shape[0]:
        raise ValueError(f"alpha has {alpha.shape[0]} edges but index has {index.shape[0]}")
    shape = (num_nodes, *alpha.shape[1:])
    idx = index.view(-1, *([1] * (alpha.dim() - 1))).expand_as(alpha)
    log_a = alpha.clamp_min(1e-30).log()
    amax = torch.zeros(shape, dtype=alpha.dtype, device=alpha.device).scatter_reduce(
        0, idx, alpha, "amax", include_self=False)
    lmax = torch.zeros(shape, dtype=alpha.dtype, device=alpha.device).scatter_reduce(
        0, idx, log_a, "amax", include_self=False)
    lmin = torch.zeros(shape, dtype=alpha.dtype, device=alpha.device).scatter_reduce(
        0, idx, log_a, "amin", include_self=False)
    deg = torch.bincount(index, minlength=num_nodes).to(alpha.dtype)
    deg = deg.view(-1, *([1] * (alpha.dim() - 1)))
    excess = torch.where(deg > 0, amax - 1 / deg.clamp_min(1), torch.zeros_like(amax))
    return excess, lmax - lmin
