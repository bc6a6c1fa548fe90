"""Tests of attnbook.han: context-vector attention, pooling, the flat classifier and the HAN."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from attnbook.attention import attend
from attnbook.data.text import pad_documents
from attnbook.han import (
    HAN,
    POOLINGS,
    AttentionClassifier,
    BiGRUEncoder,
    ContextAttention,
    context_attention,
    pool,
    reverse_padded,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _docs():
    """Three documents of word ids (0 is padding): 2, 3 and 1 sentences of varying lengths."""
    return [
        [[5, 6, 7], [8, 9]],
        [[10, 11], [12, 13, 14, 15], [16]],
        [[17, 18, 19, 20, 21]],
    ]


def test_context_attention_equals_attend_with_u_as_query():
    torch.manual_seed(0)
    att = ContextAttention(6, attn_dim=4)
    states = torch.randn(3, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    pooled = att(states, mask)
    keys = torch.tanh(att.proj(states))  # (B, L, 4)
    query = att.context.expand(3, 4)  # (B, 4): the same u for every document
    want, want_w = attend(query, keys, states, mask=mask, score="dot")
    torch.testing.assert_close(pooled, want)
    torch.testing.assert_close(att.weights, want_w)


def test_context_attention_by_hand():
    keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])  # (1, 3, 2)
    values = torch.tensor([[[1.0], [3.0], [100.0]]])  # (1, 3, 1)
    u = torch.tensor([2.0, 0.0])
    out, w = context_attention(keys, values, u, torch.tensor([[True, True, False]]))
    e2 = torch.exp(torch.tensor(2.0))
    torch.testing.assert_close(w, torch.tensor([[e2 / (e2 + 1), 1 / (e2 + 1), 0.0]]))
    torch.testing.assert_close(out, torch.tensor([[(e2 * 1 + 3) / (e2 + 1)]]))


def test_context_attention_fully_masked_row_is_zero():
    out, w = context_attention(torch.randn(2, 3, 4), torch.randn(2, 3, 5), torch.randn(4),
                               torch.tensor([[True, False, False], [False, False, False]]))
    assert torch.equal(w[1], torch.zeros(3)) and torch.equal(out[1], torch.zeros(5))
    assert w[0, 0] == 1.0


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


@pytest.mark.parametrize("kind", POOLINGS)
def test_flat_classifier_padding_invariant(kind):
    torch.manual_seed(0)
    model = AttentionClassifier(30, 2, embed_dim=8, hidden_size=5, pooling=kind).eval()
    tokens = torch.tensor([[4, 5, 6, 7]])
    alone = model(tokens)
    w_alone = model.weights
    batch = torch.tensor([[4, 5, 6, 7, 0, 0, 0], [8, 9, 10, 11, 12, 13, 14]])
    together = model(batch)
    torch.testing.assert_close(together[0], alone[0])
    if kind in ("attention", "mean"):
        assert torch.equal(model.weights[0, 4:], torch.zeros(3))
        torch.testing.assert_close(model.weights[0, :4], w_alone[0])
        torch.testing.assert_close(model.weights.sum(-1), torch.ones(2))


def test_pool_by_hand():
    states = torch.tensor([[[1.0, -5.0], [3.0, -1.0], [100.0, 100.0]]])  # third is padding
    mask = torch.tensor([[True, True, False]])
    mean, w = pool(states, mask, "mean")
    torch.testing.assert_close(mean, torch.tensor([[2.0, -3.0]]))
    torch.testing.assert_close(w, torch.tensor([[0.5, 0.5, 0.0]]))
    mx, _ = pool(states, mask, "max")
    torch.testing.assert_close(mx, torch.tensor([[3.0, -1.0]]))
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(states, mask, "median")


def _han(**kw):
    torch.manual_seed(0)
    return HAN(30, 2, embed_dim=8, word_hidden=5, sentence_hidden=4, **kw).eval()


def test_han_padded_words_and_sentences_get_zero_weight():
    model = _han()
    batch = pad_documents(_docs())
    logits = model(batch.ids, batch.word_mask, batch.sentence_mask)
    assert logits.shape == (3, 2)
    ww, sw = model.word_weights, model.sentence_weights
    assert ww.shape == batch.ids.shape and sw.shape == batch.sentence_mask.shape
    assert torch.all(ww[~batch.word_mask] == 0)
    assert torch.all(sw[~batch.sentence_mask] == 0)
    # each real sentence's word weights and each document's sentence weights sum to 1
    torch.testing.assert_close(ww.sum(-1)[batch.sentence_mask], torch.ones(6))
    torch.testing.assert_close(sw.sum(-1), torch.ones(3))


def test_han_prediction_unchanged_by_padding():
    model = _han()
    docs = _docs()
    batch = pad_documents(docs)
    together = model(batch.ids, batch.word_mask, batch.sentence_mask)
    sw_together = model.sentence_weights
    for i, d in enumerate(docs):
        one = pad_documents([d])
        alone = model(one.ids, one.word_mask, one.sentence_mask)
        torch.testing.assert_close(together[i], alone[0])
        n = len(d)
        torch.testing.assert_close(sw_together[i, :n], model.sentence_weights[0])
    # extra padding: more sentences and longer sentences, filled with garbage ids
    ids = F.pad(batch.ids, (0, 3, 0, 2), value=0)
    word_mask = F.pad(batch.word_mask, (0, 3, 0, 2), value=False)
    sent_mask = F.pad(batch.sentence_mask, (0, 2), value=False)
    garbage = torch.randint(1, 30, ids.shape)
    ids = torch.where(word_mask, ids, garbage)
    torch.testing.assert_close(model(ids, word_mask, sent_mask), together)


def test_han_default_sentence_mask():
    model = _han()
    batch = pad_documents(_docs())
    torch.testing.assert_close(model(batch.ids, batch.word_mask), model(batch.ids, batch.word_mask,
                                                                         batch.sentence_mask))


def test_tiny_han_overfits_a_handful_of_documents():
    torch.manual_seed(0)
    docs = [[[4 + (i + j) % 20, 5 + (i * j) % 20] for j in range(1 + i % 3)] for i in range(8)]
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    batch = pad_documents(docs)
    model = HAN(30, 2, embed_dim=8, word_hidden=8, sentence_hidden=8)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(150):
        loss = F.cross_entropy(model(batch.ids, batch.word_mask, batch.sentence_mask), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    pred = model(batch.ids, batch.word_mask, batch.sentence_mask).argmax(-1)
    assert torch.equal(pred, labels)
    assert loss.item() < 0.05


def test_tiny_flat_classifier_overfits():
    torch.manual_seed(0)
    tokens = torch.randint(1, 20, (8, 6))
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    model = AttentionClassifier(20, 2, embed_dim=8, hidden_size=8)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(100):
        loss = F.cross_entropy(model(tokens), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.equal(model.eval()(tokens).argmax(-1), labels)


def test_han_gradients_reach_every_parameter():
    model = _han().train()
    batch = pad_documents(_docs())
    model(batch.ids, batch.word_mask, batch.sentence_mask).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if name != "embed.weight":
            assert p.grad.abs().sum() > 0, name


def test_shape_errors_name_the_shapes():
    model = _han()
    batch = pad_documents(_docs())
    with pytest.raises(ValueError, match=r"\(B, S, L\), got \(3, 5\)"):
        model(batch.ids[:, 0], batch.word_mask[:, 0])
    with pytest.raises(ValueError, match=r"word_mask.*\(3, 3, 5\).*\(3, 3, 4\)"):
        model(batch.ids, batch.word_mask[..., :4])
    with pytest.raises(ValueError, match=r"sentence_mask.*\(3, 3\).*\(3, 2\)"):
        model(batch.ids, batch.word_mask, batch.sentence_mask[:, :2])
    att = ContextAttention(6)
    with pytest.raises(ValueError, match=r"\(B, L, 6\).*\(2, 4, 5\)"):
        att(torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match=r"mask of shape \(B, L\) = \(2, 4\).*\(2, 3\)"):
        att(torch.randn(2, 4, 6), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"context vector of shape \(4,\)"):
        context_attention(torch.randn(2, 3, 4), torch.randn(2, 3, 4), torch.randn(5))
    flat = AttentionClassifier(30, 2, embed_dim=8, hidden_size=5)
    with pytest.raises(ValueError, match=r"\(B, L\).*\(2, 3, 4\)"):
        flat(torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown pooling"):
        AttentionClassifier(30, 2, pooling="sum")


def test_empty_sentence_marked_real_gives_no_nan():
    model = _han()
    batch = pad_documents([[[5, 6], []], [[7]]])  # an empty sentence counted as real
    logits = model(batch.ids, batch.word_mask, batch.sentence_mask)
    assert torch.isfinite(logits).all()
    assert torch.equal(model.word_weights[0, 1], torch.zeros(batch.ids.shape[-1]))
