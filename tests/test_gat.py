"""Tests of attnbook.gat: the GAT layer (edge list and dense), GATv2, the GAT model, PyG agreement."""

import math

import pytest
import torch
from graph_toys import EDGES, FIN, N, features, pyg

from attnbook.data.synthetic import dictionary_lookup
from attnbook.gat import (
    GAT,
    DenseGATLayer,
    GATLayer,
    GATv2Layer,
    LookupNet,
    attention_entropy,
    attention_spread,
    gat_scores,
)
from attnbook.gcn import GCNLayer
from attnbook.graph import SparseRows, add_self_loops, scatter_sum, to_dense_adj


@pytest.fixture
def x():
    return features()


def dense_twin(layer: GATLayer) -> DenseGATLayer:
    d = DenseGATLayer(layer.in_features, layer.out_features, layer.heads, layer.concat,
                      layer.negative_slope, layer.dropout)
    d.load_state_dict(layer.state_dict())
    return d


def test_shapes_and_repr(x):
    layer = GATLayer(FIN, 4, heads=3)
    assert layer(x, EDGES).shape == (N, 12)
    assert GATLayer(FIN, 4, heads=3, concat=False)(x, EDGES).shape == (N, 4)
    assert repr(layer) == "GATLayer(6, 4, heads=3)"
    assert repr(DenseGATLayer(8, 8, heads=8)) == "DenseGATLayer(8, 8, heads=8)"
    out, (ei, alpha) = layer(x, EDGES, return_attention=True)
    assert ei.shape == (2, EDGES.shape[1] + N) and alpha.shape == (EDGES.shape[1] + N, 3)


def test_attention_sums_to_one_per_node(x):
    _, (ei, alpha) = GATLayer(FIN, 4, heads=3)(x, EDGES, return_attention=True)
    assert ((alpha >= 0) & (alpha <= 1)).all()
    torch.testing.assert_close(scatter_sum(alpha, ei[1], N), torch.ones(N, 3))


def test_node_without_neighbours_attends_only_to_itself(x):
    layer = GATLayer(FIN, 4, heads=2)
    with torch.no_grad():
        layer.bias.normal_()
    out, (ei, alpha) = layer(x, EDGES, return_attention=True)
    into4 = ei[1] == 4
    assert ei[:, into4].tolist() == [[4], [4]]
    torch.testing.assert_close(alpha[into4], torch.ones(1, 2))
    torch.testing.assert_close(out[4], x[4] @ layer.weight + layer.bias)


@pytest.mark.parametrize("concat", [True, False])
def test_dense_equals_edge_list(x, concat):
    layer = GATLayer(FIN, 4, heads=3, concat=concat)
    dense = dense_twin(layer)
    out_e, (ei, alpha_e) = layer(x, EDGES, return_attention=True)
    out_d, alpha_d = dense(x, to_dense_adj(EDGES, N), return_attention=True)
    torch.testing.assert_close(out_e, out_d)
    # alpha_d[h, i, j] is the coefficient of edge j -> i
    torch.testing.assert_close(alpha_d[:, ei[1], ei[0]].T, alpha_e)
    assert float(alpha_d.detach().sum()) == pytest.approx(3 * N)  # no weight off the graph


def test_dense_model_equals_edge_list_model(x):
    torch.manual_seed(0)
    a, b = GAT(FIN, 3, hidden=4, heads=2).eval(), GAT(FIN, 3, hidden=4, heads=2, dense=True).eval()
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(x, EDGES), b(x, EDGES))
    torch.testing.assert_close(a(SparseRows.from_dense(x), EDGES), a(x, EDGES))


def test_relabelling_nodes_permutes_the_output(x):
    layer = GATLayer(FIN, 4, heads=2)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(1))
    inv = torch.argsort(perm)  # old id -> new id
    out = layer(x, EDGES)
    out_p = layer(x[perm], inv[EDGES])
    torch.testing.assert_close(out_p, out[perm])


def test_gradcheck():
    layer = GATLayer(3, 2, heads=2).double()
    xd = torch.randn(N, 3, dtype=torch.double, requires_grad=True)
    params = (xd, layer.weight, layer.att_src, layer.att_dst)
    assert torch.autograd.gradcheck(lambda *_: layer(xd, EDGES), params)
    dense = dense_twin(layer.float()).double()
    layer.double()
    adj = to_dense_adj(EDGES, N)
    assert torch.autograd.gradcheck(lambda *_: dense(xd, adj), (xd, dense.weight, dense.att_src))


