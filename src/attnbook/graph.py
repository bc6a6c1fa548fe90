r"""Small graph helpers for the chapter *Graph Attention Networks* (``notebooks/50_gat``, ``51_gat_inside``).

A graph with N nodes is stored as an **edge list** ``edge_index``: an int64 tensor of shape
``(2, E)`` whose column ``(j, i)`` is an edge from the *source* node ``j`` (the neighbour that sends
a message) to the *target* node ``i`` (the node that receives it and whose new representation is
computed). An undirected graph lists each edge in both directions. This is the convention of PyTorch
Geometric (Fey & Lenssen, 2019), so its tensors can be passed to the book's layers unchanged.

Everything here costs time proportional to the number of edges E, never N²:

- :func:`check_edge_index` -- a wrong edge list fails at once with a clear message;
- :func:`add_self_loops`, :func:`remove_self_loops` -- GAT lets every node attend to itself;
- :func:`degree` -- how many edges arrive at (or leave) each node;
- :func:`edge_softmax` -- a softmax over the incoming edges of each node, the heart of GAT;
- :func:`scatter_sum` -- add per-edge messages into their target nodes (message passing);
- :func:`to_dense_adj` -- the N×N boolean mask of the dense, readable GAT;
- :func:`gcn_norm` -- the symmetric normalisation :math:`\hat D^{-1/2}(A + I)\hat D^{-1/2}` of GCN;
- :func:`receptive_edges` -- the edges a multi-layer model needs to compute a few nodes;
- :class:`SparseRows` -- a feature matrix kept as its non-zero entries, for a fast first layer
  (Cora's bag-of-words features are 98.7% zeros); :func:`check_features` and :func:`dropout`
  accept it beside a dense tensor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "check_edge_index",
    "add_self_loops",
    "remove_self_loops",
    "degree",
    "scatter_sum",
    "edge_softmax",
    "to_dense_adj",
    "gcn_norm",
    "receptive_edges",
    "SparseRows",
    "check_features",
    "dropout",
]


def dropout(x: Tensor | SparseRows, p: float, training: bool = True) -> Tensor | SparseRows:
    """Dropout, as ``torch.nn.functional.dropout``: zero each entry with probability ``p`` and
    scale the rest by ``1/(1-p)``.

    The same distribution, drawn from ``torch.rand`` (vectorised) instead of ``bernoulli_``, which
    on the CPU is several times slower -- and dropout runs on every hidden tensor of every epoch.
    A :class:`SparseRows` x drops only its non-zeros (:meth:`SparseRows.dropout`).
    """
    if not training or p == 0.0:
        return x
    if isinstance(x, SparseRows):
        return x.dropout(p, training)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    keep = (torch.rand_like(x) >= p).to(x.dtype).mul_(1.0 / (1.0 - p))
    return x * keep


def check_edge_index(edge_index: Tensor, num_nodes: int) -> None:
    """Raise a clear error unless ``edge_index`` is an int64 ``(2, E)`` tensor with ids in ``[0, N)``.

    Args:
        edge_index: the edge list to check.
        num_nodes: N, the number of nodes.

    Raises:
        TypeError: not a tensor, or not of dtype int64 (``torch.long``).
        ValueError: not of shape ``(2, E)``, or a node id outside ``[0, num_nodes)``.
    """
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"edge_index must be a torch.Tensor of shape (2, E), got {type(edge_index).__name__}")
    if edge_index.dtype != torch.long:
        raise TypeError(f"edge_index must have dtype torch.int64 (long), got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"edge_index has node ids in [{lo}, {hi}], expected ids in [0, {num_nodes - 1}] "
                f"for num_nodes={num_nodes}"
            )


def check_features(x: Tensor | SparseRows, in_features: int, who: str) -> None:
    """Raise a clear error unless ``x`` is a node feature matrix ``(N, in_features)``.

    Args:
        x: a Tensor or a :class:`SparseRows`.
        in_features: F, the width the layer expects.
        who: the layer's name, for the message.
    """
    if not isinstance(x, (Tensor, SparseRows)):
        raise TypeError(f"{who}: x must be a Tensor or SparseRows (N, F), got {type(x).__name__}")
    if len(x.shape) != 2 or x.shape[1] != in_features:
        raise ValueError(f"{who}: expected x of shape (N, {in_features}), got {tuple(x.shape)}")


def remove_self_loops(edge_index: Tensor) -> Tensor:
    """The edges ``(j, i)`` with ``j != i``: ``(2, E)`` -> ``(2, E')``. A new tensor."""
    return edge_index[:, edge_index[0] != edge_index[1]]


def add_self_loops(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Remove any self-loops, then append exactly one loop ``(i, i)`` for every node.

    After this every node has at least one incoming edge (its own), so a node with no neighbours
    attends only to itself.

    Args:
        edge_index: ``(2, E)``.
        num_nodes: N.

    Returns:
        ``(2, E' + N)``: the edges without loops, then the N loops in node order.
    """
    check_edge_index(edge_index, num_nodes)
    loops = torch.arange(num_nodes, device=edge_index.device).expand(2, num_nodes)  # (2, N)
    return torch.cat([remove_self_loops(edge_index), loops], dim=1)


def degree(index: Tensor, num_nodes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """How often each node id occurs in ``index``: ``(E,)`` -> ``(N,)``.

    ``degree(edge_index[1], N)`` is the in-degree (incoming edges), ``degree(edge_index[0], N)``
    the out-degree.
    """
    return torch.bincount(index, minlength=num_nodes).to(dtype)


def scatter_sum(src: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    """Sum the rows of ``src`` that share a node id: ``out[i] = sum_{e: index[e] = i} src[e]``.

    Shapes: ``src (E, *)``, ``index (E,)`` -> ``(N, *)``. A node that no edge points to gets 0.
    """
    # scatter_add_ with the index broadcast over the trailing dims: on the CPU much faster than
    # index_add for many short rows, and its backward is a gather (no sort)
    idx = index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)
    return src.new_zeros((num_nodes, *src.shape[1:])).scatter_add_(0, idx, src)


def edge_softmax(scores: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    r"""Softmax of edge scores over the edges that share a target node.

    .. math::

        \alpha_e = \frac{\exp(s_e)}{\sum_{e' : \mathrm{index}[e'] = \mathrm{index}[e]} \exp(s_{e'})}

    With ``index = edge_index[1]`` (the targets), the weights of the edges arriving at each node
    sum to 1: node i's attention over its neighbourhood. The maximum score of each group is
    subtracted first (a shift that leaves the softmax unchanged) so ``exp`` never overflows.
    Cost: O(E) time and memory.

    Args:
        scores: ``(E,)`` or ``(E, H)`` (one score per edge and head).
        index: ``(E,)`` int64, the node each edge belongs to.
        num_nodes: N.

    Returns:
        weights of the shape of ``scores``.
    """
    if index.dim() != 1 or index.shape[0] != scores.shape[0]:
        raise ValueError(
            f"expected scores (E, ...) and index (E,), got scores {tuple(scores.shape)} and "
            f"index {tuple(index.shape)}"
        )
    idx = index.view(-1, *([1] * (scores.dim() - 1))).expand_as(scores)  # (E, H)
    # the per-node maximum is a constant shift: no gradient needs to flow through it
    with torch.no_grad():
        smax = scores.new_full((num_nodes, *scores.shape[1:]), float("-inf"))
        smax = smax.scatter_reduce(0, idx, scores, reduce="amax", include_self=True)  # (N, H)
    ex = (scores - smax.index_select(0, index)).exp()  # (E, H)
    denom = scatter_sum(ex, index, num_nodes)  # (N, H)
    return ex / denom.index_select(0, index)  # (E, H)


def to_dense_adj(edge_index: Tensor, num_nodes: int) -> Tensor:
    """The boolean N×N attention mask of a graph: ``adj[i, j] = True`` iff there is an edge j -> i.

    Row i lists the nodes that i attends to (its incoming neighbours), as a mask of
    :func:`attnbook.attention.masked_softmax` would: rows are queries, columns are keys.
    """
    check_edge_index(edge_index, num_nodes)
    adj = torch.zeros(num_nodes, num_nodes, dtype=torch.bool, device=edge_index.device)
    adj[edge_index[1], edge_index[0]] = True
    return adj


def gcn_norm(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    r"""Self-loops and the symmetric GCN weights :math:`1/\sqrt{\hat d_i \hat d_j}` (Kipf & Welling, 2017).

    Returns:
        ``(edge_index, weight)``: the edges with one self-loop per node ``(2, E')`` and a weight
        per edge ``(E',)``, so that :math:`\hat A X` is ``scatter_sum(weight[:, None] * x[src], dst, N)``.
    """
    ei = add_self_loops(edge_index, num_nodes)
    deg = degree(ei[1], num_nodes)  # (N,) in-degree with the self-loop, >= 1
    dinv = deg.rsqrt()
    return ei, dinv.index_select(0, ei[0]) * dinv.index_select(0, ei[1])


def receptive_edges(edge_index: Tensor, targets: Tensor, num_layers: int, masks: bool = False) -> list[Tensor]:
    """The edges each layer of a ``num_layers``-layer message-passing model needs for ``targets``.

    The last layer only needs the edges that arrive at the target nodes; the layer before it only
    the edges that arrive at those edges' sources; and so on. Running layer l on ``out[l]`` gives
    the targets exactly the output of the full graph (each node kept keeps *all* its incoming
    edges, so every softmax is over the whole neighbourhood) at a fraction of the cost when the
    targets are few -- e.g. Cora's 140 training nodes need a third of the edges in the first layer
    and 6% in the second.

    Args:
        edge_index: ``(2, E)``, usually with self-loops already added.
        targets: ``(N,)`` bool, the nodes whose final output is needed.
        num_layers: the number of layers.
        masks: return bool masks ``(E,)`` over the input's edges instead of edge lists.

    Returns:
        a list of ``num_layers`` edge lists ``(2, E_l)``, first layer first (subsets of the input).
    """
    if targets.dtype != torch.bool or targets.dim() != 1:
        raise ValueError(f"targets must be a bool mask (N,), got {targets.dtype} {tuple(targets.shape)}")
    check_edge_index(edge_index, targets.shape[0])
    need = targets
    out = []
    for _ in range(num_layers):
        keep = need[edge_index[1]]  # edges into the nodes this layer must compute
        out.append(keep if masks else edge_index[:, keep])
        need = torch.zeros_like(need)
        need[edge_index[0, keep]] = True  # their sources are what the layer below must compute
    return out[::-1]


class _SpMM(torch.autograd.Function):
    """``x @ W`` for a sparse x given as rows (forward) and as columns (backward): both passes are
    one ``embedding_bag`` (a gather and a weighted sum, no sort), O(nnz * D)."""

    @staticmethod
    def forward(ctx, weight, cols, offsets, values, rows_t, offsets_t, perm):
        ctx.save_for_backward(values, rows_t, offsets_t, perm)
        return F.embedding_bag(cols, weight, offsets, mode="sum", per_sample_weights=values)

    @staticmethod
    def backward(ctx, grad_out):
        values, rows_t, offsets_t, perm = ctx.saved_tensors
        # dL/dW = x^T @ dL/dout: column f of x gathers the rows of grad_out where x[:, f] != 0
        grad_w = F.embedding_bag(rows_t, grad_out.contiguous(), offsets_t, mode="sum",
                                 per_sample_weights=values.index_select(0, perm))
        return grad_w, None, None, None, None, None, None


def _starts(counts: Tensor) -> Tensor:
    off = torch.zeros_like(counts)
    off[1:] = counts.cumsum(0)[:-1]
    return off


class SparseRows:
    """A feature matrix ``x (N, F)`` kept as its non-zero entries, row by row.

    Bag-of-words features are mostly zeros (Cora: 98.7%), so ``x @ W`` wastes most of its
    multiplications on zeros. ``SparseRows`` keeps, for each row, the column ids and values of its
    non-zeros; :meth:`matmul` computes ``x @ W`` with ``torch.nn.functional.embedding_bag``
    (each row's non-zeros select rows of ``W``, weighted by the values and summed) and its
    gradient with the transposed structure, in time proportional to the number of non-zeros.
    Dropout on the input only needs to drop non-zeros: a dropped zero is still zero, so
    :meth:`dropout` gives the same distribution as dropout on the dense matrix.

    Args:
        cols: ``(nnz,)`` int64 column id of each non-zero, in ``[0, F)``.
        values: ``(nnz,)`` float values.
        rows: ``(nnz,)`` int64 row id of each non-zero, in ``[0, N)``. Entries are sorted by row
            here if they are not already (stably: the order within a row is kept); an entry
            ``(i, j)`` given twice counts as the sum of its values, in :meth:`matmul` and
            :meth:`to_dense` alike.
        shape: ``(N, F)``.

    Raises:
        ValueError: arrays of different lengths, or a row or column id out of range.
    """

    def __init__(self, cols: Tensor, values: Tensor, rows: Tensor, shape: tuple[int, int]) -> None:
        n, f = (int(d) for d in shape)
        if not (cols.shape == values.shape == rows.shape) or cols.dim() != 1:
            raise ValueError(
                f"cols, values, rows must be 1-d of one length, got {tuple(cols.shape)}, "
                f"{tuple(values.shape)}, {tuple(rows.shape)}"
            )
        for name, ids, size in (("rows", rows, n), ("cols", cols, f)):
            if ids.dtype != torch.long:
                raise TypeError(f"SparseRows: {name} must be int64, got {ids.dtype}")
            if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= size):
                raise ValueError(f"SparseRows: {name} ids in [{int(ids.min())}, {int(ids.max())}], "
                                 f"expected ids in [0, {size - 1}] for shape ({n}, {f})")
        if rows.numel() > 1 and bool((rows[1:] < rows[:-1]).any()):  # embedding_bag reads rows in order
            order = torch.argsort(rows, stable=True)
            cols, values, rows = cols[order], values[order], rows[order]
        self.cols, self.values, self.rows, self.shape = cols, values, rows, (n, f)
        self.offsets = _starts(torch.bincount(rows, minlength=n))  # (N,) start of each row
        # the same entries by column, for the backward pass
        self.perm = torch.argsort(cols, stable=True)  # (nnz,)
        self.rows_t = rows.index_select(0, self.perm)
        self.offsets_t = _starts(torch.bincount(cols, minlength=f))  # (F,)

    @classmethod
    def from_dense(cls, x: Tensor) -> SparseRows:
        if x.dim() != 2:
            raise ValueError(f"expected a feature matrix (N, F), got {tuple(x.shape)}")
        rows, cols = x.nonzero(as_tuple=True)  # row-major order
        return cls(cols, x[rows, cols], rows, (x.shape[0], x.shape[1]))

    @property
    def nnz(self) -> int:
        return self.cols.numel()

    @property
    def device(self) -> torch.device:
        return self.values.device

    def to(self, device: torch.device | str) -> SparseRows:
        """The same matrix on ``device`` (``self`` if it is there already), as ``Tensor.to``."""
        device = torch.device(device)
        if self.values.device == device:
            return self
        new = object.__new__(SparseRows)
        new.__dict__.update({k: v.to(device) if isinstance(v, Tensor) else v for k, v in self.__dict__.items()})
        return new

    def to_dense(self) -> Tensor:
        """The ``(N, F)`` tensor; entries given twice are summed, as :meth:`matmul` sums them."""
        out = self.values.new_zeros(self.shape)
        return out.index_put_((self.rows, self.cols), self.values, accumulate=True)

    def select_rows(self, index: Tensor) -> SparseRows:
        """The rows ``index`` (sorted, unique node ids) as a new ``(len(index), F)`` SparseRows."""
        loc = torch.full((self.shape[0],), -1, dtype=torch.long, device=self.rows.device)
        loc[index] = torch.arange(index.numel(), device=self.rows.device)
        new_rows = loc[self.rows]
        keep = new_rows >= 0
        return SparseRows(self.cols[keep], self.values[keep], new_rows[keep], (index.numel(), self.shape[1]))

    def with_values(self, values: Tensor) -> SparseRows:
        """The same sparsity pattern with new values (no recomputation of the structure)."""
        new = object.__new__(SparseRows)
        new.__dict__.update(self.__dict__)
        new.values = values
        return new

    def dropout(self, p: float, training: bool = True) -> SparseRows:
        """Dropout on the non-zeros (scaled by 1/(1-p)); a new object, ``self`` is untouched."""
        if not training or p == 0.0:
            return self
        return self.with_values(dropout(self.values, p, True))

    def matmul(self, weight: Tensor) -> Tensor:
        """``x @ weight``: ``(N, F) @ (F, D)`` -> ``(N, D)``, differentiable in ``weight``."""
        if weight.dim() != 2 or weight.shape[0] != self.shape[1]:
            raise ValueError(f"expected weight ({self.shape[1]}, D), got {tuple(weight.shape)}")
        return _SpMM.apply(weight, self.cols, self.offsets, self.values, self.rows_t, self.offsets_t, self.perm)

    def __repr__(self) -> str:
        return f"SparseRows(shape={self.shape}, nnz={self.nnz})"
