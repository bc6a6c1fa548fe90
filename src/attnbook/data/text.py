"""The text pipeline: tokenizers, a vocabulary, and padded batches with lengths and masks.

Used by the text chapters: "Sequence to sequence" (characters of synthetic dates), "Attention in
seq2seq" (English and Korean sentences of Tatoeba); planned: "Attention for classification"
(documents as sentences of words, for the hierarchical attention network) and "CNNs for text"
(words, and characters of surnames).

Tokenizers (all deterministic, no model, no download):

* :func:`tokenize_en` -- English: lower-cased; a token is a run of letters/digits (keeping an inner
  apostrophe, ``don't``), a clitic starting with an apostrophe (``'s``, ``'ve``: the datasets of Kim
  2014 are already split so), or one punctuation character.
  ``"Don't stop, it's 9.5!"`` -> ``["don't", 'stop', ',', "it's", '9', '.', '5', '!']``.
* :func:`tokenize_chars` -- every Unicode character (after NFC normalisation) is a token.
* :func:`tokenize_ko` -- Korean by characters: each Hangul syllable (and every other character) is a
  token; runs of whitespace become one ``" "`` token, so ``"".join(tokens)`` restores the text with
  single spaces. Character-level tokens avoid a morphological analyser and keep the vocabulary small
  (about 1,000 syllables for the Tatoeba pairs).

Batches are batch-first. Masks follow the book's convention: ``True`` = a real token (take part),
``False`` = padding.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import torch

__all__ = [
    "SPECIALS",
    "tokenize_en",
    "detokenize_en",
    "tokenize_chars",
    "tokenize_ko",
    "to_ascii",
    "split_sentences",
    "tokenize_document",
    "Vocab",
    "pad_batch",
    "DocumentBatch",
    "pad_documents",
]

#: Default special tokens, in id order: padding (0), unknown (1), begin (2), end (3).
SPECIALS: tuple[str, str, str, str] = ("<pad>", "<unk>", "<bos>", "<eos>")

_EN_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|['’][^\W_]+|[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def tokenize_en(text: str) -> list[str]:
    """Lower-cased English words and punctuation (see the module docstring)."""
    return _EN_TOKEN.findall(unicodedata.normalize("NFC", text).lower())


_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenize_en(tokens: list[str]) -> str:
    """Words and punctuation back to text as written, for scorers that tokenise themselves
    (sacreBLEU): ``["i", "don't", "know", "."]`` -> ``"i don't know."`` -- no space before closing
    punctuation, none after an opening bracket or ``$``. The inverse of :func:`tokenize_en` up to
    case and spacing (the rule chapter 21 applies before sacreBLEU)."""
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", " ".join(tokens)))


def tokenize_chars(text: str) -> list[str]:
    """Every character (NFC-normalised) is a token: ``"Kim"`` -> ``['K', 'i', 'm']``."""
    return list(unicodedata.normalize("NFC", text))


def tokenize_ko(text: str) -> list[str]:
    """Korean by characters (syllables); whitespace runs become one ``" "`` token, ends stripped.

    ``"안녕 하세요"`` -> ``['안', '녕', ' ', '하', '세', '요']``.
    """
    return list(_SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip())


def to_ascii(text: str) -> str:
    """Drop accents and other combining marks, then any non-ASCII character: ``"Nóvák"`` ->
    ``"Novak"`` (what the char-RNN surname classifier does to shrink its alphabet)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .encode("ascii", "ignore")
        .decode("ascii")
    )