def test_equals_pyg_gatconv(x):
    pygnn = pyg()
    for concat in (True, False):
        ours = GATLayer(FIN, 4, heads=3, concat=concat)
        with torch.no_grad():
            ours.bias.normal_()
        ref = pygnn.GATConv(FIN, 4, heads=3, concat=concat)
        with torch.no_grad():
            ref.lin.weight.copy_(ours.weight.T)  # Linear stores (out, in)
            ref.att_src.copy_(ours.att_src.unsqueeze(0))
            ref.att_dst.copy_(ours.att_dst.unsqueeze(0))
            ref.bias.copy_(ours.bias)
        out_ref, (ei_ref, alpha_ref) = ref(x, EDGES, return_attention_weights=True)
        out, (ei, alpha) = ours(x, EDGES, return_attention=True)
        torch.testing.assert_close(out, out_ref)
        # same coefficients edge by edge (the two may order the edges differently)
        key = lambda e: (e[0] * N + e[1]).argsort()  # noqa: E731
        torch.testing.assert_close(alpha[key(ei)], alpha_ref[key(ei_ref)])


def test_gatv2_equals_pyg_gatv2conv(x):
    pygnn = pyg()
    ours = GATv2Layer(FIN, 4, heads=2)
    ref = pygnn.GATv2Conv(FIN, 4, heads=2, share_weights=False)
    with torch.no_grad():
        ref.lin_l.weight.copy_(ours.weight_src.T)  # PyG: lin_l for the source x_j
        ref.lin_l.bias.zero_()
        ref.lin_r.weight.copy_(ours.weight_dst.T)  # lin_r for the target x_i
        ref.lin_r.bias.zero_()
        ref.att.copy_(ours.att.unsqueeze(0))
        ref.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x, EDGES), ref(x, EDGES))
    assert repr(ours) == "GATv2Layer(6, 4, heads=2)"


@pytest.mark.parametrize(
    "edge_index, err, msg",
    [
        (torch.tensor([[0, 7], [1, 0]]), ValueError, r"\[0, 7\].*\[0, 4\]"),
        (torch.tensor([[0, 1, 2]]), ValueError, r"\(2, E\).*\(1, 3\)"),
        (EDGES.float(), TypeError, "int64.*float32"),
        (EDGES.int(), TypeError, "int64.*int32"),
        (EDGES.tolist(), TypeError, "list"),
    ],
)
def test_bad_edge_index_raises_clear_error(x, edge_index, err, msg):
    for layer in (GATLayer(FIN, 2), GATv2Layer(FIN, 2), GCNLayer(FIN, 2)):
        with pytest.raises(err, match=msg):
            layer(x, edge_index)


def test_bad_features_raise(x):
    with pytest.raises(ValueError, match=r"\(N, 6\).*\(5, 4\)"):
        GATLayer(FIN, 2)(x[:, :4], EDGES)
    with pytest.raises(ValueError, match=r"bool adj of shape \(5, 5\)"):
        DenseGATLayer(FIN, 2)(x, torch.ones(4, 4, dtype=torch.bool))


def test_attention_dropout_only_in_training(x):
    layer = GATLayer(FIN, 4, heads=2, dropout=0.9)
    layer.eval()
    torch.testing.assert_close(layer(x, EDGES), layer(x, EDGES))
    layer.train()
    torch.manual_seed(0)
    assert not torch.allclose(layer(x, EDGES), layer.eval()(x, EDGES))


def test_attention_entropy_of_uniform_attention():
    ei = add_self_loops(EDGES, N)
    deg = torch.bincount(ei[1], minlength=N).float()
    alpha = (1 / deg)[ei[1]]
    ent, uni = attention_entropy(alpha, ei[1], N)
    torch.testing.assert_close(ent, deg.log())
    torch.testing.assert_close(uni, deg.log())
    assert uni[4] == 0 and math.isclose(float(uni[1]), math.log(3), rel_tol=1e-6)


