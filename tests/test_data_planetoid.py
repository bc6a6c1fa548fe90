"""Tests of attnbook.data.planetoid: the published statistics of Cora and Citeseer."""

from __future__ import annotations

import time

import pytest
import torch
from mirror import needs_mirror

from attnbook.data import DataError, load_planetoid, normalize_features

needs_mirror = needs_mirror("planetoid")

# name: (nodes, directed edges in edge_index, features, classes, train, val, test)
STATS = {
    "cora": (2708, 10556, 1433, 7, 140, 500, 1000),
    "citeseer": (3327, 9104, 3703, 6, 120, 500, 1000),
}


@pytest.fixture(scope="module", params=sorted(STATS))
def graph(request):
    return load_planetoid(request.param)


@needs_mirror
def test_published_statistics(graph):
    n, e, f, c, n_train, n_val, n_test = STATS[graph.name]
    assert graph.num_nodes == n
    assert graph.num_edges == e  # = 2 x undirected edges (5,278 and 4,552)
    assert graph.num_features == f
    assert graph.num_classes == c
    assert int(graph.train_mask.sum()) == n_train
    assert int(graph.val_mask.sum()) == n_val
    assert int(graph.test_mask.sum()) == n_test


@needs_mirror
def test_types_and_shapes(graph):
    n, f = graph.num_nodes, graph.num_features
    assert graph.x.dtype == torch.float32 and graph.x.shape == (n, f)
    assert graph.y.dtype == torch.int64 and graph.y.shape == (n,)
    assert graph.edge_index.dtype == torch.int64 and graph.edge_index.shape[0] == 2
    for m in (graph.train_mask, graph.val_mask, graph.test_mask):
        assert m.dtype == torch.bool and m.shape == (n,)
    assert set(graph.x.unique().tolist()) <= {0.0, 1.0}  # raw binary bag of words
    assert int(graph.y.min()) >= 0 and int(graph.y.max()) < graph.num_classes
    assert "num_nodes=" in repr(graph)


@needs_mirror
def test_edges_undirected_sorted_no_loops_no_duplicates(graph):
    ei = graph.edge_index
    n = graph.num_nodes
    assert int(ei.min()) >= 0 and int(ei.max()) < n
    assert not (ei[0] == ei[1]).any()
    ids = ei[0] * n + ei[1]
    assert (ids[1:] > ids[:-1]).all()  # strictly increasing: sorted, no duplicates
    rev = torch.sort(ei[1] * n + ei[0]).values
    assert torch.equal(rev, ids)  # every (i, j) has its (j, i)
    adj = graph.adjacency()
    assert torch.equal(adj, adj.T) and int(adj.sum()) == graph.num_edges


@needs_mirror
def test_split_is_the_planetoid_split(graph):
    tr, va, te = graph.train_mask, graph.val_mask, graph.test_mask
    assert not (tr & va).any() and not (tr & te).any() and not (va & te).any()
    n_train = int(tr.sum())
    assert tr[:n_train].all() and va[n_train : n_train + 500].all()
    # 20 labelled nodes per class
    assert graph.y[tr].bincount(minlength=graph.num_classes).tolist() == [20] * graph.num_classes


@needs_mirror
def test_citeseer_isolated_test_nodes():
    g = load_planetoid("CiteSeer")  # case-insensitive
    zero_rows = g.x.sum(dim=1) == 0
    # the 15 ids missing from test.index: no features, in no mask (Kipf's gcn/utils.py)
    assert int(zero_rows.sum()) >= 15
    gap = zero_rows & ~(g.train_mask | g.val_mask | g.test_mask)
    assert int(gap[2312:].sum()) == 15


@needs_mirror
def test_cora_loads_fast():
    t = time.perf_counter()
    load_planetoid("cora")
    assert time.perf_counter() - t < 2.0


@needs_mirror
def test_same_as_torch_geometric(tmp_path):
    """Cross-check against PyG's reader of the same (digest-checked) files."""
    io = pytest.importorskip("torch_geometric.io")
    from attnbook.data import fetch

    for name in STATS:
        for part in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"):
            (tmp_path / f"ind.{name}.{part}").symlink_to(fetch(f"planetoid/ind.{name}.{part}"))
        ref = io.read_planetoid_data(str(tmp_path), name)
        ours = load_planetoid(name)
        assert torch.equal(ours.x, ref.x)
        assert torch.equal(ours.y, ref.y)
        n = ours.num_nodes
        ref_ids = torch.sort(ref.edge_index[0] * n + ref.edge_index[1]).values
        assert torch.equal(ours.edge_index[0] * n + ours.edge_index[1], ref_ids)
        for m in ("train_mask", "val_mask", "test_mask"):
            assert torch.equal(getattr(ours, m), getattr(ref, m)), m


def test_pubmed_is_a_clear_error():
    with pytest.raises(DataError, match="Pubmed is not in the dataset registry"):
        load_planetoid("pubmed")
    with pytest.raises(DataError, match="choose one of"):
        load_planetoid("karate")


def test_normalize_features():
    x = torch.tensor([[1.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    out = normalize_features(x)
    assert torch.allclose(out[0], torch.tensor([0.25, 0.25, 0.0, 0.5]))
    assert torch.equal(out[1], torch.zeros(4))  # featureless rows stay zero
    assert x[0, 0] == 1.0  # the input is not modified
    with pytest.raises(ValueError, match=r"\(N, F\)"):
        normalize_features(torch.ones(3))


def test_adjacency_follows_to_dense_adj():
    """Row i lists the nodes i attends to (edge j -> i), as attnbook.graph.to_dense_adj: checked
    on a directed toy graph, where the two conventions would differ."""
    from attnbook.data.planetoid import Planetoid
    from attnbook.graph import to_dense_adj

    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])  # 0 -> 1, 1 -> 2, 2 -> 0
    g = Planetoid("toy", torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), ei,
                  *(torch.zeros(3, dtype=torch.bool),) * 3, 1)
    adj = g.adjacency()
    assert torch.equal(adj, to_dense_adj(ei, 3))
    assert adj[1, 0] and not adj[0, 1]  # the edge 0 -> 1: node 1 attends to node 0
    assert torch.equal(g.adjacency(self_loops=True), adj | torch.eye(3, dtype=torch.bool))
