"""Tests of attnbook.limits: windowed attention (fast = readable), exact path lengths, the cost
per layer (counted exactly), the copy task's models and probes."""

import math

import pytest
import torch

from attnbook.attention import attend
from attnbook.data.synthetic import copy_task
from attnbook.limits import (
    COPY_KINDS,
    ConvStack,
    SelfAttention,
    accuracy_by_position,
    attention_rnn,
    band_mask,
    copy_as_seq2seq,
    copy_tagger,
    count_flops,
    depends_on,
    depends_on_source,
    input_gradient_norms,
    layer_times,
    layers_to_connect,
    local_attend,
    mean_update_gate,
    recurrent_cuts,
    source_gradients,
    state_gradients,
    table_layers,
)
from attnbook.rnn import GRUCell

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py



def test_band_mask():
    m = band_mask(5, 1)
    assert m.sum().item() == 5 + 2 * 4
    assert m[0, 1] and not m[0, 2] and m[4, 3]
    with pytest.raises(ValueError, match="radius"):
        band_mask(3, -1)


@pytest.mark.parametrize("radius", [0, 1, 3, 10])
def test_local_attend_equals_attend_with_band_mask(radius):
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 7, 4), torch.randn(2, 7, 4), torch.randn(2, 7, 3)
    out, w = local_attend(q, k, v, radius)
    ref, ref_w = attend(q, k, v, mask=band_mask(7, radius))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    # the window weights are the band of the full weights
    for t in range(7):
        for j in range(2 * radius + 1):
            s = t - radius + j
            expected = ref_w[:, t, s] if 0 <= s < 7 else torch.zeros(2)
            torch.testing.assert_close(w[:, t, j], expected, rtol=1e-5, atol=1e-6)