def test_attention_spread_uniform_and_from_scores(x):
    ei = add_self_loops(EDGES, N)
    deg = torch.bincount(ei[1], minlength=N).float()
    excess, rng = attention_spread((1 / deg)[ei[1]], ei[1], N)  # uniform attention
    torch.testing.assert_close(excess, torch.zeros(N))
    torch.testing.assert_close(rng, torch.zeros(N))
    # a trained-like layer: the range read from alpha equals max - min of the scores themselves
    torch.manual_seed(0)
    layer = GATLayer(FIN, 4, heads=3)
    _, (e_i, alpha) = layer(x, EDGES, return_attention=True)
    xw = (x @ layer.weight).view(N, 3, 4)
    e = gat_scores(xw, layer.att_src, layer.att_dst, e_i[0], e_i[1], layer.negative_slope)  # (E, H)
    excess, rng = attention_spread(alpha.detach(), e_i[1], N)
    for i in range(N):
        into = e_i[1] == i
        torch.testing.assert_close(rng[i], e[into].max(0).values - e[into].min(0).values)
        torch.testing.assert_close(excess[i], alpha[into].max(0).values - 1 / int(into.sum()))
    with pytest.raises(ValueError, match="edges"):
        attention_spread(alpha[:-1], e_i[1], N)


def test_dictionary_lookup_labels():
    k = 4
    x, ei, y, q = dictionary_lookup(3, k, torch.Generator().manual_seed(0))
    assert x.shape == (3 * 2 * k, 2 * k + 1) and ei.shape == (2, 3 * k * k) and int(q.sum()) == 3 * k
    for i in torch.nonzero(q).flatten().tolist():
        keys = ei[0, ei[1] == i]
        assert len(keys) == k and not q[keys].any()
        match = keys[x[keys, :k].argmax(1) == x[i, :k].argmax()]  # the key with the query's attribute
        assert y[i] == x[match[0], k:2 * k].argmax()
    # a seed and a generator seeded alike give the same graphs
    again = dictionary_lookup(3, k, 0)
    assert all(torch.equal(a, b) for a, b in zip(again, dictionary_lookup(3, k, torch.Generator().manual_seed(0)),
                                                   strict=True))


@pytest.mark.parametrize("layer", ["gat", "gatv2"])
def test_lookup_net_shapes(layer):
    x, ei, y, q = dictionary_lookup(2, 3, 0)
    net = LookupNet(layer, 3, hidden=4, heads=2)
    assert net(x, ei).shape == (12, 3)


def test_edge_list_layer_takes_sparse_rows(x):
    layer = GATLayer(FIN, 4, heads=2).eval()
    torch.testing.assert_close(layer(SparseRows.from_dense(x), EDGES), layer(x, EDGES))


@pytest.mark.parametrize("Layer", [GATLayer, GATv2Layer])
def test_layers_keep_their_last_weights(x, Layer):
    layer = Layer(FIN, 4, heads=3)
    assert layer.weights is None
    _, (ei, alpha) = layer(x, EDGES, return_attention=True)
    assert torch.equal(layer.weights, alpha) and not layer.weights.requires_grad
    out = layer(x[:4], EDGES[:, EDGES.max(0).values < 4])  # another call replaces them
    assert isinstance(out, torch.Tensor) and layer.weights.shape[0] != alpha.shape[0]
    assert not hasattr(layer, "attention")
    dense = dense_twin(GATLayer(FIN, 4, heads=3))
    _, alpha_d = dense(x, to_dense_adj(EDGES, N), return_attention=True)
    assert torch.equal(dense.weights, alpha_d)


def test_gat_optimizer_is_the_papers_adam_with_an_optional_group_for_a():
    from attnbook.gat import attention_parameters, gat_optimizer

    model = GAT(FIN, 3, hidden=4, heads=2)
    names = {n for n, p in model.named_parameters() if any(p is q for q in attention_parameters(model))}
    assert names == {"conv1.att_src", "conv1.att_dst", "conv2.att_src", "conv2.att_dst"}
    opt = model.configure_optimizer()
    assert isinstance(opt, torch.optim.Adam) and len(opt.param_groups) == 1
    g = opt.param_groups[0]
    assert (g["lr"], g["weight_decay"]) == (0.005, 5e-4)
    assert [id(p) for p in g["params"]] == [id(p) for p in model.parameters()]
    opt = gat_optimizer(model, lr=0.1, weight_decay=1e-3, attention_weight_decay=0.0)
    (rest, att) = opt.param_groups
    assert (rest["weight_decay"], att["weight_decay"], att["lr"]) == (1e-3, 0.0, 0.1)
    assert {id(p) for p in att["params"]} == {id(p) for p in attention_parameters(model)}
    assert len(rest["params"]) + len(att["params"]) == len(list(model.parameters()))
    # PyG's GATConv names its attention vectors alike
    conv = pyg().GATConv(FIN, 4, heads=2)
    assert {n for n, p in conv.named_parameters() if any(p is q for q in attention_parameters(conv))} == {
        "att_src", "att_dst"}
