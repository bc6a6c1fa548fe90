"""Timing one GAT training epoch: ours (edge list, dense) against PyG's ``GATConv``.

Used by ``benchmarks/bench_gat.py`` (the full run) and by ``notebooks/50_gat`` (a short run whose
ratios the book records). An *epoch* is what early-stopped training repeats: a forward pass in
training mode, the backward pass, an Adam step, and the evaluation forward pass (dropout off) that
early stopping needs. All models have the paper's shape and settings: 8 heads x 8 features, ELU,
one output head, dropout 0.6, Adam (lr 0.005, weight decay 5e-4), row-normalised features.

Timing is wall-clock on whatever machine runs it: the median of ``repeats`` blocks of ``epochs``
epochs after ``warmup`` epochs, the models interleaved block by block so that a change in the
machine's load hits all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.ensemble import GATEnsemble
from attnbook.gat import GAT
from attnbook.graph import SparseRows
from attnbook.graph_train import per_model_loss_acc
from attnbook.timing import time_interleaved

__all__ = ["PyGGAT", "make_epoch", "time_epochs", "benchmark"]


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
    """A function that runs one epoch (train step + evaluation pass) and returns the train loss."""
    opt = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
    ensemble = isinstance(model, GATEnsemble)
    # the ensemble runs as in fit_ensemble: each pass on the receptive field of the nodes it reads
    if ensemble:
        train_in, eval_in = (model.plan(x, edge_index, train_mask),), (model.plan(x, edge_index, val_mask),)
    else:
        train_in = eval_in = (x, edge_index)

    def epoch() -> float:
        model.train()
        opt.zero_grad()
        out = model(*train_in)
        if ensemble:
            loss = per_model_loss_acc(out, y[train_mask])[0].sum()
        else:
            loss = F.cross_entropy(out[train_mask], y[train_mask])
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            out = model(*eval_in)
            out = out if ensemble else out[val_mask]
            (out.argmax(-1) == (y[val_mask, None] if ensemble else y[val_mask])).float().mean()
        return float(loss.detach())

    return epoch


def time_epochs(epochs: dict[str, Callable[[], float]], n: int = 10, repeats: int = 3,
                warmup: int = 3) -> dict[str, float]:
    """Median seconds per epoch for each named epoch function, interleaved in blocks of ``n``
    (:func:`attnbook.timing.time_interleaved` on the wall clock)."""
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

