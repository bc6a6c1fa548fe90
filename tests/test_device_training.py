"""Training loops run on the device of the model: ``train.fit`` on a seq2seq model.

The collate function builds CPU tensors (``seq2seq.make_batch``); ``fit`` must move every batch to
the model's device. The CUDA case is skipped where there is no GPU (CI) and runs on a GPU machine
and in Colab; it trains the same model on both devices and compares the loss curves. The GAT
training loop's device test is in ``test_device.py``.
"""

import copy
import dataclasses

import pytest
import torch

from attnbook.data.text import Vocab
from attnbook.seq2seq import (
    AttentionDecoder,
    Batch,
    Encoder,
    Seq2Seq,
    make_batch,
    teacher_forcing_loss,
)
from attnbook.train import fit
from attnbook.utils import model_device, to_device

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device here"))]


def _pairs():
    words = ["ab", "ba", "abc", "cab", "bca", "aa", "bb", "cc", "acb", "bac"]
    return [(list(w), list(w[::-1])) for w in words]


def _model():
    torch.manual_seed(0)
    enc = Encoder(vocab_size=7, embed_dim=8, hidden_size=8)
    return Seq2Seq(enc, AttentionDecoder(vocab_size=7, embed_dim=8, hidden_size=8, key_dim=16))


@pytest.mark.parametrize("device", DEVICES)
def test_fit_trains_a_seq2seq_model_on_its_device(device):
    pairs = _pairs()
    vocab = Vocab.build([s for s, _ in pairs])
    seen = []

    def loss_fn(model, batch):
        seen.append(batch.src.device.type)
        return teacher_forcing_loss(model, batch)

    def collate(b):
        return make_batch(b, vocab, vocab)

    curves = {}
    for dev in ("cpu", device):
        model = _model().to(dev)
        with torch.backends.cudnn.flags(enabled=False):  # the same GRU kernels on both devices
            h = fit(model, pairs, collate, loss_fn, epochs=3, batch_size=4, lr=1e-2, seed=0,
                    show_progress=False)
        assert model_device(model).type == dev
        curves[dev] = h.train_loss
    assert set(seen) == {"cpu", device}
    assert curves[device][-1] < curves[device][0]
    torch.testing.assert_close(torch.tensor(curves[device]), torch.tensor(curves["cpu"]),
                               rtol=1e-3, atol=1e-4)


def test_to_device_moves_nested_batches_without_touching_the_input():
    b = Batch(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool), torch.zeros(2, 1), torch.zeros(2, 1))
    nested = {"batch": b, "pair": (torch.ones(1), [torch.zeros(2)]), "n": 3}
    moved = to_device(nested, "meta")
    assert moved["batch"].src.device.type == "meta" and moved["batch"].tgt_out.device.type == "meta"
    assert moved["pair"][0].device.type == "meta" and moved["pair"][1][0].device.type == "meta"
    assert moved["n"] == 3 and isinstance(moved["pair"], tuple) and isinstance(moved["pair"][1], list)
    assert b.src.device.type == "cpu"  # the caller's batch is unchanged
    assert dataclasses.is_dataclass(moved["batch"]) and moved["batch"] is not b


def test_model_device():
    m = _model()
    assert model_device(m).type == "cpu"
    assert model_device(copy.deepcopy(m).to("meta")).type == "meta"
    assert model_device(torch.nn.ReLU()).type == "cpu"
