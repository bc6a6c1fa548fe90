"""Tests of attnbook.graph: edge-list checks, self-loops, degree, the edge softmax, sparse features."""

import pytest
import torch

from attnbook.graph import (
    SparseRows,
    add_self_loops,
    check_edge_index,
    check_features,
    degree,
    dropout,
    edge_softmax,
    gcn_norm,
    receptive_edges,
    remove_self_loops,
    scatter_sum,
    to_dense_adj,
)

# a toy graph: 0 <-> 1, 1 <-> 2, 3 -> 0 (node 3 receives nothing), node 4 isolated
EDGES = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 0]])
N = 5


def test_check_edge_index_accepts_a_good_graph():
    check_edge_index(EDGES, N)
    check_edge_index(torch.empty(2, 0, dtype=torch.long), N)  # no edges is fine


@pytest.mark.parametrize(
    "bad, err, msg",
    [
        (torch.tensor([[0, 5], [1, 0]]), ValueError, r"\[0, 5\].*\[0, 4\]"),
        (torch.tensor([[0, -1], [1, 0]]), ValueError, r"\[-1, 1\]"),
        (torch.tensor([0, 1, 2]), ValueError, r"\(2, E\).*\(3,\)"),
        (torch.tensor([[0, 1], [1, 0], [1, 1]]), ValueError, r"\(2, E\).*\(3, 2\)"),
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), TypeError, "int64.*float32"),
        (torch.tensor([[0, 1], [1, 0]], dtype=torch.int32), TypeError, "int64.*int32"),
        ([[0, 1], [1, 0]], TypeError, "list"),
    ],
)
def test_check_edge_index_rejects_bad_input(bad, err, msg):
    with pytest.raises(err, match=msg):
        check_edge_index(bad, N)


def test_self_loops_added_once_and_removed():
    with_loop = torch.cat([EDGES, torch.tensor([[2], [2]])], dim=1)
    ei = add_self_loops(with_loop, N)
    loops = ei[:, ei[0] == ei[1]]
    assert loops.shape[1] == N  # exactly one per node, the old loop replaced
    assert torch.equal(loops[0], torch.arange(N))
    assert torch.equal(remove_self_loops(ei), EDGES)
    assert with_loop.shape[1] == 6  # the caller's tensor is untouched


def test_degree():
    assert torch.equal(degree(EDGES[1], N), torch.tensor([2.0, 2, 1, 0, 0]))
    assert torch.equal(degree(EDGES[0], N, dtype=torch.long), torch.tensor([1, 2, 1, 1, 0]))


def test_scatter_sum():
    src = torch.arange(10.0).view(5, 2)
    out = scatter_sum(src, EDGES[1], N)
    expected = torch.zeros(N, 2)
    for e in range(5):
        expected[EDGES[1, e]] += src[e]
    assert torch.equal(out, expected)


def test_edge_softmax_sums_to_one_over_incoming_edges():
    g = torch.Generator().manual_seed(0)
    ei = add_self_loops(EDGES, N)
    scores = torch.randn(ei.shape[1], 3, generator=g) * 10
    alpha = edge_softmax(scores, ei[1], N)
    assert alpha.shape == scores.shape
    assert ((alpha >= 0) & (alpha <= 1)).all()
    torch.testing.assert_close(scatter_sum(alpha, ei[1], N), torch.ones(N, 3))
    # equal to a dense softmax over each node's incoming edges
    for i in range(N):
        sel = ei[1] == i
        torch.testing.assert_close(alpha[sel], torch.softmax(scores[sel], dim=0))


def test_edge_softmax_is_stable_for_large_scores():
    scores = torch.tensor([1000.0, 1001.0, -1000.0])
    alpha = edge_softmax(scores, torch.tensor([0, 0, 1]), 2)
    assert torch.isfinite(alpha).all()
    torch.testing.assert_close(alpha, torch.tensor([1 / (1 + torch.e), torch.e / (1 + torch.e), 1.0]))


def test_edge_softmax_gradcheck():
    ei = add_self_loops(EDGES, N)
    scores = torch.randn(ei.shape[1], 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: edge_softmax(s, ei[1], N), (scores,))


def test_edge_softmax_rejects_mismatched_index():
    with pytest.raises(ValueError, match=r"scores \(4, 2\).*index \(3,\)"):
        edge_softmax(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long), 2)


def test_to_dense_adj_rows_are_receivers():
    adj = to_dense_adj(EDGES, N)
    assert adj.dtype == torch.bool and adj.shape == (N, N)
    assert adj[0, 3] and not adj[3, 0]  # edge 3 -> 0: node 0 attends to node 3
    assert adj.sum() == EDGES.shape[1]


def test_gcn_norm_weights():
    ei, w = gcn_norm(EDGES, N)
    deg = degree(ei[1], N)
    torch.testing.assert_close(w, 1 / torch.sqrt(deg[ei[0]] * deg[ei[1]]))
    assert ei.shape[1] == EDGES.shape[1] + N


