r"""The date task shared by the sequence-to-sequence chapters: one configuration, one way to score.

Chapters *Sequence to sequence* (``notebooks/11_seq2seq``), *Attention in seq2seq*
(``notebooks/21_attention_seq2seq``) and the chapters that compare other models with them "on the
same task, with the same budget" (similarity functions, the Transformer) all import
:data:`DATE_TASK` from here, so the data, the training budget and the scores cannot drift apart
between notebooks.

The task (:func:`attnbook.data.synthetic.dates`): a source holds one to three human-readable dates
separated by ``"; "`` (``"03.11.1987; mar 02 2014"``), the target is their ISO forms joined by
``";"`` (``"1987-11-03;2014-03-02"``), read and written character by character. Test dates are
calendar dates that never occur in training.

Scores (:class:`DateScores`): *exact match* (the whole output equals the target) and *date
accuracy* (the share of the target's dates that the output reproduces at the same position), by
the number of dates, by the position of the date, and by the source length -- the analogue of
Bahdanau et al. (2015, Fig. 2), which plots a translation score against the sentence length.

Example::

    from attnbook.tasks import DATE_TASK

    data = DATE_TASK.load()                       # DateData: pairs, tokens, vocabularies
    model = DATE_TASK.rnn_seq2seq(data, "none")   # or "additive", "dot", "general"
    history = DATE_TASK.train(model, data)        # the shared budget (attnbook.train.fit)
    scores, weights = DATE_TASK.evaluate(model, data)  # greedy decoding of the test set, scored
    scores.exact_match, scores.date_accuracy, scores.by_count()

    run = DATE_TASK.run(data, "additive", epochs=2)   # trained (or, with reuse=True, loaded) and
    run.scores, run.weights, run.seconds, run.loaded  # scored in one call: a DateRun

A model with its own decoding (e.g. a Transformer decoded with
:func:`attnbook.seq2seq.translate`) is scored with ``DATE_TASK.score(outputs, data)``.

The Korean--English pairs of Tatoeba (:data:`KOR_ENG`) are the second shared task: chapter 21
translates them with the attention RNN, chapter 41 with the Transformer, on the same split and
tokenisation (Korean syllable by syllable, English word by word)::

    from attnbook.tasks import KOR_ENG

    ko = KOR_ENG.load()          # KorEngData: train / test token pairs, vocabularies, references
    fit(model, ko.train, ko.collate, teacher_forcing_loss, ...)
    hyps, _ = translate(model, ko.test_sources, ko.src_vocab, ko.tgt_vocab, KOR_ENG.max_out)
    ko.references                # the held-out English sentences as written, for sacreBLEU
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from attnbook import results
from attnbook.data import load_tatoeba_kor_eng, synthetic
from attnbook.data.corpora import TranslationPair
from attnbook.data.text import Vocab, tokenize_chars, tokenize_en, tokenize_ko
from attnbook.seq2seq import (
    AttentionDecoder,
    Batch,
    ContextDecoder,
    Encoder,
    Seq2Seq,
    accuracy_by_length,
    make_batch,
    teacher_forcing_loss,
    translate,
)
from attnbook.train import History, fit
from attnbook.utils import draw_seed, numpy_rng, python_rng, seed_everything

__all__ = ["DateTask", "DateData", "DateScores", "DateRun", "DATE_TASK", "date_matches",
           "is_calendar_date", "KorEngTask", "KorEngData", "KOR_ENG",
           "paired_bootstrap_bleu"]

ISO_LENGTH = len("yyyy-mm-dd")


def date_matches(output: str | Sequence[str], target: str) -> list[bool]:
    """For each date of ``target`` (ISO dates joined by ``";"``): does ``output`` have the same
    date at the same position? ``output`` is a string or a list of characters.

    >>> date_matches("2015-03-03;1999-06-05", "2015-03-03;1999-06-04;2001-01-01")
    [True, False, False]
    """
    out = output if isinstance(output, str) else "".join(output)
    produced = out.split(";")
    return [i < len(produced) and produced[i] == d for i, d in enumerate(target.split(";"))]


def is_calendar_date(text: str) -> bool:
    """Whether ``text`` is a real calendar date in ISO form (``datetime.date.fromisoformat``
    accepts it): a wrong output can still be a plausible date.

    >>> is_calendar_date("2014-03-02"), is_calendar_date("2014-02-30")
    (True, False)
    """
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass
class DateData:
    """The date task's data, built once by :meth:`DateTask.load`.

    Attributes:
        train_pairs, test_pairs: the :class:`attnbook.data.synthetic.DatePair` examples.
        train, test: ``(source characters, target characters)`` pairs.
        src_vocab, tgt_vocab: character vocabularies built from the training set.
    """

    train_pairs: list[synthetic.DatePair]
    test_pairs: list[synthetic.DatePair]
    train: list[tuple[list[str], list[str]]]
    test: list[tuple[list[str], list[str]]]
    src_vocab: Vocab
    tgt_vocab: Vocab

    @property
    def test_lengths(self) -> list[int]:
        """The source length (characters) of each test example."""
        return [len(s) for s, _ in self.test]

    def collate(self, examples: list[tuple[list[str], list[str]]]) -> Batch:
        """A padded teacher-forcing batch (:func:`attnbook.seq2seq.make_batch`)."""
        return make_batch(examples, self.src_vocab, self.tgt_vocab)


@dataclass
class DateScores:
    """Scores of a model's outputs on the test set.

    Attributes:
        outputs: the output strings, one per test example.
        exact: whether each output equals its target.
        dates: per example, whether each target date was reproduced at its position.
        lengths: the source length of each example (characters).
    """

    outputs: list[str]
    exact: list[bool]
    dates: list[list[bool]]
    lengths: list[int]
    edges: tuple[int, ...] = field(default=())

    @property
    def exact_match(self) -> float:
        """The share of examples whose whole output equals the target."""
        return sum(self.exact) / len(self.exact)

    @property
    def date_accuracy(self) -> float:
        """The share of all target dates (pooled over examples) reproduced at their position."""
        flat = [d for ds in self.dates for d in ds]
        return sum(flat) / len(flat)

    @property
    def counts(self) -> list[int]:
        """The number of dates in each example."""
        return [len(ds) for ds in self.dates]

    def by_count(self) -> dict[int, dict[str, float]]:
        """Per number of dates k: ``{"exact": .., "date": .., "n": examples}``."""
        out = {}
        for k in sorted(set(self.counts)):
            idx = [i for i, c in enumerate(self.counts) if c == k]
            flat = [d for i in idx for d in self.dates[i]]
            out[k] = {"exact": sum(self.exact[i] for i in idx) / len(idx),
                      "date": sum(flat) / len(flat), "n": len(idx)}
        return out

    def by_position(self) -> dict[tuple[int, int], float]:
        """Date accuracy per ``(number of dates k, position j)``, j = 1 .. k."""
        out = {}
        for k in sorted(set(self.counts)):
            rows = [ds for ds in self.dates if len(ds) == k]
            for j in range(k):
                out[(k, j + 1)] = sum(ds[j] for ds in rows) / len(rows)
        return out

    def date_accuracy_by_length(self, edges: Sequence[int] | None = None):
        """Date accuracy in source-length buckets: ``[(lo, hi, accuracy, dates), ...]`` (``hi``
        exclusive); each date counts with the length of the source it came from."""
        lengths = [n for n, ds in zip(self.lengths, self.dates, strict=True) for _ in ds]
        flat = [d for ds in self.dates for d in ds]
        return accuracy_by_length(lengths, flat, edges or self.edges)

    def exact_match_by_length(self, edges: Sequence[int] | None = None):
        """Exact match in source-length buckets: ``[(lo, hi, accuracy, examples), ...]``."""
        return accuracy_by_length(self.lengths, self.exact, edges or self.edges)

    def date_accuracy_drop(self) -> float:
        """In points: the date accuracy of the inputs with the fewest dates minus that of the
        inputs with the most (the decline with the length that attention removes)."""
        by_count = self.by_count()
        return 100 * (by_count[min(by_count)]["date"] - by_count[max(by_count)]["date"])


@dataclass
class DateRun:
    """A model trained on the date task and scored, by :meth:`DateTask.run`.

    Attributes:
        model, history: the trained model and its loss history.
        seconds: the seconds of training (those of the saved run when it was loaded).
        scores: its :class:`DateScores` on the test set; weights: each test example's attention
            weights (None for a decoder without attention).
        loaded: whether a saved model was loaded instead of training one.
    """

    model: Seq2Seq
    history: History
    seconds: float
    scores: DateScores
    weights: list
    loaded: bool


@dataclass(frozen=True)
class DateTask:
    """The date task and its budget: the one configuration that every comparison on it uses.

    Data (:func:`attnbook.data.synthetic.dates`): ``n_train`` / ``n_test`` examples of
    ``min_dates`` .. ``max_dates`` dates in ``formats``, from ``seed``.

    Budget (:func:`attnbook.train.fit`, Adam, gradient norm clipped to 1): ``epochs`` passes over
    the training set in batches of ``batch_size`` at learning rate ``lr``.

    The recurrent seq2seq models of chapters 11 and 21 (:meth:`rnn_seq2seq`): character
    embeddings of ``embed_dim``, a bidirectional GRU encoder of ``enc_hidden`` per direction, a GRU
    decoder of ``dec_hidden`` (= ``2 * enc_hidden``, so the dot score works), an additive score of
    hidden width ``attn_dim``.

    ``length_edges``: the source-length buckets of the length curves (characters, ``hi``
    exclusive).
    """

    n_train: int = 6000
    n_test: int = 1000
    seed: int = 0
    min_dates: int = 1
    max_dates: int = 3
    formats: tuple[str, ...] = ("dmy_dots", "dmy_slash", "d_mon_y", "mon_d_y")
    epochs: int = 12
    batch_size: int = 64
    lr: float = 1e-2
    embed_dim: int = 16
    enc_hidden: int = 48
    dec_hidden: int = 96
    attn_dim: int = 32
    length_edges: tuple[int, ...] = (8, 12, 18, 22, 25, 30, 34, 38)

    @property
    def max_out(self) -> int:
        """The most output tokens to decode: ``max_dates`` ISO dates, the separators, ``<eos>``."""
        return self.max_dates * (ISO_LENGTH + 1)

    @property
    def budget(self) -> dict:
        """The keyword arguments of :func:`attnbook.train.fit` that make the shared budget."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "seed": self.seed}

    def load(self) -> DateData:
        """The data (made once per configuration and seed offset, and cached)."""
        return _load(self, draw_seed(self.seed))

    def rnn_seq2seq(self, data: DateData, decoder: str = "none", **overrides) -> Seq2Seq:
        """The recurrent seq2seq model of chapters 11 and 21, seeded with ``seed``.

        Args:
            data: from :meth:`load` (for the vocabulary sizes).
            decoder: ``"none"`` (one fixed context vector, :class:`ContextDecoder`) or an attention
                score for :class:`AttentionDecoder`: ``"additive"``, ``"dot"``, ``"general"``.
            overrides: replace ``embed_dim``, ``enc_hidden``, ``dec_hidden`` or ``attn_dim``.
        """
        cfg = {k: getattr(self, k) for k in ("embed_dim", "enc_hidden", "dec_hidden", "attn_dim")}
        unknown = set(overrides) - set(cfg)
        if unknown:
            raise ValueError(f"unknown model settings {sorted(unknown)}; choose from {sorted(cfg)}")
        cfg.update(overrides)
        seed_everything(self.seed)
        enc = Encoder(len(data.src_vocab), cfg["embed_dim"], cfg["enc_hidden"])
        if decoder == "none":
            dec = ContextDecoder(len(data.tgt_vocab), cfg["embed_dim"], cfg["dec_hidden"], enc.out_dim)
        else:
            dec = AttentionDecoder(len(data.tgt_vocab), cfg["embed_dim"], cfg["dec_hidden"],
                                   enc.out_dim, score=decoder, attn_dim=cfg["attn_dim"])
        return Seq2Seq(enc, dec)

    def train(self, model: nn.Module, data: DateData, desc: str = "date task", **overrides) -> History:
        """Train with teacher forcing on the shared budget (``overrides`` replace parts of it, e.g.
        ``epochs=`` for a deliberately smaller budget; say so where you use it)."""
        return fit(model, data.train, data.collate, teacher_forcing_loss, desc=desc,
                   **{**self.budget, **overrides})

    def trained(
        self, data: DateData, decoder: str = "none", *, reuse: bool = False, desc: str | None = None,
        device: torch.device | str = "cpu", **overrides,
    ) -> tuple[Seq2Seq, History, float]:
        """:meth:`rnn_seq2seq` trained on the budget: ``(model, history, seconds of training)``.

        The trained weights, the loss history and the training time are saved in the results
        folder (:func:`attnbook.results.results_dir`, subfolder ``date_task``) under a key made of
        this configuration, the seed offset, the decoder, ``overrides``, the device type, the torch
        version and the source code of the modules that define the data, the model and the training. With
        ``reuse=True`` a saved model with the same key is loaded instead of training again: the
        book build executes *Sequence to sequence* first, which trains and saves the
        fixed-context baseline, and *Attention in seq2seq* reuses it -- the same model, trained
        once per build. Anything that changes the result changes the key; without a saved file
        (e.g. a notebook opened alone in Colab) the model is trained here.

        Args:
            overrides: budget settings (``epochs``, ``batch_size``, ``lr``) for :meth:`train`;
                model settings go through :meth:`rnn_seq2seq` and are not accepted here.
        """
        model, history, seconds, _ = self._trained(data, decoder, reuse=reuse, desc=desc, device=device,
                                                   **overrides)
        return model, history, seconds

    def run(
        self, data: DateData, decoder: str = "none", *, reuse: bool = False, desc: str | None = None,
        device: torch.device | str = "cpu", **overrides,
    ) -> DateRun:
        """:meth:`trained` (the same arguments), then :meth:`evaluate`: one :class:`DateRun`."""
        model, history, seconds, loaded = self._trained(data, decoder, reuse=reuse, desc=desc,
                                                        device=device, **overrides)
        scores, weights = self.evaluate(model, data)
        return DateRun(model=model, history=history, seconds=seconds, scores=scores,
                       weights=weights, loaded=loaded)

    def _trained(self, data: DateData, decoder: str, *, reuse: bool, desc: str | None,
                 device: torch.device | str, **overrides) -> tuple[Seq2Seq, History, float, bool]:
        budget_keys = {"epochs", "batch_size", "lr"}
        if set(overrides) - budget_keys:
            raise ValueError(f"trained() accepts budget overrides {sorted(budget_keys)}, got "
                             f"{sorted(set(overrides) - budget_keys)}")
        model = self.rnn_seq2seq(data, decoder).to(device)
        path = results.results_dir() / "date_task" / f"{self._key(decoder, overrides, model)}.pt"
        if reuse and path.is_file():
            saved = torch.load(path, map_location=device, weights_only=True)
            model.load_state_dict(saved["state"])
            model.eval()
            return model, History(train_loss=list(saved["train_loss"])), float(saved["seconds"]), True
        t0 = time.perf_counter()
        history = self.train(model, data, desc=desc or decoder, **overrides)
        seconds = time.perf_counter() - t0
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"state": model.state_dict(), "train_loss": history.train_loss,
                    "seconds": seconds}, tmp)
        tmp.replace(path)
        return model, history, seconds, False

    def _key(self, decoder: str, overrides: dict, model: nn.Module) -> str:
        sources = b"".join(
            Path(importlib.import_module(name).__file__).read_bytes()
            for name in ("attnbook.tasks", "attnbook.seq2seq", "attnbook.rnn", "attnbook.attention",
                         "attnbook.train", "attnbook.data.synthetic", "attnbook.data.text", "attnbook.utils")
        )
        # the seed the draws really use (the seed offset included): another offset, another model
        what = json.dumps([dataclasses.asdict(self), draw_seed(self.seed), decoder, sorted(overrides.items()),
                           str(next(model.parameters()).device.type), torch.__version__],
                          sort_keys=True, default=str)
        return f"{decoder}-" + hashlib.sha256(what.encode() + sources).hexdigest()[:16]

    def score(self, outputs: Sequence[str | Sequence[str]], data: DateData) -> DateScores:
        """Score outputs (strings or lists of characters, one per test example, without
        ``<eos>``)."""
        if len(outputs) != len(data.test_pairs):
            raise ValueError(f"expected {len(data.test_pairs)} outputs, got {len(outputs)}")
        strings = [o if isinstance(o, str) else "".join(o) for o in outputs]
        targets = [p.target for p in data.test_pairs]
        return DateScores(
            outputs=strings,
            exact=[o == t for o, t in zip(strings, targets, strict=True)],
            dates=[date_matches(o, t) for o, t in zip(strings, targets, strict=True)],
            lengths=data.test_lengths,
            edges=self.length_edges,
        )

    def evaluate(self, model: Seq2Seq, data: DateData) -> tuple[DateScores, list]:
        """Greedy-decode the test set (:func:`attnbook.seq2seq.translate`) and score it.

        Returns:
            ``(scores, weights)``: the :class:`DateScores` and each example's attention weights
            (None for a decoder without attention).
        """
        outputs, weights = translate(model, [s for s, _ in data.test], data.src_vocab,
                                     data.tgt_vocab, self.max_out)
        return self.score(outputs, data), weights


