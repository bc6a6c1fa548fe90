"""Tests of attnbook.transformer and of its building block attnbook.attention.MultiHeadAttention:
equal to torch's modules with the same weights, readable path == fast path, the weights returned by
default and never stale, permutation equivariance, no leak through the causal mask, fully masked
rows, gradcheck, shape errors, the positional encoding's formula, the config, and a tiny
Transformer that learns to copy. (The schedules: tests/test_schedules.py; label smoothing:
tests/test_seq2seq.py; the timing: tests/test_bench_timing.py.)"""

import math

import pytest
import torch
from torch import nn

from attnbook.attention import MultiHeadAttention, attend, causal_mask, key_padding_mask
from attnbook.data.synthetic import copy_reverse
from attnbook.data.text import Vocab
from attnbook.seq2seq import Decoded, greedy_decode, make_batch, teacher_forcing_loss, translate
from attnbook.train import fit
from attnbook.transformer import (
    DecoderLayer,
    EncoderLayer,
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    Transformer,
    TransformerConfig,
    TransformerDecoder,
    TransformerEncoder,
    attention_maps,
    copy_torch_weights,
    keep_weights,
    sinusoidal_encoding,
)

TOL = {"rtol": 1e-5, "atol": 1e-6}
B, T, S, D, H = 3, 5, 7, 16, 4


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _src_mask():
    """(B, S) token mask: example 0 full, 1 and 2 padded."""
    lengths = torch.tensor([S, 4, 2])
    return torch.arange(S) < lengths[:, None]


def _mha(seed=0, fast=True, dropout=0.0, d=D, h=H):
    torch.manual_seed(seed)
    ours = MultiHeadAttention(d, h, dropout=dropout, fast=fast)
    theirs = nn.MultiheadAttention(d, h, dropout=dropout, batch_first=True)
    with torch.no_grad():  # non-zero biases so that they are tested too
        theirs.in_proj_bias.normal_()
        theirs.out_proj.bias.normal_()
    copy_torch_weights(ours, theirs)
    return ours.eval(), theirs.eval()


# --------------------------------------------------------------------- equal to torch's modules


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("masks", ["none", "padding", "causal", "both"])
def test_self_attention_equals_torch_multihead_attention(fast, masks):
    ours, theirs = _mha(fast=fast)
    g = _gen()
    x = torch.randn(B, S, D, generator=g)
    pad, causal = _src_mask(), causal_mask(S)
    kw, mask = {}, None
    if masks in ("padding", "both"):
        kw["key_padding_mask"] = ~pad  # torch: True = ignore
        mask = key_padding_mask(pad)  # (B, 1, S)
    if masks in ("causal", "both"):
        kw["attn_mask"] = ~causal  # torch: True = not allowed
        mask = causal if mask is None else mask & causal  # (T, S) or (B, T, S)
    out, w = ours(x, x, x, mask, need_weights=True)
    ref, ref_w = theirs(x, x, x, need_weights=True, average_attn_weights=True, **kw)
    torch.testing.assert_close(out, ref, **TOL)
    assert w.shape == (B, H, S, S)
    torch.testing.assert_close(w.mean(1), ref_w, **TOL)  # torch averages the heads
    # by default the weights come back, as from torch's module
    out1, w1 = ours(x, x, x, mask)
    torch.testing.assert_close(out1, out, rtol=0, atol=0)
    torch.testing.assert_close(w1, w, rtol=0, atol=0)
    # need_weights=False: ours takes the fast path when fast=True, and still equals torch
    out2, w2 = ours(x, x, x, mask, need_weights=False)
    assert (w2 is None) == fast and (ours.weights is None) == fast
    torch.testing.assert_close(out2, ref, **TOL)


@pytest.mark.parametrize("fast", [True, False])
def test_cross_attention_equals_torch_with_key_padding(fast):
    ours, theirs = _mha(fast=fast, seed=1)
    g = _gen(1)
    q, kv = torch.randn(B, T, D, generator=g), torch.randn(B, S, D, generator=g)
    v = torch.randn(B, S, D, generator=g)
    pad = _src_mask()
    out, w = ours(q, kv, v, key_padding_mask(pad), need_weights=True)
    ref, ref_w = theirs(q, kv, v, key_padding_mask=~pad)
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(w.mean(1), ref_w, **TOL)
    assert torch.all(w.masked_select(~pad[:, None, None, :].expand_as(w)) == 0)  # exactly 0 at padding


