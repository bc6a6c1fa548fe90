"""Tests of attnbook.cnn: the toy by hand, readable = fast path, padding, window width, max-norm."""

import pytest
import torch
import torch.nn.functional as F

from attnbook.classify import collate
from attnbook.cnn import (
    CharCNN,
    ConvMaxPool,
    TextCNN,
    add_max_norm,
    conv_features,
    conv_windows,
    max_norm_,
    max_over_time,
    textcnn_step_seconds,
)
from attnbook.data.text import Vocab

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def toy_model():
    """One filter of width 2 over 1-d word vectors: the chapter's toy."""
    m = TextCNN(vocab_size=5, num_classes=2, embed_dim=1, widths=(2,), n_maps=1, dropout=0.0)
    with torch.no_grad():
        m.embed.weight.copy_(torch.tensor([[0.0], [1.0], [2.0], [-1.0], [3.0]]))
        m.convs[0].conv.weight.copy_(torch.tensor([[[1.0, -1.0]]]))  # (F, D, k): x_{t-1} - x_t
        m.convs[0].conv.bias.fill_(0.5)
        m.out.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        m.out.bias.zero_()
    return m.eval()


def test_toy_equals_hand_computation():
    m = toy_model()
    tokens = torch.tensor([[1, 2, 3, 4]])  # word vectors 1, 2, -1, 3
    # windows of the wide convolution (zero outside): (0,1) (1,2) (2,-1) (-1,3) (3,0)
    # w.x + b = 0-1+.5, 1-2+.5, 2+1+.5, -1-3+.5, 3-0+.5 = -.5, -.5, 3.5, -3.5, 3.5 -> ReLU -> max 3.5
    feats = m.features(tokens)
    torch.testing.assert_close(feats, torch.tensor([[3.5]]))
    assert m.last_windows[2].item() == 2  # the first window reaching 3.5: tokens 1..2 (2, -1)
    torch.testing.assert_close(m(tokens), torch.tensor([[3.5, -3.5]]))


def test_readable_equals_fast_path():
    torch.manual_seed(0)
    x = torch.randn(3, 7, 4)
    w, b = torch.randn(5, 4, 3), torch.randn(5)
    torch.testing.assert_close(conv_windows(x, w, b), conv_features(x, w, b), rtol=1e-5, atol=1e-5)
    fast = TextCNN(20, 3, embed_dim=8, n_maps=6)
    slow = TextCNN(20, 3, embed_dim=8, n_maps=6, readable=True)
    slow.load_state_dict(fast.state_dict())
    fast.eval()
    slow.eval()
    tokens = torch.randint(1, 20, (4, 9))
    torch.testing.assert_close(fast(tokens), slow(tokens), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("model_cls", ["text", "char"])
def test_padding_does_not_change_a_prediction(model_cls):
    torch.manual_seed(0)
    if model_cls == "text":
        m = TextCNN(30, 4, embed_dim=8, n_maps=5).eval()
    else:
        m = CharCNN(30, 4, channels=8, hidden=16).eval()
    seqs = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [14]]
    ids, mask, _ = collate([(s, 0) for s in seqs])
    alone = torch.cat([m(torch.tensor([s]), None) for s in seqs])
    batched = m(ids, mask)
    more = m(F.pad(ids, (0, 7)), F.pad(mask, (0, 7)))  # 7 extra padding positions
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(more, alone, rtol=1e-5, atol=1e-5)


def test_padding_embedding_is_ignored_even_if_nonzero():
    torch.manual_seed(0)
    m = TextCNN(10, 2, embed_dim=4, n_maps=3).eval()
    tokens = torch.tensor([[3, 4, 0, 0]])
    mask = torch.tensor([[True, True, False, False]])
    before = m(tokens, mask)
    with torch.no_grad():
        m.embed.weight[0].fill_(5.0)
    torch.testing.assert_close(m(tokens, mask), before)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_width_k_window_sees_exactly_k_tokens(k):
    torch.manual_seed(0)
    layer = ConvMaxPool(4, 3, width=k)
    x = torch.randn(1, 12, 4, requires_grad=True)
    t = 8  # window t covers tokens t - k + 1 .. t
    # the pre-activation: a ReLU at zero could hide a dependence
    pre = conv_features(x, layer.conv.weight, layer.conv.bias)  # (1, F, 12 + k - 1)
    (g,) = torch.autograd.grad(pre[0, :, t].sum(), x)
    seen = (g[0].abs().sum(-1) > 0).nonzero().flatten().tolist()
    assert seen == list(range(t - k + 1, t + 1))


def test_max_over_time_skips_invalid_windows_and_empty_rows():
    feats = torch.tensor([[[1.0, 9.0, 2.0]], [[4.0, 5.0, 6.0]]])  # (B=2, F=1, W=3)
    valid = torch.tensor([[True, False, True], [False, False, False]])
    pooled, where = max_over_time(feats, valid)
    assert pooled.tolist() == [[2.0], [0.0]]
    assert where[0].item() == 2


