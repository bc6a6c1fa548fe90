"""Tests of attnbook.limits: windowed attention (fast = readable), exact path lengths, the task."""

import math

import matplotlib
import pytest
import torch

from attnbook.attention import attend
from attnbook.limits import (
    ConvStack,
    SelfAttention,
    band_mask,
    copy_task,
    depends_on,
    depends_on_source,
    draw_receptive_fields,
    layers_to_connect,
    local_attend,
    recurrent_cuts,
    time_interleaved,
)
from attnbook.rnn import GRUCell

matplotlib.use("Agg")

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


def test_copy_task():
    tokens, targets = copy_task(4, 10, 3, n_symbols=5, seed=1)
    assert tokens.shape == targets.shape == (4, 10)
    assert (targets[:, :3] == -100).all()
    assert torch.equal(targets[:, 3:], tokens[:, :7])
    with pytest.raises(ValueError, match="distance"):
        copy_task(2, 5, 5)


def test_time_interleaved_returns_medians():
    calls = []
    t = time_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3)
    assert set(t) == {"a", "b"} and all(v >= 0 for v in t.values())
    assert calls == ["a", "b"] + ["a", "b"] * 3  # warm-up, then interleaved rounds


@pytest.mark.parametrize("dilated", [False, True])
def test_receptive_field_diagram_matches_gradients(dilated):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    seen = draw_receptive_fields(ax, depth=3, length=17, dilated=dilated)
    assert len(seen[0]) == (15 if dilated else 7)
    plt.close(fig)