def _layers(kind, norm_first, seed=0):
    torch.manual_seed(seed)
    if kind == "encoder":
        theirs = nn.TransformerEncoderLayer(D, H, dim_feedforward=32, dropout=0.0, activation="relu",
                                            batch_first=True, norm_first=norm_first)
        ours = EncoderLayer(D, H, d_ff=32, dropout=0.0, norm_first=norm_first)
    else:
        theirs = nn.TransformerDecoderLayer(D, H, dim_feedforward=32, dropout=0.0, activation="relu",
                                            batch_first=True, norm_first=norm_first)
        ours = DecoderLayer(D, H, d_ff=32, dropout=0.0, norm_first=norm_first)
    with torch.no_grad():  # LayerNorm weights other than (1, 0), so that their copy is tested
        for name, p in theirs.named_parameters():
            if "norm" in name:
                p.normal_()
    copy_torch_weights(ours, theirs)
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_encoder_layer_equals_torch(norm_first, padded):
    ours, theirs = _layers("encoder", norm_first)
    x = torch.randn(B, S, D, generator=_gen(2))
    pad = _src_mask() if padded else torch.ones(B, S, dtype=torch.bool)
    out = ours(x, key_padding_mask(pad) if padded else None)
    ref = theirs(x, src_key_padding_mask=~pad if padded else None)
    # the padded positions' own outputs are never read; compare the real tokens
    torch.testing.assert_close(out[pad], ref[pad], **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_equals_torch(norm_first):
    ours, theirs = _layers("decoder", norm_first, seed=3)
    g = _gen(3)
    x, memory = torch.randn(B, T, D, generator=g), torch.randn(B, S, D, generator=g)
    pad = _src_mask()
    out = ours(x, memory, causal_mask(T), key_padding_mask(pad))
    ref = theirs(x, memory, tgt_mask=~causal_mask(T), memory_key_padding_mask=~pad)
    torch.testing.assert_close(out, ref, **TOL)


def test_copy_torch_weights_refuses_a_mismatch():
    with pytest.raises(ValueError, match="norm_first"):
        copy_torch_weights(EncoderLayer(D, H, 32), nn.TransformerEncoderLayer(D, H, 32, norm_first=True))
    with pytest.raises(TypeError):
        copy_torch_weights(EncoderLayer(D, H, 32), nn.TransformerDecoderLayer(D, H, 32))


# ----------------------------------------------------------------------- readable == fast


@pytest.mark.parametrize(
    "mask_kind", ["none", "(T, S)", "(1, T, S)", "(B, 1, S)", "(B, T, S)"]
)
def test_readable_path_equals_fast_path_forward_and_backward(mask_kind):
    g = _gen(4)
    torch.manual_seed(4)
    fast = MultiHeadAttention(D, H, fast=True, need_weights=False).train()  # training mode, dropout 0
    slow = MultiHeadAttention(D, H, fast=False).train()
    slow.load_state_dict(fast.state_dict())
    q, kv = torch.randn(B, T, D, generator=g), torch.randn(B, S, D, generator=g)
    masks = {
        "none": None,
        "(T, S)": torch.rand(T, S, generator=g) < 0.6,
        "(1, T, S)": torch.rand(1, T, S, generator=g) < 0.6,
        "(B, 1, S)": key_padding_mask(_src_mask()),
        "(B, T, S)": torch.rand(B, T, S, generator=g) < 0.6,
    }
    mask = masks[mask_kind]
    grads = []
    outs = []
    for m in (fast, slow):
        qq, kk = q.clone().requires_grad_(), kv.clone().requires_grad_()
        out, _ = m(qq, kk, kk, mask)
        out.pow(2).sum().backward()
        outs.append(out)
        grads.append((qq.grad, kk.grad, m.w_q.weight.grad, m.w_o.weight.grad))
    torch.testing.assert_close(outs[0], outs[1], **TOL)
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fast", [True, False])
def test_attention_dropout_acts_in_training_only(fast):
    torch.manual_seed(15)
    m = MultiHeadAttention(D, H, dropout=0.5, fast=fast, need_weights=False)
    x = torch.randn(B, S, D, generator=_gen(15))
    mask = key_padding_mask(_src_mask())
    m.eval()
    a, b = m(x, x, x, mask)[0], m(x, x, x, mask)[0]
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    m.train()
    c = m(x, x, x, mask)[0]
    assert torch.isfinite(c).all() and not torch.allclose(a, c)


def test_one_head_with_identity_weights_is_attend():
    """The hand-checkable toy of chapter 40: W^Q = W^K = W^V = W^O = I gives attend(X, X, X)."""
    m = MultiHeadAttention(4, 1, bias=False)
    with torch.no_grad():
        for lin in (m.w_q, m.w_k, m.w_v, m.w_o):
            lin.weight.copy_(torch.eye(4))
    x = torch.randn(2, 3, 4, generator=_gen(5))
    mask = causal_mask(3)
    out, w = m(x, x, x, mask, need_weights=True)
    ref, ref_w = attend(x, x, x, mask=mask)
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(w[:, 0], ref_w, **TOL)
    # by hand: the first query sees only itself
    torch.testing.assert_close(out[:, 0], x[:, 0], **TOL)


# --------------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize("fast", [True, False])
def test_self_attention_without_positions_is_permutation_equivariant(fast):
    torch.manual_seed(6)
    layer = EncoderLayer(D, H, 32, fast=fast).eval()
    enc = TransformerEncoder(11, d_model=D, heads=H, layers=2, dropout=0.0, positional="none", fast=fast).eval()
    g = _gen(6)
    x = torch.randn(B, S, D, generator=g)
    perm = torch.randperm(S, generator=g)
    torch.testing.assert_close(layer(x[:, perm]), layer(x)[:, perm], **TOL)
    ids = torch.randint(1, 11, (B, S), generator=g)
    torch.testing.assert_close(enc(ids[:, perm])[0], enc(ids)[0][:, perm], **TOL)
    # with positions the order is seen: the same permutation changes the result
    enc_pe = TransformerEncoder(11, d_model=D, heads=H, layers=2, dropout=0.0, fast=fast).eval()
    assert not torch.allclose(enc_pe(ids[:, perm])[0], enc_pe(ids)[0][:, perm], atol=1e-3)


@pytest.mark.parametrize("fast", [True, False])
def test_nothing_leaks_through_the_causal_mask(fast):
    torch.manual_seed(7)
    layer = DecoderLayer(D, H, 32, fast=fast).eval()
    g = _gen(7)
    x = torch.randn(1, T, D, generator=g, dtype=torch.float64)
    memory = torch.randn(1, S, D, generator=g, dtype=torch.float64)
    layer.double()
    jac = torch.autograd.functional.jacobian(
        lambda inp: layer(inp, memory, causal_mask(T)), x
    )  # (1, T, D, 1, T, D): d out[t] / d x[t']
    per_pair = jac[0, :, :, 0].abs().sum(dim=(1, 3))  # (T, T')
    future = ~causal_mask(T)
    assert torch.all(per_pair[future] == 0)  # exactly zero, not merely small
    assert torch.all(per_pair[~future] > 0)  # the past does flow


def test_transformer_logits_do_not_see_future_target_tokens():
    torch.manual_seed(8)
    m = Transformer(9, 9, d_model=D, heads=H, layers=2, dropout=0.0).eval()
    src = torch.randint(4, 9, (2, 5))
    tgt = torch.randint(4, 9, (2, 6))
    later = tgt.clone()
    later[:, 3:] = torch.randint(4, 9, (2, 3))
    a = m(src, torch.ones_like(src, dtype=torch.bool), tgt)
    b = m(src, torch.ones_like(src, dtype=torch.bool), later)
    torch.testing.assert_close(a[:, :3], b[:, :3], rtol=0, atol=0)


@pytest.mark.parametrize("fast", [True, False])
def test_fully_masked_rows_stay_finite_forward_and_backward(fast):
    torch.manual_seed(9)
    m = MultiHeadAttention(D, H, fast=fast, need_weights=False)
    g = _gen(9)
    q = (1e4 * torch.randn(B, T, D, generator=g)).requires_grad_()  # huge scores too
    kv = torch.randn(B, S, D, generator=g).requires_grad_()
    mask = torch.rand(B, T, S, generator=g) < 0.5
    mask[:, 0] = True
    mask[0, 2] = False  # query 2 of example 0 has no key at all
    mask[1] = False  # example 1: nothing to attend to
    out, _ = m(q, kv, kv, mask)
    assert torch.isfinite(out).all()
    # no key: the attention output is zero, so the output is W^O's bias
    torch.testing.assert_close(out[1], m.w_o.bias.expand(T, D), rtol=0, atol=0)
    torch.testing.assert_close(out[0, 2], m.w_o.bias, rtol=0, atol=0)
    out.sum().backward()
    for p in (q.grad, kv.grad, *(p.grad for p in m.parameters())):
        assert torch.isfinite(p).all()
    assert torch.all(q.grad[1] == 0)


@pytest.mark.parametrize("fast", [True, False])
def test_gradcheck_float64(fast):
    torch.manual_seed(10)
    m = MultiHeadAttention(8, 2, fast=fast, need_weights=False).double()
    g = _gen(10)
    q = torch.randn(2, 3, 8, generator=g, dtype=torch.float64, requires_grad=True)
    kv = torch.randn(2, 4, 8, generator=g, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    kpm = key_padding_mask(mask)
    assert torch.autograd.gradcheck(lambda a, b: m(a, b, b, kpm)[0], (q, kv))
    layer = EncoderLayer(8, 2, 16, norm_first=True, fast=fast).double()
    assert torch.autograd.gradcheck(lambda a: layer(a, kpm[:, :, :3]), (q,))


def test_wrong_shapes_fail_at_once_naming_both_shapes():
    m = MultiHeadAttention(8, 2)
    q, k = torch.randn(2, 5, 8), torch.randn(2, 4, 6)
    with pytest.raises(ValueError, match=r"\(2, 5, 8\).*\(2, 4, 6\)"):
        m(q, k, k)
    with pytest.raises(ValueError, match=r"\(3, 4, 8\)"):  # batch sizes differ
        m(q, torch.randn(3, 4, 8), torch.randn(3, 4, 8))
    with pytest.raises(ValueError, match=r"\(2, 7\).*\(2, 5, 4\)"):
        m(q, torch.randn(2, 4, 8), torch.randn(2, 4, 8), torch.ones(2, 7, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool"):
        m(q, q, q, torch.ones(5, 5))
    with pytest.raises(ValueError, match="heads must divide"):
        MultiHeadAttention(10, 3)
    model = Transformer(9, 9, d_model=8, heads=2, layers=1)
    src = torch.ones(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(2, 4\)|\(2, 4\).*\(3, 5\)"):
        model(src, src > 0, torch.ones(3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)"):
        model(src, torch.ones(2, 3, dtype=torch.bool), src)


# --------------------------------------------------------------------------------- positions


def test_sinusoidal_encoding_matches_the_papers_formula_at_hand_picked_positions():
    pe = sinusoidal_encoding(50, 16)
    assert pe.shape == (50, 16)
    # position 0: sin 0 = 0 in even columns, cos 0 = 1 in odd columns
    torch.testing.assert_close(pe[0, 0::2], torch.zeros(8))
    torch.testing.assert_close(pe[0, 1::2], torch.ones(8))
    # column pair i = 0 has wavelength 2 pi: PE(p, 0) = sin p, PE(p, 1) = cos p
    assert pe[1, 0].item() == pytest.approx(math.sin(1.0), abs=1e-7)
    assert pe[1, 1].item() == pytest.approx(math.cos(1.0), abs=1e-7)
    # PE(5, 2) = sin(5 / 10000^(2/16)), PE(7, 3) = cos(7 / 10000^(2/16)), PE(49, 15) = cos(49 / 10000^(14/16))
    assert pe[5, 2].item() == pytest.approx(math.sin(5 / 10000 ** (2 / 16)), abs=1e-7)
    assert pe[7, 3].item() == pytest.approx(math.cos(7 / 10000 ** (2 / 16)), abs=1e-7)
    assert pe[49, 15].item() == pytest.approx(math.cos(49 / 10000 ** (14 / 16)), abs=1e-7)
    # every offset k is a fixed rotation of each (sin, cos) pair: PE(p + k) = R_k PE(p)
    k, w = 3, 1 / 10000 ** (4 / 16)  # the pair i = 2
    rot = torch.tensor([[math.cos(w * k), -math.sin(w * k)], [math.sin(w * k), math.cos(w * k)]])
    torch.testing.assert_close(pe[10:40, 4:6] @ rot, pe[13:43, 4:6], rtol=1e-5, atol=1e-5)


def test_positional_encoding_modules():
    x = torch.zeros(2, 6, 8)
    torch.testing.assert_close(SinusoidalPositionalEncoding(8, max_len=4)(x)[0], sinusoidal_encoding(6, 8))
    learned = LearnedPositionalEncoding(8, max_len=5)
    with pytest.raises(ValueError, match=r"max_len=5"):
        learned(x)
    assert learned(x[:, :5]).shape == (2, 5, 8)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(4, 7)


def test_masks():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    pad = _src_mask()
    assert key_padding_mask(pad).shape == (B, 1, S)
    with pytest.raises(ValueError, match=r"\(B, S\)"):
        key_padding_mask(pad.long())


# ------------------------------------------------------------------------------ whole model


def _pad_batch_model(seed=11, **kw):
    torch.manual_seed(seed)
    return Transformer(12, 9, d_model=D, heads=H, layers=2, dropout=0.0, **kw).eval()


@pytest.mark.parametrize("kw", [{}, {"norm_first": True}, {"positional": "learned"}, {"fast": False}])
def test_padding_does_not_change_the_result(kw):
    m = _pad_batch_model(**kw)
    src = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])
    tgt = torch.tensor([[2, 4, 5], [2, 6, 7]])
    logits = m(src, src != 0, tgt)
    alone = m(src[1:, :2], src[1:, :2] != 0, tgt[1:])
    torch.testing.assert_close(logits[1:], alone, rtol=1e-5, atol=1e-5)


def test_step_protocol_gives_the_teacher_forced_logits():
    m = _pad_batch_model(12)
    src = torch.tensor([[4, 5, 6, 7], [8, 9, 10, 0]])
    mask = src != 0
    tgt_in = torch.tensor([[2, 4, 5, 6], [2, 7, 7, 8]])
    logits = m(src, mask, tgt_in)
    states, final = m.encoder(src, mask)
    assert final is None
    mem = m.decoder.init(states, final, mask)
    for t in range(tgt_in.shape[1]):
        lg, mem, w = m.decoder.step(tgt_in[:, t], mem, states, mask)
        torch.testing.assert_close(lg, logits[:, t], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(w.sum(-1), torch.ones(2))
        assert torch.all(w[1, 3] == 0)


def test_keep_weights_and_attention_maps():
    m = _pad_batch_model(13)
    src = torch.tensor([[4, 5, 6], [8, 9, 0]])
    m(src, src != 0, torch.tensor([[2, 4], [2, 5]]))
    assert attention_maps(m) == {}
    keep_weights(m)
    m(src, src != 0, torch.tensor([[2, 4], [2, 5]]))
    maps = attention_maps(m)
    assert set(maps) == {
        *(f"encoder.layers.{i}.self_attn" for i in range(2)),
        *(f"decoder.layers.{i}.{a}" for i in range(2) for a in ("self_attn", "cross_attn")),
    }
    assert maps["decoder.layers.1.cross_attn"].shape == (2, H, 2, 3)
    assert torch.all(maps["encoder.layers.0.self_attn"][1, :, :, 2] == 0)  # padding gets 0
    torch.testing.assert_close(maps["decoder.layers.0.self_attn"].sum(-1), torch.ones(2, H, 2))
    keep_weights(m, False)
    assert attention_maps(m) == {}


def test_a_tiny_transformer_learns_to_copy():
    train, _ = copy_reverse(24, 0, min_length=3, max_length=6, vocab_size=6, seed=0)
    src_vocab = Vocab.build(s for s, _ in train)
    tgt_vocab = Vocab.build(t for _, t in train)
    torch.manual_seed(0)
    model = Transformer(len(src_vocab), len(tgt_vocab), d_model=32, heads=2, layers=1, d_ff=64,
                        dropout=0.0)
    hist = fit(model, train, lambda b: make_batch(b, src_vocab, tgt_vocab), teacher_forcing_loss,
               epochs=100, batch_size=24, lr=3e-3, show_progress=False)
    assert hist.train_loss[-1] < 0.05
    outputs, weights = translate(model, [s for s, _ in train], src_vocab, tgt_vocab, max_len=8)
    assert outputs == [t for _, t in train]
    assert all(w.shape == (len(t) + 1, len(s)) for (s, t), w in zip(train, weights, strict=True))
    # greedy_decode of seq2seq works on the Transformer unchanged
    batch = make_batch(train[:3], src_vocab, tgt_vocab)
    dec = greedy_decode(model, batch.src, batch.src_mask, tgt_vocab.bos_id, tgt_vocab.eos_id, 8)
    assert isinstance(dec, Decoded)
    assert dec.lengths.tolist() == [len(t) + 1 for _, t in train[:3]]


# ------------------------------------------------------------------------------ one attention API


def test_weights_by_default_and_the_fast_path_opt_in():
    torch.manual_seed(16)
    m = MultiHeadAttention(D, H)
    x = torch.randn(B, S, D, generator=_gen(16))
    out, w = m(x, x, x)  # a student's first call: the weights come back, as from torch's module
    assert w is not None and w.shape == (B, H, S, S)
    torch.testing.assert_close(m.weights, w.detach(), rtol=0, atol=0)
    out_fast, w_fast = m(x, x, x, need_weights=False)
    assert w_fast is None
    torch.testing.assert_close(out_fast, out, **TOL)
    # a module built for the fast path (as inside the layers) returns no weights unless asked
    quiet = MultiHeadAttention(D, H, need_weights=False)
    quiet.load_state_dict(m.state_dict())
    assert quiet(x, x, x)[1] is None
    torch.testing.assert_close(quiet(x, x, x, need_weights=True)[1], w, rtol=0, atol=0)
    assert "need_weights=False" in repr(quiet)


def test_the_fast_path_clears_the_kept_weights():
    """attention_maps never returns an earlier batch's maps."""
    torch.manual_seed(17)
    m = MultiHeadAttention(D, H)
    x = torch.randn(B, S, D, generator=_gen(17))
    m(x, x, x)
    assert m.weights is not None
    m(x[:1], x[:1], x[:1], need_weights=False)
    assert m.weights is None
    model = _pad_batch_model(18)
    src = torch.tensor([[4, 5, 6], [8, 9, 0]])
    keep_weights(model)
    model(src, src != 0, torch.tensor([[2, 4], [2, 5]]))
    assert attention_maps(model)["decoder.layers.0.cross_attn"].shape[0] == 2
    for name, mod in model.named_modules():  # one module back on the fast path: its map is gone
        if name == "decoder.layers.0.cross_attn":
            mod.need_weights = False
    model(src[:1], src[:1] != 0, torch.tensor([[2, 4]]))
    maps = attention_maps(model)
    assert "decoder.layers.0.cross_attn" not in maps
    assert all(w.shape[0] == 1 for w in maps.values())  # the others: this batch's maps


def test_layers_train_on_the_fast_path():
    layer = DecoderLayer(D, H, 32)
    assert not layer.self_attn.need_weights and not layer.cross_attn.need_weights
    x, memory = torch.randn(B, T, D, generator=_gen(19)), torch.randn(B, S, D, generator=_gen(20))
    layer(x, memory, causal_mask(T))
    assert layer.self_attn.weights is None and layer.cross_attn.weights is None


# ------------------------------------------------------------------------------------ config


def test_config_and_keywords_build_the_same_model():
    cfg = TransformerConfig(d_model=16, heads=2, layers=1, decoder_layers=2, dropout=0.0, norm_first=True)
    torch.manual_seed(21)
    a = Transformer(9, 7, cfg)
    torch.manual_seed(21)
    b = Transformer(9, 7, d_model=16, heads=2, layers=1, decoder_layers=2, dropout=0.0, norm_first=True)
    assert a.config == b.config == cfg
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb
        torch.testing.assert_close(va, vb, rtol=0, atol=0)
    assert len(a.encoder.layers) == 1 and len(a.decoder.layers) == 2
    assert isinstance(a.encoder.norm, nn.LayerNorm)  # pre-LN: a final LayerNorm
    # keywords override a config's fields; the config itself is left alone (frozen)
    c = Transformer(9, 7, cfg, d_model=32).config
    assert c.d_model == 32 and c.heads == 2 and cfg.d_model == 16
    assert TransformerEncoder(9, cfg).config == cfg
    assert len(TransformerDecoder(7, cfg, layers=3).layers) == 2  # decoder_layers is set: it counts
    assert len(TransformerDecoder(7, layers=3).layers) == 3  # decoder_layers None: layers
    with pytest.raises(ValueError, match="heads must divide"):
        TransformerConfig(d_model=10, heads=3)
    with pytest.raises(ValueError, match="positional"):
        TransformerConfig(positional="rotary")
    with pytest.raises(TypeError):
        Transformer(9, 7, widht=3)
