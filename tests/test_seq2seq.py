"""Tests of attnbook.seq2seq: masking, greedy decoding, overfitting a tiny set, shape errors."""

import pytest
import torch

from attnbook.data.text import Vocab
from attnbook.seq2seq import (
    AttentionDecoder,
    ContextDecoder,
    Encoder,
    Seq2Seq,
    greedy_decode,
    label_smoothed_loss,
    make_batch,
    teacher_forcing_loss,
    translate,
)
from attnbook.train import fit

V_SRC, V_TGT = 12, 9


def _model(kind="additive", hidden=8, seed=0):
    torch.manual_seed(seed)
    enc = Encoder(V_SRC, 6, hidden)
    if kind == "none":
        dec = ContextDecoder(V_TGT, 6, 2 * hidden, 2 * hidden)
    else:
        dec = AttentionDecoder(V_TGT, 6, 2 * hidden, 2 * hidden, score=kind)
    return Seq2Seq(enc, dec)


def _batch():
    src = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])
    mask = src != 0
    return src, mask


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_padded_source_positions_get_exactly_zero_attention(kind):
    m = _model(kind)
    src, mask = _batch()
    m(src, mask, torch.tensor([[2, 4, 5], [2, 4, 5]]))
    w = m.weights  # (B, T, S)
    assert w.shape == (2, 3, 4)
    assert torch.all(w[1, :, 2:] == 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3))


def test_padding_does_not_change_the_result():
    m = _model("additive")
    src, mask = _batch()
    logits = m(src, mask, torch.tensor([[2, 4], [2, 4]]))
    alone = m(src[1:, :2], mask[1:, :2], torch.tensor([[2, 4]]))
    torch.testing.assert_close(logits[1:], alone, rtol=1e-5, atol=1e-6)


class _Scripted(torch.nn.Module):
    """A decoder that emits a fixed sequence of tokens (to test greedy decoding)."""

    uses_attention = False

    def __init__(self, script):
        super().__init__()
        self.script = script  # (B, steps)
        self.vocab_size = V_TGT
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def init(self, states, final, mask):
        return {"t": 0}

    def step(self, y_prev, memory, states, mask):
        t = memory["t"]
        col = self.script[:, min(t, self.script.shape[1] - 1)]
        logits = torch.nn.functional.one_hot(col, V_TGT).float()
        return logits, {"t": t + 1}, None


def test_greedy_decoding_stops_at_the_end_token_and_respects_max_len():
    eos, pad = 3, 0
    script = torch.tensor([[5, 6, eos, 7, 7], [5, eos, 8, 8, 8]])
    m = Seq2Seq(Encoder(V_SRC, 4, 4), _Scripted(script))
    src, mask = _batch()
    out = greedy_decode(m, src, mask, bos_id=2, eos_id=eos, max_len=10, pad_id=pad)
    assert out.ids.tolist() == [[5, 6, eos], [5, eos, pad]]  # stops once both have ended
    assert out.lengths.tolist() == [3, 2]
    out = greedy_decode(m, src, mask, bos_id=2, eos_id=eos, max_len=2, pad_id=pad)
    assert out.ids.shape == (2, 2) and out.lengths.tolist() == [2, 2]
    never = Seq2Seq(Encoder(V_SRC, 4, 4), _Scripted(torch.tensor([[7], [7]])))
    out = greedy_decode(never, src, mask, bos_id=2, eos_id=eos, max_len=4)
    assert out.ids.shape == (2, 4) and out.lengths.tolist() == [4, 4]
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(m, src, mask, 2, eos, max_len=0)


@pytest.mark.parametrize("kind", ["additive", "none"])
def test_tiny_model_overfits_ten_examples(kind):
    torch.manual_seed(0)
    words = ["abc", "bca", "cab", "aab", "bba", "ccab", "acb", "bac", "cba", "abcc"]
    pairs = [(list(w), list(reversed(w))) for w in words]
    sv = Vocab.build([s for s, _ in pairs])
    tv = Vocab.build([t for _, t in pairs])
    enc = Encoder(len(sv), 8, 16)
    dec = (ContextDecoder(len(tv), 8, 32, 32) if kind == "none"
           else AttentionDecoder(len(tv), 8, 32, 32, score="additive"))
    m = Seq2Seq(enc, dec)

    def exact(model):
        out, _ = translate(model, [s for s, _ in pairs], sv, tv, max_len=8)
        return sum(o == t for o, (_, t) in zip(out, pairs, strict=True)) / len(pairs)

    fit(m, pairs, lambda b: make_batch(b, sv, tv), teacher_forcing_loss, epochs=150,
        batch_size=10, lr=1e-2, evaluate=exact, target=1.0, seed=0, show_progress=False)
    assert exact(m) == 1.0
    out, weights = translate(m, [pairs[0][0]], sv, tv, max_len=8)
    if kind == "none":
        assert weights == [None]
    else:
        assert weights[0].shape == (len(out[0]) + 1, len(pairs[0][0]))


def test_clear_errors_on_wrong_shapes():
    m = _model("additive")
    src, mask = _batch()
    with pytest.raises(ValueError, match=r"\(B, S\)"):
        m(src[0], mask[0], torch.tensor([[2]]))
    with pytest.raises(ValueError, match="bool source mask"):
        m(src, mask.long(), torch.tensor([[2], [2]]))
    with pytest.raises(ValueError, match=r"tgt_in of shape \(B, T\)"):
        m(src, mask, torch.tensor([2, 2]))
    with pytest.raises(ValueError, match="one width"):
        AttentionDecoder(V_TGT, 4, 8, 16, score="dot")
    with pytest.raises(ValueError, match="unknown score"):
        AttentionDecoder(V_TGT, 4, 8, 16, score="cosine")
    with pytest.raises(ValueError, match="at least one token"):
        m(torch.tensor([[0, 4]]), torch.tensor([[False, True]]), torch.tensor([[2]]))