# A sentence ends after a run of . ! ? followed by whitespace, or at a line break.
_SENT_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Split a document into sentences (for the hierarchical attention network).

    HTML line breaks (IMDB's ``<br /><br />`` between paragraphs) become line breaks and end a
    sentence; otherwise a sentence ends after ``.``, ``!`` or ``?`` (or a run of them, ``...``)
    followed by whitespace. Empty sentences are dropped. This is the simple rule the data README
    prescribes; it splits after abbreviations such as ``Mr.`` too, which is harmless here.
    """
    text = _BR.sub("\n", text)
    return [s.strip() for s in _SENT_END.split(text) if s and s.strip()]


def tokenize_document(text: str, tokenizer=tokenize_en) -> list[list[str]]:
    """A document as a list of sentences, each a list of tokens (empty sentences dropped)."""
    out = [tokenizer(s) for s in split_sentences(text)]
    return [s for s in out if s]


class Vocab:
    """A token <-> id mapping with special tokens first (``<pad>`` = 0, ``<unk>`` = 1, ...).

    Build one from training data with :meth:`build`; unknown tokens encode to ``unk_id``.

    Example::

        v = Vocab.build([["a", "b"], ["a"]])   # ids: <pad> 0, <unk> 1, <bos> 2, <eos> 3, a 4, b 5
        v.encode(["a", "z"], add_eos=True)     # [4, 1, 3]
        v.decode([2, 4, 5, 3, 0])              # ['a', 'b']
    """

    def __init__(self, itos: Sequence[str], specials: Sequence[str] = SPECIALS) -> None:
        itos = list(itos)
        if len(set(itos)) != len(itos):
            raise ValueError("Vocab tokens must be unique")
        if list(itos[: len(specials)]) != list(specials):
            raise ValueError(f"the first tokens must be the specials {tuple(specials)}")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}
        self.specials: tuple[str, ...] = tuple(specials)
        self.counts: Counter[str] = Counter()  # token frequencies seen by build()

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = SPECIALS,
    ) -> Vocab:
        """A vocabulary of the tokens seen at least ``min_freq`` times.

        Args:
            token_lists: an iterable of token sequences (e.g. tokenized training sentences).
            min_freq: keep tokens seen at least this often.
            max_size: keep at most this many tokens besides the specials (the most frequent).
            specials: special tokens, given the first ids in this order. The conventional four are
                pad, unknown, begin, end; for one left out, ``pad_id`` etc. raise
                ``AttributeError`` and :meth:`encode` raises ``KeyError`` on an unknown token
                if ``<unk>`` is left out.

        Ties in frequency are broken alphabetically, so the ids are deterministic.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        special_set = set(specials)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in special_set),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            kept = kept[:max_size]
        vocab = cls(list(specials) + kept, specials=specials)
        vocab.counts = counts
        return vocab

    def _special_id(self, index: int) -> int | None:
        default = SPECIALS[index]
        return self.stoi.get(default) if default in self.specials else None

    @property
    def pad_id(self) -> int:
        """Id of ``<pad>`` (0 with the default specials)."""
        return self._require(0)

    @property
    def unk_id(self) -> int:
        """Id of ``<unk>``."""
        return self._require(1)

    @property
    def bos_id(self) -> int:
        """Id of ``<bos>`` (begin of sequence)."""
        return self._require(2)

    @property
    def eos_id(self) -> int:
        """Id of ``<eos>`` (end of sequence)."""
        return self._require(3)

    def _require(self, index: int) -> int:
        i = self._special_id(index)
        if i is None:
            raise AttributeError(f"this Vocab has no {SPECIALS[index]} token")
        return i

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token`` (``unk_id`` if unknown)."""
        i = self.stoi.get(token)
        return self.unk_id if i is None else i

    def encode(
        self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Token ids; unknown tokens map to ``unk_id``; optionally wrapped in ``<bos>``/``<eos>``."""
        unk = self._special_id(1)
        ids = []
        for t in tokens:
            i = self.stoi.get(t, unk)
            if i is None:
                raise KeyError(f"token {t!r} is not in the vocabulary and it has no <unk>")
            ids.append(i)
        if add_bos:
            ids.insert(0, self.bos_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(
        self,
        ids: Iterable[int] | torch.Tensor,
        strip_specials: bool = True,
        stop_at_eos: bool = False,
    ) -> list[str]:
        """Tokens of ``ids``.

        Args:
            ids: a list of ids or a 1-d tensor.
            strip_specials: drop ``<pad>``, ``<bos>`` and ``<eos>`` (``<unk>`` is kept: it stands
                for a real token).
            stop_at_eos: stop at the first ``<eos>`` (what a greedy decoder's output needs).
        """
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(
                    f"decode expects a 1-d tensor of ids, got shape {tuple(ids.shape)}"
                )
            ids = ids.tolist()
        eos = self._special_id(3)
        drop = {self._special_id(k) for k in (0, 2, 3)} - {None} if strip_specials else set()
        out = []
        for i in ids:
            i = int(i)
            if stop_at_eos and i == eos:
                break
            if i in drop:
                continue
            if not 0 <= i < len(self.itos):
                raise IndexError(f"id {i} is outside the vocabulary (size {len(self.itos)})")
            out.append(self.itos[i])
        return out

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[len(self.specials) : len(self.specials) + 5])
        return f"Vocab(size={len(self)}, specials={self.specials}, first=[{head}, ...])"


