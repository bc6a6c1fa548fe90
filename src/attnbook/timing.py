"""Timing our Transformer pieces against torch's: interleaved runs, medians, ratios.

Used by ``benchmarks/bench_transformer.py`` (the full run) and by ``notebooks/40_self_attention``
(a short run whose ratios the book records). What is timed is one training step's worth of work
on a fixed batch: the forward pass in training mode and the backward pass (gradients of every
parameter and of the input), for

- ``mha``: self-attention, our :class:`attnbook.transformer.MultiHeadAttention` against
  ``torch.nn.MultiheadAttention(batch_first=True)`` called with ``need_weights=False``;
- ``layer``: our :class:`attnbook.transformer.EncoderLayer` against
  ``torch.nn.TransformerEncoderLayer(batch_first=True)`` (post-LN, ReLU);

each ours on the fast path (``scaled_dot_product_attention``) and on the readable path (a loop of
:func:`attnbook.attention.attend` over the heads, which also forms the weights). All modules hold
the same weights, so the numbers agree; only the time differs.

Timing is on whatever machine runs it, wall-clock or this process's CPU time: the median of ``repeats`` blocks of ``n`` calls
after ``warmup`` calls, the candidates interleaved block by block so that a change in the
machine's load hits all of them alike. Ratios are ours / torch's: below 1 means faster.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from attnbook.transformer import (
    EncoderLayer,
    MultiHeadAttention,
    copy_torch_weights,
    key_padding_mask,
)

__all__ = ["CLOCKS", "time_interleaved", "transformer_benchmark"]


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def time_interleaved(
    fns: dict[str, Callable[[], object]],
    n: int = 10,
    repeats: int = 5,
    warmup: int = 2,
    clock: str = "wall",
) -> dict[str, float]:
    """Median seconds per call of each named function, interleaved in blocks of ``n`` calls.

    Args:
        fns: ``{name: function of no arguments}``.
        n: calls per timed block.
        repeats: timed blocks per function; the median block counts.
        warmup: untimed calls of each function first.
        clock: ``"wall"`` (``time.perf_counter``) or ``"cpu"`` (``time.process_time``: the CPU
            seconds of this process, all its threads; on a shared, busy machine other people's
            jobs do not count, and with one thread on a quiet machine it equals the wall time).
    """
    if n < 1 or repeats < 1:
        raise ValueError(f"n and repeats must be >= 1, got n={n}, repeats={repeats}")
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}; choose one of {sorted(CLOCKS)}")
    now = CLOCKS[clock]
    for f in fns.values():
        for _ in range(warmup):
            f()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = now()
            for _ in range(n):
                f()
            samples[k].append((now() - t0) / n)
    return {k: statistics.median(v) for k, v in samples.items()}


def _step(module: nn.Module, x: torch.Tensor, call: Callable) -> Callable[[], None]:
    """Forward (training mode) and backward on a fixed input."""

    def run() -> None:
        module.zero_grad(set_to_none=True)
        x.grad = None
        out = call(module, x)
        out.sum().backward()

    return run


def transformer_benchmark(
    batch: int = 32,
    length: int = 64,
    d_model: int = 128,
    heads: int = 8,
    d_ff: int | None = None,
    padded: bool = True,
    n: int = 5,
    repeats: int = 5,
    warmup: int = 2,
    seed: int = 0,
    device: torch.device | str | None = None,
    clock: str = "wall",
) -> dict[str, float]:
    """Seconds per forward+backward step and the ratios ours / torch's.

    Args:
        batch, length, d_model, heads, d_ff: the input ``(B, L, D)`` and the modules' shape
            (``d_ff`` default 4D).
        padded: give every module a key-padding mask (the examples' lengths spread from L/2 to L),
            as a real batch of sentences has; else no mask.
        n, repeats, warmup: see :func:`time_interleaved`.
        seed: seeds the weights and the input.
        device: where to run (default CPU).
        clock: ``"wall"`` or ``"cpu"``, see :func:`time_interleaved` (on CUDA use ``"wall"``).

    Returns:
        ``{"mha_fast", "mha_readable", "mha_torch", "layer_fast", "layer_readable", "layer_torch"}``
        in seconds per step, and ``"mha_fast/torch"``, ``"mha_readable/torch"``,
        ``"layer_fast/torch"``, ``"layer_readable/torch"``.
    """
    device = torch.device(device or "cpu")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.randn(batch, length, d_model, generator=g).to(device).requires_grad_()
    lengths = torch.randint(length // 2, length + 1, (batch,), generator=g)
    lengths[0] = length
    tokens = (torch.arange(length) < lengths[:, None]).to(device)  # (B, L) True = real token
    ours_mask = key_padding_mask(tokens) if padded else None  # (B, 1, L)
    torch_mask = ~tokens if padded else None  # torch: True = ignore
    d_ff = d_ff or 4 * d_model

    t_mha = nn.MultiheadAttention(d_model, heads, batch_first=True).to(device)
    mha_fast = copy_torch_weights(MultiHeadAttention(d_model, heads), t_mha).to(device)
    mha_read = copy_torch_weights(MultiHeadAttention(d_model, heads, fast=False), t_mha).to(device)
    t_layer = nn.TransformerEncoderLayer(d_model, heads, d_ff, dropout=0.0, batch_first=True).to(device)
    layer_fast = copy_torch_weights(EncoderLayer(d_model, heads, d_ff), t_layer).to(device)
    layer_read = copy_torch_weights(EncoderLayer(d_model, heads, d_ff, fast=False), t_layer).to(device)
    for m in (t_mha, mha_fast, mha_read, t_layer, layer_fast, layer_read):
        m.train()

    def sync(f: Callable[[], None]) -> Callable[[], None]:
        if device.type != "cuda":
            return f

        def g_() -> None:
            f()
            torch.cuda.synchronize(device)

        return g_

    runs = {
        "mha_fast": _step(mha_fast, x, lambda m, x: m(x, x, x, ours_mask)[0]),
        "mha_readable": _step(mha_read, x, lambda m, x: m(x, x, x, ours_mask)[0]),
        "mha_torch": _step(
            t_mha, x, lambda m, x: m(x, x, x, key_padding_mask=torch_mask, need_weights=False)[0]
        ),
        "layer_fast": _step(layer_fast, x, lambda m, x: m(x, ours_mask)),
        "layer_readable": _step(layer_read, x, lambda m, x: m(x, ours_mask)),
        "layer_torch": _step(t_layer, x, lambda m, x: m(x, src_key_padding_mask=torch_mask)),
    }
    t = time_interleaved({k: sync(f) for k, f in runs.items()}, n=n, repeats=repeats, warmup=warmup,
                         clock=clock)
    out = dict(t)
    for what in ("mha", "layer"):
        for path in ("fast", "readable"):
            out[f"{what}_{path}/torch"] = t[f"{what}_{path}"] / t[f"{what}_torch"]
    return out