@functools.lru_cache(maxsize=4)
def _load(task: DateTask, drawn_seed: int) -> DateData:  # drawn_seed: part of the cache's key
    train_pairs, test_pairs = synthetic.dates(
        task.n_train, task.n_test, seed=task.seed, min_dates=task.min_dates,
        max_dates=task.max_dates, formats=task.formats,
    )
    train = [(tokenize_chars(p.source), tokenize_chars(p.target)) for p in train_pairs]
    test = [(tokenize_chars(p.source), tokenize_chars(p.target)) for p in test_pairs]
    return DateData(
        train_pairs=train_pairs, test_pairs=test_pairs, train=train, test=test,
        src_vocab=Vocab.build([s for s, _ in train]), tgt_vocab=Vocab.build([t for _, t in train]),
    )


#: The date task of chapters 11 and 21, and of every comparison "on the same task and budget".
DATE_TASK = DateTask()


@dataclass
class KorEngData:
    """The Korean--English split, built once by :meth:`KorEngTask.load`.

    Attributes:
        train_pairs, test_pairs: the :class:`attnbook.data.corpora.TranslationPair` examples
            (each keeps its Tatoeba attribution).
        train, test: ``(Korean syllables, English words)`` token pairs.
        src_vocab, tgt_vocab: the Korean and English vocabularies, built from the training pairs.
    """

    train_pairs: list[TranslationPair]
    test_pairs: list[TranslationPair]
    train: list[tuple[list[str], list[str]]]
    test: list[tuple[list[str], list[str]]]
    src_vocab: Vocab
    tgt_vocab: Vocab

    @property
    def test_sources(self) -> list[list[str]]:
        """The held-out Korean inputs (syllables), for :func:`attnbook.seq2seq.translate`."""
        return [k for k, _ in self.test]

    @property
    def references(self) -> list[str]:
        """The held-out English sentences as written (sacreBLEU tokenises them itself)."""
        return [p.english for p in self.test_pairs]

    def collate(self, examples: list[tuple[list[str], list[str]]]) -> Batch:
        """A padded teacher-forcing batch (:func:`attnbook.seq2seq.make_batch`)."""
        return make_batch(examples, self.src_vocab, self.tgt_vocab)


