"""Tests of attnbook.ensemble: R models in one pass equal R separate models; receptive fields."""

import pytest
import torch
from graph_toys import EDGES, FIN, N, features

from attnbook.ensemble import GATEnsemble, GCNEnsemble, ReceptiveField
from attnbook.gat import GAT
from attnbook.gcn import GCN
from attnbook.graph import SparseRows


@pytest.fixture
def x():
    return features()


def test_gat_ensemble_equals_separate_models(x):
    torch.manual_seed(0)
    models = [GAT(FIN, 3, hidden=4, heads=2).eval() for _ in range(3)]
    ens = GATEnsemble(3, FIN, 3, hidden=4, heads=2).load_models(models).eval()
    xs = SparseRows.from_dense(x)
    out = ens(xs, EDGES)  # (N, R, C)
    assert out.shape == (N, 3, 3)
    for s, m in enumerate(models):
        torch.testing.assert_close(out[:, s], m(x, EDGES))
        torch.testing.assert_close(ens.export(s).eval()(x, EDGES), out[:, s].detach())
    # the summed loss gives each copy exactly its own model's gradient
    out.sum().backward()
    for s, m in enumerate(models):
        m(x, EDGES).sum().backward()
        torch.testing.assert_close(ens.w1.grad[s], m.conv1.weight.grad)
        torch.testing.assert_close(ens.att_src2.grad[s], m.conv2.att_src.grad)
    # in training mode (dropout on) the copies still run, each with its own dropout masks: copies
    # given the same weights give different outputs
    same = GATEnsemble(3, FIN, 3, hidden=4, heads=2).load_models([models[0]] * 3).train()
    out = same(xs, EDGES)
    assert out.shape == (N, 3, 3) and torch.isfinite(out).all()
    assert not torch.allclose(out[:, 0], out[:, 1]) and not torch.allclose(out[:, 1], out[:, 2])


def test_gat_ensemble_training_path_matches_without_dropout(x):
    torch.manual_seed(0)
    models = [GAT(FIN, 3, hidden=4, heads=2, dropout=0.0) for _ in range(2)]
    ens = GATEnsemble(2, FIN, 3, hidden=4, heads=2, dropout=0.0).load_models(models)
    x[1] = 0  # a node without features
    out = ens.train()(SparseRows.from_dense(x), EDGES)
    for s, m in enumerate(models):
        torch.testing.assert_close(out[:, s], m.train()(x, EDGES))


def test_gcn_ensemble_equals_separate_models(x):
    torch.manual_seed(0)
    models = [GCN(FIN, 3, hidden=5).eval() for _ in range(2)]
    ens = GCNEnsemble(2, FIN, 3, hidden=5).load_models(models).eval()
    out = ens(SparseRows.from_dense(x), EDGES)
    for s, m in enumerate(models):
        torch.testing.assert_close(out[:, s], m(x, EDGES))
        torch.testing.assert_close(ens.export(s).eval()(x, EDGES), out[:, s].detach())
    assert [p is q for p, q in zip(ens.first_layer_parameters(), (ens.w1, ens.b1), strict=True)] == [True, True]


@pytest.mark.parametrize("Ensemble", [GATEnsemble, GCNEnsemble])
def test_ensemble_on_the_receptive_field_equals_full_graph(x, Ensemble):
    torch.manual_seed(0)
    ens = Ensemble(2, FIN, 3).eval()
    xs = SparseRows.from_dense(x)
    targets = torch.tensor([False, True, False, False, True])
    full = ens(xs, EDGES)
    part = ens(xs, EDGES, targets)
    assert part.shape == (2, 2, 3)  # only the targets' rows, in node order
    torch.testing.assert_close(part, full[targets])
    # the plan made once gives the same numbers; a dense x is accepted too
    field = ens.plan(xs, EDGES, targets)
    assert isinstance(field, ReceptiveField) and field.sizes[-1] == 2
    torch.testing.assert_close(ens(field), part)
    torch.testing.assert_close(ens(x, EDGES, targets), part)


def test_receptive_field_follows_the_number_of_models(x):
    field = GATEnsemble(3, FIN, 3).plan(SparseRows.from_dense(x), EDGES)
    assert field.stacked(3).R == 3 and field.stacked(3) is field.stacked(3)
    assert field.stacked(2).R == 2  # after models stopped: laid out again, for two


def test_receptive_field_of_another_model_is_refused(x):
    xs = SparseRows.from_dense(x)
    gat_field = GATEnsemble(2, FIN, 3).plan(xs, EDGES)
    with pytest.raises(ValueError, match="another model"):
        GCNEnsemble(2, FIN, 3)(gat_field)
    with pytest.raises(ValueError, match="another model"):
        GATEnsemble(2, FIN + 1, 3)(gat_field)


def test_bad_inputs_raise_clear_errors(x):
    ens = GATEnsemble(2, FIN, 3)
    with pytest.raises(ValueError, match=r"\(N, 6\).*\(5, 4\)"):
        ens(x[:, :4], EDGES)
    with pytest.raises(ValueError, match=r"targets must be a bool mask \(5,\)"):
        ens(x, EDGES, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="needs \\(x, edge_index\\)"):
        ens(x)
    with pytest.raises(ValueError, match="expected 2 models, got 1"):
        ens.load_models([GAT(FIN, 3)])
    assert repr(ens) == "GATEnsemble(2 x GAT(6, 3, hidden=8, heads=8, out_heads=1))"


def test_attention_parameters_are_the_attention_vectors():
    ens = GATEnsemble(2, FIN, 3, hidden=4, heads=2)
    names = {n for n, p in ens.named_parameters() if any(p is q for q in ens.attention_parameters())}
    assert names == {"att_src1", "att_dst1", "att_src2", "att_dst2"}
    assert GCNEnsemble(2, FIN, 3).attention_parameters() == []


def test_ensemble_optimizers_are_the_single_models_recipes():
    ens = GATEnsemble(2, FIN, 3, hidden=4, heads=2)
    (g,) = ens.configure_optimizer().param_groups
    assert (g["lr"], g["weight_decay"]) == (0.005, 5e-4) and len(g["params"]) == 8
    rest, att = ens.configure_optimizer(attention_weight_decay=0.0).param_groups
    assert {id(p) for p in att["params"]} == {id(p) for p in ens.attention_parameters()}
    first, _ = GCNEnsemble(2, FIN, 3).configure_optimizer().param_groups
    assert first["lr"] == 0.01