def test_sparse_rows_matmul_and_gradient_match_dense():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 9, generator=g) * (torch.rand(6, 9, generator=g) < 0.3)
    x[2] = 0  # an empty row, and an empty last row
    x[5] = 0
    xs = SparseRows.from_dense(x)
    assert xs.nnz == int((x != 0).sum())
    torch.testing.assert_close(xs.to_dense(), x)
    w = torch.randn(9, 4, dtype=torch.double, requires_grad=True)
    xd = x.double()
    xsd = SparseRows.from_dense(xd)
    torch.testing.assert_close(xsd.matmul(w), xd @ w)
    assert torch.autograd.gradcheck(lambda w: xsd.matmul(w), (w,))


def test_sparse_rows_dropout_drops_only_values():
    x = torch.eye(50)
    xs = SparseRows.from_dense(x)
    torch.manual_seed(0)
    d = xs.dropout(0.5)
    assert d is not xs and torch.equal(xs.values, torch.ones(50))  # the original is untouched
    assert set(d.values.unique().tolist()) <= {0.0, 2.0}
    assert xs.dropout(0.5, training=False) is xs


def test_receptive_edges_keep_whole_neighbourhoods():
    ei = add_self_loops(EDGES, N)
    targets = torch.tensor([False, False, True, False, False])
    first, last = receptive_edges(ei, targets, 2)
    assert sorted(map(tuple, last.T.tolist())) == [(1, 2), (2, 2)]  # everything into node 2
    # the first layer must compute nodes 1 and 2: all edges into them
    assert sorted(map(tuple, first.T.tolist())) == [(0, 1), (1, 1), (1, 2), (2, 1), (2, 2)]


def test_sparse_rows_sorts_its_entries_by_row():
    # the entries of [[0, 2], [3, 0]] given column-major (row ids decreasing)
    xs = SparseRows(torch.tensor([0, 1]), torch.tensor([3.0, 2.0]), torch.tensor([1, 0]), (2, 2))
    assert xs.rows.tolist() == [0, 1]
    dense = torch.tensor([[0.0, 2.0], [3.0, 0.0]])
    torch.testing.assert_close(xs.to_dense(), dense)
    w = torch.randn(2, 3)
    torch.testing.assert_close(xs.matmul(w), dense @ w)


def test_sparse_rows_sums_duplicate_entries_in_to_dense_as_in_matmul():
    xs = SparseRows(torch.tensor([1, 1, 0]), torch.tensor([1.0, 2.0, 5.0]), torch.tensor([0, 0, 1]), (2, 2))
    dense = torch.tensor([[0.0, 3.0], [5.0, 0.0]])
    torch.testing.assert_close(xs.to_dense(), dense)
    w = torch.randn(2, 3)
    torch.testing.assert_close(xs.matmul(w), dense @ w)


@pytest.mark.parametrize(
    "cols, rows, msg",
    [
        ([0, 3], [0, 1], r"cols ids in \[0, 3\], expected ids in \[0, 2\] for shape \(2, 3\)"),
        ([0, 1], [0, 2], r"rows ids in \[0, 2\], expected ids in \[0, 1\]"),
        ([0, -1], [0, 1], r"cols ids in \[-1, 0\]"),
    ],
)
def test_sparse_rows_rejects_ids_out_of_range(cols, rows, msg):
    with pytest.raises(ValueError, match=msg):
        SparseRows(torch.tensor(cols), torch.ones(2), torch.tensor(rows), (2, 3))


def test_sparse_rows_rejects_bad_arrays():
    with pytest.raises(ValueError, match="1-d of one length"):
        SparseRows(torch.tensor([0]), torch.ones(2), torch.tensor([0, 1]), (2, 3))
    with pytest.raises(TypeError, match="rows must be int64"):
        SparseRows(torch.tensor([0]), torch.ones(1), torch.tensor([0], dtype=torch.int32), (2, 3))


def test_sparse_rows_to_device_and_dropout_dispatch():
    xs = SparseRows.from_dense(torch.eye(4))
    assert xs.to("cpu") is xs and xs.device.type == "cpu"
    torch.manual_seed(0)
    d = dropout(xs, 0.5)
    assert isinstance(d, SparseRows) and d.nnz == xs.nnz
    assert dropout(xs, 0.5, training=False) is xs


def test_check_features_names_the_shapes():
    check_features(torch.zeros(3, 4), 4, "layer")
    check_features(SparseRows.from_dense(torch.zeros(3, 4)), 4, "layer")
    with pytest.raises(ValueError, match=r"layer: expected x of shape \(N, 4\), got \(3, 5\)"):
        check_features(torch.zeros(3, 5), 4, "layer")
    with pytest.raises(TypeError, match="got list"):
        check_features([[0.0]], 1, "layer")