def test_self_attention_fast_equals_readable_and_shape_errors():
    torch.manual_seed(0)
    fast = SelfAttention(8, radius=2)
    slow = SelfAttention(8, radius=2, fast=False)
    slow.load_state_dict(fast.state_dict())
    x = torch.randn(3, 9, 8)
    torch.testing.assert_close(fast(x), slow(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(B, L, 8\), got \(3, 9\)"):
        fast(torch.randn(3, 9))
    with pytest.raises(ValueError, match="query"):
        local_attend(torch.randn(2, 3, 4), torch.randn(2, 4, 4), torch.randn(2, 3, 4), 1)


def test_path_lengths_are_exact():
    torch.manual_seed(0)
    x = torch.randn(1, 13, 4)
    L = x.shape[1]
    # contiguous convolutions of width 3 reach one more position per layer
    conv = layers_to_connect(lambda d: ConvStack(4, d, k=3, activation="tanh"), x, max_depth=12)
    assert conv[1:] == [delta for delta in range(1, L)]
    # dilated 1, 2, 4, ...: the reach doubles per layer
    dil = layers_to_connect(lambda d: ConvStack(4, d, k=3, dilated=True, activation="tanh"), x, 4)
    assert dil[1:] == [math.ceil(math.log2(delta + 1)) for delta in range(1, L)]
    # one self-attention layer connects every pair
    att = layers_to_connect(lambda d: torch.nn.Sequential(*[SelfAttention(4) for _ in range(d)]), x, 3)
    assert att == [1] * L
    # a window of radius r needs ceil(delta / r) layers
    win = layers_to_connect(
        lambda d: torch.nn.Sequential(*[SelfAttention(4, radius=2) for _ in range(d)]), x, 10
    )
    assert win[1:] == [math.ceil(delta / 2) for delta in range(1, L)]


def test_depends_on_source_is_a_column_of_depends_on():
    torch.manual_seed(0)
    x = torch.randn(1, 9, 3)
    for model in (ConvStack(3, 2, k=3, activation="tanh"), SelfAttention(3, radius=2)):
        full = depends_on(model, x)
        for j in (0, 4):
            assert torch.equal(depends_on_source(model, x, j), full[:, j])


def test_depends_on_and_receptive_radius():
    torch.manual_seed(0)
    stack = ConvStack(3, 2, k=5, activation="tanh")
    dep = depends_on(stack, torch.randn(1, 11, 3))
    assert stack.receptive_radius() == 4
    assert dep[5].nonzero().flatten().tolist() == list(range(1, 10))
    with pytest.raises(ValueError, match=r"\(1, L, D\)"):
        depends_on(stack, torch.randn(2, 11, 3))
    with pytest.raises(ValueError, match="odd"):
        ConvStack(3, 2, k=4)


def test_recurrent_path_goes_through_every_state():
    torch.manual_seed(0)
    cell = GRUCell(3, 5)
    x = torch.randn(1, 10, 3)
    assert recurrent_cuts(cell, x, i=8, j=2) == list(range(2, 8))
    assert recurrent_cuts(cell, x, i=4, j=4) == []


def test_table_layers_flops_match_the_formulas_and_leave_the_rng_alone():
    state = torch.random.get_rng_state()
    layers = table_layers(16, radius=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert list(layers) == ["GRU", "convolution", "self-attention", "windowed self-attention"]
    n, d, w = 10, 16, 5
    assert count_flops(layers["self-attention"], n, d) == 8 * n * d**2 + 4 * n**2 * d
    assert count_flops(layers["windowed self-attention"], n, d) == 8 * n * d**2 + 4 * n * d * w
    assert count_flops(layers["GRU"], n, d) == 12 * n * d**2
    assert count_flops(layers["convolution"], n, d) == 6 * n * d**2
    x = torch.randn(2, n, d)
    for layer in layers.values():
        out = layer(x)
        assert (out[0] if isinstance(out, tuple) else out).shape == (2, n, d)
    # the same seed, the same weights
    torch.testing.assert_close(table_layers(16, 2)["convolution"].conv.weight,
                               layers["convolution"].conv.weight)


def test_layer_times_returns_one_positive_median_per_shape():
    t = layer_times([(8, 8), (16, 8)], radius=2, batch=2, repeats=1)
    assert set(t) == {"GRU", "convolution", "self-attention", "windowed self-attention"}
    assert all(len(v) == 2 and all(s > 0 for s in v) for v in t.values())


@pytest.mark.parametrize("kind", COPY_KINDS)
def test_copy_tagger_shapes_and_gradient_probe(kind):
    torch.manual_seed(0)
    model = copy_tagger(kind, n_symbols=5, length=9, width=8)
    tokens = torch.randint(0, 5, (3, 9))
    assert model(tokens).shape == (3, 9, 5)
    g = input_gradient_norms(model, tokens)
    assert g.shape == (9,) and (g >= 0).all()
    if kind == "CNN":  # depth 3, width 3: the last output sees 3 positions back, no further
        assert (g[:4] > 0).all() and (g[4:] == 0).all()
    with pytest.raises(ValueError, match="kind"):
        copy_tagger("LSTM", 5, 9, 8)


def test_mean_update_gate_is_the_gru_update_gate():
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4, batch_first=True)
    x = torch.randn(2, 5, 3)
    # with the update gate's bias driven up, z -> 1: the GRU holds its state
    assert 0 < mean_update_gate(gru, x) < 1
    with torch.no_grad():
        gru.bias_ih_l0[4:8] = 20.0
    assert mean_update_gate(gru, x) > 0.999


def test_copy_as_seq2seq_and_the_attention_rnn():
    tokens, targets = copy_task(6, 7, 2, n_symbols=4, seed=0)
    src, mask, tgt_in, tgt_out = copy_as_seq2seq(tokens, targets, n_symbols=4)
    assert torch.equal(src, tokens + 1) and mask.all()
    blank = 5
    assert (tgt_in[:, :3] == blank).all() and torch.equal(tgt_in[:, 3:], tokens[:, :4] + 1)
    assert (tgt_out[:, :2] == -100).all() and torch.equal(tgt_out[:, 2:], tokens[:, :5] + 1)
    torch.manual_seed(0)
    for attention in (True, False):
        model = attention_rnn(4, attention=attention)
        assert model(src, mask, tgt_in).shape == (6, 7, 6)  # ids 0 .. n_symbols + 1
        g = source_gradients(model, src, bos=blank)
        assert g.shape == (7,) and (g > 0).all()
    acc, by_pos = accuracy_by_position(model, tokens, targets, 4, distance=2)
    assert 0 <= acc <= 1 and by_pos.shape == (5,)
    g = state_gradients(attention_rnn(4).encoder, src)
    assert g.shape == (7,) and g[0] > g[-1] > 0  # the forward states after x_1 all depend on it

