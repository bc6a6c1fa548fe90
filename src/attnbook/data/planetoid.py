"""Cora and Citeseer in the Planetoid split (chapters "Graph Attention Networks" and "Inside a Graph
Attention Network", part V).

The graphs are citation networks (Sen et al., 2008): nodes are papers with binary bag-of-words
features, edges are citations (treated as undirected), and the label is the paper's topic. The
split is the one of Yang et al. (2016), used by GCN (Kipf & Welling, 2017) and GAT (Veličković et
al., 2018): 20 labelled nodes per class for training, 500 for validation, 1,000 for testing.

The files (``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}``) are read exactly as the reference
GCN code (Kipf's ``gcn/utils.py``, ``load_data``) reads them:

* ``allx``/``ally`` hold the first nodes (train + unlabelled + validation), ``tx``/``ty`` the test
  nodes, whose node ids are listed (unsorted) in ``test.index``; features and labels are stacked
  and the test rows moved to the ids ``test.index`` gives them.
* Citeseer's ``test.index`` has gaps: 15 ids in the range ``min..max`` are isolated nodes with no
  features and no label. As in Kipf's code they are kept as all-zero feature rows with label 0
  (the argmax of an all-zero one-hot row), and they are in no mask.
* train = the first ``len(y)`` nodes, validation = the next 500, test = the sorted ``test.index``.

Published statistics (checked by ``tests/test_data_planetoid.py``):

=========  =====  ==========================  ========  =======  ============
dataset    N      undirected edges (E / 2)    F         classes  split
=========  =====  ==========================  ========  =======  ============
Cora       2,708  5,278 (paper: 5,429 links)  1,433     7        140/500/1000
Citeseer   3,327  4,552 (paper: 4,732 links)  3,703     6        120/500/1000
=========  =====  ==========================  ========  =======  ============

The papers count the raw link lists; duplicate links and self-loops removed and directions merged,
5,278 and 4,552 undirected edges remain, the numbers PyTorch Geometric reports (10,556 and 9,104
directed entries of ``edge_index``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from attnbook.data.download import read_verified
from attnbook.data.errors import DataError, DataUnavailableError
from attnbook.data.safe_pickle import restricted_load

__all__ = ["Planetoid", "load_planetoid", "normalize_features", "PLANETOID_NAMES"]

PLANETOID_NAMES = ("cora", "citeseer")
_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")


@dataclass(frozen=True, repr=False, eq=False)
class Planetoid:
    """A Planetoid citation graph with its standard split.

    Attributes:
        name: ``"cora"`` or ``"citeseer"``.
        x: ``(N, F)`` float32, the raw binary bag-of-words features (not normalised; see
            :func:`normalize_features`).
        y: ``(N,)`` int64 class ids in ``[0, num_classes)``.
        edge_index: ``(2, E)`` int64, undirected (both ``(i, j)`` and ``(j, i)`` present), without
            self-loops or duplicates, sorted by source then target.
        train_mask, val_mask, test_mask: ``(N,)`` bool, disjoint.
        num_classes: the number of classes C.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    edge_index: torch.Tensor
    train_mask: torch.Tensor
    val_mask: torch.Tensor
    test_mask: torch.Tensor
    num_classes: int

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.x.shape[0])

    @property
    def num_features(self) -> int:
        """F."""
        return int(self.x.shape[1])

    @property
    def num_edges(self) -> int:
        """E, the number of columns of ``edge_index`` (each undirected edge counts twice)."""
        return int(self.edge_index.shape[1])

    def adjacency(self, self_loops: bool = False) -> torch.Tensor:
        """The dense ``(N, N)`` boolean adjacency matrix, optionally with the diagonal set (the
        mask a dense GAT layer attends with).

        The convention of :func:`attnbook.graph.to_dense_adj`: ``adj[i, j] = True`` iff there is
        an edge j -> i (row i: the nodes that i attends to; rows are queries, columns keys). The
        Planetoid graphs are undirected, so the matrix is also symmetric.
        """
        from attnbook.graph import to_dense_adj  # attnbook.graph does not import attnbook.data

        adj = to_dense_adj(self.edge_index, self.num_nodes)
        if self_loops:
            adj.fill_diagonal_(True)
        return adj

    def __repr__(self) -> str:
        return (
            f"Planetoid(name={self.name!r}, num_nodes={self.num_nodes}, "
            f"num_edges={self.num_edges}, num_features={self.num_features}, "
            f"num_classes={self.num_classes}, train={int(self.train_mask.sum())}, "
            f"val={int(self.val_mask.sum())}, test={int(self.test_mask.sum())})"
        )


def normalize_features(x: torch.Tensor) -> torch.Tensor:
    """Row-normalise features so each row sums to 1 (Kipf's ``preprocess_features``).

    Rows that sum to 0 (Citeseer's featureless nodes) stay 0. Returns a new tensor.

    Shapes: ``x`` (N, F) -> (N, F).
    """
    if x.dim() != 2:
        raise ValueError(f"expected features of shape (N, F), got {tuple(x.shape)}")
    rowsum = x.sum(dim=1, keepdim=True)  # (N, 1)
    inv = torch.where(rowsum != 0, 1.0 / rowsum, torch.zeros_like(rowsum))
    return x * inv


