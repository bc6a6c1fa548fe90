"""Tests of attnbook.gcn: the GCN layer against PyG's GCNConv and against the dense formula."""

import pytest
import torch
from graph_toys import EDGES, FIN, N, features, pyg

from attnbook.gcn import GCN, GCNLayer, gcn_propagate
from attnbook.graph import SparseRows, add_self_loops, degree, gcn_norm


@pytest.fixture
def x():
    return features()


def test_gcn_equals_pyg_gcnconv(x):
    pygnn = pyg()
    ours = GCNLayer(FIN, 3)
    ref = pygnn.GCNConv(FIN, 3)
    with torch.no_grad():
        ref.lin.weight.copy_(ours.weight.T)
        ours.bias.normal_()
        ref.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x, EDGES), ref(x, EDGES))


def test_gcn_equals_the_dense_formula(x):
    layer = GCNLayer(FIN, 3, bias=False)
    ei = add_self_loops(EDGES, N)
    a_hat = torch.zeros(N, N)
    a_hat[ei[1], ei[0]] = 1.0  # row i: the nodes i receives from, itself included
    d = degree(ei[1], N).rsqrt()
    torch.testing.assert_close(layer(x, EDGES), d[:, None] * a_hat * d[None, :] @ x @ layer.weight)


def test_propagate_broadcasts_over_a_model_axis(x):
    ei, w = gcn_norm(EDGES, N)
    xw = torch.randn(N, 2, 3)  # (N, R, D)
    out = gcn_propagate(xw, ei[0], ei[1], w, N)
    for s in range(2):
        torch.testing.assert_close(out[:, s], gcn_propagate(xw[:, s], ei[0], ei[1], w, N))


def test_gcn_model_takes_sparse_rows(x):
    model = GCN(FIN, 3, hidden=4).eval()
    torch.testing.assert_close(model(SparseRows.from_dense(x), EDGES), model(x, EDGES))
    assert repr(model.conv1) == "GCNLayer(6, 4)"


def test_gcn_optimizer_decays_only_the_first_layer():
    from attnbook.ensemble import GCNEnsemble
    from attnbook.gcn import gcn_optimizer

    for model in (GCN(FIN, 3), GCNEnsemble(2, FIN, 3)):
        first, rest = model.configure_optimizer().param_groups
        assert (first["lr"], first["weight_decay"], rest["weight_decay"]) == (0.01, 5e-4, 0.0)
        assert [id(p) for p in first["params"]] == [id(p) for p in model.first_layer_parameters()]
        assert len(first["params"]) + len(rest["params"]) == len(list(model.parameters()))
    assert [id(p) for p in GCN(FIN, 3).first_layer_parameters()] != []
    opt = gcn_optimizer(GCN(FIN, 3), lr=0.5, weight_decay=0.1)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0] and opt.defaults["lr"] == 0.5
