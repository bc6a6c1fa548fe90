"""Tests of attnbook.data.text: tokenizers, Vocab, padding, document batches."""

from __future__ import annotations

import pytest
import torch

from attnbook.data.text import (
    SPECIALS,
    Vocab,
    pad_batch,
    pad_documents,
    split_sentences,
    to_ascii,
    tokenize_chars,
    tokenize_document,
    tokenize_en,
    tokenize_ko,
)


def test_tokenize_en():
    assert tokenize_en("Don't stop, it's 9.5!") == [
        "don't",
        "stop",
        ",",
        "it's",
        "9",
        ".",
        "5",
        "!",
    ]
    assert tokenize_en("you 've got   it") == ["you", "'ve", "got", "it"]  # Kim's clitics
    assert tokenize_en("Café NOIR") == ["café", "noir"]
    assert tokenize_en("") == []


def test_tokenize_chars_and_korean():
    assert tokenize_chars("Kim") == ["K", "i", "m"]
    assert tokenize_ko("안녕   하세요 ") == ["안", "녕", " ", "하", "세", "요"]
    assert "".join(tokenize_ko(" 나는  학생이다. ")) == "나는 학생이다."
    # decomposed jamo (NFD) are normalised to syllables (NFC)
    import unicodedata

    assert tokenize_ko(unicodedata.normalize("NFD", "한국")) == ["한", "국"]


def test_split_sentences_imdb_breaks():
    text = "Great film. Really!! I loved it...<br /><br />The end? yes<br />no"
    assert split_sentences(text) == [
        "Great film.",
        "Really!!",
        "I loved it...",
        "The end?",
        "yes",
        "no",
    ]
    assert split_sentences("") == []
    doc = tokenize_document("A b. C!<br /><br />")
    assert doc == [["a", "b", "."], ["c", "!"]]


def test_vocab_build_ids_and_specials():
    v = Vocab.build([["b", "a", "a"], ["c", "a", "b"]])
    assert v.itos[:4] == list(SPECIALS)
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    assert v.itos[4:] == ["a", "b", "c"]  # by frequency, ties alphabetical
    assert len(v) == 7 and "a" in v and "z" not in v
    assert v["z"] == v.unk_id
    assert "Vocab(size=7" in repr(v)


def test_vocab_min_freq_and_max_size():
    data = [["a"] * 3 + ["b"] * 2 + ["c"]]
    assert Vocab.build(data, min_freq=2).itos[4:] == ["a", "b"]
    assert Vocab.build(data, max_size=1).itos[4:] == ["a"]
    with pytest.raises(ValueError):
        Vocab.build(data, min_freq=0)


def test_encode_decode_round_trip():
    sents = [tokenize_en("The cat sat."), tokenize_en("A dog ran!")]
    v = Vocab.build(sents)
    for s in sents:
        ids = v.encode(s, add_bos=True, add_eos=True)
        assert ids[0] == v.bos_id and ids[-1] == v.eos_id
        assert v.decode(ids) == s
        assert v.decode(torch.tensor(ids + [v.pad_id] * 3)) == s
    assert v.decode(v.encode(["the", "zebra"])) == ["the", "<unk>"]
    ids = v.encode(["the", "cat"], add_eos=True) + v.encode(["dog"])
    assert v.decode(ids, stop_at_eos=True) == ["the", "cat"]
    assert v.decode([v.bos_id, 4], strip_specials=False)[0] == "<bos>"
    with pytest.raises(IndexError):
        v.decode([999])


def test_korean_round_trip():
    text = "나는 학생이다."
    v = Vocab.build([tokenize_ko(text)])
    assert "".join(v.decode(v.encode(tokenize_ko(text)))) == text


def test_pad_batch():
    ids, lengths, mask = pad_batch([[5, 6, 7], [8], []], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]
    assert mask.tolist() == [[True] * 3, [True, False, False], [False] * 3]
    assert ids.dtype == torch.long and lengths.dtype == torch.long and mask.dtype == torch.bool
    ids, lengths, mask = pad_batch([])
    assert ids.shape == (0, 0) and lengths.shape == (0,) and mask.shape == (0, 0)
    ids, _, _ = pad_batch([[1], [2, 3]], pad_id=9)
    assert ids.tolist() == [[1, 9], [2, 3]]


def test_pad_documents():
    docs = [[[1, 2], [3]], [[4, 5, 6]], []]
    batch = pad_documents(docs)
    assert batch.ids.shape == (3, 2, 3)  # (B, S, L)
    assert batch.ids[0].tolist() == [[1, 2, 0], [3, 0, 0]]
    assert batch.sentence_lengths.tolist() == [[2, 1], [3, 0], [0, 0]]
    assert batch.doc_lengths.tolist() == [2, 1, 0]
    assert batch.sentence_mask.tolist() == [[True, True], [True, False], [False, False]]
    assert batch.word_mask.sum().item() == 6
    assert torch.equal(batch.word_mask.any(-1), batch.sentence_mask)  # no empty sentences here
    cut = pad_documents(docs, max_sentences=1, max_words=1)
    assert cut.ids.shape == (3, 1, 1) and cut.ids[:, 0, 0].tolist() == [1, 4, 0]


def test_to_ascii():
    assert to_ascii("Nóvák") == "Novak"
    assert to_ascii("Ślusarski") == "Slusarski"
    assert to_ascii("안녕") == ""


def test_detokenize_en_undoes_tokenize_en_up_to_case():
    from attnbook.data.text import detokenize_en

    assert detokenize_en(["i", "don't", "know", "."]) == "i don't know."
    assert detokenize_en(["tom", ",", "come", "(", "now", ")", "!"]) == "tom, come (now)!"
    for text in ("Where is the closest hospital?", "I paid $5, didn't I?"):
        assert detokenize_en(tokenize_en(text)) == text.lower()
