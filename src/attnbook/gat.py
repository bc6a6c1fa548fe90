r"""Graph Attention Networks (Veličković et al., 2018), a GCN baseline (Kipf & Welling, 2017) and GATv2
(Brody et al., 2022).

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
"src" the sending neighbour j (the key), as in PyG's ``GATConv``. With H heads, H independent
copies of :math:`(W, a)` run side by side; hidden layers concatenate the heads, the output layer
averages them.

Two implementations that give the same numbers (tested):

- :class:`DenseGATLayer` -- reads like the equation: an ``(H, N, N)`` score matrix masked by the
  adjacency with :func:`attnbook.attention.masked_softmax`. O(N²) memory: for teaching.
- :class:`GATLayer` -- an edge list: one score per edge and a softmax over each node's incoming
  edges (:func:`attnbook.graph.edge_softmax`). O(E): what one uses.

Beside them: :class:`GAT` (the paper's two-layer model), :class:`GCNLayer` / :class:`GCN`,
:class:`GATv2Layer`; :class:`GATEnsemble` and :class:`GCNEnsemble`, which train S independent copies
(one per seed) in one pass, tested equal to S separate models; and :func:`fit_ensemble`, the
full-batch training loop with the paper's early stopping.

Shapes: N nodes, E edges, F input features, H heads, C features per head, K classes, S seeds.
``edge_index`` is ``(2, E)`` with rows (source j, target i) -- see :mod:`attnbook.graph`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.attention import masked_softmax
from attnbook.graph import (
    SparseRows,
    add_self_loops,
    check_edge_index,
    dropout,
    edge_softmax,
    gcn_norm,
    receptive_edges,
    scatter_sum,
    to_dense_adj,
)

__all__ = [
    "GATLayer",
    "DenseGATLayer",
    "GATv2Layer",
    "GAT",
    "GCNLayer",
    "GCN",
    "GATEnsemble",
    "GCNEnsemble",
    "FitResult",
    "fit_ensemble",
    "attention_entropy",
    "dictionary_lookup",
    "LookupNet",
]


def _num_nodes(x: Tensor | SparseRows) -> int:
    return x.shape[0]


def _check_x(x, in_features: int, who: str) -> None:
    if not isinstance(x, (Tensor, SparseRows)):
        raise TypeError(f"{who}: x must be a Tensor or SparseRows (N, F), got {type(x).__name__}")
    if len(x.shape) != 2 or x.shape[1] != in_features:
        raise ValueError(f"{who}: expected x of shape (N, {in_features}), got {tuple(x.shape)}")


def _project(x: Tensor | SparseRows, weight: Tensor) -> Tensor:
    """``x @ weight`` for a dense or a :class:`SparseRows` x: ``(N, F) @ (F, D)`` -> ``(N, D)``."""
    return x.matmul(weight) if isinstance(x, SparseRows) else x @ weight


class _GATBase(nn.Module):
    """Parameters shared by the dense and the edge-list GAT layer (same names, same init)."""

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
        # W: (F, H*C), one (F, C) block per head
        self.weight = nn.Parameter(torch.empty(in_features, heads * out_features))
        # a = [a_dst || a_src], one pair per head: (H, C) each
        self.att_src = nn.Parameter(torch.empty(heads, out_features))
        self.att_dst = nn.Parameter(torch.empty(heads, out_features))
        width = heads * out_features if concat else out_features
        self.bias = nn.Parameter(torch.empty(width)) if bias else None
        self.reset_parameters()
        self.attention: Tensor | None = None  # the last forward's coefficients, for plotting

    def reset_parameters(self) -> None:
        """Glorot (Xavier) uniform weights and attention vectors, zero bias, as in the paper."""
        nn.init.xavier_uniform_(self.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def _finish(self, out: Tensor) -> Tensor:
        # (N, H, C) -> (N, H*C) for hidden layers, or the mean over heads (N, C) for the output
        out = out.reshape(out.shape[0], -1) if self.concat else out.mean(dim=1)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_features}, {self.out_features}, heads={self.heads})"


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
        out_features: C, the width of each head's output.
        heads: H, the number of attention heads (default 1).
        concat: concatenate the heads (``True``, default, hidden layers) or average them
            (``False``, the output layer).
        negative_slope: slope of the LeakyReLU for negative scores (default 0.2).
        dropout: dropout probability on the attention coefficients (default 0).
        add_self_loops: let each node attend to itself (default ``True``).
        bias: add a learnable bias (default ``True``).

    Shapes:
        - input: x ``(N, F)`` (a Tensor or :class:`attnbook.graph.SparseRows`), edge_index ``(2, E)``
        - output: ``(N, H*C)`` if ``concat`` else ``(N, C)``; with ``return_attention=True`` also
          ``(edge_index with loops (2, E'), alpha (E', H))``.
    """

    def forward(
        self, x: Tensor | SparseRows, edge_index: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        _check_x(x, self.in_features, repr(self))
        N, H, C = _num_nodes(x), self.heads, self.out_features
        check_edge_index(edge_index, N)
        if self.add_self_loops:
            edge_index = add_self_loops(edge_index, N)
        src, dst = edge_index  # (E,), (E,): messages flow src j -> dst i
        # W h for every node and head: (N, H, C)
        xw = _project(x, self.weight).view(N, H, C)
        # the two halves of a^T [W h_i || W h_j], once per node: (N, H) each
        s_src = (xw * self.att_src).sum(-1)
        s_dst = (xw * self.att_dst).sum(-1)
        # e_ij = LeakyReLU(a_dst^T W h_i + a_src^T W h_j), one per edge: (E, H)
        e = F.leaky_relu(s_dst.index_select(0, dst) + s_src.index_select(0, src), self.negative_slope)
        # alpha_ij = softmax over the edges arriving at i: (E, H)
        alpha = edge_softmax(e, dst, N)
        self.attention = alpha.detach()
        a = dropout(alpha, self.dropout, self.training)
        # h'_i = sum_j alpha_ij W h_j: (E, H, C) messages added into their targets -> (N, H, C)
        out = scatter_sum(a.unsqueeze(-1) * xw.index_select(0, src), dst, N)
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
        - output: ``(N, H*C)`` or ``(N, C)``; with ``return_attention=True`` also alpha ``(H, N, N)``.
    """

    def forward(
        self, x: Tensor, adj: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        if isinstance(x, SparseRows):
            x = x.to_dense()
        _check_x(x, self.in_features, repr(self))
        N, H, C = x.shape[0], self.heads, self.out_features
        if adj.dtype != torch.bool or adj.shape != (N, N):
            raise ValueError(f"{self!r}: expected a bool adj of shape ({N}, {N}), got {adj.dtype} {tuple(adj.shape)}")
        if self.add_self_loops:
            adj = adj | torch.eye(N, dtype=torch.bool, device=adj.device)
        # W h: (N, F) @ (F, H*C) -> (H, N, C)
        xw = (x @ self.weight).view(N, H, C).transpose(0, 1)
        # a_dst^T W h_i for the query i and a_src^T W h_j for the key j: (H, N) each
        s_dst = (xw * self.att_dst.unsqueeze(1)).sum(-1)
        s_src = (xw * self.att_src.unsqueeze(1)).sum(-1)
        # e[h, i, j] = LeakyReLU(a^T [W h_i || W h_j]): (H, N, 1) + (H, 1, N) -> (H, N, N)
        e = F.leaky_relu(s_dst.unsqueeze(2) + s_src.unsqueeze(1), self.negative_slope)
        # softmax over the neighbours j of i only: (H, N, N), each row sums to 1
        alpha = masked_softmax(e, adj.unsqueeze(0), dim=-1)
        self.attention = alpha.detach()
        a = dropout(alpha, self.dropout, self.training)
        # h'_i = sum_j alpha_ij W h_j: (H, N, N) @ (H, N, C) -> (H, N, C) -> (N, H, C)
        out = (a @ xw).transpose(0, 1)
        out = self._finish(out)
        return (out, alpha) if return_attention else out


class GATv2Layer(nn.Module):
    r"""GATv2 (Brody et al., 2022): the attention vector is applied *after* the non-linearity.

    .. math::

        e_{ij} = a^\top \mathrm{LeakyReLU}\big(W_{\mathrm{dst}} h_i + W_{\mathrm{src}} h_j\big),
        \qquad h_i' = \sum_j \alpha_{ij} W_{\mathrm{src}} h_j .

    In GAT, :math:`e_{ij} = \mathrm{LeakyReLU}(a_{\mathrm{dst}}^\top W h_i + a_{\mathrm{src}}^\top W h_j)`
    is monotone in the key's term :math:`a_{\mathrm{src}}^\top W h_j`, so every query node ranks
    the keys in the same order (*static* attention). GATv2's score mixes query and key before the
    non-linearity, so the ranking can depend on the query (*dynamic* attention). Equals PyG's
    ``GATv2Conv`` (``share_weights=False``) given the same weights.

    Args: as :class:`GATLayer`.

    Shapes: as :class:`GATLayer` (x must be a dense Tensor).
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
        self.weight_src = nn.Parameter(torch.empty(in_features, heads * out_features))
        self.weight_dst = nn.Parameter(torch.empty(in_features, heads * out_features))
        self.att = nn.Parameter(torch.empty(heads, out_features))
        self.bias = nn.Parameter(torch.empty(heads * out_features if concat else out_features)) if bias else None
        self.reset_parameters()
        self.attention: Tensor | None = None

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.weight_src)
        nn.init.xavier_uniform_(self.weight_dst)
        nn.init.xavier_uniform_(self.att)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(
        self, x: Tensor, edge_index: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        _check_x(x, self.in_features, repr(self))
        N, H, C = x.shape[0], self.heads, self.out_features
        check_edge_index(edge_index, N)
        if self.add_self_loops:
            edge_index = add_self_loops(edge_index, N)
        src, dst = edge_index
        # W_src h_j (the message, and the key's part) and W_dst h_i (the query's part): (N, H, C)
        xs = (x @ self.weight_src).view(N, H, C)
        xd = (x @ self.weight_dst).view(N, H, C)
        # e_ij = a^T LeakyReLU(W_dst h_i + W_src h_j): (E, H, C) -> (E, H)
        e = F.leaky_relu(xd.index_select(0, dst) + xs.index_select(0, src), self.negative_slope)
        e = (e * self.att).sum(-1)
        alpha = edge_softmax(e, dst, N)  # (E, H)
        self.attention = alpha.detach()
        a = dropout(alpha, self.dropout, self.training)
        out = scatter_sum(a.unsqueeze(-1) * xs.index_select(0, src), dst, N)  # (N, H, C)
        out = out.reshape(N, -1) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        return (out, (edge_index, alpha)) if return_attention else out

    def __repr__(self) -> str:
        return f"GATv2Layer({self.in_features}, {self.out_features}, heads={self.heads})"


def _input_dropout(x: Tensor | SparseRows, p: float, training: bool) -> Tensor | SparseRows:
    if isinstance(x, SparseRows):
        return x.dropout(p, training)
    return dropout(x, p, training)


class GAT(nn.Module):
    r"""The paper's two-layer GAT for transductive node classification (Cora, Citeseer).

    dropout -> GAT layer (``heads`` heads of ``hidden`` features, concatenated) -> ELU -> dropout ->
    GAT layer (``out_heads`` heads of K features, averaged) -> class scores. Dropout ``dropout`` is
    applied to both layers' inputs and to the attention coefficients.

    Args:
        in_features: F.
        num_classes: K.
        hidden: features per head in the hidden layer (default 8).
        heads: heads in the hidden layer (default 8).
        out_heads: heads in the output layer (default 1; the paper uses 8 on Pubmed).
        dropout: dropout probability (default 0.6).
        negative_slope: LeakyReLU slope (default 0.2).
        dense: use :class:`DenseGATLayer` (O(N²), for teaching) instead of :class:`GATLayer`.

    Shapes: x ``(N, F)`` (Tensor or :class:`SparseRows`), edge_index ``(2, E)`` -> logits ``(N, K)``.
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
        x = _input_dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, graph))  # (N, H*C)
        x = dropout(x, self.dropout, self.training)
        return self.conv2(x, graph)  # (N, K)


class GCNLayer(nn.Module):
    r"""The graph convolution of Kipf & Welling (2017): :math:`H' = \hat D^{-1/2}\hat A \hat D^{-1/2} H W + b`.

    :math:`\hat A = A + I` (self-loops), :math:`\hat D` its degree matrix: each node averages its
    neighbours' projected features with fixed weights :math:`1/\sqrt{\hat d_i \hat d_j}` -- GAT
    replaces these fixed weights by learned attention.

    Args:
        in_features: F.
        out_features: D.
        bias: add a learnable bias (default ``True``).

    Shapes: x ``(N, F)`` (Tensor or SparseRows), edge_index ``(2, E)`` without self-loops -> ``(N, D)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor | SparseRows, edge_index: Tensor) -> Tensor:
        _check_x(x, self.in_features, repr(self))
        N = x.shape[0]
        ei, w = gcn_norm(edge_index, N)  # (2, E'), (E',)
        xw = _project(x, self.weight)  # (N, D)
        out = scatter_sum(w.unsqueeze(-1) * xw.index_select(0, ei[0]), ei[1], N)  # (N, D)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"GCNLayer({self.in_features}, {self.out_features})"