def test_make_batch_shifts_the_target():
    sv = Vocab.build([["x", "y"]])
    tv = Vocab.build([["a", "b"]])
    b = make_batch([(["x", "y"], ["a", "b"]), (["y"], ["b"])], sv, tv)
    assert b.tgt_in.tolist() == [[tv.bos_id, tv["a"], tv["b"]], [tv.bos_id, tv["b"], 0]]
    assert b.tgt_out.tolist() == [[tv["a"], tv["b"], tv.eos_id], [tv["b"], tv.eos_id, 0]]
    assert b.src_mask.tolist() == [[True, True], [True, False]]


def test_precomputed_additive_keys_give_the_same_numbers():
    m = _model("additive")
    src, mask = _batch()
    tgt = torch.tensor([[2, 4, 5], [2, 6, 6]])
    fast = m(src, mask, tgt)
    m.decoder.precompute_keys = False
    slow = m(src, mask, tgt)
    torch.testing.assert_close(fast, slow)


def test_teacher_forced_fast_path_equals_the_step_loop():
    m = _model("none")
    src, mask = _batch()
    tgt = torch.tensor([[2, 4, 5, 6], [2, 6, 6, 1]])
    fast = m(src, mask, tgt)
    m.fast = False
    slow = m(src, mask, tgt)
    torch.testing.assert_close(fast, slow)
    fast.sum().backward()  # the fast path trains too
    assert m.decoder.rnn.weight_hh_l0.grad is not None


@pytest.mark.parametrize("bidirectional", [True, False])
def test_encoder_directions(bidirectional):
    torch.manual_seed(0)
    enc = Encoder(V_SRC, 6, 8, bidirectional=bidirectional)
    src, mask = _batch()
    states, final = enc(src, mask)
    width = 16 if bidirectional else 8
    assert enc.out_dim == width and states.shape == (2, 4, width) and final.shape == (2, width)
    assert torch.all(states[1, 2:] == 0)  # padding is not read
    # the forward direction's final state is its state at the last real token
    torch.testing.assert_close(final[1, :8], states[1, 1, :8])
    if bidirectional:  # the backward direction ends at the first token
        torch.testing.assert_close(final[1, 8:], states[1, 0, 8:])
    m = Seq2Seq(enc, ContextDecoder(V_TGT, 6, 12, width))
    assert m(src, mask, torch.tensor([[2, 4], [2, 4]])).shape == (2, 2, V_TGT)


def test_an_all_true_mask_makes_the_encoder_read_the_padding():
    """What chapter 21's exercise on the mask says: without the mask, the padding is read."""
    m = _model("additive")
    src, mask = _batch()
    states, final = m.encoder(src, mask)
    states_all, final_all = m.encoder(src, torch.ones_like(mask))
    assert torch.all(states[1, 2:] == 0) and states_all[1, 2:].abs().min() > 0
    assert not torch.allclose(final[1], final_all[1])
    torch.testing.assert_close(states_all[0], states[0])  # an unpadded row is unchanged


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_use_mask_false_attends_to_the_padding(kind):
    """Chapter 21's exercise 21.2 trains a decoder with ``use_mask=False``: what that changes."""
    src, mask = _batch()
    tgt = torch.tensor([[2, 4, 5], [2, 6, 6]])
    default = _model(kind)
    masked = _model(kind)
    masked.decoder.use_mask = True
    assert default.decoder.use_mask is True  # the default path is the masked one
    torch.testing.assert_close(default(src, mask, tgt), masked(src, mask, tgt), rtol=0, atol=0)
    unmasked = _model(kind)
    unmasked.decoder.use_mask = False
    logits = unmasked(src, mask, tgt)
    w = unmasked.weights  # (B, T, S)
    assert torch.all(w[1, :, 2:] > 0)  # the padding now takes weight ...
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3))
    # ... and the result for a source depends on how much padding it gets in its batch
    alone = unmasked(src[1:, :2], mask[1:, :2], tgt[1:])
    assert not torch.allclose(logits[1:], alone)
    # without padding the flag changes nothing: the same numbers as the masked model
    torch.testing.assert_close(logits[:1], masked(src[:1], mask[:1], tgt[:1]))
    # greedy decoding goes through the same step
    out = greedy_decode(unmasked, src, mask, bos_id=2, eos_id=3, max_len=4)
    assert torch.all(out.weights[1, :, 2:][out.ids[1] != 0] > 0)


def test_use_mask_is_a_constructor_argument():
    dec = AttentionDecoder(V_TGT, 6, 16, 16, use_mask=False)
    assert dec.use_mask is False and AttentionDecoder(V_TGT, 6, 16, 16).use_mask is True


def test_label_smoothed_loss():
    vocab = Vocab.build([["a", "b", "c"]])
    batch = make_batch([(["a", "b"], ["a"]), (["c"], ["b", "c"])], vocab, vocab)
    torch.manual_seed(14)
    m = Seq2Seq(Encoder(len(vocab), 6, 8), AttentionDecoder(len(vocab), 6, 16, 16))
    torch.testing.assert_close(label_smoothed_loss(m, batch, 0.0), teacher_forcing_loss(m, batch))
    eps, V = 0.1, len(vocab)
    logp = torch.log_softmax(m(batch.src, batch.src_mask, batch.tgt_in), -1).flatten(0, 1)
    y = batch.tgt_out.flatten()
    keep = y != 0  # padding positions do not count
    manual = -((1 - eps) * logp[keep, y[keep]] + eps / V * logp[keep].sum(-1)).mean()
    torch.testing.assert_close(label_smoothed_loss(m, batch, eps), manual)
