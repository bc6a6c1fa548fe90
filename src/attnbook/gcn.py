r"""The graph convolutional network (GCN) of Kipf & Welling (2017): the baseline GAT is measured against.

Taught in the chapter *Graph Attention Networks* (``notebooks/50_gat``, section "A baseline:
the graph convolutional network"). A GCN layer averages each node's neighbourhood (itself
included) with *fixed* weights given by the degrees,

.. math::

    H' = \hat D^{-1/2} \hat A \hat D^{-1/2} H W + b, \qquad \hat A = A + I,

where GAT *learns* the weights (:mod:`attnbook.gat`). :func:`gcn_propagate` is the sum
:math:`\sum_j w_{ij} x_j` over an edge list, shared by :class:`GCNLayer` and
:class:`attnbook.ensemble.GCNEnsemble`; :func:`gcn_optimizer` is the paper's Adam, with weight
decay on the first layer only.

Shapes: N nodes, E edges, F input features, D output features, C classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.graph import SparseRows, check_features, dropout, gcn_norm, scatter_sum

__all__ = ["gcn_propagate", "GCNLayer", "GCN", "gcn_optimizer"]


def gcn_propagate(xw: Tensor, src: Tensor, dst: Tensor, weight: Tensor, num_nodes: int) -> Tensor:
    r"""The weighted sum of the neighbours: :math:`out_i = \sum_{j \to i} w_{ij}\, (xW)_j`.

    Args:
        xw: ``(N_src, *, D)`` the projected features of the sending nodes.
        src, dst: ``(E,)`` the sending row of ``xw`` and the receiving node of each edge.
        weight: ``(E,)`` the weight of each edge (:func:`attnbook.graph.gcn_norm`).
        num_nodes: N, the rows of the output.

    Returns:
        ``(N, *, D)``.
    """
    w = weight.view(-1, *([1] * (xw.dim() - 1)))  # (E, 1, ..., 1): broadcast over the features
    return scatter_sum(w * xw.index_select(0, src), dst, num_nodes)


class GCNLayer(nn.Module):
    r"""The graph convolution of Kipf & Welling (2017): :math:`H' = \hat D^{-1/2}\hat A \hat D^{-1/2} H W + b`.

    :math:`\hat A = A + I` (self-loops), :math:`\hat D` its degree matrix: each node averages its
    neighbours' projected features with fixed weights :math:`1/\sqrt{\hat d_i \hat d_j}` -- GAT
    replaces these fixed weights by learned attention. Equals PyG's ``GCNConv`` given the same
    weights (tested).

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
        check_features(x, self.in_features, repr(self))
        N = x.shape[0]
        ei, w = gcn_norm(edge_index, N)  # (2, E'), (E',)
        out = gcn_propagate(x.matmul(self.weight), ei[0], ei[1], w, N)  # (N, D)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"GCNLayer({self.in_features}, {self.out_features})"


class GCN(nn.Module):
    """Kipf & Welling's two-layer GCN: dropout -> GCN(16) -> ReLU -> dropout -> GCN(C).

    Shapes: x ``(N, F)`` (Tensor or SparseRows), edge_index ``(2, E)`` -> logits ``(N, C)``.
    """

    def __init__(self, in_features: int, num_classes: int, hidden: int = 16, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = dropout
        self.conv1 = GCNLayer(in_features, hidden)
        self.conv2 = GCNLayer(hidden, num_classes)

    def forward(self, x: Tensor | SparseRows, edge_index: Tensor) -> Tensor:
        x = dropout(x, self.dropout, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)

    def first_layer_parameters(self) -> list[nn.Parameter]:
        """The first layer's parameters (Kipf & Welling decay only these)."""
        return list(self.conv1.parameters())

    def configure_optimizer(self, lr: float = 0.01, weight_decay: float = 5e-4) -> torch.optim.Adam:
        """The paper's optimiser for this model: :func:`gcn_optimizer`."""
        return gcn_optimizer(self, lr, weight_decay)


def gcn_optimizer(model: nn.Module, lr: float = 0.01, weight_decay: float = 5e-4) -> torch.optim.Adam:
    """Kipf & Welling's optimiser (their code): Adam, learning rate 0.01, L2 weight decay 5e-4 on
    the first layer's parameters only.

    Args:
        model: a :class:`GCN` or a :class:`~attnbook.ensemble.GCNEnsemble` (anything with a
            ``first_layer_parameters()`` method).
        lr, weight_decay: Adam's learning rate and the first layer's weight decay.
    """
    first = model.first_layer_parameters()
    rest = [p for p in model.parameters() if all(p is not q for q in first)]
    return torch.optim.Adam([{"params": first, "weight_decay": weight_decay},
                            {"params": rest, "weight_decay": 0.0}], lr=lr)
