"""Tests of attnbook.classify: token ids, batches, length buckets, the dev split, training and
prediction of a ``model(tokens, mask) -> logits`` classifier."""

import pytest
import torch
import torch.nn.functional as F
from torch.optim.optimizer import register_optimizer_step_pre_hook

from attnbook.classify import (
    accuracy,
    classification_loss,
    collate,
    dev_split,
    document_batch,
    encode,
    evaluate_batches,
    fit_classifier,
    fit_one_epoch,
    fit_text_classifier,
    head_and_tail,
    head_start,
    length_buckets,
    log_count_ratio,
    predict,
    sorted_batches,
    unigrams_and_bigrams,
)
from attnbook.cnn import TextCNN
from attnbook.data.text import Vocab
from attnbook.utils import numpy_rng

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


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


def test_dev_split_is_a_seeded_partition_with_a_tenth_for_dev():
    for n in (10, 95, 9596):
        train, dev = dev_split(n, seed=2)
        assert len(dev) == n // 10 and sorted(train + dev) == list(range(n))
        order = numpy_rng(2).permutation(n).tolist()  # the order Kim's protocol drew by hand
        assert dev == order[: n // 10] and train == order[n // 10 :]
    assert dev_split(20, seed=0) == dev_split(20, seed=0) != dev_split(20, seed=1)
    with pytest.raises(ValueError):
        dev_split(10, seed=0, fraction=1.0)


def test_fit_text_classifier_builds_the_vocabulary_and_learns():
    texts = ["good fine great", "bad awful", "great good", "awful bad poor", "fine", "poor"] * 5
    labels = [1, 0, 1, 0, 1, 0] * 5
    sizes = []

    def make(vocab_size):
        sizes.append(vocab_size)
        return TextCNN(vocab_size, 2, embed_dim=6, n_maps=4, widths=(1, 2))

    model, vocab = fit_text_classifier(make, texts, labels, seed=0, epochs=10, lr=0.05,
                                       batch_size=4, show_progress=False)
    assert sizes == [len(vocab)] and "great" in vocab
    assert accuracy(model, encode(texts, vocab), labels) == 1.0
    # the same seed gives the same model
    again, _ = fit_text_classifier(make, texts, labels, seed=0, epochs=10, lr=0.05, batch_size=4,
                                   show_progress=False)
    torch.testing.assert_close(again.out.weight, model.out.weight, rtol=0, atol=0)
    with pytest.raises(ValueError, match="labels"):
        fit_text_classifier(make, texts, labels[:-1])


# ----------------------------------------------------------------------------------------------
# Documents (chapters 23 and 24)


def _id_docs():
    return [[[5, 6, 7], [8]], [[9, 10]], [[11], [12, 13], [14, 15, 16, 17]]]


def test_document_batch_flat_and_hierarchical():
    from attnbook.data.synthetic import SalientDocument

    vocab = Vocab.build([["a", "b", "c"]])
    docs = [SalientDocument((("a", "b"), ("c",)), 1, 0), SalientDocument((("c",),), 0, 0)]
    (tokens, mask), y = document_batch(docs, vocab, flat=True)
    assert tokens.tolist() == [vocab.encode(["a", "b", "c"]), vocab.encode(["c"]) + [0, 0]]
    assert mask.sum(1).tolist() == [3, 1] and y.tolist() == [1, 0]
    (ids, word_mask, sentence_mask), y = document_batch(docs, vocab)
    assert ids.shape == (2, 2, 2) and sentence_mask.tolist() == [[True, True], [True, False]]
    # (sentences, label) pairs of ids need no vocabulary
    (ids2, _, _), _ = document_batch([(d, 0) for d in _id_docs()])
    assert ids2.shape == (3, 3, 4) and ids2[2, 2].tolist() == [14, 15, 16, 17]


def test_sorted_batches_cover_every_document_once_and_keep_labels():
    docs, labels = _id_docs(), [0, 1, 0]
    for flat, by_tokens in ((False, False), (True, True)):
        batches = sorted_batches(docs, labels, 2, flat=flat, by_tokens=by_tokens)
        seen = [i for _, _, idx in batches for i in idx]
        assert sorted(seen) == [0, 1, 2]
        for inputs, y, idx in batches:
            assert y.tolist() == [labels[i] for i in idx]
            assert inputs[0].dim() == (2 if flat else 3)
    # by number of tokens: the 2-token review first, the 7-token one last
    assert [idx for _, _, idx in sorted_batches(docs, labels, 1, flat=True, by_tokens=True)] == [[1], [0], [2]]


def test_fit_one_epoch_schedule_order_and_evaluate_batches():
    from attnbook.han import AttentionClassifier
    from attnbook.utils import python_rng

    torch.manual_seed(0)
    docs = [[[4, 5, 6]], [[7, 8]], [[4, 6]], [[8, 7, 7]]] * 4
    labels = [0, 1, 0, 1] * 4
    batches = sorted_batches(docs, labels, 4, flat=True)
    model = AttentionClassifier(10, 2, embed_dim=8, hidden_size=8)
    seen_batches = []
    model.register_forward_pre_hook(lambda m, args: seen_batches.append(args[0].shape))
    losses = fit_one_epoch(model, batches, lr=0.01, seed=3, show_progress=False)
    assert len(losses) == len(batches) and not model.training
    order = list(range(len(batches)))
    python_rng(3).shuffle(order)
    assert seen_batches == [batches[k][0][0].shape for k in order]
    for _ in range(30):
        fit_one_epoch(model, batches, lr=0.01, seed=3, show_progress=False)
    acc, pred, kept = evaluate_batches(model, batches, keep=lambda m, j: m.weights[j].sum().item())
    assert acc == 100.0 and pred == dict(enumerate(labels)) and set(kept) == set(range(16))
    assert classification_loss(model, batches[0]).item() < 0.5
    assert all(abs(v - 1) < 1e-5 for v in kept.values())


def test_fit_one_epoch_learning_rate_is_flat_then_falls_to_the_floor():
    model = torch.nn.Linear(1, 2)
    batches = [((torch.ones(1, 1),), torch.tensor([0]))] * 10
    lrs = []
    # every optimizer's step, just before it runs (a global hook: no patching of Adam.step)
    handle = register_optimizer_step_pre_hook(
        lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))
    try:
        fit_one_epoch(model, batches, lr=1.0, seed=0, show_progress=False)
    finally:
        handle.remove()
    assert lrs[:6] == [1.0] * 6  # min(1, 2 (1 - s/10) + 0.05) for s <= 5
    assert lrs[6:] == pytest.approx([0.85, 0.65, 0.45, 0.25])


