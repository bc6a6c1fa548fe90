"""Tests of attnbook.attention: behaviour, edge cases, and agreement with PyTorch's reference op."""

import math

import pytest
import torch
import torch.nn.functional as F

from attnbook.attention import (
    AdditiveScore,
    Attention,
    GeneralScore,
    StaticScore,
    attend,
    dot_score,
    masked_softmax,
    scaled_dot_score,
)

B, T, S, D, DV = 3, 4, 5, 6, 7


@pytest.fixture
def qkv():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(B, T, D, generator=g)
    k = torch.randn(B, S, D, generator=g)
    v = torch.randn(B, S, DV, generator=g)
    return q, k, v


def random_mask(seed=1, p=0.6):
    g = torch.Generator().manual_seed(seed)
    m = torch.rand(B, T, S, generator=g) < p
    m[:, :, 0] = True  # at least one key per row
    return m


SCORE_FNS = {
    "dot": lambda d=D: "dot",
    "scaled_dot": lambda d=D: "scaled_dot",
    "additive": lambda d=D: AdditiveScore(d, d, 8),
    "general": lambda d=D: GeneralScore(d, d),
}


@pytest.mark.parametrize("name", SCORE_FNS)
def test_rows_sum_to_one(qkv, name):
    q, k, v = qkv
    out, w = attend(q, k, v, score=SCORE_FNS[name]())
    assert out.shape == (B, T, DV) and w.shape == (B, T, S)
    torch.testing.assert_close(w.sum(-1), torch.ones(B, T))
    assert (w >= 0).all()


@pytest.mark.parametrize("name", SCORE_FNS)
def test_masked_weights_are_exactly_zero(qkv, name):
    q, k, v = qkv
    m = random_mask()
    _, w = attend(q, k, v, mask=m, score=SCORE_FNS[name]())
    assert (w[~m] == 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(B, T))


def test_key_padding_mask(qkv):
    q, k, v = qkv
    lengths = torch.tensor([5, 3, 1])
    pad = torch.arange(S)[None, :] < lengths[:, None]  # (B, S)
    out, w = attend(q, k, v, mask=pad[:, None, :])  # (B, 1, S)
    assert (w[~pad[:, None, :].expand(B, T, S)] == 0).all()
    # the padded keys and values do not matter at all
    k2, v2 = k.clone(), v.clone()
    k2[~pad] = 1e6
    v2[~pad] = -1e6
    out2, _ = attend(q, k2, v2, mask=pad[:, None, :])
    torch.testing.assert_close(out, out2)
    # one query per example: the mask is (B, S)
    out1, w1 = attend(q[:, 0], k, v, mask=pad)
    torch.testing.assert_close(out1, out[:, 0])
    assert (w1[~pad] == 0).all()


def test_fully_masked_row_gives_zeros_and_no_nan(qkv):
    q, k, v = qkv
    q, k, v = (t.double().requires_grad_() for t in (q, k, v))
    m = random_mask().clone()
    m[0, 1] = False  # one fully masked row
    out, w = attend(q, k, v, mask=m)
    assert (w[0, 1] == 0).all() and (out[0, 1] == 0).all()
    assert not torch.isnan(out).any()
    out.sum().backward()
    for t in (q, k, v):
        assert not torch.isnan(t.grad).any()
    assert (q.grad[0, 1] == 0).all()


def test_fully_masked_row_with_huge_scores_has_finite_gradients():
    scores = torch.tensor([[3e38, -3e38, 1.0], [1.0, 2.0, 3.0]], dtype=torch.float32, requires_grad=True)
    mask = torch.tensor([[False, False, False], [True, False, True]])
    w = masked_softmax(scores, mask)
    (w * torch.arange(3.0)).sum().backward()
    assert torch.isfinite(w).all() and torch.isfinite(scores.grad).all()
    assert (scores.grad[0] == 0).all()


def test_all_masked_everywhere():
    w = masked_softmax(torch.randn(2, 3), torch.zeros(2, 3, dtype=torch.bool))
    assert (w == 0).all()


