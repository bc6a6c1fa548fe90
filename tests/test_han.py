"""Tests of attnbook.han: context-vector attention, pooling, the flat classifier and the HAN."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attnbook.attention import attend
from attnbook.data.text import pad_documents
from attnbook.han import (
    HAN,
    POOLINGS,
    AttentionClassifier,
    ContextAttention,
    context_attention,
    pool,
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
    pooled, weights = att(states, mask)  # (output, weights), as every attention module
    keys = torch.tanh(att.proj(states))  # (B, L, 4)
    query = att.context.expand(3, 4)  # (B, 4): the same u for every document
    want, want_w = attend(query, keys, states, mask=mask, score="dot")
    torch.testing.assert_close(pooled, want)
    torch.testing.assert_close(weights, want_w)
    torch.testing.assert_close(att.weights, want_w)
    assert not att.weights.requires_grad and weights.requires_grad  # .weights: kept, detached
    # context_attention takes attend's order: (query, keys, values, mask)
    out, w = context_attention(att.context, keys, states, mask)
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(w, want_w)


def test_context_attention_by_hand():
    keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])  # (1, 3, 2)
    values = torch.tensor([[[1.0], [3.0], [100.0]]])  # (1, 3, 1)
    u = torch.tensor([2.0, 0.0])
    out, w = context_attention(u, keys, values, torch.tensor([[True, True, False]]))
    e2 = torch.exp(torch.tensor(2.0))
    torch.testing.assert_close(w, torch.tensor([[e2 / (e2 + 1), 1 / (e2 + 1), 0.0]]))
    torch.testing.assert_close(out, torch.tensor([[(e2 * 1 + 3) / (e2 + 1)]]))


def test_context_attention_fully_masked_row_is_zero():
    out, w = context_attention(torch.randn(4), torch.randn(2, 3, 4), torch.randn(2, 3, 5),
                               torch.tensor([[True, False, False], [False, False, False]]))
    assert torch.equal(w[1], torch.zeros(3)) and torch.equal(out[1], torch.zeros(5))
    assert w[0, 0] == 1.0


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
    with pytest.raises(ValueError, match=r"query \(the context vector\) of shape \(4,\)"):
        context_attention(torch.randn(5), torch.randn(2, 3, 4), torch.randn(2, 3, 4))
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


def test_attention_classifier_names_its_attention_module_context():
    """``.attention`` never names a submodule (it is a tensor elsewhere): the pooling's
    ContextAttention is ``.context``, and the weights are ``.weights``."""
    model = AttentionClassifier(30, num_classes=3, embed_dim=8, hidden_size=5)
    assert isinstance(model.context, ContextAttention) and not hasattr(model, "attention")
    model(torch.tensor([[4, 5, 6]]))
    torch.testing.assert_close(model.weights, model.context.weights)
    assert AttentionClassifier(30, 2, pooling="mean").context is None
    han = HAN(30, num_classes=3, embed_dim=8, word_hidden=5, sentence_hidden=4)
    assert han.out.out_features == 3


def test_han_word_and_sentence_attention_keep_their_weights():
    model = _han()
    batch = pad_documents(_docs())
    model(batch.ids, batch.word_mask, batch.sentence_mask)
    torch.testing.assert_close(model.sentence_weights, model.sentence_attention.weights)
    real = batch.sentence_mask.reshape(-1)
    torch.testing.assert_close(model.word_weights.reshape(-1, batch.ids.shape[-1])[real],
                               model.word_attention.weights)
