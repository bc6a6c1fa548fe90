"""Tests of attnbook.graph_train: the papers' stopping rules, fit_ensemble, removing stopped models."""

import pytest
import torch
from graph_toys import EDGES, FIN, features, two_communities

from attnbook.data.synthetic import dictionary_lookup
from attnbook.ensemble import GATEnsemble, GCNEnsemble
from attnbook.graph import SparseRows
from attnbook.graph_train import GATStopping, GCNStopping, _keep_models, fit_ensemble


def test_gat_stopping_rule():
    rule = GATStopping(patience=2, stacked=True)
    acc = [torch.tensor([50.0, 50.0]), torch.tensor([60.0, 40.0]), torch.tensor([55.0, 40.0]),
           torch.tensor([55.0, 40.0])]
    loss = [torch.tensor([1.0, 1.0]), torch.tensor([0.9, 1.1]), torch.tensor([0.95, 1.1]),
            torch.tensor([0.95, 1.1])]
    saves, stops = zip(*(rule.step(a, v) for a, v in zip(acc, loss, strict=True)), strict=True)
    # model 0 improves both at epoch 1 (kept); model 1 never improves after epoch 0
    assert [s.tolist() for s in saves] == [[True, True], [True, False], [False, False], [False, False]]
    assert [s.tolist() for s in stops] == [[False, False], [False, False], [False, True], [True, True]]
    assert rule.best_epoch.tolist() == [1, 0] and rule.stop_epoch.tolist() == [3, 2]


def test_gat_stopping_resets_patience_on_either_score():
    rule = GATStopping(patience=1, stacked=True)
    rule.step(torch.tensor([50.0]), torch.tensor([1.0]))
    save, stop = rule.step(torch.tensor([40.0]), torch.tensor([0.5]))  # loss better, accuracy worse
    assert not save.item() and not stop.item()


def test_gcn_stopping_rule():
    rule = GCNStopping(patience=2, stacked=True)
    out = [rule.step(torch.tensor([v])) for v in (1.0, 0.8, 0.85, 0.95)]
    assert all(s.item() for s, _ in out)  # every epoch is kept
    # epoch 2: 0.85 < mean(1.0, 0.8) = 0.9; epoch 3: 0.95 > mean(0.8, 0.85)
    assert [t.item() for _, t in out] == [False, False, False, True]


@pytest.mark.parametrize("stopping", ["gat", "gcn"])
def test_fit_ensemble_learns_a_toy_task(stopping):
    x, ei, y, masks = two_communities()
    torch.manual_seed(0)
    if stopping == "gat":
        model = GATEnsemble(3, 5, 2, hidden=4, heads=2)
        res = fit_ensemble(model, SparseRows.from_dense(x), ei, y, *masks, max_epochs=60, patience=20)
    else:
        model = GCNEnsemble(3, 5, 2, hidden=4)
        res = fit_ensemble(model, SparseRows.from_dense(x), ei, y, *masks, lr=0.05, max_epochs=60,
                           patience=10, stopping="gcn")
    assert res.test_acc.shape == (3,) and res.epochs <= 60
    assert (res.test_acc == 100).all()
    assert len(res.history["val_loss"]) == res.epochs
    assert ((0 <= res.best_epoch) & (res.best_epoch <= res.stop_epoch) & (res.stop_epoch <= 60)).all()


def test_fit_ensemble_rejects_bad_settings():
    x, ei, y, masks = two_communities()
    with pytest.raises(ValueError, match="stopping must be"):
        fit_ensemble(GCNEnsemble(1, 5, 2), x, ei, y, *masks, stopping="kipf")
    with pytest.raises(ValueError, match="max_epochs must be at least 1"):
        fit_ensemble(GCNEnsemble(1, 5, 2), x, ei, y, *masks, max_epochs=0)


def test_removing_stopped_models_leaves_the_others_unchanged():
    torch.manual_seed(0)
    xs = SparseRows.from_dense(features())
    y = torch.tensor([0, 1, 2, 0, 1])

    def step(model, opt):
        opt.zero_grad()
        logits = model(xs, EDGES).permute(0, 2, 1)  # (N, C, R)
        torch.nn.functional.cross_entropy(logits, y[:, None].expand(5, model.num_models), reduction="sum").backward()
        opt.step()

    full = GATEnsemble(3, FIN, 3, hidden=4, heads=2, dropout=0.0)
    opt = torch.optim.Adam(full.parameters(), lr=0.01, weight_decay=5e-4)
    step(full, opt)
    keep = torch.tensor([True, False, True])
    small, small_opt = _keep_models(full, opt, keep)
    step(full, opt)
    step(small, small_opt)
    assert small.num_models == 2
    for (name, p), (_, q) in zip(full.named_parameters(), small.named_parameters(), strict=True):
        torch.testing.assert_close(p[keep], q, msg=name)