@dataclass(frozen=True)
class KorEngTask:
    """The Tatoeba Korean--English task of chapters 21 and 41: one split, one tokenisation.

    The pairs of :func:`attnbook.data.load_tatoeba_kor_eng` whose English side has at most
    ``max_words`` words (:func:`attnbook.data.text.tokenize_en`), shuffled with
    ``attnbook.utils.python_rng(seed)`` (the seed offset honoured); the first ``n_test`` are held out. Korean is read syllable by syllable
    (:func:`attnbook.data.text.tokenize_ko`). ``max_out``: the most English words to decode.
    """

    max_words: int = 8
    n_test: int = 300
    seed: int = 0
    max_out: int = 12

    def load(self) -> KorEngData:
        """The split (made once per configuration and seed offset, and cached)."""
        return _load_kor_eng(self, draw_seed(self.seed))


@functools.lru_cache(maxsize=2)
def _load_kor_eng(task: KorEngTask, drawn_seed: int) -> KorEngData:  # drawn_seed: the cache's key
    rows = [(tokenize_ko(p.korean), tokenize_en(p.english), p) for p in load_tatoeba_kor_eng()]
    rows = [r for r in rows if len(r[1]) <= task.max_words]
    python_rng(task.seed).shuffle(rows)
    test, train = rows[: task.n_test], rows[task.n_test :]
    return KorEngData(
        train_pairs=[p for _, _, p in train], test_pairs=[p for _, _, p in test],
        train=[(k, e) for k, e, _ in train], test=[(k, e) for k, e, _ in test],
        src_vocab=Vocab.build([k for k, _, _ in train]), tgt_vocab=Vocab.build([e for _, e, _ in train]),
    )