def pad_batch(
    seqs: Sequence[Sequence[int]], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad id sequences to one length.

    Args:
        seqs: B sequences of token ids, of any lengths (an empty sequence is allowed).
        pad_id: the id to pad with (``vocab.pad_id``).

    Returns:
        ``(ids, lengths, mask)``: ``ids`` (B, L) int64 with L the longest length, ``lengths`` (B,)
        int64, ``mask`` (B, L) bool, ``True`` at real tokens. An empty batch gives shapes (0, 0),
        (0,), (0, 0).
    """
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)  # (B,)
    b = len(seqs)
    length = int(lengths.max()) if b else 0
    ids = torch.full((b, length), pad_id, dtype=torch.long)  # (B, L)
    for i, s in enumerate(seqs):
        if len(s):
            ids[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)  # (B, L)
    return ids, lengths, mask


class DocumentBatch(NamedTuple):
    """A padded batch of documents (sentences of words), for the hierarchical attention network.

    Shapes: B documents, S sentences (the most in a document), L words (the longest sentence).
    """

    ids: torch.Tensor  # (B, S, L) int64 word ids, pad_id where padded
    sentence_lengths: torch.Tensor  # (B, S) int64 words per sentence, 0 for padded sentences
    doc_lengths: torch.Tensor  # (B,) int64 sentences per document
    word_mask: torch.Tensor  # (B, S, L) bool, True at real words
    sentence_mask: torch.Tensor  # (B, S) bool, True at real sentences


def pad_documents(
    docs: Sequence[Sequence[Sequence[int]]],
    pad_id: int = 0,
    max_sentences: int | None = None,
    max_words: int | None = None,
) -> DocumentBatch:
    """Pad documents, each a list of sentences of word ids, to one ``(B, S, L)`` tensor.

    Args:
        docs: B documents; document b is a list of sentences, each a list of word ids.
        pad_id: the id to pad with.
        max_sentences: keep at most this many sentences per document (the first ones).
        max_words: keep at most this many words per sentence (the first ones).

    Returns:
        a :class:`DocumentBatch` ``(ids, sentence_lengths, doc_lengths, word_mask,
        sentence_mask)``. Empty sentences count as sentences of length 0 (their word mask is all
        ``False``); drop them beforehand if the model cannot take them.
    """
    docs = [list(d[:max_sentences]) if max_sentences is not None else list(d) for d in docs]
    if max_words is not None:
        docs = [[s[:max_words] for s in d] for d in docs]
    b = len(docs)
    doc_lengths = torch.tensor([len(d) for d in docs], dtype=torch.long)  # (B,)
    n_sent = int(doc_lengths.max()) if b else 0
    n_word = max((len(s) for d in docs for s in d), default=0)
    # filled in numpy (a tensor index-assignment per sentence costs ~20x more on 50k reviews)
    ids_np = np.full((b, n_sent, n_word), pad_id, dtype=np.int64)  # (B, S, L)
    lengths_np = np.zeros((b, n_sent), dtype=np.int64)  # (B, S)
    for i, d in enumerate(docs):
        for j, s in enumerate(d):
            lengths_np[i, j] = len(s)
            if len(s):
                ids_np[i, j, : len(s)] = s
    ids, sentence_lengths = torch.from_numpy(ids_np), torch.from_numpy(lengths_np)
    word_mask = torch.arange(n_word).view(1, 1, -1) < sentence_lengths.unsqueeze(-1)  # (B, S, L)
    sentence_mask = torch.arange(n_sent).unsqueeze(0) < doc_lengths.unsqueeze(1)  # (B, S)
    return DocumentBatch(ids, sentence_lengths, doc_lengths, word_mask, sentence_mask)
