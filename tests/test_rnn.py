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


# ----------------------------------------------------------------------------------------------
# BiGRUEncoder and reverse_padded (moved from attnbook.han with their tests)

from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from attnbook.rnn import BiGRUEncoder, reverse_padded  # noqa: E402


def test_reverse_padded():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0], [0, 0, 0, 0]])
    got = reverse_padded(x, torch.tensor([3, 2, 0]))
    assert torch.equal(got, torch.tensor([[3, 2, 1, 0], [5, 4, 0, 0], [0, 0, 0, 0]]))
    assert torch.equal(reverse_padded(got, torch.tensor([3, 2, 0])), x)


def test_encoder_equals_packed_bidirectional_gru():
    """The fast path (two GRUs on padded rows) gives the numbers of torch's packed BiGRU."""
    torch.manual_seed(0)
    ref = torch.nn.GRU(3, 4, batch_first=True, bidirectional=True)
    enc = BiGRUEncoder(3, 4).load_torch(ref)
    x = torch.randn(4, 6, 3)
    lengths = torch.tensor([6, 2, 4, 1])
    mask = torch.arange(6).unsqueeze(0) < lengths.unsqueeze(1)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, h_n = ref(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=6)
    states, final = enc(x, mask)
    torch.testing.assert_close(states, out)
    torch.testing.assert_close(final, torch.cat([h_n[0], h_n[1]], dim=-1))


def test_encoder_buckets_give_the_same_numbers():
    torch.manual_seed(0)
    one = BiGRUEncoder(3, 4)
    four = BiGRUEncoder(3, 4, buckets=4)
    four.load_state_dict(one.state_dict())
    x = torch.randn(11, 7, 3)
    mask = torch.arange(7).unsqueeze(0) < torch.tensor([7, 0, 3, 1, 5, 2, 7, 4, 0, 6, 2]).unsqueeze(1)
    s1, f1 = one(x, mask)
    s4, f4 = four(x, mask)
    torch.testing.assert_close(s4, s1)
    torch.testing.assert_close(f4, f1)
    g1 = torch.autograd.grad(s1.sum() + f1.sum(), list(one.parameters()))
    g4 = torch.autograd.grad(s4.sum() + f4.sum(), list(four.parameters()))
    for a, b in zip(g1, g4, strict=True):
        torch.testing.assert_close(a, b)


def test_encoder_ignores_padding_and_empty_rows():
    torch.manual_seed(0)
    enc = BiGRUEncoder(3, 4)
    x = torch.randn(1, 3, 3)
    s1, f1 = enc(x, torch.ones(1, 3, dtype=torch.bool))
    padded = torch.cat([x, torch.randn(1, 2, 3)], dim=1)  # two garbage positions
    mask = torch.tensor([[True, True, True, False, False]])
    s2, f2 = enc(torch.cat([padded, torch.randn(1, 5, 3)]), torch.cat([mask, torch.zeros_like(mask)]))
    torch.testing.assert_close(s2[0, :3], s1[0])
    torch.testing.assert_close(f2[0], f1[0])
    assert torch.equal(s2[0, 3:], torch.zeros(2, 8)) and torch.equal(s2[1], torch.zeros(5, 8))
    assert torch.equal(f2[1], torch.zeros(8))


# ----------------------------------------------------------------------------------------------
# gradient_profile (moved from notebooks/10_rnn)

from attnbook.rnn import gradient_profile  # noqa: E402


def test_gradient_profile_is_the_median_norm_by_distance():
    torch.manual_seed(0)
    model = RecurrentClassifier(6, 3, cell="gru", embed_dim=4, hidden_size=5)
    tokens = torch.randint(0, 6, (7, 9))  # (B, L)
    profile = gradient_profile(model, tokens)
    norms = input_jacobian_norms(model.rnn, model.embed(tokens).detach())  # (B, L)
    assert profile.shape == (9,) and profile.device.type == "cpu"
    # entry d is distance d: the last input (d = 0) first, the first input (d = L - 1) last
    torch.testing.assert_close(profile[0], norms[:, -1].median())
    torch.testing.assert_close(profile[8], norms[:, 0].median())
    assert not any(p.grad is not None for p in model.parameters())  # no gradient left behind
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        gradient_profile(model, tokens[0])


def test_packed_gru_classifier_ignores_padding():
    from attnbook.rnn import PackedGRUClassifier

    torch.manual_seed(0)
    model = PackedGRUClassifier(12, num_classes=3, embed_dim=4, hidden_size=5).eval()
    alone = model(torch.tensor([[3, 4, 5]]), torch.ones(1, 3, dtype=torch.bool))
    tokens = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 10]])
    mask = tokens != 0
    torch.testing.assert_close(model(tokens, mask)[0], alone[0])
    assert model.embed.padding_idx == 0 and model.out.out_features == 3
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        model(tokens, mask[:, :3])