def test_max_norm_holds_after_a_step():
    torch.manual_seed(0)
    m = TextCNN(50, 3, embed_dim=8, n_maps=4)
    opt = torch.optim.SGD(m.parameters(), lr=100.0)  # a huge step to push the norms out
    add_max_norm(opt, m.out.weight, 3.0)
    assert (m.out.weight.norm(dim=1) <= 3.0 + 1e-5).all()
    tokens = torch.randint(1, 50, (8, 6))
    loss = F.cross_entropy(m(tokens), torch.randint(0, 3, (8,)))
    loss.backward()
    opt.step()
    norms = m.out.weight.norm(dim=1)
    assert (norms <= 3.0 + 1e-5).all(), norms
    assert torch.isclose(norms.max(), torch.tensor(3.0), atol=1e-4)  # the step did push it out


def test_max_norm_leaves_small_rows_alone():
    w = torch.tensor([[3.0, 4.0], [0.3, 0.4]])  # norms 5 and 0.5
    max_norm_(w, 3.0)
    torch.testing.assert_close(w, torch.tensor([[1.8, 2.4], [0.3, 0.4]]))
    with pytest.raises(ValueError, match="positive"):
        max_norm_(w, 0.0)


def test_shape_errors_name_the_shapes():
    m = TextCNN(10, 2, embed_dim=4, n_maps=3)
    with pytest.raises(ValueError, match=r"\(B, L\), got \(5,\)"):
        m(torch.tensor([1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match=r"\(2, 3\), got \(2, 4\)"):
        m(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool"):
        m(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3))
    with pytest.raises(TypeError, match="integer"):
        m(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"\(B, L, 4\), got \(2, 3, 5\)"):
        m.convs[0](torch.ones(2, 3, 5), torch.tensor([3, 3]))
    with pytest.raises(ValueError, match=r"embeddings must be"):
        TextCNN(10, 2, embed_dim=4, embeddings=torch.zeros(10, 5))
    with pytest.raises(ValueError, match="odd"):
        CharCNN(10, 2, widths=(4,))
    with pytest.raises(ValueError, match="n_chars"):
        CharCNN(10, 2)(torch.tensor([[12]]))


def test_empty_sentence_and_short_sentences():
    m = TextCNN(10, 2, embed_dim=4, n_maps=3).eval()
    ids, mask, _ = collate([([], 0), ([4], 1)])
    out = m(ids, mask)
    assert out.shape == (2, 2) and torch.isfinite(out).all()
    # the empty sentence pools to zeros: its logits are the output bias
    torch.testing.assert_close(out[0], m.out.bias)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_pooled_feature_depends_on_exactly_k_consecutive_tokens(k):
    torch.manual_seed(1)
    layer = ConvMaxPool(4, 1, width=k)
    with torch.no_grad():
        layer.conv.bias.fill_(10.0)  # the ReLU is active everywhere
    x = torch.randn(1, 10, 4, requires_grad=True)
    pooled, where = layer(x, torch.tensor([10]))
    (g,) = torch.autograd.grad(pooled.sum(), x)
    seen = (g[0].abs().sum(-1) > 0).nonzero().flatten().tolist()
    t = where.item()
    assert seen == [i for i in range(t - k + 1, t + 1) if 0 <= i < 10]
    assert len(seen) == k or t < k - 1 or t > 9  # a window at an edge sees fewer real tokens


def test_textcnn_step_seconds_is_a_positive_median():
    t = textcnn_step_seconds(8, vocab_size=50, batch_size=4, length=5, steps=2, seed=3)
    assert isinstance(t, float) and t > 0


def test_pad_id_and_num_classes_keywords():
    m = TextCNN(10, num_classes=3, embed_dim=4, n_maps=2, pad_id=9)
    assert m.out.out_features == 3 and m.embed.padding_idx == 9
    assert torch.equal(m.embed.weight[9], torch.zeros(4))
    c = CharCNN(10, num_classes=4, channels=4, hidden=8, pad_id=0)
    assert c.out.out_features == 4 and c.pad_id == 0



def test_top_ngrams_reads_the_winning_windows():
    from attnbook.cnn import top_ngrams

    vocab = Vocab.build([["a", "not", "bad", "good", "movie"]])
    ids = torch.tensor([vocab.encode("a not bad movie".split()), vocab.encode("a good movie".split()) + [0]])
    features = torch.tensor([[1.0], [2.0]])  # filter 0 fires harder on the second sentence
    windows = torch.tensor([[2], [1]])  # width 2: tokens 1..2 and 0..1
    grams = top_ngrams(features, windows, torch.tensor([2]), ids, vocab.decode, 0)
    assert grams == ["a good", "not bad"]
    assert top_ngrams(features, windows, torch.tensor([2]), ids, vocab.decode, 0, n=1) == ["a good"]
