"""Tests of attnbook.bench's clock and Transformer timing: interleaved medians, every path timed."""

import math

import pytest

from attnbook.bench import time_interleaved, transformer_benchmark

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_time_interleaved_runs_the_functions_in_turn():
    calls = []
    t = time_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                         n=2, repeats=2, warmup=1)
    assert set(t) == {"a", "b"} and calls == ["a", "b"] + ["a", "a", "b", "b"] * 2  # interleaved
    assert all(v >= 0 for v in t.values())
    with pytest.raises(ValueError, match="clock"):
        time_interleaved({}, clock="sundial")
    with pytest.raises(ValueError, match="repeats"):
        time_interleaved({"a": lambda: None}, repeats=0)


def test_transformer_benchmark_runs_every_path_and_reports_ratios():
    r = transformer_benchmark(batch=2, length=4, d_model=8, heads=2, n=1, repeats=1, warmup=0,
                              clock="cpu")
    timed = {f"{what}_{path}" for what in ("mha", "layer") for path in ("fast", "readable", "torch")}
    ratios = {f"{what}_{path}/torch" for what in ("mha", "layer") for path in ("fast", "readable")}
    assert set(r) == timed | ratios, sorted(r)
    assert all(math.isfinite(v) and v > 0 for v in r.values()), r  # every path ran and was timed


def test_the_fast_candidates_take_the_fast_path(monkeypatch):
    """The "fast" modules never form the weights: the readable per-head loop is not called."""
    from attnbook.attention import MultiHeadAttention

    readable = MultiHeadAttention._readable
    calls = []

    def spy(q, k, v, mask, p):
        calls.append(q.shape)
        return readable(q, k, v, mask, p)

    monkeypatch.setattr(MultiHeadAttention, "_readable", staticmethod(spy))
    transformer_benchmark(batch=2, length=4, d_model=8, heads=2, n=1, repeats=1, warmup=0)
    # warm-up 0, one block of one call each: only mha_readable and layer_readable read
    assert len(calls) == 2
