"""Tests of attnbook.cnn: the toy by hand, readable = fast path, padding, window width, max-norm."""

import pytest
import torch
import torch.nn.functional as F

from attnbook.cnn import (
    CharCNN,
    ConvMaxPool,
    TextCNN,
    accuracy,
    add_max_norm,
    collate,
    conv_features,
    conv_windows,
    draw_textcnn,
    encode,
    fit_classifier,
    length_buckets,
    max_norm_,
    max_over_time,
    predict,
)
from attnbook.data.text import Vocab

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py



def toy_model():
    """One filter of width 2 over 1-d word vectors: the chapter's toy."""
    m = TextCNN(vocab_size=5, n_classes=2, embed_dim=1, widths=(2,), n_maps=1, dropout=0.0)
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


def test_batching_helpers_and_training_learns():
    torch.manual_seed(0)
    texts = ["good fine great", "bad awful", "great good", "awful bad poor", "fine", "poor"]
    labels = [1, 0, 1, 0, 1, 0]
    vocab = Vocab.build([t.split() for t in texts])
    seqs = encode(texts, vocab)
    assert seqs[0] == vocab.encode(["good", "fine", "great"])
    m = TextCNN(len(vocab), 2, embed_dim=8, n_maps=4, dropout=0.0)
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    ids, mask, y = collate(list(zip(seqs, labels, strict=True)))
    for _ in range(30):
        opt.zero_grad()
        F.cross_entropy(m(ids, mask), y).backward()
        opt.step()
    assert accuracy(m, seqs, labels, batch_size=4) == 1.0
    assert predict(m, seqs).tolist() == labels


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


def test_length_buckets_partition_and_group_similar_lengths():
    lengths = torch.tensor([5, 1, 9, 2, 8, 1, 5, 3, 7, 2])
    batches = length_buckets(lengths, 3, seed=0, jitter=0.0)
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    spreads = [int(lengths[b].max() - lengths[b].min()) for b in batches]
    assert max(spreads) <= 3


def test_fit_classifier_keeps_max_norm_and_learns():
    torch.manual_seed(0)
    seqs = [[4, 5], [6, 7, 8], [4, 4, 5], [7, 8], [5], [8, 6]] * 5
    labels = [0, 1, 0, 1, 0, 1] * 5
    m = TextCNN(10, 2, embed_dim=6, n_maps=4, widths=(1, 2))
    hist = fit_classifier(m, seqs, labels, dev=(seqs, labels), epochs=15, lr=0.05, batch_size=4,
                          show_progress=False)
    assert hist.best_score == 1.0
    assert (m.out.weight.norm(dim=1) <= 3.0 + 1e-5).all()


def test_textcnn_draws():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    words, widths, n_maps = ("a", "good", "film", "indeed"), (2, 3), 2
    draw_textcnn(ax, words=words, widths=widths, embed_dim=4, n_maps=n_maps)
    texts = [t.get_text() for t in ax.texts]
    assert all(w in texts for w in words), texts  # one row label per word
    # the sentence matrix (4 x 4 cells), a window per width, a map per width and map
    assert len(ax.patches) >= len(words) * 4 + len(widths) * (1 + n_maps), len(ax.patches)
    plt.close(fig)
