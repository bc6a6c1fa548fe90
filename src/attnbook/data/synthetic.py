"""Synthetic tasks, generated in code from a seed: no download, any size, train and test disjoint.

Taught with the chapters that use them:

- :func:`dates` -- human-readable dates in many formats -> ISO dates (``"tue, 3 mar 2015"`` ->
  ``"2015-03-03"``), with control over the input length (several dates per example, filler words
  around them). Chapters
  "Sequence to sequence" (``notebooks/11_seq2seq``) and "Attention in seq2seq"
  (``notebooks/21_attention_seq2seq``). Train and test use disjoint calendar dates.
- :func:`copy_reverse` -- copy or reverse a random token sequence (the bottleneck in its purest form:
  the information to carry grows with the length).
- :func:`copy_task` -- name, at every position, the token ``distance`` positions back (chapter
  "The limits of RNNs and CNNs", ``notebooks/31_limits``): the long-range task for a tagger.
- :func:`recall` -- the long-range memory task of "Recurrent networks" (``notebooks/10_rnn``): read
  a sequence and answer with the token seen ``L`` steps before the end.
- :func:`salient_documents` -- documents of neutral sentences in which exactly one sentence decides
  the label; the generator returns which one (chapter "Attention for classification").
- :func:`dictionary_lookup` -- GATv2's graphs on which each query node must find the key with its
  own attribute (Brody et al., 2022, section 4.1), in ``notebooks/51_gat_inside``: the task that
  static attention (GAT) cannot express and dynamic attention (GATv2) can.

Every function takes a ``seed`` and is deterministic given its arguments; two calls with the same
arguments return the same data. "Train and test disjoint" means that no test example's content
(the calendar date, the token sequence, the document) also occurs in the training set.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from attnbook.utils import generator, python_rng

__all__ = [
    "DatePair",
    "DATE_FORMATS",
    "FILLER_WORDS",
    "format_date",
    "dates",
    "copy_reverse",
    "copy_task",
    "recall",
    "RecallExample",
    "SalientDocument",
    "salient_documents",
    "two_cue_documents",
    "next_token",
    "dictionary_lookup",
]

_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


#: The formats of :func:`format_date` (all lower case, all unambiguous: numeric ones are day first).
DATE_FORMATS: dict[str, Callable[[_dt.date], str]] = {
    "iso": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    "dmy_dots": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "dmy_slash": lambda d: f"{d.day}/{d.month}/{d.year}",
    "d_mon_y": lambda d: f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year}",
    "d_month_y": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "month_d_y": lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "mon_d_y": lambda d: f"{_MONTHS[d.month - 1][:3]} {d.day:02d} {d.year}",
    "dow_d_mon_y": lambda d: (
        f"{_DAYS[d.weekday()][:3]}, {d.day} {_MONTHS[d.month - 1][:3]} {d.year}"
    ),
    "dow_month_d_y": lambda d: f"{_DAYS[d.weekday()]}, {_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "the_nth_of": lambda d: f"the {_ordinal(d.day)} of {_MONTHS[d.month - 1]} {d.year}",
}

#: Words put around a date to make the input longer; none is a month, a weekday or a number.
FILLER_WORDS: tuple[str, ...] = (
    "on", "the", "meeting", "due", "by", "see", "you", "at", "noon", "please", "note", "date",
    "ref", "call", "me", "our", "trip", "starts", "ends", "paid", "signed", "sent", "from", "to",
    "office", "room", "we", "met", "it", "was", "late", "early", "party", "exam", "in", "a",
)  # fmt: skip


def format_date(date: _dt.date, fmt: str) -> str:
    """Render ``date`` in the format named ``fmt`` (a key of :data:`DATE_FORMATS`).

    >>> format_date(_dt.date(2015, 3, 3), "the_nth_of")
    'the 3rd of march 2015'
    """
    if fmt not in DATE_FORMATS:
        raise ValueError(f"unknown date format {fmt!r}; choose one of {sorted(DATE_FORMATS)}")
    return DATE_FORMATS[fmt](date)


@dataclass(frozen=True)
class DatePair:
    """One example of the date task: ``source`` (human-readable dates, maybe with filler words) ->
    ``target`` (the ISO dates ``yyyy-mm-dd``, joined by ``";"``); ``dates`` and ``formats`` say
    how it was made."""

    source: str
    target: str
    dates: tuple[_dt.date, ...]
    formats: tuple[str, ...]


def _pad_with_filler(text: str, length: int, rng: random.Random) -> str:
    """Add filler words before and after ``text`` until it is at least ``length`` characters
    long (then at most one word longer); the date keeps a random position among the words."""
    before: list[str] = []
    after: list[str] = []
    while len(" ".join([*before, text, *after])) < length:
        word = rng.choice(FILLER_WORDS)
        (before if rng.random() < 0.5 else after).append(word)
    return " ".join([*before, text, *after])


def dates(
    n_train: int,
    n_test: int,
    seed: int = 0,
    min_dates: int = 1,
    max_dates: int = 1,
    min_length: int = 0,
    max_length: int = 0,
    formats: tuple[str, ...] | None = None,
    first_year: int = 1950,
    last_year: int = 2049,
    test_fraction: float = 0.2,
) -> tuple[list[DatePair], list[DatePair]]:
    """The date task: human-readable dates -> ISO dates, train and test on disjoint calendar dates.

    Each example holds ``k`` dates, ``k`` uniform in ``[min_dates, max_dates]``; each date is a
    uniformly drawn calendar date rendered in a uniformly drawn format (:func:`format_date`), and the
    renderings are joined by ``"; "``: ``"3 mar 2015; june 4, 1999"`` -> ``"2015-03-03;1999-06-04"``.
    The input length is controlled in two ways:

    - the number of dates (``min_dates``, ``max_dates``): longer inputs carry *more* information,
      which all has to pass through the encoder -- the setting in which one fixed context vector
      becomes a bottleneck;
    - filler words (``max_length > 0``): a target length is drawn uniformly from
      ``[min_length, max_length]`` and random :data:`FILLER_WORDS` are added before and after until
      the source is at least that long (``"see you on 3 mar 2015 at noon"``): the same information
      spread over more characters.

    Args:
        n_train, n_test: numbers of examples (duplicates are possible within the training set, as
            in any sample; no date of a test example occurs in any training example).
        seed: the random seed.
        min_dates, max_dates: the number of dates per example.
        min_length, max_length: the source length range in characters; ``max_length=0``: no filler.
        formats: the format names to use (default: all of :data:`DATE_FORMATS` except ``"iso"``).
        first_year, last_year: the calendar range.
        test_fraction: the share of calendar dates reserved for the test set.

    Returns:
        ``(train, test)``: lists of :class:`DatePair`.
    """
    if n_train < 0 or n_test < 0:
        raise ValueError(f"n_train and n_test must be >= 0, got {n_train}, {n_test}")
    if not 1 <= min_dates <= max_dates:
        raise ValueError(f"need 1 <= min_dates <= max_dates, got {min_dates}, {max_dates}")
    if max_length and min_length > max_length:
        raise ValueError(f"min_length {min_length} > max_length {max_length}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    fmts = tuple(formats) if formats is not None else tuple(f for f in DATE_FORMATS if f != "iso")
    for f in fmts:
        if f not in DATE_FORMATS:
            raise ValueError(f"unknown date format {f!r}; choose from {sorted(DATE_FORMATS)}")
    rng = python_rng(seed)
    start = _dt.date(first_year, 1, 1).toordinal()
    end = _dt.date(last_year, 12, 31).toordinal()
    days = list(range(start, end + 1))
    rng.shuffle(days)
    n_test_days = max(1, int(round(test_fraction * len(days))))
    pools = {"test": days[:n_test_days], "train": days[n_test_days:]}

    def make(n: int, pool: list[int]) -> list[DatePair]:
        out = []
        for _ in range(n):
            k = rng.randint(min_dates, max_dates)
            ds = tuple(_dt.date.fromordinal(rng.choice(pool)) for _ in range(k))
            fs = tuple(rng.choice(fmts) for _ in range(k))
            src = "; ".join(format_date(d, f) for d, f in zip(ds, fs, strict=True))
            if max_length:
                src = _pad_with_filler(src, rng.randint(min_length, max_length), rng)
            out.append(DatePair(src, ";".join(d.isoformat() for d in ds), ds, fs))
        return out

    return make(n_train, pools["train"]), make(n_test, pools["test"])


def copy_reverse(
    n_train: int,
    n_test: int,
    min_length: int,
    max_length: int,
    vocab_size: int = 10,
    reverse: bool = False,
    seed: int = 0,
) -> tuple[list[tuple[list[str], list[str]]], list[tuple[list[str], list[str]]]]:
    """Copy (or reverse) a random sequence of symbols ``"a", "b", ...``.

    Args:
        n_train, n_test: numbers of examples; all ``n_train + n_test`` sources are distinct.
        min_length, max_length: the source length range (uniform).
        vocab_size: the number of distinct symbols (at most 26).
        reverse: the target is the source reversed (else a copy).
        seed: the random seed.

    Returns:
        ``(train, test)``: lists of ``(source tokens, target tokens)``.
    """
    if not 1 <= vocab_size <= 26:
        raise ValueError(f"vocab_size must be in [1, 26], got {vocab_size}")
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length}, {max_length}")
    possible = sum(vocab_size**k for k in range(min_length, max_length + 1))
    if n_train + n_test > possible:
        raise ValueError(f"only {possible} distinct sequences exist; asked for {n_train + n_test}")
    rng = python_rng(seed)
    symbols = [chr(ord("a") + i) for i in range(vocab_size)]
    seen: set[tuple[str, ...]] = set()
    out = []
    while len(out) < n_train + n_test:
        src = tuple(rng.choice(symbols) for _ in range(rng.randint(min_length, max_length)))
        if src in seen:
            continue
        seen.add(src)
        out.append((list(src), list(reversed(src)) if reverse else list(src)))
    return out[:n_train], out[n_train:]


def copy_task(
    n: int, length: int, distance: int, n_symbols: int = 8, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """The long-range task: at every position t >= distance, name the token at t - distance.

    Returns:
        ``(tokens, targets)``: ``(n, length)`` int64 uniform in ``[0, n_symbols)`` and
        ``(n, length)`` int64 with ``targets[:, t] = tokens[:, t - distance]`` and ``-100`` (the
        ignore index of ``cross_entropy``) for ``t < distance``.
    """
    if not 0 <= distance < length:
        raise ValueError(f"need 0 <= distance < length, got distance={distance}, length={length}")
    g = generator(seed)
    tokens = torch.randint(0, n_symbols, (n, length), generator=g)
    targets = torch.full_like(tokens, -100)
    targets[:, distance:] = tokens[:, : length - distance]
    return tokens, targets


@dataclass(frozen=True)
class RecallExample:
    """One example of the recall task: ``tokens`` (ids in ``[0, n_symbols + n_distractors)``) and
    ``label``, the symbol at position ``len(tokens) - 1 - lag``."""

    tokens: tuple[int, ...]
    label: int


def recall(
    n_train: int,
    n_test: int,
    lag: int,
    n_symbols: int = 8,
    n_distractors: int = 4,
    seed: int = 0,
) -> tuple[list[RecallExample], list[RecallExample]]:
    """Long-range recall: remember the token seen ``lag`` steps before the end.

    A sequence of ``lag + 1`` tokens: position 0 holds one of ``n_symbols`` symbols (ids
    ``0 .. n_symbols - 1``), the ``lag`` positions after it hold random distractors (ids
    ``n_symbols .. n_symbols + n_distractors - 1``). The label is the symbol at position 0, which a
    model that reads left to right has seen ``lag`` steps before its last input. Chance accuracy is
    ``1 / n_symbols``.

    Args:
        n_train, n_test: numbers of examples; no test sequence occurs in the training set.
        lag: the distance ``L`` (>= 1) between the symbol and the end of the sequence.
        n_symbols, n_distractors: the sizes of the two token sets.
        seed: the random seed.

    Returns:
        ``(train, test)``: lists of :class:`RecallExample`.
    """
    if lag < 1:
        raise ValueError(f"lag must be >= 1, got {lag}")
    if n_symbols < 2 or n_distractors < 1:
        raise ValueError(
            f"need n_symbols >= 2 and n_distractors >= 1, got {n_symbols}, {n_distractors}"
        )
    possible = n_symbols * n_distractors**lag
    if n_train + n_test > possible:
        raise ValueError(f"only {possible} distinct sequences exist; asked for {n_train + n_test}")
    rng = python_rng(seed)
    seen: set[tuple[int, ...]] = set()
    out = []
    while len(out) < n_train + n_test:
        label = rng.randrange(n_symbols)
        toks = (label, *(n_symbols + rng.randrange(n_distractors) for _ in range(lag)))
        if toks in seen:
            continue
        seen.add(toks)
        out.append(RecallExample(toks, label))
    return out[:n_train], out[n_train:]


@dataclass(frozen=True)
class SalientDocument:
    """A document (sentences of words) whose ``label`` is decided by sentence ``salient``."""

    sentences: tuple[tuple[str, ...], ...]
    label: int
    salient: int


_NEUTRAL = (
    "the", "film", "was", "shown", "on", "a", "tuesday", "we", "saw", "it", "with", "friends",
    "story", "is", "about", "family", "city", "music", "plays", "at", "end", "actors", "talk",
    "long", "scene", "camera", "moves", "slowly", "there", "are", "two", "parts", "this", "one",
)  # fmt: skip
_CUES = (
    ("awful", "boring", "terrible", "dull", "worst"),  # label 0
    ("great", "wonderful", "brilliant", "superb", "best"),  # label 1
)


def salient_documents(
    n_train: int,
    n_test: int,
    min_sentences: int = 3,
    max_sentences: int = 8,
    min_words: int = 4,
    max_words: int = 9,
    seed: int = 0,
) -> tuple[list[SalientDocument], list[SalientDocument]]:
    """Documents of neutral sentences in which exactly one sentence holds a cue word for the label.

    Every sentence is made of neutral words; one sentence, at a uniformly random position, also
    contains one cue word (``"great"`` ... for label 1, ``"awful"`` ... for label 0). A model that
    attends over sentences should put its weight on that sentence, whose index is returned.

    Args:
        n_train, n_test: numbers of documents; all are distinct.
        min_sentences, max_sentences: the number of sentences per document (uniform).
        min_words, max_words: the number of words per sentence (uniform, before the cue word).
        seed: the random seed.

    Returns:
        ``(train, test)``: lists of :class:`SalientDocument`; labels balanced in expectation.
    """
    if not 1 <= min_sentences <= max_sentences or not 1 <= min_words <= max_words:
        raise ValueError("need 1 <= min_sentences <= max_sentences and 1 <= min_words <= max_words")
    rng = python_rng(seed)
    seen: set[tuple[tuple[str, ...], ...]] = set()
    out = []
    while len(out) < n_train + n_test:
        n_sent = rng.randint(min_sentences, max_sentences)
        sents = [
            [rng.choice(_NEUTRAL) for _ in range(rng.randint(min_words, max_words))]
            for _ in range(n_sent)
        ]
        label = rng.randrange(2)
        salient = rng.randrange(n_sent)
        sents[salient].insert(rng.randrange(len(sents[salient]) + 1), rng.choice(_CUES[label]))
        doc = tuple(tuple(s) for s in sents)
        if doc in seen:
            continue
        seen.add(doc)
        out.append(SalientDocument(doc, label, salient))
    return out[:n_train], out[n_train:]



def two_cue_documents(
    docs: list[SalientDocument], seed: int = 0
) -> list[tuple[SalientDocument, tuple[tuple[int, int], tuple[int, int]]]]:
    """Documents with two cue sentences, built from :func:`salient_documents` (chapter 23).

    Document ``k`` starts from a document ``a``, and the cue sentence of another document ``b``
    replaces one of ``a``'s neutral sentences. The label is 1 only if both cues are positive:
    every second document has two positive cues, the others one of (positive, negative),
    (negative, positive), (negative, negative), drawn uniformly.

    Args:
        docs: the documents to draw ``a`` and ``b`` from (both labels must occur).
        seed: the random seed (through :func:`attnbook.utils.python_rng`: the seed offset moves it).

    Returns:
        one ``(document, ((position, polarity), (position, polarity)))`` per input document: the
        new document and where its two cue sentences are, with each cue's polarity.
    """
    pools = {y: [d for d in docs if d.label == y] for y in (0, 1)}
    if not pools[0] or not pools[1]:
        raise ValueError("two_cue_documents needs documents of both labels")
    rng = python_rng(seed)
    out = []
    for k in range(len(docs)):
        la, lb = (1, 1) if k % 2 == 0 else rng.choice([(1, 0), (0, 1), (0, 0)])
        a, b = rng.choice(pools[la]), rng.choice(pools[lb])
        j = rng.choice([i for i in range(len(a.sentences)) if i != a.salient])
        sentences = list(a.sentences)
        sentences[j] = b.sentences[b.salient]
        out.append((SalientDocument(tuple(sentences), la & lb, a.salient), ((a.salient, la), (j, lb))))
    return out


def next_token(n: int, length: int = 12, vocab: int = 6, seed: int = 0) -> list[tuple[Tensor, Tensor]]:
    """A tagging task: at every position, predict the next token (chapter 10's bidirectional RNN).

    Tokens are uniform over ``range(vocab)``; the target of the last position is ``vocab``
    ("end"). Only a model that reads to the right can do better than chance.

    Returns:
        ``n`` pairs ``(x, y)`` of int64 tensors of shape ``(length,)``.
    """
    if n < 0 or length < 1 or vocab < 1:
        raise ValueError(f"need n >= 0, length >= 1 and vocab >= 1, got {n}, {length}, {vocab}")
    g = generator(seed)  # an experiment's draw: the seed offset moves it
    x = torch.randint(0, vocab, (n, length), generator=g)  # (B, L)
    y = torch.cat([x[:, 1:], torch.full((n, 1), vocab)], dim=1)  # (B, L): next token, or "end"
    return list(zip(x, y, strict=True))


def dictionary_lookup(num_graphs: int, k: int, seed: int | torch.Generator = 0
                      ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Graphs on which a node must find, among k keys, the one whose attribute matches its own.

    Each graph has k *key* nodes, with attributes 0..k-1 and values a random permutation of
    0..k-1, and k *query* nodes with the attributes in a random order; every key sends an edge to
    every query (a complete bipartite graph, no self-loops). The label of a query is the value of
    the key with its attribute. Each query must rank the keys in its own order -- the task that
    static attention (GAT) cannot express and dynamic attention (GATv2) can.

    Features: one-hot attribute (k), one-hot value (k, zeros for a query), a query flag (1).
    Graphs for :class:`attnbook.gat.LookupNet`, with ``edge_index`` as in :mod:`attnbook.graph`.

    Args:
        num_graphs: G, the number of graphs.
        k: keys (and queries, and classes) per graph.
        seed: the random seed, or a ``torch.Generator`` to draw from.

    Returns:
        ``(x, edge_index, y, query_mask)``: ``(G*2k, 2k+1)``, ``(2, G*k*k)``, ``(G*2k,)`` (-1 on
        keys), ``(G*2k,)`` bool; graph g occupies nodes ``[2kg, 2kg + 2k)``, keys first.
    """
    G = num_graphs
    gen = seed if isinstance(seed, torch.Generator) else generator(seed)
    values = torch.stack([torch.randperm(k, generator=gen) for _ in range(G)])  # (G, k)
    q_attr = torch.stack([torch.randperm(k, generator=gen) for _ in range(G)])  # (G, k)
    eye = torch.eye(k)
    key_x = torch.cat([eye.expand(G, k, k), eye[values], torch.zeros(G, k, 1)], dim=2)  # (G, k, 2k+1)
    qry_x = torch.cat([eye[q_attr], torch.zeros(G, k, k), torch.ones(G, k, 1)], dim=2)  # (G, k, 2k+1)
    x = torch.cat([key_x, qry_x], dim=1).reshape(G * 2 * k, 2 * k + 1)
    y = torch.cat([torch.full((G, k), -1), values.gather(1, q_attr)], dim=1).reshape(-1)
    base = (torch.arange(G) * 2 * k).view(G, 1, 1)
    src = base + torch.arange(k).view(1, k, 1)  # key j
    dst = base + k + torch.arange(k).view(1, 1, k)  # query i
    edge_index = torch.stack([src.expand(G, k, k).reshape(-1), dst.expand(G, k, k).reshape(-1)])
    return x, edge_index, y, y >= 0
