"""Figures shared by the chapters: attention heatmaps with token labels.

First used in *Attention as a soft dictionary lookup* (``notebooks/20_soft_dictionary``); the
seq2seq alignment plots and the Transformer's attention maps use the same :func:`heatmap`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["heatmap", "heatmaps"]


def _to_numpy(weights) -> np.ndarray:
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().float().numpy()
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"heatmap expects a 2-d (rows, columns) array, got shape {w.shape}")
    return w


def heatmap(
    weights,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    ax=None,
    title: str | None = None,
    xlabel: str = "keys",
    ylabel: str = "queries",
    cmap: str = "Blues",
    annotate: bool = False,
    vmin: float | None = 0.0,
    vmax: float | None = None,
    colorbar: bool = True,
):
    """Draw a (rows = queries, columns = keys) weight matrix as a heatmap.

    Args:
        weights: ``(T, S)`` tensor or array, e.g. one example's attention weights.
        x_labels: S labels for the columns (keys / source tokens).
        y_labels: T labels for the rows (queries / output tokens).
        ax: the matplotlib axes to draw into; a new figure if None.
        title, xlabel, ylabel: text.
        cmap: the colour map.
        annotate: write each weight (2 decimals) into its cell; for small matrices.
        vmin, vmax: the colour range (default 0 to the maximum weight).
        colorbar: add a colour bar.

    Returns:
        the axes.
    """
    w = _to_numpy(weights)
    T, S = w.shape
    for labels, n, what in ((x_labels, S, "x_labels"), (y_labels, T, "y_labels")):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{what} has {len(labels)} labels for {n} {what[0]} cells (weights {w.shape})")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(3.0, 0.45 * S + 1.5), max(2.5, 0.4 * T + 1.0)))
    im = ax.imshow(w, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    # Label every cell when there are labels or few cells; otherwise let matplotlib pick ticks.
    if x_labels is not None or S <= 20:
        ax.set_xticks(range(S), labels=list(x_labels) if x_labels is not None else range(S))
    if y_labels is not None or T <= 20:
        ax.set_yticks(range(T), labels=list(y_labels) if y_labels is not None else range(T))
    if x_labels is not None and max((len(str(x)) for x in x_labels), default=0) > 2:
        ax.tick_params(axis="x", labelrotation=90)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if annotate:
        top = w.max() if w.size else 1.0
        for i in range(T):
            for j in range(S):
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if w[i, j] > 0.6 * top else "black")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def heatmaps(matrices, titles: Sequence[str] | None = None, ncols: int = 3, **kwargs):
    """Several heatmaps side by side; ``kwargs`` go to :func:`heatmap`. Returns the figure."""
    n = len(matrices)
    ncols = max(1, min(ncols, n))
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            heatmap(matrices[i], ax=ax, title=titles[i] if titles else None, **kwargs)
        else:
            ax.axis("off")
    fig.tight_layout()
    return fig
