"""Timing our models against the libraries': one GAT training epoch against PyG's ``GATConv``, and
one Transformer training step against torch's modules; interleaved runs, medians, ratios.

Used by ``benchmarks/bench_gat.py`` (the full run) and by ``notebooks/50_gat`` (a short run whose
ratios the book records). An *epoch* is what early-stopped training repeats: a forward pass in
training mode, the backward pass, an Adam step, and the evaluation forward pass (dropout off) that
early stopping needs. All models have the paper's shape and settings: 8 heads x 8 features, ELU,
one output head, dropout 0.6, Adam (lr 0.005, weight decay 5e-4), row-normalised features.

Timing is wall-clock on whatever machine runs it: the median of ``repeats`` blocks of ``epochs``
epochs after ``warmup`` epochs, the models interleaved block by block so that a change in the
machine's load hits all of them alike.

**The Transformer** (:func:`transformer_benchmark`; used by ``benchmarks/bench_transformer.py`` and
``notebooks/40_self_attention``, which records a short run's ratios). What is timed is one
training step's worth of work on a fixed batch: the forward pass in training mode and the backward
pass (gradients of every parameter and of the input), for

- ``mha``: self-attention, our :class:`attnbook.attention.MultiHeadAttention` against
  ``torch.nn.MultiheadAttention(batch_first=True)`` called with ``need_weights=False``;
- ``layer``: our :class:`attnbook.transformer.EncoderLayer` against
  ``torch.nn.TransformerEncoderLayer(batch_first=True)`` (post-LN, ReLU);

each ours on the fast path (``scaled_dot_product_attention``, ``need_weights=False``) and on the
readable path (a loop of :func:`attnbook.attention.attend` over the heads, which also forms the
weights). All modules hold the same weights, so the numbers agree; only the time differs. The clock
is wall-clock or this process's CPU time (:data:`attnbook.train.CLOCKS`); ratios are ours /
torch's: below 1 means faster.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.attention import MultiHeadAttention, key_padding_mask
from attnbook.ensemble import GATEnsemble
from attnbook.gat import GAT, gat_optimizer
from attnbook.graph import SparseRows
from attnbook.graph_train import full_batch_epoch
from attnbook.train import CLOCKS
from attnbook.transformer import EncoderLayer, copy_torch_weights

__all__ = ["PyGGAT", "make_epoch", "time_epochs", "benchmark", "time_interleaved", "transformer_benchmark"]


class PyGGAT(nn.Module):
    """The same two-layer GAT built from PyG's ``GATConv`` (PyG's own example, the paper's settings)."""

    def __init__(self, in_features: int, num_classes: int, hidden: int = 8, heads: int = 8,
                 out_heads: int = 1, dropout: float = 0.6) -> None:
        super().__init__()
        import warnings

        with warnings.catch_warnings():  # PyG's import warns about torch.jit.script on this torch
            warnings.simplefilter("ignore", DeprecationWarning)
            from torch_geometric.nn import GATConv

        self.dropout = dropout
        self.conv1 = GATConv(in_features, hidden, heads=heads, dropout=dropout)
        self.conv2 = GATConv(hidden * heads, num_classes, heads=out_heads, concat=False, dropout=dropout)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = F.dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


def make_epoch(model: nn.Module, x, edge_index: Tensor, y: Tensor, train_mask: Tensor,
               val_mask: Tensor) -> Callable[[], float]:
    """A function that runs one epoch and returns the train loss: the epoch of
    :func:`attnbook.graph_train.fit_ensemble` (:func:`~attnbook.graph_train.full_batch_epoch`)
    with the paper's optimiser (:func:`attnbook.gat.gat_optimizer`), for any of the models."""
    opt = gat_optimizer(model)
    # the ensemble runs as in fit_ensemble: each pass on the receptive field of the nodes it reads
    if isinstance(model, GATEnsemble):
        train_in, val_in = model.plan(x, edge_index, train_mask), model.plan(x, edge_index, val_mask)
    else:
        train_in, val_in = (x, edge_index, train_mask), (x, edge_index, val_mask)
    y_train, y_val = y[train_mask], y[val_mask]

    def epoch() -> float:
        return full_batch_epoch(model, opt, train_in, y_train, val_in, y_val)[0].sum().item()

    return epoch


def time_epochs(epochs: dict[str, Callable[[], float]], n: int = 10, repeats: int = 3,
                warmup: int = 3) -> dict[str, float]:
    """Median seconds per epoch for each named epoch function, interleaved in blocks of ``n``
    (:func:`time_interleaved` on the wall clock)."""
    return time_interleaved(epochs, n=n, repeats=repeats, warmup=warmup, clock="wall")


def benchmark(data, n: int = 10, repeats: int = 3, dense: bool = True, ensemble: int = 10,
              seed: int = 0) -> dict[str, float]:
    """Seconds per epoch on one Planetoid graph for: ``ours`` (edge list, sparse input),
    ``ours_dense_input`` (edge list, dense input), ``dense`` (the N×N layer, if ``dense``),
    ``pyg`` (``GATConv``) and ``ensemble_per_model`` (a :class:`GATEnsemble` of ``ensemble``
    models trained as :func:`attnbook.graph_train.fit_ensemble` trains them -- each pass on the receptive
    field of the nodes it reads -- time divided by ``ensemble``); plus the ratios ``ours/pyg`` etc.

    Args:
        data: a :class:`attnbook.data.Planetoid` (features are row-normalised here).
        n, repeats: epochs per timed block and number of blocks (the median block counts).
        dense: include the dense layer (slow: O(N²) per head; timed on single epochs, the
            median of ``min(repeats, 3)``).
        ensemble: S for the ensemble timing (0 to skip).
    """
    from attnbook.data import normalize_features

    torch.manual_seed(seed)
    x = normalize_features(data.x)
    xs = SparseRows.from_dense(x)
    ei = data.edge_index
    args = (data.y, data.train_mask, data.val_mask)
    F_, K = data.num_features, data.num_classes
    runs: dict[str, Callable[[], float]] = {
        "ours": make_epoch(GAT(F_, K), xs, ei, *args),
        "ours_dense_input": make_epoch(GAT(F_, K), x, ei, *args),
        "pyg": make_epoch(PyGGAT(F_, K), x, ei, *args),
    }
    if ensemble:
        runs["ensemble"] = make_epoch(GATEnsemble(ensemble, F_, K), xs, ei, *args)
    t = time_epochs(runs, n=n, repeats=repeats)
    if dense:  # seconds per epoch: a few single epochs are enough
        t["dense"] = time_epochs({"dense": make_epoch(GAT(F_, K, dense=True), x, ei, *args)},
                                 n=1, repeats=min(repeats, 3), warmup=1)["dense"]
    if ensemble:
        t["ensemble_per_model"] = t.pop("ensemble") / ensemble
    out = dict(t)
    for k in list(t):
        if k != "pyg":
            out[f"{k}/pyg"] = t[k] / t["pyg"]
    return out


# ------------------------------------------------------------------------------- the clock


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


# ------------------------------------------------------------------------- the Transformer


def _step(module: nn.Module, x: Tensor, call: Callable) -> Callable[[], None]:
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
    """Seconds per forward+backward step and the ratios ours / torch's (see the module's docstring).

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
    mha_fast = copy_torch_weights(MultiHeadAttention(d_model, heads, need_weights=False), t_mha).to(device)
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