def _load_part(name: str, part: str):
    key = f"planetoid/ind.{name}.{part}"
    return restricted_load(read_verified(key), what=key)


def _check(cond: bool, name: str, msg: str) -> None:
    if not cond:
        raise DataError(f"Planetoid {name!r}: unexpected file contents: {msg}")


def load_planetoid(name: str) -> Planetoid:
    """Load Cora or Citeseer with the Planetoid split (see the module docstring).

    Args:
        name: ``"cora"`` or ``"citeseer"`` (case-insensitive). Pubmed is not in the registry (its
            ``ind.pubmed.allx`` is not in the offline mirror).

    Returns:
        a :class:`Planetoid`; its tensors are new on every call (safe to modify).
    """
    key = str(name).lower()
    if key == "pubmed":
        raise DataUnavailableError(
            f"{name!r}: Pubmed is not in the dataset registry (its ind.pubmed.allx is not in the "
            f"offline mirror); choose one of {PLANETOID_NAMES}."
        )
    if key not in PLANETOID_NAMES:
        raise DataError(f"unknown Planetoid dataset {name!r}: choose one of {PLANETOID_NAMES}.")

    x, y, tx, ty, allx, ally, graph = (_load_part(key, p) for p in _PARTS)
    text = read_verified(f"planetoid/ind.{key}.test.index").decode("ascii")
    test_idx_reorder = np.array([int(t) for t in text.split()], dtype=np.int64)
    for obj, what in ((x, "x"), (tx, "tx"), (allx, "allx")):
        _check(sp.issparse(obj), key, f"{what} is {type(obj).__name__}, expected a sparse matrix")
    for obj, what in ((y, "y"), (ty, "ty"), (ally, "ally")):
        _check(isinstance(obj, np.ndarray) and obj.ndim == 2, key, f"{what} is not a 2-d array")
    _check(isinstance(graph, dict), key, f"graph is {type(graph).__name__}, expected a dict")

    test_idx_range = np.sort(test_idx_reorder)
    if key == "citeseer":
        # Isolated test-range nodes: zero rows, as in Kipf's gcn/utils.py.
        full = test_idx_range.max() - test_idx_range.min() + 1
        rows = test_idx_range - test_idx_range.min()
        tx_ext = sp.lil_matrix((full, x.shape[1]), dtype=np.float32)
        tx_ext[rows, :] = tx
        tx = tx_ext.tocsr()
        ty_ext = np.zeros((full, y.shape[1]), dtype=ty.dtype)
        ty_ext[rows, :] = ty
        ty = ty_ext

    features = sp.vstack((allx, tx)).tocsr()  # (N, F)
    labels = np.vstack((ally, ty))  # (N, C) one-hot
    n = features.shape[0]
    order = np.arange(n)
    order[test_idx_reorder] = (
        test_idx_range  # features[test_idx_reorder] = features[test_idx_range]
    )
    features = features[order]
    labels = labels[order]

    # Edges: keys of the dict of lists are node ids; symmetrise, drop self-loops and duplicates.
    src = np.fromiter((i for i, nbrs in graph.items() for _ in nbrs), dtype=np.int64)
    dst = np.fromiter((j for nbrs in graph.values() for j in nbrs), dtype=np.int64)
    _check(len(src) == len(dst), key, "malformed graph")
    _check(
        src.size == 0 or (src.min() >= 0 and max(src.max(), dst.max()) < n and dst.min() >= 0),
        key,
        "graph node id out of range",
    )
    row = np.concatenate([src, dst])
    col = np.concatenate([dst, src])
    keep = row != col
    ids = np.unique(row[keep] * n + col[keep])  # sorted by (row, col), duplicates removed
    edge_index = torch.from_numpy(np.stack([ids // n, ids % n]))  # (2, E)

    n_train, n_val = y.shape[0], 500
    train_mask = torch.zeros(n, dtype=torch.bool)
    train_mask[:n_train] = True
    val_mask = torch.zeros(n, dtype=torch.bool)
    val_mask[n_train : n_train + n_val] = True
    test_mask = torch.zeros(n, dtype=torch.bool)
    test_mask[torch.from_numpy(test_idx_range)] = True

    x_t = torch.from_numpy(np.asarray(features.todense(), dtype=np.float32))  # (N, F)
    y_t = torch.from_numpy(labels.argmax(axis=1).astype(np.int64))  # (N,)
    return Planetoid(
        name=key,
        x=x_t,
        y=y_t,
        edge_index=edge_index,
        train_mask=train_mask,
        val_mask=val_mask,
        test_mask=test_mask,
        num_classes=int(labels.shape[1]),
    )
