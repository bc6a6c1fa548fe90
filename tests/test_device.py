"""Device-agnostic code: every model gives the same numbers on CUDA as on the CPU.

The CUDA cases are skipped where there is no GPU (CI); they run on a GPU machine and in Colab.
"""

import copy

import pytest
import torch
from graph_toys import two_communities

from attnbook.attention import AdditiveScore, attend
from attnbook.ensemble import GATEnsemble, GCNEnsemble
from attnbook.gat import GAT, DenseGATLayer, GATLayer, GATv2Layer
from attnbook.gcn import GCN
from attnbook.graph import SparseRows, to_dense_adj
from attnbook.graph_train import fit_ensemble
from attnbook.seq2seq import AttentionDecoder, Encoder, Seq2Seq, greedy_decode
from attnbook.utils import get_device

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device here"))]
TOL = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(autouse=True)
def exact_matmuls():
    """TF32 would change the numbers on Ampere and later GPUs; compare in full float32."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_get_device_prefers_cuda_when_present():
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("device", DEVICES)
def test_attend_on_device(device):
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(2, 3, 8, generator=g), torch.randn(2, 5, 8, generator=g), torch.randn(2, 5, 4, generator=g)
    mask = torch.rand(2, 3, 5, generator=g) < 0.7
    mask[..., 0] = True
    score = AdditiveScore(8, 8, 16)
    ref_out, ref_w = attend(q, k, v, mask=mask, score=score)
    dev_score = copy.deepcopy(score).to(device)
    out, w = attend(q.to(device), k.to(device), v.to(device), mask=mask.to(device), score=dev_score)
    assert out.device.type == device
    torch.testing.assert_close(out.cpu(), ref_out, **TOL)
    torch.testing.assert_close(w.cpu(), ref_w, **TOL)


def _ring(n):
    src = torch.arange(n)
    dst = (src + 1) % n
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])


@pytest.mark.parametrize("device", DEVICES)
def test_gat_on_device(device):
    torch.manual_seed(0)
    x, edge_index = torch.randn(7, 5), _ring(7)
    adj = to_dense_adj(edge_index, 7)
    for layer, graph in ((GATLayer(5, 4, heads=2), edge_index), (DenseGATLayer(5, 4, heads=2), adj),
                         (GAT(5, 3, hidden=4, heads=2), edge_index), (GATv2Layer(5, 4, heads=2), edge_index),
                         (GCN(5, 3, hidden=4), edge_index)):
        layer.eval()
        ref = layer(x, graph)
        out = copy.deepcopy(layer).to(device)(x.to(device), graph.to(device))
        assert out.device.type == device
        torch.testing.assert_close(out.cpu(), ref, **TOL)


@pytest.mark.parametrize("device", DEVICES)
def test_sparse_rows_on_device(device):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 9, generator=g) * (torch.rand(6, 9, generator=g) < 0.3)
    xs = SparseRows.from_dense(x).to(device)
    assert xs.device.type == device and xs.offsets.device.type == device
    w = torch.randn(9, 4, generator=g)
    torch.testing.assert_close(xs.matmul(w.to(device)).cpu(), x @ w, **TOL)
    torch.testing.assert_close(xs.to_dense().cpu(), x)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("Ensemble", [GATEnsemble, GCNEnsemble])
def test_ensemble_on_device(device, Ensemble):
    torch.manual_seed(0)
    x, edge_index = torch.randn(7, 5), _ring(7)
    targets = torch.tensor([True, False, True, False, False, True, False])
    ens = Ensemble(3, 5, 3).eval()
    ref = ens(SparseRows.from_dense(x), edge_index, targets)
    dev = copy.deepcopy(ens).to(device)
    out = dev(SparseRows.from_dense(x).to(device), edge_index.to(device), targets.to(device))
    assert out.device.type == device
    torch.testing.assert_close(out.cpu(), ref, **TOL)
    assert next(dev.export(1).parameters()).device.type == device


@pytest.mark.parametrize("device", DEVICES)
def test_fit_ensemble_on_device(device):
    """fit_ensemble trains on the device of the model, from a graph given on the CPU."""
    x, edge_index, y, masks = two_communities()
    torch.manual_seed(0)
    model = GATEnsemble(2, 5, 2, hidden=4, heads=2).to(device)
    res = fit_ensemble(model, SparseRows.from_dense(x), edge_index, y, *masks, max_epochs=30, patience=10)
    assert next(model.parameters()).device.type == device  # left holding the checkpoints, on the device
    assert res.test_acc.device.type == "cpu" and res.best_epoch.device.type == "cpu"
    assert (res.test_acc == 100).all() and res.epochs <= 30


@pytest.mark.parametrize("device", DEVICES)
def test_seq2seq_on_device(device):
    torch.manual_seed(0)
    enc = Encoder(vocab_size=12, embed_dim=8, hidden_size=8)
    model = Seq2Seq(enc, AttentionDecoder(vocab_size=10, embed_dim=8, hidden_size=8, key_dim=16)).eval()
    src = torch.randint(4, 12, (3, 6))
    src_mask = torch.ones(3, 6, dtype=torch.bool)
    src_mask[1, 4:] = False
    src = src.masked_fill(~src_mask, 0)
    tgt_in = torch.randint(4, 10, (3, 5))
    ref = model(src, src_mask, tgt_in)
    dev = copy.deepcopy(model).to(device)
    out = dev(src.to(device), src_mask.to(device), tgt_in.to(device))
    assert out.device.type == device
    torch.testing.assert_close(out.cpu(), ref, **TOL)
    decoded = greedy_decode(dev, src.to(device), src_mask.to(device), bos_id=2, eos_id=3, max_len=7)
    ref_decoded = greedy_decode(model, src, src_mask, bos_id=2, eos_id=3, max_len=7)
    assert torch.equal(decoded.ids.cpu(), ref_decoded.ids)
