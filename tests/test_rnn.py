"""Tests of attnbook.rnn: the readable cells equal PyTorch's with the same weights; gradients."""

import pytest
import torch
from torch import nn

from attnbook.rnn import (
    RNN,
    GRUCell,
    LSTMCell,
    RecurrentClassifier,
    RNNCell,
    input_jacobian_norms,
    set_spectral_radius,
    state_jacobian_norms,
    unroll,
)

TORCH = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_equals_torch_with_same_weights(kind, bidirectional):
    torch.manual_seed(0)
    ref = TORCH[kind](3, 5, batch_first=True, bidirectional=bidirectional)
    ours = RNN(3, 5, cell=kind, bidirectional=bidirectional).load_torch(ref)
    x = torch.randn(4, 7, 3)
    out_ref, h_ref = ref(x)
    h_ref = h_ref[0] if kind == "lstm" else h_ref
    out, h = ours(x)
    torch.testing.assert_close(out, out_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(h, h_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("ours", "ref"),
    [(RNNCell, nn.RNNCell), (GRUCell, nn.GRUCell), (LSTMCell, nn.LSTMCell)],
)
def test_cells_equal_torch_cells(ours, ref):
    torch.manual_seed(1)
    r = ref(4, 6)
    c = ours(4, 6)
    c.load_state_dict(r.state_dict())
    x, h = torch.randn(3, 4), torch.randn(3, 6)
    if ours is LSTMCell:
        cc = torch.randn(3, 6)
        for a, b in zip(c(x, (h, cc)), r(x, (h, cc)), strict=True):
            torch.testing.assert_close(a, b)
    else:
        torch.testing.assert_close(c(x, h), r(x, h))


def test_rnn_cell_by_hand():
    c = RNNCell(1, 1)
    with torch.no_grad():
        c.weight_ih.fill_(1.0)
        c.weight_hh.fill_(0.5)
        c.bias_ih.zero_()
        c.bias_hh.zero_()
    out, _ = unroll(c, torch.tensor([[[1.0], [0.0]]]))
    h1 = torch.tanh(torch.tensor(1.0))
    torch.testing.assert_close(out[0, :, 0], torch.stack([h1, torch.tanh(0.5 * h1)]))


def test_jacobian_norms_match_the_product_formula_and_vanish():
    torch.manual_seed(0)
    c = RNNCell(2, 4)
    set_spectral_radius(c.weight_hh, 0.5)
    x = torch.randn(1, 6, 2)
    norms = state_jacobian_norms(c, x)
    _, states = unroll(c, x)
    # dh_L/dh_t = prod_{k=t+1}^{L} diag(1 - h_k^2) W_hh
    J = torch.eye(4)
    expected = [J.norm()]
    for k in range(5, 0, -1):
        J = J @ (torch.diag(1 - states[k][0] ** 2) @ c.weight_hh)
        expected.append(J.norm())
    torch.testing.assert_close(norms[0].flip(0), torch.stack(expected).detach(), rtol=1e-4, atol=1e-6)
    assert norms[0, 0] < norms[0, -1]


def test_set_spectral_radius():
    w = torch.randn(5, 5)
    set_spectral_radius(w, 1.5)
    assert torch.linalg.eigvals(w).abs().max().item() == pytest.approx(1.5, rel=1e-4)
    with pytest.raises(ValueError, match=r"\(D, D\)"):
        set_spectral_radius(torch.randn(2, 3), 1.0)


def test_wrong_shapes_raise_clear_errors():
    c = RNNCell(3, 4)
    with pytest.raises(ValueError, match=r"\(B, 3\).*\(2, 5\)"):
        c(torch.randn(2, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"state of shape"):
        c(torch.randn(2, 3), torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"\(B, L, 3\)"):
        RNN(3, 4)(torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="unknown cell"):
        RNN(3, 4, cell="transformer")
    with pytest.raises(TypeError, match="GRU"):
        RNN(3, 4, cell="gru").load_torch(nn.LSTM(3, 4, batch_first=True))


@pytest.mark.parametrize("per_token", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_classifier_shapes(per_token, bidirectional):
    m = RecurrentClassifier(10, 3, cell="gru", bidirectional=bidirectional, per_token=per_token)
    y = m(torch.randint(0, 10, (2, 7)))
    assert y.shape == ((2, 7, 3) if per_token else (2, 3))
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        m(torch.randint(0, 10, (7,)))


def test_lstm_forget_bias():
    m = RecurrentClassifier(5, 2, cell="lstm", hidden_size=4, forget_bias=1.0)
    assert torch.all(m.rnn.bias_hh_l0[4:8] == 1.0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_classifier_sees_the_future_only_when_bidirectional(bidirectional):
    """Per-token outputs of a unidirectional RNN depend on the past only (the gradient of output t
    with respect to input t' > t is exactly zero); a bidirectional one depends on both sides."""
    torch.manual_seed(0)
    m = RecurrentClassifier(10, 3, cell="gru", hidden_size=6, bidirectional=bidirectional, per_token=True)
    emb = m.embed(torch.randint(0, 10, (1, 7))).detach().requires_grad_(True)
    out = m.out(m.rnn(emb)[0])  # (1, L, C), as in forward
    (grad,) = torch.autograd.grad(out[0, 2].sum(), emb)
    future = grad[0, 3:].abs().sum().item()
    past = grad[0, :3].abs().sum().item()
    assert past > 0
    assert (future > 0) if bidirectional else (future == 0.0)


def test_sequence_classifier_reads_both_directions_final_states():
    """Per sequence, the read-out sees the forward state after the last token and the backward state
    after the first token (each direction's final state)."""
    torch.manual_seed(0)
    m = RecurrentClassifier(10, 3, cell="gru", hidden_size=6, bidirectional=True)
    x = torch.randint(0, 10, (4, 7))
    outputs, _ = m.rnn(m.embed(x))
    last = torch.cat([outputs[:, -1, :6], outputs[:, 0, 6:]], dim=-1)
    torch.testing.assert_close(m(x), m.out(last))


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_input_jacobian_norms_equal_the_full_jacobian(kind):
    torch.manual_seed(0)
    rnn = TORCH[kind](3, 4, batch_first=True)
    x = torch.randn(2, 5, 3)
    norms = input_jacobian_norms(rnn, x)
    for b in range(2):
        # (H, L, F): the Jacobian of the last state of example b with respect to its inputs
        J = torch.autograd.functional.jacobian(lambda xb: rnn(xb[None])[0][0, -1], x[b])
        torch.testing.assert_close(norms[b], J.pow(2).sum((0, 2)).sqrt())
    ours = RNN(3, 4, cell=kind).load_torch(rnn)
    torch.testing.assert_close(input_jacobian_norms(ours, x), norms, rtol=1e-4, atol=1e-6)
    assert not x.requires_grad  # the input is left alone


def test_input_jacobian_norms_reject_what_they_cannot_measure():
    with pytest.raises(ValueError, match="unidirectional"):
        input_jacobian_norms(nn.GRU(3, 4, batch_first=True, bidirectional=True), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"\(B, L, F\)"):
        input_jacobian_norms(nn.GRU(3, 4, batch_first=True), torch.zeros(2, 3))
    with pytest.raises(TypeError):
        input_jacobian_norms(nn.Linear(3, 4), torch.zeros(1, 2, 3))