def test_fit_ensemble_attention_weight_decay():
    """attention_weight_decay=0 exempts exactly the attention vectors from weight decay: after one
    step they match a run without decay, and every other weight matches the run with decay."""
    x, ei, y, masks = two_communities()
    xs = SparseRows.from_dense(x)

    def one_step(**kw):
        torch.manual_seed(0)
        model = GATEnsemble(2, 5, 2, hidden=4, heads=2)
        fit_ensemble(model, xs, ei, y, *masks, lr=0.1, max_epochs=1, **kw)
        return dict(model.named_parameters())

    exempt = one_step(weight_decay=100.0, attention_weight_decay=0.0)
    decayed, free = one_step(weight_decay=100.0), one_step(weight_decay=0.0)
    att = {"att_src1", "att_dst1", "att_src2", "att_dst2"}
    for name, p in exempt.items():
        ref = free[name] if name in att else decayed[name]
        assert torch.allclose(p, ref), name
    assert not torch.allclose(decayed["att_src1"], free["att_src1"])  # decay did change them


def test_fit_ensemble_threads_set_and_restored():
    """threads=1 runs the fit on one torch thread and restores the caller's count afterwards,
    also when the fit fails; threads=None leaves the count alone; the results do not change."""
    x, ei, y, masks = two_communities()
    xs = SparseRows.from_dense(x)
    original = torch.get_num_threads()
    torch.set_num_threads(2)  # a caller's count other than 1, so that restoring it shows
    try:
        _check_threads(x, xs, ei, y, masks)
    finally:
        torch.set_num_threads(original)


def _check_threads(x, xs, ei, y, masks):
    before = torch.get_num_threads()
    seen = []

    def watch(epochs):  # the progress hook runs inside the fit
        seen.append(torch.get_num_threads())
        return epochs

    def run(**kw):
        torch.manual_seed(0)
        model = GATEnsemble(2, 5, 2, hidden=4, heads=2)
        return fit_ensemble(model, xs, ei, y, *masks, max_epochs=5, progress=watch, **kw)

    one = run(threads=1)
    assert seen[-1] == 1 and torch.get_num_threads() == before
    default = run()
    assert seen[-1] == before and torch.get_num_threads() == before
    assert torch.equal(one.test_acc, default.test_acc)

    def fail(epochs):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        torch.manual_seed(0)
        fit_ensemble(GATEnsemble(1, 5, 2, hidden=4, heads=2), xs, ei, y, *masks, max_epochs=5,
                     progress=fail, threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be at least 1"):
        fit_ensemble(GCNEnsemble(1, 5, 2), x, ei, y, *masks, stopping="gcn", threads=0)


def test_full_batch_epoch_of_a_single_model_and_of_an_ensemble():
    """A single model and an ensemble of one with its weights take the same epoch (dropout off)."""
    from attnbook.gat import GAT
    from attnbook.graph_train import full_batch_epoch

    x, ei, y, (train, val, _) = two_communities()
    torch.manual_seed(0)
    single = GAT(5, 2, hidden=4, heads=2, dropout=0.0)
    ens = GATEnsemble(1, 5, 2, hidden=4, heads=2, dropout=0.0).load_models([single])
    out_s = full_batch_epoch(single, single.configure_optimizer(lr=0.1), (x, ei, train), y[train],
                             (x, ei, val), y[val])
    out_e = full_batch_epoch(ens, ens.configure_optimizer(lr=0.1), ens.plan(x, ei, train), y[train],
                             ens.plan(x, ei, val), y[val])
    for a, b in zip(out_s, out_e, strict=True):
        assert a.shape == b.shape == (1,)
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(ens.export(0).conv1.weight, single.conv1.weight)
    assert not single.training and not ens.training


def test_fit_steps_trains_and_reports_each_step():
    from attnbook.gat import LookupNet
    from attnbook.graph_train import fit_steps

    x, ei, y, q = dictionary_lookup(20, 3, seed=0)
    torch.manual_seed(0)
    net = LookupNet("gatv2", 3, hidden=16)
    hist = fit_steps(net, torch.optim.Adam(net.parameters(), lr=0.02), (x, ei, q), y[q], steps=60)
    assert len(hist["loss"]) == len(hist["train_acc"]) == 60
    assert sum(hist["loss"][-5:]) < 0.5 * sum(hist["loss"][:5])
    with torch.no_grad():  # the first entry is the untrained model's, before any step
        torch.manual_seed(0)
        fresh = LookupNet("gatv2", 3, hidden=16)
        acc0 = (fresh(x, ei)[q].argmax(-1) == y[q]).float().mean().item() * 100
    assert hist["train_acc"][0] == acc0
    with pytest.raises(ValueError, match="steps"):
        fit_steps(net, torch.optim.Adam(net.parameters()), (x, ei, q), y[q], steps=0)


def test_bench_epoch_is_the_fit_epoch():
    """bench.make_epoch runs graph_train's epoch with the paper's optimiser: the same weights."""
    from attnbook.bench import make_epoch
    from attnbook.graph_train import full_batch_epoch

    x, ei, y, (train, val, _) = two_communities()
    xs = SparseRows.from_dense(x)
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(GATEnsemble(2, 5, 2, hidden=4, heads=2))
    epoch = make_epoch(models[0], xs, ei, y, train, val)
    opt = models[1].configure_optimizer()
    for _ in range(3):
        torch.manual_seed(1)
        loss = epoch()
        torch.manual_seed(1)
        ref = full_batch_epoch(models[1], opt, models[1].plan(xs, ei, train), y[train],
                               models[1].plan(xs, ei, val), y[val])[0].sum().item()
        assert loss == ref
    for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(p, q)