class GCN(nn.Module):
    """Kipf & Welling's two-layer GCN: dropout -> GCN(16) -> ReLU -> dropout -> GCN(K).

    Shapes: x ``(N, F)``, edge_index ``(2, E)`` -> logits ``(N, K)``.
    """

    def __init__(self, in_features: int, num_classes: int, hidden: int = 16, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = dropout
        self.conv1 = GCNLayer(in_features, hidden)
        self.conv2 = GCNLayer(hidden, num_classes)

    def forward(self, x: Tensor | SparseRows, edge_index: Tensor) -> Tensor:
        x = _input_dropout(x, self.dropout, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


# ---------------------------------------------------------------------------------------------
# S independent models in one pass (one per seed), for the 10-seed reproductions
# ---------------------------------------------------------------------------------------------


class _Stacked:
    """A SparseRows x laid out for S models at once, as one sparse ``(N*S, S*F)`` matrix: row
    ``n*S + s`` holds row n's non-zeros with column ids shifted by ``s*F``, so that they select
    model s's block of a stacked ``(S*F, D)`` weight. Rows are node-major: the product reshapes
    to ``(N, S, D)`` without a copy."""

    def __init__(self, x: SparseRows, S: int) -> None:
        N, Fdim = x.shape
        nnz = x.nnz
        s = torch.arange(S, device=x.cols.device).repeat_interleave(nnz)  # (S*nnz,)
        key = x.rows.repeat(S) * S + s  # the new row id n*S + s
        order = torch.argsort(key, stable=True)
        self.big = SparseRows((x.cols.repeat(S) + s * Fdim)[order], x.values.repeat(S)[order],
                              key[order], (N * S, S * Fdim))
        self.x, self.S = x, S

    def matmul(self, weight: Tensor, p: float, training: bool) -> Tensor:
        """Per-model dropout then ``x @ W_s`` for every s: weight ``(S, F, D)`` -> ``(N, S, D)``."""
        S, Fdim, D = weight.shape
        N = self.x.shape[0]
        if not training or p == 0.0:
            # no dropout: one product with all models' weights side by side, (F, S*D)
            w = weight.permute(1, 0, 2).reshape(Fdim, S * D)
            return self.x.matmul(w).view(N, S, D)
        big = self.big.dropout(p, True)  # an independent mask per model
        return big.matmul(weight.reshape(S * Fdim, D)).view(N, S, D)


class _Plan:
    """What a two-layer pass computes for the nodes ``targets``: the input rows it projects (n0),
    the hidden rows (n1) and the output rows (targets), and each layer's edges in local ids.

    Layer l reads rows of the set below it (``src``: the neighbour's row, ``query``: the receiving
    node's row in the same set, there by its self-loop) and writes rows of its own set (``dst``).
    """

    def __init__(self, x: SparseRows, edge_index: Tensor, targets: Tensor | None, S: int,
                 gcn: bool) -> None:
        N = x.shape[0]
        if targets is None:
            targets = torch.ones(N, dtype=torch.bool, device=edge_index.device)
        if gcn:
            ei, w = gcn_norm(edge_index, N)
        else:
            ei, w = add_self_loops(edge_index, N), None
        m1, m2 = receptive_edges(ei, targets, 2, masks=True)
        n1 = torch.zeros_like(targets)
        n1[ei[0, m2]] = True
        n0 = torch.zeros_like(targets)
        n0[ei[0, m1]] = True
        sets = [n0.nonzero().squeeze(1), n1.nonzero().squeeze(1), targets.nonzero().squeeze(1)]
        locs = []
        for idx in sets:
            loc = torch.full((N,), -1, dtype=torch.long, device=edge_index.device)
            loc[idx] = torch.arange(idx.numel(), device=edge_index.device)
            locs.append(loc)
        self.sizes = [int(i.numel()) for i in sets]  # N0, N1, N2
        self.layers = []
        for layer, m in enumerate((m1, m2)):
            e = ei[:, m]
            below, here = locs[layer], locs[layer + 1]
            self.layers.append({"src": below[e[0]], "query": below[e[1]], "dst": here[e[1]],
                                "weight": None if w is None else w[m]})
        self.stacked = _Stacked(x.select_rows(sets[0]) if self.sizes[0] < N else x, S)
        self.keep = (edge_index, targets)  # keeps the ids used as cache keys alive


def _stacked_param(S: int, *shape: int) -> nn.Parameter:
    return nn.Parameter(torch.empty(S, *shape))


class _EnsembleBase(nn.Module):
    num_models: int
    in_features: int

    def _plan(self, x: SparseRows, edge_index: Tensor, targets: Tensor | None) -> _Plan:
        if not isinstance(x, SparseRows):
            raise TypeError(f"{type(self).__name__} expects x as SparseRows, got {type(x).__name__}")
        _check_x(x, self.in_features, type(self).__name__)
        cache = self.__dict__.setdefault("_plans", {})
        key = (id(x), id(edge_index), None if targets is None else id(targets))
        if key not in cache:  # self-loops, receptive fields and layouts are computed once
            check_edge_index(edge_index, x.shape[0])
            cache[key] = (x, _Plan(x, edge_index, targets, self.num_models, isinstance(self, GCNEnsemble)))
        return cache[key][1]


class GATEnsemble(_EnsembleBase):
    """S independent copies of :class:`GAT` trained in one pass (a model axis in every weight).

    Each copy has its own initialisation, its own dropout masks and -- with :func:`fit_ensemble`,
    whose loss is the *sum* of the copies' losses and whose optimiser (Adam) acts element-wise -- its
    own training trajectory, exactly as if it were trained alone: the copies share only the time per
    epoch. Tested equal to S separate :class:`GAT` models given the same weights.

    Args: ``num_models`` (S), then as :class:`GAT` (no ``dense``), and ``value_dropout``
    (default ``False``): also apply dropout to the projected features :math:`W h_j` that attention
    averages, as the paper's TensorFlow code does (PyG's ``GATConv`` does not).

    Shapes: x :class:`SparseRows` ``(N, F)``, edge_index ``(2, E)`` -> logits ``(N, S, K)``; with
    a bool mask ``targets`` ``(N,)``, only the target nodes' logits ``(N_targets, S, K)``, computed
    on their receptive field (:func:`attnbook.graph.receptive_edges`).
    """

    def __init__(
        self,
        num_models: int,
        in_features: int,
        num_classes: int,
        hidden: int = 8,
        heads: int = 8,
        out_heads: int = 1,
        dropout: float = 0.6,
        negative_slope: float = 0.2,
        value_dropout: bool = False,
    ) -> None:
        super().__init__()
        S = self.num_models = num_models
        self.value_dropout = value_dropout
        self.in_features, self.num_classes, self.hidden, self.heads, self.out_heads = (
            in_features, num_classes, hidden, heads, out_heads)
        self.dropout, self.negative_slope = dropout, negative_slope
        self.w1 = _stacked_param(S, in_features, heads * hidden)
        self.att_src1, self.att_dst1 = _stacked_param(S, heads, hidden), _stacked_param(S, heads, hidden)
        self.b1 = _stacked_param(S, heads * hidden)
        self.w2 = _stacked_param(S, heads * hidden, out_heads * num_classes)
        self.att_src2 = _stacked_param(S, out_heads, num_classes)
        self.att_dst2 = _stacked_param(S, out_heads, num_classes)
        self.b2 = _stacked_param(S, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for s in range(self.num_models):  # each copy initialised as GAT initialises one model
            for p in (self.w1, self.att_src1, self.att_dst1, self.w2, self.att_src2, self.att_dst2):
                nn.init.xavier_uniform_(p.data[s])
        nn.init.zeros_(self.b1)
        nn.init.zeros_(self.b2)

    @torch.no_grad()
    def load_models(self, models: list[GAT]) -> GATEnsemble:
        """Copy the weights of S :class:`GAT` models into the S copies (for tests)."""
        if len(models) != self.num_models:
            raise ValueError(f"expected {self.num_models} models, got {len(models)}")
        for s, m in enumerate(models):
            c1, c2 = m.conv1, m.conv2
            for dst, src in ((self.w1, c1.weight), (self.att_src1, c1.att_src), (self.att_dst1, c1.att_dst),
                             (self.b1, c1.bias), (self.w2, c2.weight), (self.att_src2, c2.att_src),
                             (self.att_dst2, c2.att_dst), (self.b2, c2.bias)):
                dst[s].copy_(src)
        return self

    @torch.no_grad()
    def export(self, s: int) -> GAT:
        """Copy number ``s`` as a plain :class:`GAT` (e.g. to look at its attention)."""
        m = GAT(self.in_features, self.num_classes, self.hidden, self.heads, self.out_heads,
                self.dropout, self.negative_slope)
        c1, c2 = m.conv1, m.conv2
        for dst, src in ((c1.weight, self.w1), (c1.att_src, self.att_src1), (c1.att_dst, self.att_dst1),
                         (c1.bias, self.b1), (c2.weight, self.w2), (c2.att_src, self.att_src2),
                         (c2.att_dst, self.att_dst2), (c2.bias, self.b2)):
            dst.copy_(src[s])
        return m

    def _attend(self, xw: Tensor, att_src: Tensor, att_dst: Tensor, edges: dict, num_out: int) -> Tensor:
        # xw: (N_below, S, H, C); att_*: (S, H, C)
        src, query, dst = edges["src"], edges["query"], edges["dst"]
        s_src = (xw * att_src).sum(-1)  # (N_below, S, H)
        s_dst = (xw * att_dst).sum(-1)  # (N_below, S, H)
        e = F.leaky_relu(s_dst.index_select(0, query) + s_src.index_select(0, src), self.negative_slope)  # (E, S, H)
        alpha = edge_softmax(e, dst, num_out)  # (E, S, H)
        alpha = dropout(alpha, self.dropout, self.training)
        if self.value_dropout:  # the paper's code also drops the projected features W h_j
            xw = dropout(xw, self.dropout, self.training)
        return scatter_sum(alpha.unsqueeze(-1) * xw.index_select(0, src), dst, num_out)  # (N_out, S, H, C)

    def forward(self, x: SparseRows, edge_index: Tensor, targets: Tensor | None = None) -> Tensor:
        plan = self._plan(x, edge_index, targets)
        S, H, C, K = self.num_models, self.heads, self.hidden, self.num_classes
        N0, N1, N2 = plan.sizes
        l1, l2 = plan.layers
        # layer 1: per-model input dropout and projection (N0, S, H, C), attention, concat heads
        xw = plan.stacked.matmul(self.w1, self.dropout, self.training).view(N0, S, H, C)
        h = self._attend(xw, self.att_src1, self.att_dst1, l1, N1).reshape(N1, S, H * C) + self.b1
        h = dropout(F.elu(h), self.dropout, self.training)  # (N1, S, H*C)
        # layer 2: (N1, S, H*C) x (S, H*C, H2*K) -> (N1, S, H2, K), attention, mean over heads
        xw2 = torch.einsum("nsd,sdk->nsk", h, self.w2).view(N1, S, self.out_heads, K)
        return self._attend(xw2, self.att_src2, self.att_dst2, l2, N2).mean(dim=2) + self.b2  # (N2, S, K)

    def __repr__(self) -> str:
        return (f"GATEnsemble({self.num_models} x GAT({self.in_features}, {self.num_classes}, "
                f"hidden={self.hidden}, heads={self.heads}, out_heads={self.out_heads}))")


class GCNEnsemble(_EnsembleBase):
    """S independent copies of :class:`GCN` in one pass; tested equal to S separate GCNs.

    Shapes: as :class:`GATEnsemble`.
    """

    def __init__(self, num_models: int, in_features: int, num_classes: int, hidden: int = 16,
                 dropout: float = 0.5) -> None:
        super().__init__()
        S = self.num_models = num_models
        self.in_features, self.num_classes, self.hidden, self.dropout = in_features, num_classes, hidden, dropout
        self.w1, self.b1 = _stacked_param(S, in_features, hidden), _stacked_param(S, hidden)
        self.w2, self.b2 = _stacked_param(S, hidden, num_classes), _stacked_param(S, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for s in range(self.num_models):
            nn.init.xavier_uniform_(self.w1.data[s])
            nn.init.xavier_uniform_(self.w2.data[s])
        nn.init.zeros_(self.b1)
        nn.init.zeros_(self.b2)

    def first_layer_parameters(self) -> list[nn.Parameter]:
        return [self.w1, self.b1]

    @torch.no_grad()
    def load_models(self, models: list[GCN]) -> GCNEnsemble:
        for s, m in enumerate(models):
            self.w1[s].copy_(m.conv1.weight)
            self.b1[s].copy_(m.conv1.bias)
            self.w2[s].copy_(m.conv2.weight)
            self.b2[s].copy_(m.conv2.bias)
        return self

    @staticmethod
    def _propagate(xw: Tensor, edges: dict, num_out: int) -> Tensor:
        # sum_j w_ij x_j W: (E, S, D) weighted messages added into their targets -> (N_out, S, D)
        msg = edges["weight"][:, None, None] * xw.index_select(0, edges["src"])
        return scatter_sum(msg, edges["dst"], num_out)

    def forward(self, x: SparseRows, edge_index: Tensor, targets: Tensor | None = None) -> Tensor:
        plan = self._plan(x, edge_index, targets)
        _, N1, N2 = plan.sizes
        l1, l2 = plan.layers
        xw = plan.stacked.matmul(self.w1, self.dropout, self.training)  # (N0, S, D)
        h = self._propagate(xw, l1, N1) + self.b1  # (N1, S, D)
        h = dropout(F.relu(h), self.dropout, self.training)
        hw = torch.einsum("nsd,sdk->nsk", h, self.w2)  # (N1, S, K)
        return self._propagate(hw, l2, N2) + self.b2  # (N2, S, K)

    def __repr__(self) -> str:
        return f"GCNEnsemble({self.num_models} x GCN({self.in_features}, {self.num_classes}, hidden={self.hidden}))"


# ---------------------------------------------------------------------------------------------
# Training: full batch, the paper's early stopping, one bookkeeping per model
# ---------------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """What :func:`fit_ensemble` found, one entry per model (seed).

    Attributes:
        test_acc: test accuracy (%) at the epoch chosen by validation, ``(S,)``.
        val_acc: validation accuracy (%) at that epoch, ``(S,)``.
        best_epoch: the chosen epoch of each model, ``(S,)``.
        stop_epoch: the epoch at which each model's early stopping fired, ``(S,)``.
        epochs: epochs run in total (the last model to stop).
        seconds: wall-clock time of the whole fit.
        history: per epoch, the mean over models of train loss, val loss, val accuracy.
    """

    test_acc: Tensor
    val_acc: Tensor
    best_epoch: Tensor
    stop_epoch: Tensor
    epochs: int
    seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)


def _per_model_loss_acc(lg: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    # logits (M, S, K), labels (M,) -> per-model mean cross-entropy and accuracy (%): (S,), (S,)
    M, S, K = lg.shape
    target = y.unsqueeze(1).expand(M, S)
    loss = F.cross_entropy(lg.reshape(M * S, K), target.reshape(-1), reduction="none").view(M, S).mean(0)
    acc = (lg.argmax(-1) == target).float().mean(0) * 100
    return loss, acc


def fit_ensemble(
    model: GATEnsemble | GCNEnsemble,
    x: SparseRows,
    edge_index: Tensor,
    y: Tensor,
    train_mask: Tensor,
    val_mask: Tensor,
    test_mask: Tensor,
    lr: float = 0.005,
    weight_decay: float = 5e-4,
    max_epochs: int = 1000,
    patience: int = 100,
    stopping: str = "gat",
    progress=None,
) -> FitResult:
    """Train S independent models full-batch with Adam; report test accuracy chosen by validation.

    Early stopping, per model:

    - ``stopping="gat"`` -- the GAT paper's code: a model whose validation accuracy or loss improves
      resets its patience counter; the checkpoint is kept when *both* are at least as good as their
      best so far; training stops after ``patience`` epochs with neither improving, and the test
      accuracy is the checkpoint's.
    - ``stopping="gcn"`` -- Kipf & Welling's code: stop once the validation loss exceeds the mean of
      the previous ``patience`` (10) epochs; the test accuracy is that of the last epoch.
      ``weight_decay`` then applies to the first layer only, as in their code.

    The loss summed over models gives each model exactly its own gradient, and Adam is
    element-wise, so the S models train as they would alone. The evaluation pass (dropout off)
    runs every epoch on the validation nodes. A model that stops is removed from the ensemble (its
    Adam moments with it), so the others' epochs get cheaper. At the end each model's checkpoint
    is restored (``model`` is left holding it) and evaluated on the test nodes, as in the paper's code. Each pass
    computes only what its loss reads (:func:`attnbook.graph.receptive_edges`): the training pass
    the two-hop neighbourhood of the training nodes, the evaluation pass that of the validation
    nodes -- the same numbers as on the full graph, in less time.

    Args:
        model: a :class:`GATEnsemble` or :class:`GCNEnsemble`.
        x, edge_index, y, train_mask, val_mask, test_mask: the graph and its split.
        lr, weight_decay: Adam's settings (GAT: 0.005, 5e-4; GCN: 0.01, 5e-4).
        max_epochs: hard limit.
        patience: see above (GAT: 100, GCN: 10).
        stopping: ``"gat"`` or ``"gcn"``.
        progress: optional callable wrapping the epoch iterator (e.g. ``attnbook.utils.progress``).

    Returns:
        a :class:`FitResult`.
    """
    import time

    if stopping not in ("gat", "gcn"):
        raise ValueError(f"stopping must be 'gat' or 'gcn', got {stopping!r}")
    t0 = time.perf_counter()
    S = model.num_models
    if stopping == "gcn":
        first = model.first_layer_parameters()
        rest = [p for p in model.parameters() if all(p is not q for q in first)]
        opt = torch.optim.Adam([{"params": first, "weight_decay": weight_decay},
                                {"params": rest, "weight_decay": 0.0}], lr=lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    # per-model results, indexed by the original model number
    best_epoch = torch.zeros(S, dtype=torch.long)
    stop_epoch = torch.full((S,), max_epochs, dtype=torch.long)
    # the checkpoint of each model: its parameters at its chosen epoch (all start at epoch 0)
    best = {k: p.detach().clone() for k, p in model.named_parameters()}
    # the models still training: `ids` maps their slot in `cur` to their original number
    cur, ids = model, torch.arange(S)
    best_acc = torch.full((S,), -math.inf)
    best_loss = torch.full((S,), math.inf)
    bad = torch.zeros(S, dtype=torch.long)
    val_losses: list[Tensor] = []
    hist: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_acc": []}
    epochs = range(max_epochs) if progress is None else progress(range(max_epochs))
    epoch = 0
    for epoch in epochs:
        cur.train()
        opt.zero_grad()
        loss, _ = _per_model_loss_acc(cur(x, edge_index, train_mask), y[train_mask])
        loss.sum().backward()
        opt.step()
        cur.eval()
        with torch.no_grad():  # only the validation nodes' receptive field is computed
            vloss, vacc = _per_model_loss_acc(cur(x, edge_index, val_mask), y[val_mask])
        hist["train_loss"].append(loss.mean().item())
        hist["val_loss"].append(vloss.mean().item())
        hist["val_acc"].append(vacc.mean().item())
        if stopping == "gat":
            improved = (vacc >= best_acc) | (vloss <= best_loss)
            save = (vacc >= best_acc) & (vloss <= best_loss)
            best_acc = torch.where(improved, torch.maximum(best_acc, vacc), best_acc)
            best_loss = torch.where(improved, torch.minimum(best_loss, vloss), best_loss)
            bad = torch.where(improved, torch.zeros_like(bad), bad + 1)
            stop = bad >= patience
        else:
            save = torch.ones_like(vacc, dtype=torch.bool)  # Kipf & Welling report the last epoch
            if len(val_losses) >= patience:
                stop = vloss > torch.stack(val_losses[-patience:]).mean(0)
            else:
                stop = torch.zeros_like(save)
            val_losses.append(vloss)
        if save.any():
            best_epoch[ids[save]] = epoch
            with torch.no_grad():
                for k, p in cur.named_parameters():
                    best[k][ids[save]] = p[save]
        if stop.any():
            stop_epoch[ids[stop]] = epoch
            keep = ~stop
            if not keep.any():
                break
            # drop the stopped models: the others train on unchanged, in less time per epoch
            cur, opt = _keep_models(cur, opt, keep)
            ids, best_acc, best_loss, bad = ids[keep], best_acc[keep], best_loss[keep], bad[keep]
            val_losses = [v[keep] for v in val_losses]
    # restore each model's checkpoint into `model` and evaluate it on the validation and test nodes
    with torch.no_grad():
        for k, p in model.named_parameters():
            p.copy_(best[k])
        model.eval()
        _, val_acc = _per_model_loss_acc(model(x, edge_index, val_mask), y[val_mask])
        _, test_acc = _per_model_loss_acc(model(x, edge_index, test_mask), y[test_mask])
    return FitResult(test_acc, val_acc, best_epoch, stop_epoch, epoch + 1, time.perf_counter() - t0, hist)


def _keep_models(model: nn.Module, opt: torch.optim.Adam, keep: Tensor) -> tuple[nn.Module, torch.optim.Adam]:
    """A copy of an ensemble with only the models ``keep`` (bool ``(S,)``), and its Adam with their
    moments: the kept models continue exactly as if nothing had been removed."""
    plans = model.__dict__.pop("_plans", None)
    new = copy.deepcopy(model)
    if plans is not None:
        model._plans = plans
    new.num_models = int(keep.sum())
    new_of: dict[int, nn.Parameter] = {}
    for name, p in model.named_parameters():
        q = nn.Parameter(p.detach()[keep].clone())
        setattr(new, name, q)
        new_of[id(p)] = q
    groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [new_of[id(p)] for p in g["params"]]}
              for g in opt.param_groups]
    new_opt = torch.optim.Adam(groups)
    for p, st in opt.state.items():
        new_opt.state[new_of[id(p)]] = {k: (v.clone() if k == "step" else v[keep].clone()) for k, v in st.items()}
    return new, new_opt


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


# ---------------------------------------------------------------------------------------------
# GATv2's dictionary-lookup task (Brody et al., 2022, section 4.1)
# ---------------------------------------------------------------------------------------------


def dictionary_lookup(num_graphs: int, k: int, generator: torch.Generator | None = None
                      ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Graphs on which a node must find, among k keys, the one whose attribute matches its own.

    Each graph has k *key* nodes, with attributes 0..k-1 and values a random permutation of
    0..k-1, and k *query* nodes with the attributes in a random order; every key sends an edge to
    every query (a complete bipartite graph, no self-loops). The label of a query is the value of
    the key with its attribute. Each query must rank the keys in its own order -- the task that
    static attention (GAT) cannot express and dynamic attention (GATv2) can.

    Features: one-hot attribute (k), one-hot value (k, zeros for a query), a query flag (1).

    Returns:
        ``(x, edge_index, y, query_mask)``: ``(G*2k, 2k+1)``, ``(2, G*k*k)``, ``(G*2k,)`` (-1 on
        keys), ``(G*2k,)`` bool; graph g occupies nodes ``[2kg, 2kg + 2k)``, keys first.
    """
    G = num_graphs
    values = torch.stack([torch.randperm(k, generator=generator) for _ in range(G)])  # (G, k)
    q_attr = torch.stack([torch.randperm(k, generator=generator) for _ in range(G)])  # (G, k)
    eye = torch.eye(k)
    key_x = torch.cat([eye.expand(G, k, k), eye[values], torch.zeros(G, k, 1)], dim=2)  # (G, k, 2k+1)
    qry_x = torch.cat([eye[q_attr], torch.zeros(G, k, k), torch.ones(G, k, 1)], dim=2)  # (G, k, 2k+1)
    x = torch.cat([key_x, qry_x], dim=1).reshape(G * 2 * k, 2 * k + 1)
    y = torch.cat([torch.full((G, k), -1), values.gather(1, q_attr)], dim=1).reshape(-1)
    base = (torch.arange(G) * 2 * k).view(G, 1, 1)
    src = base + torch.arange(k).view(1, k, 1)  # key j
    dst = base + k + torch.arange(k).view(1, 1, k)  # query i
    edge_index = torch.stack([src.expand(G, k, k).reshape(-1), dst.expand(G, k, k).reshape(-1)])
    return x, edge_index, y, y >= 0


class LookupNet(nn.Module):
    """One attention layer (GAT or GATv2, no self-loops) and a linear read-out of the value.

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