def test_head_and_tail_keeps_the_opening_and_the_verdict():
    doc = [["w"] * 3 for _ in range(10)]  # ten sentences of three words
    cut = head_and_tail(doc, max_tokens=12, max_words=40, max_sentences=20)
    assert sum(map(len, cut)) <= 12 and len(cut) == 4  # two from the head (6), two from the tail
    doc = [[f"h{i}"] for i in range(5)] + [[f"t{i}"] for i in range(5)]
    assert head_and_tail(doc, 4, 40, 20) == [["h0"], ["h1"], ["t3"], ["t4"]]
    assert head_and_tail([["x"] * 50], 10, 40, 20) == [["x"] * 10]  # one long sentence: its start
    assert head_and_tail(doc, 100, 40, 4) == [["h0"], ["h1"], ["t3"], ["t4"]]  # at most 4 sentences


def test_unigrams_and_bigrams():
    assert unigrams_and_bigrams([["a", "b"], ["c"]]) == ["a", "b", "c", "a b", "b c"]


def test_log_count_ratio_by_hand_and_head_start():
    import math

    docs = [[[2, 3]], [[2, 2]], [[4]]]  # word 2 in both classes' documents, 3 positive, 4 negative
    r = log_count_ratio(docs, [1, 0, 0], 5)
    assert r[0] == 0.0
    assert r[2].item() == pytest.approx(math.log(2 / 3) - math.log(2 / 4))
    assert r[3].item() == pytest.approx(math.log(2 / 3) - math.log(1 / 4))
    assert r[4].item() == pytest.approx(math.log(1 / 3) - math.log(2 / 4))
    emb = torch.nn.Embedding(5, 3)
    head_start(emb, r)
    assert torch.equal(emb.weight[:, 0].detach(), r)
    with pytest.raises(ValueError):
        head_start(emb, r[:4])


def test_fit_one_epoch_is_the_hand_written_loop_bit_for_bit():
    """fit_one_epoch goes through train.fit (ordered batches, a per-step schedule); it must give
    the very numbers of the loop chapter 24 wrote by hand (Python-shuffled order, the learning rate
    set before each Adam step, dropout drawn from the global generator)."""
    from attnbook.han import AttentionClassifier
    from attnbook.train import train_step
    from attnbook.utils import python_rng

    docs = [[[4, 5, 6]], [[7, 8]], [[4, 6]], [[8, 7, 7]]] * 4
    batches = sorted_batches(docs, [0, 1, 0, 1] * 4, 4, flat=True)

    def by_hand(model, lr=0.01, seed=3, floor=0.05):
        opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
        order = list(range(len(batches)))
        python_rng(seed).shuffle(order)
        losses = []
        model.train()
        for step, k in enumerate(order):
            for group in opt.param_groups:
                group["lr"] = lr * min(1.0, 2 * (1 - step / len(order)) + floor)
            losses.append(train_step(model, batches[k], classification_loss, opt, 1.0))
        model.eval()
        return losses

    runs = []
    for train in (by_hand, lambda m: fit_one_epoch(m, batches, lr=0.01, seed=3, show_progress=False)):
        torch.manual_seed(0)
        model = AttentionClassifier(10, 2, embed_dim=8, hidden_size=8, dropout=0.3)
        losses = [train(model) for _ in range(3)]
        runs.append((losses, [p.detach().clone() for p in model.parameters()], torch.rand(1)))
    (l0, p0, r0), (l1, p1, r1) = runs
    assert l0 == l1 and torch.equal(r0, r1)  # same losses, same global random state after
    assert all(torch.equal(a, b) for a, b in zip(p0, p1, strict=True))
