r"""A text classifier's pipeline, whatever the model: token ids, padded batches, batches of similar
length, training with early stopping on a dev split, predictions and accuracy.

Written for the chapter *Convolutional networks for text* (``notebooks/30_text_cnn``), where TextCNN,
the character CNN and a character GRU all go through it; any ``model(tokens, mask) -> logits`` with
an ``out`` linear layer (for the optional max-norm constraint) fits.

Documents (chapters *Attention for classification and the HAN* and *The HAN on movie reviews*,
``notebooks/23_han``, ``notebooks/24_han_imdb``) are lists of sentences of tokens: a batch of them
is either flat (each document one sequence, for ``AttentionClassifier``) or ``(B, S, L)`` (for the
HAN), and :func:`classification_loss` trains either.

Shapes (batch-first): tokens ``(B, L)`` int64, mask ``(B, L)`` bool (``True`` = a real token),
documents ``(B, S, L)`` with ``word_mask (B, S, L)`` and ``sentence_mask (B, S)``, labels
``(B,)``, logits ``(B, C)``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.cnn import add_max_norm
from attnbook.data.text import Vocab, pad_batch, pad_documents
from attnbook.schedules import per_step_schedule
from attnbook.train import History, fit
from attnbook.utils import (
    generator,
    model_device,
    numpy_rng,
    python_rng,
    seed_everything,
    to_device,
)

__all__ = [
    "encode",
    "collate",
    "length_buckets",
    "dev_split",
    "fit_classifier",
    "fit_text_classifier",
    "predict",
    "accuracy",
    "document_batch",
    "classification_loss",
    "sorted_batches",
    "fit_one_epoch",
    "evaluate_batches",
    "head_and_tail",
    "unigrams_and_bigrams",
    "log_count_ratio",
    "head_start",
]


def encode(texts: Sequence[str], vocab: Vocab, tokenize: Callable[[str], list[str]] = str.split) -> list[list[int]]:
    """Token ids of each text (unknown tokens -> ``vocab.unk_id``). Kim's files are already
    tokenized, so the default tokenizer splits on whitespace."""
    return [vocab.encode(tokenize(t)) for t in texts]


def collate(examples: Sequence[tuple[Sequence[int], int]], pad_id: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """``[(ids, label), ...]`` -> ``(tokens (B, L), mask (B, L), labels (B,))`` via ``pad_batch``."""
    ids, _, mask = pad_batch([e[0] for e in examples], pad_id=pad_id)
    labels = torch.tensor([int(e[1]) for e in examples], dtype=torch.long)
    return ids, mask, labels


def length_buckets(lengths: Tensor, batch_size: int, seed: int = 0, jitter: float = 2.0) -> list[Tensor]:
    """Batches of sentences of similar length, so that little time goes into padding.

    The indices are sorted by ``length + uniform(0, jitter)`` noise (so equal lengths are mixed
    at random) and cut into batches of ``batch_size``; the batches come in a random order.

    Returns:
        a list of int64 index tensors that partition ``range(len(lengths))``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    g = generator(seed)
    order = torch.argsort(lengths.float() + jitter * torch.rand(len(lengths), generator=g))
    batches = list(order.split(batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]


def fit_classifier(
    model: nn.Module,
    seqs: Sequence[Sequence[int]],
    labels: Sequence[int],
    dev: tuple[Sequence[Sequence[int]], Sequence[int]] | None = None,
    epochs: int = 3,
    lr: float = 3e-3,
    batch_size: int = 50,
    max_norm: float | None = 3.0,
    patience: int | None = None,
    seed: int = 0,
    pad_id: int = 0,
    desc: str = "epochs",
    show_progress: bool = True,
) -> History:
    """Train a ``model(tokens, mask) -> logits`` classifier with :func:`attnbook.train.fit`.

    Kim's protocol, with the choices of this book: mini-batches of ``batch_size`` (50 as Kim) cut
    by :func:`length_buckets` once (``fit`` shuffles their order every epoch), Adam at ``lr``
    (Kim: Adadelta), the max-norm constraint on ``model.out.weight`` after every step (None: none),
    no gradient clipping, early stopping on the accuracy on ``dev`` (the best epoch's weights are
    restored).

    Returns:
        the :class:`attnbook.train.History`.
    """
    if len(seqs) != len(labels):
        raise ValueError(f"{len(seqs)} sequences but {len(labels)} labels")
    device = next(model.parameters()).device
    ids, lengths, mask = pad_batch(seqs, pad_id=pad_id)  # (N, L), (N,), (N, L): padded once
    y = torch.as_tensor(list(labels), dtype=torch.long)
    batches = length_buckets(lengths, batch_size, seed=seed)

    def collate_bucket(chosen: list[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        idx = chosen[0]  # fit hands over a list of one bucket
        width = max(int(lengths[idx].max()), 1)
        return ids[idx, :width].to(device), mask[idx, :width].to(device), y[idx].to(device)

    # foreach: one multi-tensor update instead of a loop over the parameters -- the same numbers
    # (bit for bit on the CPU), a quarter less time per Adam step for this small model
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    if max_norm is not None:
        add_max_norm(opt, model.out.weight, max_norm)
    evaluate = None if dev is None else (lambda m: accuracy(m, dev[0], dev[1], pad_id=pad_id))
    return fit(
        model, batches, collate_bucket, lambda m, b: F.cross_entropy(m(b[0], b[1]), b[2]),
        epochs=epochs, batch_size=1, optimizer=opt, evaluate=evaluate, patience=patience,
        max_grad_norm=None, seed=seed, show_progress=show_progress, desc=desc,
    )


def dev_split(n: int, seed: int, fraction: float = 0.1) -> tuple[list[int], list[int]]:
    """``(train_idx, dev_idx)``: a seeded permutation of ``range(n)`` whose first ``n * fraction``
    (rounded down) indices are the dev split (Kim's 10 % of the training data)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    order = numpy_rng(seed).permutation(n).tolist()
    n_dev = int(n * fraction)  # n // 10 for 0.1: the float 0.1 is a hair above 1/10
    return order[n_dev:], order[:n_dev]


def fit_text_classifier(
    make_model: Callable[[int], nn.Module],
    texts: Sequence[str],
    labels: Sequence[int],
    seed: int = 0,
    dev_fraction: float = 0.1,
    tokenize: Callable[[str], list[str]] = str.split,
    device: torch.device | str | None = None,
    **fit_kwargs,
) -> tuple[nn.Module, Vocab]:
    """Kim's protocol from raw texts: a vocabulary of the training texts, a seeded dev split of
    ``dev_fraction`` of them for early stopping, a model seeded with ``seed`` and trained with
    :func:`fit_classifier` (``fit_kwargs``: ``epochs``, ``lr``, ``batch_size``, ``max_norm``, ...).

    Args:
        make_model: ``vocab_size -> model``, called after ``seed_everything(seed)``.
        texts, labels: the training data.
        seed: seeds the dev split, the initial weights and the batches.
        device: where the model trains (None: where ``make_model`` put it).

    Returns:
        ``(model, vocab)``; the model holds the weights of its best epoch on the dev split.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    vocab = Vocab.build([tokenize(t) for t in texts])
    seqs = encode(texts, vocab, tokenize)
    train_idx, dev_idx = dev_split(len(seqs), seed, dev_fraction)
    seed_everything(seed)
    model = make_model(len(vocab))
    if device is not None:
        model = model.to(device)
    fit_classifier(model, [seqs[i] for i in train_idx], [labels[i] for i in train_idx],
                   dev=([seqs[i] for i in dev_idx], [labels[i] for i in dev_idx]), seed=seed,
                   pad_id=vocab.pad_id, **fit_kwargs)
    return model, vocab


@torch.no_grad()
def predict(
    model: nn.Module,
    seqs: Sequence[Sequence[int]],
    batch_size: int = 500,
    pad_id: int = 0,
    device: torch.device | str | None = None,
) -> Tensor:
    """Predicted class ids ``(N,)`` (on the CPU) of ``model(tokens, mask)`` in eval mode.

    Sentences are batched by length (less padding) and the predictions put back in input order.
    """
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    pred = torch.zeros(len(seqs), dtype=torch.long)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        ids, _, mask = pad_batch([seqs[i] for i in idx], pad_id=pad_id)
        pred[idx] = model(ids.to(device), mask.to(device)).argmax(-1).cpu()
    model.train(was_training)
    return pred


def accuracy(model: nn.Module, seqs: Sequence[Sequence[int]], labels: Sequence[int], **kwargs) -> float:
    """Fraction of ``seqs`` whose prediction equals the label."""
    if len(seqs) != len(labels):
        raise ValueError(f"{len(seqs)} sequences but {len(labels)} labels")
    pred = predict(model, seqs, **kwargs)
    return (pred == torch.as_tensor(list(labels))).float().mean().item()


# ----------------------------------------------------------------------------------------------
# Documents: lists of sentences


def _sentences_and_label(doc) -> tuple[Sequence[Sequence], int]:
    if hasattr(doc, "sentences"):  # e.g. attnbook.data.synthetic.SalientDocument
        return doc.sentences, doc.label
    sentences, label = doc
    return sentences, label


def document_batch(docs: Sequence, vocab: Vocab | None = None, flat: bool = False,
                   pad_id: int = 0) -> tuple[tuple[Tensor, ...], Tensor]:
    """A batch of documents for a classifier: ``(inputs, labels)`` with ``model(*inputs)`` the
    logits.

    Args:
        docs: documents with ``.sentences`` and ``.label``, or ``(sentences, label)`` pairs; a
            sentence is a sequence of tokens (encoded with ``vocab``) or of ids (``vocab=None``).
        vocab: the vocabulary, or None for sentences of ids already.
        flat: join each document's sentences into one sequence: inputs ``(tokens (B, L),
            mask (B, L))``; otherwise ``(ids (B, S, L), word_mask (B, S, L), sentence_mask (B, S))``
            (:func:`attnbook.data.text.pad_documents`).
        pad_id: the padding id.

    Returns:
        ``(inputs, labels (B,))`` on the CPU (:func:`attnbook.train.fit` moves a batch to the
        model's device).
    """
    pairs = [_sentences_and_label(d) for d in docs]
    if vocab is None:
        ids = [sentences for sentences, _ in pairs]
    else:
        ids = [[vocab.encode(list(s)) for s in sentences] for sentences, _ in pairs]
    labels = torch.tensor([label for _, label in pairs])
    if flat:
        tokens, _, mask = pad_batch([[w for s in doc for w in s] for doc in ids], pad_id=pad_id)
        return (tokens, mask), labels
    b = pad_documents(ids, pad_id=pad_id)
    return (b.ids, b.word_mask, b.sentence_mask), labels


def classification_loss(model: nn.Module, batch) -> Tensor:
    """Cross-entropy of ``model(*inputs)`` against the labels of a batch ``(inputs, labels, ...)``
    (:func:`document_batch`, :func:`sorted_batches`): the ``loss_fn`` of :func:`attnbook.train.fit`
    and :func:`fit_one_epoch`."""
    inputs, labels = batch[0], batch[1]
    return F.cross_entropy(model(*inputs), labels)


def sorted_batches(docs: Sequence[Sequence[Sequence[int]]], labels: Sequence[int], batch_size: int,
                   flat: bool = False, by_tokens: bool = False,
                   pad_id: int = 0) -> list[tuple[tuple[Tensor, ...], Tensor, list[int]]]:
    """Padded batches of documents of word ids, made once, of documents of similar shape.

    The documents are sorted by (number of sentences, longest sentence) -- or by number of tokens
    with ``by_tokens`` -- and cut into batches of ``batch_size``, so that little of a batch is
    padding. Each batch is ``(inputs, labels, indices)`` with the inputs of :func:`document_batch`
    and ``indices`` the documents' positions in ``docs``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(docs) != len(labels):
        raise ValueError(f"{len(docs)} documents but {len(labels)} labels")
    if by_tokens:
        order = sorted(range(len(docs)), key=lambda i: sum(map(len, docs[i])))
    else:
        order = sorted(range(len(docs)), key=lambda i: (len(docs[i]), max(map(len, docs[i]))))
    out = []
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        inputs, y = document_batch([(docs[i], labels[i]) for i in idx], flat=flat, pad_id=pad_id)
        out.append((inputs, y, idx))
    return out


def fit_one_epoch(model: nn.Module, batches: Sequence, loss_fn: Callable = classification_loss,
                  lr: float = 3e-3, seed: int = 0, floor: float = 0.05,
                  max_grad_norm: float | None = 1.0, desc: str | None = None,
                  show_progress: bool = True) -> list[float]:
    """One pass of Adam over ready batches in a seeded random order, with a one-epoch schedule.

    The batch order is ``python_rng(seed).shuffle``; the learning rate of step s of n is
    ``lr * min(1, 2 (1 - s / n) + floor)``: constant for the first half of the epoch, then falling
    linearly to about ``floor * lr``. Each step is :func:`attnbook.train.train_step` (gradients
    clipped at ``max_grad_norm``), through :func:`attnbook.train.fit` with the schedule attached by
    :func:`attnbook.schedules.per_step_schedule`. For one epoch over data too large to batch again each epoch
    (the IMDB reviews of ``notebooks/24_han_imdb``).

    Returns:
        the loss of every step, in order; the model is left in eval mode.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)  # one multi-tensor update
    order = list(range(len(batches)))
    python_rng(seed).shuffle(order)
    n = len(order)
    per_step_schedule(opt, lambda step: min(1.0, 2 * (1 - step / n) + floor))
    # the batches are ready and ordered: fit takes them one by one, shuffling nothing
    hist = fit(model, order, lambda ks: batches[ks[0]], loss_fn, max_steps=n, batch_size=1,
               optimizer=opt, max_grad_norm=max_grad_norm, seed=None, shuffle=False,
               show_progress=show_progress, desc=desc or type(model).__name__)
    return hist.step_loss


@torch.no_grad()
def evaluate_batches(model: nn.Module, batches: Sequence,
                     keep: Callable[[nn.Module, int], object] | None = None
                     ) -> tuple[float, dict[int, int], dict[int, object]]:
    """Accuracy (%) of ``model`` over :func:`sorted_batches`, with its prediction for every
    document and, optionally, what ``keep(model, row)`` returns for each (e.g. the HAN's attention
    weights of that row), all keyed by the document's index."""
    model.eval()
    device = model_device(model)
    correct, pred, kept = 0, {}, {}
    for inputs, y, idx in batches:
        p = model(*to_device(inputs, device)).argmax(-1).cpu()
        correct += (p == y).sum().item()
        for j, i in enumerate(idx):
            pred[i] = p[j].item()
            if keep is not None:
                kept[i] = keep(model, j)
    return 100 * correct / len(pred), pred, kept


def head_and_tail(doc: Sequence[Sequence[str]], max_tokens: int, max_words: int,
                  max_sentences: int) -> list[Sequence[str]]:
    """The first sentences of a document up to ``max_tokens / 2`` tokens, then its last sentences up
    to ``max_tokens`` in all (a review's opening and its verdict), each cut to ``max_words`` words
    and at most ``max_sentences`` sentences; a document whose first sentence is too long keeps
    that sentence's first ``max_tokens`` words."""
    doc = [s[:max_words] for s in doc]
    head, n = [], 0
    for s in doc:
        if n + len(s) > max_tokens // 2 or len(head) >= max_sentences // 2:
            break
        head.append(s)
        n += len(s)
    tail, m = [], 0
    for s in reversed(doc[len(head):]):
        if n + m + len(s) > max_tokens or len(head) + len(tail) >= max_sentences:
            break
        tail.append(s)
        m += len(s)
    return (head + tail[::-1]) or [doc[0][:max_tokens]]


def unigrams_and_bigrams(doc: Sequence[Sequence[str]]) -> list[str]:
    """The words of a document (sentences of words) and its word pairs, ``"a b"``: the analyzer of
    a TF-IDF baseline (word pairs across a sentence boundary included)."""
    words = [w for s in doc for w in s]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def log_count_ratio(docs: Sequence[Sequence[Sequence[int]]], labels: Sequence[int],
                    vocab_size: int, pad_id: int = 0) -> Tensor:
    r"""The log-count ratio of every word id (Wang & Manning 2012), from document frequencies:
    :math:`r_w = \log\frac{(p_w + 1) / (n_+ + 2)}{(q_w + 1) / (n_- + 2)}` with :math:`p_w`
    (:math:`q_w`) the number of positive (negative) documents that contain w and :math:`n_\pm`
    the number of documents of each class; ``(vocab_size,)``, 0 at ``pad_id``. Labels are 0/1."""
    if len(docs) != len(labels):
        raise ValueError(f"{len(docs)} documents but {len(labels)} labels")
    pos, neg = Counter(), Counter()
    for d, y in zip(docs, labels, strict=True):
        (pos if y == 1 else neg).update({w for s in d for w in s})
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    ratio = torch.tensor([math.log((pos[i] + 1) / (n_pos + 2)) - math.log((neg[i] + 1) / (n_neg + 2))
                          for i in range(vocab_size)])
    ratio[pad_id] = 0.0
    return ratio


@torch.no_grad()
def head_start(embedding: nn.Embedding, values: Tensor, column: int = 0) -> nn.Embedding:
    """Set one coordinate of every word vector, e.g. to the word's :func:`log_count_ratio`, so that
    a sentiment model starts knowing each word's polarity (in place; returns ``embedding``)."""
    if values.shape != (embedding.num_embeddings,):
        raise ValueError(f"expected values of shape ({embedding.num_embeddings},), got "
                         f"{tuple(values.shape)}")
    embedding.weight[:, column] = values
    return embedding

