"""Tests of attnbook.schedules: the Noam rate and schedule, the linear warm-up and decay, and the
Transformer's optimiser recipes (Adam with the paper's betas and eps, and their schedules)."""

import pytest
import torch
from torch import nn

from attnbook.schedules import (
    PAPER_ADAM,
    noam_rate,
    noam_schedule,
    paper_optimizer,
    transformer_optimizer,
    warmup_linear_schedule,
)


def _rates(opt, steps):
    """The learning rate of each of ``steps`` optimizer steps."""
    p = opt.param_groups[0]["params"][0]
    seen = []
    for _ in range(steps):
        seen.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        p.sum().backward()
        opt.step()
    return seen


def test_noam_rate_warms_up_then_decays():
    rates = [noam_rate(s, 64, 10) for s in range(1, 40)]
    assert max(rates) == rates[9] == pytest.approx((64 * 10) ** -0.5)
    assert all(a < b for a, b in zip(rates[:9], rates[1:10], strict=True))
    assert all(a > b for a, b in zip(rates[9:], rates[10:], strict=False))
    assert noam_rate(40, 64, 10) == pytest.approx(64**-0.5 * 40**-0.5)
    with pytest.raises(ValueError, match="count from 1"):
        noam_rate(0, 64, 10)


def test_noam_rate_without_ramp_holds_the_peak_then_decays_the_same():
    flat = [noam_rate(s, 64, 10, ramp=False) for s in range(1, 40)]
    peak = (64 * 10) ** -0.5
    assert flat[:10] == pytest.approx([peak] * 10)  # the peak from the first step
    assert flat[9:] == pytest.approx([noam_rate(s, 64, 10) for s in range(10, 40)])  # the same decay
    assert noam_rate(3, 64, 10, factor=2.0, ramp=False) == pytest.approx(2.0 * peak)


def test_noam_schedule_steps_with_the_optimizer():
    p = nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([p], lr=2.0, betas=(0.9, 0.98), eps=1e-9)
    sched = noam_schedule(opt, d_model=16, warmup=4)
    assert _rates(opt, 6) == pytest.approx([2.0 * noam_rate(k, 16, 4) for k in range(1, 7)])
    assert sched.get_last_lr()[0] == pytest.approx(2.0 * noam_rate(7, 16, 4))


def test_noam_schedule_without_ramp():
    opt = torch.optim.Adam([nn.Parameter(torch.zeros(3))], lr=1.0)
    noam_schedule(opt, d_model=16, warmup=4, ramp=False)
    assert _rates(opt, 6) == pytest.approx([noam_rate(k, 16, 4, ramp=False) for k in range(1, 7)])


def test_warmup_linear_schedule_rises_decays_and_stays_at_the_floor():
    opt = torch.optim.Adam([nn.Parameter(torch.zeros(3))], lr=2.0)
    warmup_linear_schedule(opt, warmup=4, total=10, floor=0.25)
    seen = _rates(opt, 12)
    expected = [2.0 * min(k / 4, 1.0) * max(1 - k / 10, 0.25) for k in range(1, 13)]
    assert seen == pytest.approx(expected)
    assert seen[:4] == pytest.approx([0.45, 0.8, 1.05, 1.2])  # by hand: 2 * k/4 * (1 - k/10)
    assert all(a > b for a, b in zip(seen[3:8], seen[4:8], strict=False))  # then down
    assert seen[-3:] == pytest.approx([0.5, 0.5, 0.5])  # the floor
    with pytest.raises(ValueError, match="warmup"):
        warmup_linear_schedule(opt, warmup=0, total=10)


def test_paper_optimizer_is_adam_with_the_papers_settings_and_the_noam_schedule():
    model = nn.Linear(3, 1)
    opt = paper_optimizer(model, d_model=16, warmup=4, factor=0.5)
    assert isinstance(opt, torch.optim.Adam)
    group = opt.param_groups[0]
    assert group["betas"] == (0.9, 0.98) and group["eps"] == 1e-9 == PAPER_ADAM["eps"]
    assert len(group["params"]) == 2  # weight and bias
    assert _rates(opt, 6) == pytest.approx([noam_rate(k, 16, 4, factor=0.5) for k in range(1, 7)])
    flat = paper_optimizer(nn.Linear(3, 1), d_model=16, warmup=4, ramp=False)
    assert _rates(flat, 3) == pytest.approx([noam_rate(k, 16, 4, ramp=False) for k in range(1, 4)])


def test_transformer_optimizer_warms_up_to_the_peak_then_decays():
    opt = transformer_optimizer(nn.Linear(3, 1), lr=0.01, warmup=2, total=5)
    assert opt.param_groups[0]["betas"] == (0.9, 0.98) and opt.param_groups[0]["eps"] == 1e-9
    assert _rates(opt, 6) == pytest.approx([0.01 * min(k / 2, 1) * max(1 - k / 5, 0.1) for k in range(1, 7)])


def test_the_recipes_take_the_same_steps_as_hand_built_adam():
    """paper_optimizer(model, ...) is exactly Adam(lr=factor, betas, eps) + noam_schedule."""
    torch.manual_seed(0)
    a, b = nn.Linear(4, 2), nn.Linear(4, 2)
    b.load_state_dict(a.state_dict())
    opt_a = paper_optimizer(a, d_model=8, warmup=3, factor=0.3)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.3, betas=(0.9, 0.98), eps=1e-9)
    noam_schedule(opt_b, 8, 3)
    x = torch.randn(5, 4)
    for _ in range(4):
        for m, o in ((a, opt_a), (b, opt_b)):
            o.zero_grad()
            m(x).pow(2).sum().backward()
            o.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