def test_length_one_sequence(qkv):
    q, k, v = qkv
    out, w = attend(q, k[:, :1], v[:, :1])
    torch.testing.assert_close(w, torch.ones(B, T, 1))
    torch.testing.assert_close(out, v[:, :1].expand(B, T, DV))


def test_empty_batch():
    out, w = attend(torch.zeros(0, T, D), torch.zeros(0, S, D), torch.zeros(0, S, DV))
    assert out.shape == (0, T, DV) and w.shape == (0, T, S)


def test_single_query_2d(qkv):
    q, k, v = qkv
    out, w = attend(q[:, 0], k, v, mask=torch.ones(B, S, dtype=torch.bool))
    out3, w3 = attend(q[:, :1], k, v)
    assert out.shape == (B, DV) and w.shape == (B, S)
    torch.testing.assert_close(out, out3[:, 0])
    torch.testing.assert_close(w, w3[:, 0])


@pytest.mark.parametrize("masked", [False, True])
def test_scaled_dot_equals_torch_sdpa(qkv, masked):
    q, k, v = qkv
    m = random_mask() if masked else None
    out, _ = attend(q, k, v, mask=m, score="scaled_dot")
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)


def test_causal_mask_equals_sdpa_is_causal():
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 5, 4, generator=g) for _ in range(3))
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    out, w = attend(q, k, v, mask=causal)  # (T, S), shared by the batch, as in SDPA
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert (w.triu(1) == 0).all()


def test_2d_mask_with_batch_equal_to_length_is_t_by_s():
    """B == T == S: a (T, S) mask must not be mistaken for (B, S) key padding."""
    g = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(4, 4, 3, generator=g) for _ in range(3))
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    out, _ = attend(q, k, v, mask=causal)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=causal))


@pytest.mark.parametrize("name", SCORE_FNS)
def test_permuting_key_value_pairs_leaves_output_unchanged(qkv, name):
    q, k, v = qkv
    score = SCORE_FNS[name]()
    perm = torch.randperm(S, generator=torch.Generator().manual_seed(5))
    m = random_mask()
    out, w = attend(q, k, v, mask=m, score=score)
    out_p, w_p = attend(q, k[:, perm], v[:, perm], mask=m[..., perm], score=score)
    torch.testing.assert_close(out, out_p)
    torch.testing.assert_close(w[..., perm], w_p)


def test_dot_and_scaled_dot_by_hand():
    q = torch.tensor([[[1.0, 0.0]]])
    k = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    assert dot_score(q, k).tolist() == [[[1.0, 0.0]]]
    torch.testing.assert_close(scaled_dot_score(q, k), torch.tensor([[[1 / math.sqrt(2), 0.0]]]))
    _, w = attend(q, k, k, score="dot")
    e = math.e
    torch.testing.assert_close(w, torch.tensor([[[e / (e + 1), 1 / (e + 1)]]]))


def test_additive_score_matches_formula():
    torch.manual_seed(0)
    s = AdditiveScore(3, 2, 4)
    q, k = torch.randn(1, 1, 3), torch.randn(1, 1, 2)
    expected = s.w_v.weight @ torch.tanh(s.w_q.weight @ q[0, 0] + s.w_k.weight @ k[0, 0])
    torch.testing.assert_close(s(q, k)[0, 0, 0], expected[0])
    assert repr(s) == "AdditiveScore(3, 2, hidden_dim=4)"


def test_general_with_identity_is_dot(qkv):
    q, k, _ = qkv
    g = GeneralScore(D, D)
    with torch.no_grad():
        g.weight.copy_(torch.eye(D))
    torch.testing.assert_close(g(q, k), dot_score(q, k))


@pytest.mark.parametrize("name", SCORE_FNS)
def test_gradcheck(name):
    torch.manual_seed(0)
    score = SCORE_FNS[name](4)
    if isinstance(score, torch.nn.Module):
        score = score.double()
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    m = torch.rand(2, 3, 5) < 0.7
    m[0, 0] = False  # include a fully masked row
    m[1, :, 0] = True
    assert torch.autograd.gradcheck(lambda a, b, c: attend(a, b, c, mask=m, score=score)[0], (q, k, v))