#: The Tatoeba Korean--English split of chapters 21 and 41.
KOR_ENG = KorEngTask()


def paired_bootstrap_bleu(
    systems_a: Sequence[Sequence[str]],
    systems_b: Sequence[Sequence[str]],
    references: Sequence[str],
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    lowercase: bool = True,
) -> dict:
    """The BLEU gap ``a - b`` between two systems and its paired-bootstrap interval (Koehn 2004).

    ``systems_a`` and ``systems_b`` hold one or more runs each (e.g. one per training seed), every
    run a list of detokenised outputs (:func:`attnbook.data.text.detokenize_en`), one per reference.
    Each resample draws the test sentences with replacement -- the *same* sentences for every run of
    both systems (paired) -- and computes the corpus BLEU (sacreBLEU) of each run on them; the
    statistic is the mean over runs of ``BLEU(a_k) - BLEU(b_k)``.

    Returns:
        ``{"gap": the gap on the full test set, "low", "high": the interval's ends (percentiles of
        the resampled gaps), "gaps": per run, "a", "b": the runs' BLEUs, "share_a_ahead": the
        share of resamples where the mean gap is > 0}``.
    """
    from sacrebleu.metrics import BLEU  # an optional dependency of the package

    if len(systems_a) != len(systems_b) or not systems_a:
        raise ValueError(f"need as many runs of a as of b (at least one), got {len(systems_a)}, {len(systems_b)}")
    if any(len(h) != len(references) for h in (*systems_a, *systems_b)):
        raise ValueError(f"every run needs one output per reference ({len(references)})")
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    metric = BLEU(lowercase=lowercase)
    refs = [list(references)]

    def stats(hyps):  # (N, 2 + 2 * 4): per-sentence counts that add up to the corpus BLEU's
        return np.asarray(metric._extract_corpus_statistics(list(hyps), refs), dtype=np.int64)

    def bleu(st):
        return metric._compute_score_from_stats(st.sum(0).tolist()).score

    sa, sb = [stats(h) for h in systems_a], [stats(h) for h in systems_b]
    a, b = [bleu(x) for x in sa], [bleu(x) for x in sb]
    n = len(references)
    idx = numpy_rng(seed).integers(0, n, size=(resamples, n))
    gaps = np.array([np.mean([bleu(x[i]) - bleu(y[i]) for x, y in zip(sa, sb, strict=True)]) for i in idx])
    tail = 100 * (1 - level) / 2
    return {"gap": float(np.mean(a) - np.mean(b)), "low": float(np.percentile(gaps, tail)),
            "high": float(np.percentile(gaps, 100 - tail)), "gaps": [x - y for x, y in zip(a, b, strict=True)],
            "a": a, "b": b, "share_a_ahead": float((gaps > 0).mean())}
