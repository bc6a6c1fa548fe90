"""R independent models trained in one pass, one per seed: the 10-seed reproductions of GAT and GCN.

Taught in the chapter *Graph Attention Networks* (``notebooks/50_gat``, section "Reproducing
Table 2 of the paper"), where the paper's mean ± std over seeds needs ten trainings per model
and dataset. :class:`GATEnsemble` and :class:`GCNEnsemble` hold R copies of :class:`attnbook.gat.GAT`
and :class:`attnbook.gcn.GCN` with a model axis in front of every weight; each copy has its own
initialisation and its own dropout masks, and -- trained by :func:`attnbook.graph_train.fit_ensemble`,
whose loss is the *sum* of the copies' losses and whose optimiser (Adam) acts element-wise -- its
own trajectory, exactly as if it were trained alone: the copies share only the time per epoch.
Both are tested equal to R separate models given the same weights. They compute attention and
propagation with the same functions as the single models (:func:`attnbook.gat.gat_scores`,
:func:`attnbook.gat.edge_attention`, :func:`attnbook.gcn.gcn_propagate`).

A pass computes only what its loss reads. :class:`ReceptiveField` is that plan, made once by
:meth:`GATEnsemble.plan` for a graph and a set of target nodes (the training nodes, the validation
nodes) and passed to the model instead of the graph: the training pass then computes the two-hop
neighbourhood of Cora's 140 training nodes, not the whole graph -- the same numbers, in less time.

Shapes (the book's notation page): R models (seeds), N nodes, E edges, F input features, H heads,
Dh (:math:`D_h`) features per head, C classes.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.gat import GAT, edge_attention, gat_optimizer, gat_scores
from attnbook.gcn import GCN, gcn_optimizer, gcn_propagate
from attnbook.graph import (
    SparseRows,
    add_self_loops,
    check_edge_index,
    check_features,
    dropout,
    gcn_norm,
    receptive_edges,
)

__all__ = ["ReceptiveField", "GATEnsemble", "GCNEnsemble"]


class _Stacked:
    """A SparseRows x laid out for R models at once, as one sparse ``(N*R, R*F)`` matrix: row
    ``n*R + r`` holds row n's non-zeros with column ids shifted by ``r*F``, so that they select
    model r's block of a stacked ``(R*F, D)`` weight. Rows are node-major: the product reshapes
    to ``(N, R, D)`` without a copy."""

    def __init__(self, x: SparseRows, R: int) -> None:
        N, Fdim = x.shape
        nnz = x.nnz
        r = torch.arange(R, device=x.device).repeat_interleave(nnz)  # (R*nnz,)
        key = x.rows.repeat(R) * R + r  # the new row id n*R + r
        order = torch.argsort(key, stable=True)
        self.big = SparseRows((x.cols.repeat(R) + r * Fdim)[order], x.values.repeat(R)[order],
                              key[order], (N * R, R * Fdim))
        self.x, self.R = x, R

    def matmul(self, weight: Tensor, p: float, training: bool) -> Tensor:
        """Per-model dropout then ``x @ W_r`` for every r: weight ``(R, F, D)`` -> ``(N, R, D)``."""
        R, Fdim, D = weight.shape
        N = self.x.shape[0]
        if not training or p == 0.0:
            # no dropout: one product with all models' weights side by side, (F, R*D)
            w = weight.permute(1, 0, 2).reshape(Fdim, R * D)
            return self.x.matmul(w).view(N, R, D)
        big = self.big.dropout(p, True)  # an independent mask per model
        return big.matmul(weight.reshape(R * Fdim, D)).view(N, R, D)


class _LayerEdges(NamedTuple):
    """One layer's edges in local row ids: it reads row ``src`` (the neighbour) and row ``query``
    (the receiving node, there by its self-loop) of the rows below it, and writes row ``dst`` of
    its own rows, with the GCN weight ``weight`` (``None`` for GAT)."""

    src: Tensor
    query: Tensor
    dst: Tensor
    weight: Tensor | None


class ReceptiveField:
    """What a two-layer pass computes for the nodes ``targets``, worked out once.

    The input rows the first layer projects (N0), the hidden rows the first layer computes (N1),
    the output rows (the N2 targets, in node order), and each layer's edges in those local ids
    (:func:`attnbook.graph.receptive_edges`: each kept node keeps *all* its incoming edges, so the
    targets get exactly the output of the full graph). Make it with :meth:`GATEnsemble.plan` /
    :meth:`GCNEnsemble.plan` and pass it to the model in place of ``(x, edge_index, targets)``.

    Args:
        x: ``(N, F)`` the node features.
        edge_index: ``(2, E)`` with self-loops (GCN: normalised by :func:`attnbook.graph.gcn_norm`).
        weight: ``(E,)`` GCN's edge weights, or ``None`` (GAT).
        targets: ``(N,)`` bool, the nodes whose output is needed (``None``: all).
    """

    def __init__(self, x: SparseRows, edge_index: Tensor, weight: Tensor | None,
                 targets: Tensor | None) -> None:
        N = x.shape[0]
        device = edge_index.device
        if targets is None:
            targets = torch.ones(N, dtype=torch.bool, device=device)
        m1, m2 = receptive_edges(edge_index, targets, 2, masks=True)
        n1 = torch.zeros_like(targets)
        n1[edge_index[0, m2]] = True
        n0 = torch.zeros_like(targets)
        n0[edge_index[0, m1]] = True
        sets = [n0.nonzero().squeeze(1), n1.nonzero().squeeze(1), targets.nonzero().squeeze(1)]
        locs = []
        for idx in sets:  # node id -> row in the set (-1: not in it)
            loc = torch.full((N,), -1, dtype=torch.long, device=device)
            loc[idx] = torch.arange(idx.numel(), device=device)
            locs.append(loc)
        self.sizes = [int(i.numel()) for i in sets]  # N0, N1, N2
        self.layers: list[_LayerEdges] = []
        for layer, m in enumerate((m1, m2)):
            e = edge_index[:, m]
            below, here = locs[layer], locs[layer + 1]
            self.layers.append(_LayerEdges(below[e[0]], below[e[1]], here[e[1]],
                                           None if weight is None else weight[m]))
        self.weighted = weight is not None
        self.x = x.select_rows(sets[0]) if self.sizes[0] < N else x  # (N0, F)
        self._stacked: _Stacked | None = None

    def stacked(self, num_models: int) -> _Stacked:
        """The input laid out for ``num_models`` models (kept for the last R asked for: the
        ensemble shrinks as its models stop)."""
        if self._stacked is None or self._stacked.R != num_models:
            self._stacked = _Stacked(self.x, num_models)
        return self._stacked

    def __repr__(self) -> str:
        N0, N1, N2 = self.sizes
        E1, E2 = (int(layer.src.numel()) for layer in self.layers)
        return f"ReceptiveField(rows {N0} -> {N1} -> {N2}, edges {E1}, {E2})"


def _stacked_param(R: int, *shape: int) -> nn.Parameter:
    return nn.Parameter(torch.empty(R, *shape))


class _EnsembleBase(nn.Module):
    """The model axis, the receptive field, and copying weights from and to single models.

    ``_LAYOUT`` pairs each stacked parameter with the parameter of the single model it holds R
    copies of; :meth:`load_models` and :meth:`export` read it in the two directions.
    """

    _LAYOUT: tuple[tuple[str, str], ...]
    num_models: int
    in_features: int

    def _edges(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor | None]:
        raise NotImplementedError

    def _single(self) -> nn.Module:
        raise NotImplementedError

    def plan(self, x: SparseRows | Tensor, edge_index: Tensor,
             targets: Tensor | None = None) -> ReceptiveField:
        """The :class:`ReceptiveField` of ``targets`` (``None``: all nodes) on this graph."""
        if isinstance(x, Tensor):
            x = SparseRows.from_dense(x)
        if not isinstance(x, SparseRows):
            raise TypeError(f"{type(self).__name__} expects x as SparseRows or a Tensor, got {type(x).__name__}")
        check_features(x, self.in_features, type(self).__name__)
        check_edge_index(edge_index, x.shape[0])
        if targets is not None and (targets.dtype != torch.bool or targets.shape != (x.shape[0],)):
            raise ValueError(f"{type(self).__name__}: targets must be a bool mask ({x.shape[0]},), "
                             f"got {targets.dtype} {tuple(targets.shape)}")
        ei, w = self._edges(edge_index, x.shape[0])
        return ReceptiveField(x, ei, w, targets)

    def _field(self, x: SparseRows | Tensor | ReceptiveField, edge_index: Tensor | None,
               targets: Tensor | None) -> ReceptiveField:
        if not isinstance(x, ReceptiveField):
            if edge_index is None:
                raise TypeError(f"{type(self).__name__} needs (x, edge_index) or a ReceptiveField")
            return self.plan(x, edge_index, targets)
        weighted = isinstance(self, GCNEnsemble)
        if x.weighted != weighted or x.x.shape[1] != self.in_features:
            raise ValueError(f"{type(self).__name__}: this ReceptiveField was made by another model "
                             f"(F={x.x.shape[1]}, weighted edges {x.weighted})")
        return x

    def attention_parameters(self) -> list[nn.Parameter]:
        """The stacked attention vectors :math:`a_{\\mathrm{src}}, a_{\\mathrm{dst}}` of both layers
        (empty for a GCN): :func:`attnbook.gat.gat_optimizer` can exempt them from weight decay
        (``attention_weight_decay``)."""
        return [getattr(self, mine) for mine, theirs in self._LAYOUT if ".att_" in theirs]

    def first_layer_parameters(self) -> list[nn.Parameter]:
        """The stacked parameters of the first layer (Kipf & Welling decay only these)."""
        return [getattr(self, mine) for mine, theirs in self._LAYOUT if theirs.startswith("conv1.")]

    @torch.no_grad()
    def load_models(self, models: list[nn.Module]):
        """Copy the weights of R single models into the R copies (for tests)."""
        if len(models) != self.num_models:
            raise ValueError(f"expected {self.num_models} models, got {len(models)}")
        for r, m in enumerate(models):
            for mine, theirs in self._LAYOUT:
                getattr(self, mine)[r].copy_(m.get_parameter(theirs))
        return self

    @torch.no_grad()
    def export(self, s: int) -> nn.Module:
        """Copy number ``s`` as a single model (e.g. to look at its attention), on this device."""
        m = self._single().to(self.get_parameter(self._LAYOUT[0][0]).device)
        for mine, theirs in self._LAYOUT:
            m.get_parameter(theirs).copy_(getattr(self, mine)[s])
        return m


class GATEnsemble(_EnsembleBase):
    """R independent copies of :class:`attnbook.gat.GAT` trained in one pass.

    Args: ``num_models`` (R), then as :class:`~attnbook.gat.GAT` (no ``dense``), and
    ``value_dropout`` (default ``False``): also apply dropout to the projected features
    :math:`W h_j` that attention averages, as the paper's TensorFlow code does (PyG's ``GATConv``
    does not).

    Shapes: x :class:`~attnbook.graph.SparseRows` (or a Tensor) ``(N, F)``, edge_index ``(2, E)``
    -> logits ``(N, R, C)``; with a bool mask ``targets`` ``(N,)``, only the target nodes' logits
    ``(N_targets, R, C)``; or a :class:`ReceptiveField` from :meth:`plan` in place of the three.
    """

    _LAYOUT = (("w1", "conv1.weight"), ("att_src1", "conv1.att_src"), ("att_dst1", "conv1.att_dst"),
               ("b1", "conv1.bias"), ("w2", "conv2.weight"), ("att_src2", "conv2.att_src"),
               ("att_dst2", "conv2.att_dst"), ("b2", "conv2.bias"))

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
        R = self.num_models = num_models
        self.value_dropout = value_dropout
        self.in_features, self.num_classes, self.hidden, self.heads, self.out_heads = (
            in_features, num_classes, hidden, heads, out_heads)
        self.dropout, self.negative_slope = dropout, negative_slope
        self.w1 = _stacked_param(R, in_features, heads * hidden)
        self.att_src1, self.att_dst1 = _stacked_param(R, heads, hidden), _stacked_param(R, heads, hidden)
        self.b1 = _stacked_param(R, heads * hidden)
        self.w2 = _stacked_param(R, heads * hidden, out_heads * num_classes)
        self.att_src2 = _stacked_param(R, out_heads, num_classes)
        self.att_dst2 = _stacked_param(R, out_heads, num_classes)
        self.b2 = _stacked_param(R, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for r in range(self.num_models):  # each copy initialised as GAT initialises one model
            for p in (self.w1, self.att_src1, self.att_dst1, self.w2, self.att_src2, self.att_dst2):
                nn.init.xavier_uniform_(p.data[r])
        nn.init.zeros_(self.b1)
        nn.init.zeros_(self.b2)

    def _edges(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, None]:
        return add_self_loops(edge_index, num_nodes), None

    def _single(self) -> GAT:
        return GAT(self.in_features, self.num_classes, self.hidden, self.heads, self.out_heads,
                   self.dropout, self.negative_slope)

    def _attend(self, xw: Tensor, att_src: Tensor, att_dst: Tensor, edges: _LayerEdges,
                num_out: int) -> Tensor:
        # xw: (N_below, R, H, Dh); att_*: (R, H, Dh) -> (N_out, R, H, Dh)
        e = gat_scores(xw, att_src, att_dst, edges.src, edges.query, self.negative_slope)  # (E, R, H)
        out, _ = edge_attention(e, xw, edges.src, edges.dst, num_out, self.dropout, self.training,
                                value_dropout=self.value_dropout)
        return out

    def forward(self, x: SparseRows | Tensor | ReceptiveField, edge_index: Tensor | None = None,
                targets: Tensor | None = None) -> Tensor:
        field = self._field(x, edge_index, targets)
        R, H, Dh, C = self.num_models, self.heads, self.hidden, self.num_classes
        N0, N1, N2 = field.sizes
        l1, l2 = field.layers
        # layer 1: per-model input dropout and projection (N0, R, H, Dh), attention, concat heads
        xw = field.stacked(R).matmul(self.w1, self.dropout, self.training).view(N0, R, H, Dh)
        h = self._attend(xw, self.att_src1, self.att_dst1, l1, N1).reshape(N1, R, H * Dh) + self.b1
        h = dropout(F.elu(h), self.dropout, self.training)  # (N1, R, H*Dh)
        # layer 2: (N1, R, H*Dh) x (R, H*Dh, H2*C) -> (N1, R, H2, C), attention, mean over heads
        xw2 = torch.einsum("nrd,rdc->nrc", h, self.w2).view(N1, R, self.out_heads, C)
        return self._attend(xw2, self.att_src2, self.att_dst2, l2, N2).mean(dim=2) + self.b2  # (N2, R, C)

    def configure_optimizer(self, lr: float = 0.005, weight_decay: float = 5e-4,
                            attention_weight_decay: float | None = None) -> torch.optim.Adam:
        """The GAT paper's optimiser, :func:`attnbook.gat.gat_optimizer`: Adam's update is
        element-wise, so each copy is optimised as it would be alone."""
        return gat_optimizer(self, lr, weight_decay, attention_weight_decay)

    def __repr__(self) -> str:
        return (f"GATEnsemble({self.num_models} x GAT({self.in_features}, {self.num_classes}, "
                f"hidden={self.hidden}, heads={self.heads}, out_heads={self.out_heads}))")


class GCNEnsemble(_EnsembleBase):
    """R independent copies of :class:`attnbook.gcn.GCN` in one pass; tested equal to R separate GCNs.

    Shapes: as :class:`GATEnsemble`.
    """

    _LAYOUT = (("w1", "conv1.weight"), ("b1", "conv1.bias"), ("w2", "conv2.weight"), ("b2", "conv2.bias"))

    def __init__(self, num_models: int, in_features: int, num_classes: int, hidden: int = 16,
                 dropout: float = 0.5) -> None:
        super().__init__()
        R = self.num_models = num_models
        self.in_features, self.num_classes, self.hidden, self.dropout = in_features, num_classes, hidden, dropout
        self.w1, self.b1 = _stacked_param(R, in_features, hidden), _stacked_param(R, hidden)
        self.w2, self.b2 = _stacked_param(R, hidden, num_classes), _stacked_param(R, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for r in range(self.num_models):
            nn.init.xavier_uniform_(self.w1.data[r])
            nn.init.xavier_uniform_(self.w2.data[r])
        nn.init.zeros_(self.b1)
        nn.init.zeros_(self.b2)

    def _edges(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
        return gcn_norm(edge_index, num_nodes)

    def _single(self) -> GCN:
        return GCN(self.in_features, self.num_classes, self.hidden, self.dropout)

    def forward(self, x: SparseRows | Tensor | ReceptiveField, edge_index: Tensor | None = None,
                targets: Tensor | None = None) -> Tensor:
        field = self._field(x, edge_index, targets)
        _, N1, N2 = field.sizes
        l1, l2 = field.layers
        xw = field.stacked(self.num_models).matmul(self.w1, self.dropout, self.training)  # (N0, R, D)
        h = gcn_propagate(xw, l1.src, l1.dst, l1.weight, N1) + self.b1  # (N1, R, D)
        h = dropout(F.relu(h), self.dropout, self.training)
        hw = torch.einsum("nrd,rdc->nrc", h, self.w2)  # (N1, R, C)
        return gcn_propagate(hw, l2.src, l2.dst, l2.weight, N2) + self.b2  # (N2, R, C)

    def configure_optimizer(self, lr: float = 0.01, weight_decay: float = 5e-4) -> torch.optim.Adam:
        """Kipf & Welling's optimiser, :func:`attnbook.gcn.gcn_optimizer` (decay on the first layer)."""
        return gcn_optimizer(self, lr, weight_decay)

    def __repr__(self) -> str:
        return f"GCNEnsemble({self.num_models} x GCN({self.in_features}, {self.num_classes}, hidden={self.hidden}))"