def test_does_not_modify_inputs(qkv):
    q, k, v = qkv
    copies = [t.clone() for t in (q, k, v)]
    m = random_mask()
    m_copy = m.clone()
    attend(q, k, v, mask=m)
    for a, b in zip((q, k, v), copies, strict=True):
        assert torch.equal(a, b)
    assert torch.equal(m, m_copy)


def test_module_keeps_weights(qkv):
    q, k, v = qkv
    att = Attention(AdditiveScore(D, D, 8))
    out, w = att(q, k, v)
    assert out.shape == (B, T, DV) and att.weights.shape == (B, T, S)
    torch.testing.assert_close(w.detach(), att.weights)
    assert not att.weights.requires_grad
    assert sum(p.numel() for p in att.parameters()) == D * 8 * 2 + 8


def test_shape_mismatch_names_both_shapes(qkv):
    q, k, v = qkv
    with pytest.raises(ValueError, match=r"\(3, 4, 6\).*\(3, 5, 3\)"):
        attend(q, k[..., :3], v)
    with pytest.raises(ValueError, match=r"key \(3, 5, 6\) and value \(3, 4, 7\)"):
        attend(q, k, v[:, :4])
    with pytest.raises(ValueError, match=r"\(2, 4, 6\).*\(3, 5, 6\)"):
        attend(q[:2], k, v)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4, 4\).*\(3, 4, 5\)"):
        attend(q, k, v, mask=torch.ones(B, T, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool"):
        attend(q, k, v, mask=torch.ones(B, T, S))
    with pytest.raises(ValueError, match="unknown score"):
        attend(q, k, v, score="cosine")
    with pytest.raises(ValueError, match=r"AdditiveScore\(4, 6"):
        attend(q, k, v, score=AdditiveScore(4, 6, 8))
    with pytest.raises(ValueError, match=r"mask must be \(B, S\) = \(3, 5\), got \(3, 4\)"):
        attend(q[:, 0], k, v, mask=torch.ones(B, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"query \(3, 5\) and key \(2, 5, 6\)"):
        attend(torch.randn(3, 5), k[:2], v[:2])
    with pytest.raises(ValueError, match=r"query \(3, 4, 6, 1\)"):
        attend(q[..., None], k, v)


def test_static_score_ranks_the_keys_alike_for_every_query():
    """GAT's score: a_q . q + a_k . k, then LeakyReLU (slope 0.2); one key tops every query."""
    score = StaticScore(2)
    with torch.no_grad():
        score.a_q.weight.copy_(torch.tensor([[1.0, 0.0]]))
        score.a_k.weight.copy_(torch.tensor([[0.0, 2.0]]))
    q = torch.tensor([[[1.0, 5.0], [-3.0, 0.0]]])  # (1, 2, 2): a_q . q = 1, -3
    k = torch.tensor([[[0.0, 1.0], [7.0, -1.0], [0.0, 0.0]]])  # (1, 3, 2): a_k . k = 2, -2, 0
    s = score(q, k)
    assert s.shape == (1, 2, 3)
    by_hand = torch.tensor([[[3.0, -0.2, 1.0], [-0.2, -1.0, -0.6]]])  # LeakyReLU(a_q.q + a_k.k)
    torch.testing.assert_close(s, by_hand)
    assert torch.equal(s.argmax(-1), torch.zeros(1, 2, dtype=torch.long))  # key 0 wins for both queries
    g = torch.Generator().manual_seed(0)
    qs, ks = torch.randn(1, 50, 2, generator=g), torch.randn(1, 6, 2, generator=g)
    _, w = attend(qs, ks, ks, score=StaticScore(2))
    assert w.argmax(-1).unique().numel() == 1  # static: the same favourite for all 50 queries
    assert sum(p.numel() for p in StaticScore(8).parameters()) == 16
