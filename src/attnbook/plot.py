"""Figures shared by the chapters: attention heatmaps with token labels, and Hangul in figures.

First used in *Attention as a soft dictionary lookup* (``notebooks/20_soft_dictionary``); the
seq2seq alignment plots and the Transformer's attention maps use the same :func:`heatmap`.

Importing this module calls :func:`use_korean_font`: matplotlib's default font (DejaVu Sans) has no
Hangul, so Korean tokens would be drawn as boxes. It adds a CJK font (Noto Sans CJK, from Debian's
``fonts-noto-cjk``, or Nanum in Colab: ``apt-get install fonts-nanum``) as a fallback family for
every figure, and warns once if the machine has none.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import font_manager

__all__ = ["heatmap", "heatmaps", "use_korean_font"]

_HANGUL_FAMILIES = ("Noto Sans CJK KR", "Noto Sans CJK JP", "Noto Sans KR", "NanumGothic",
                    "Noto Sans CJK SC", "UnDotum")


def _installed_hangul_family() -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _HANGUL_FAMILIES if n in names), None)


def use_korean_font(warn: bool = True) -> str | None:
    """Make every figure able to draw Hangul; returns the CJK family used (None if there is none).

    ``font.family`` becomes ``["DejaVu Sans", <the CJK family>]``: Latin text keeps matplotlib's
    default look and Hangul falls back to the CJK font glyph by glyph. Fonts installed after matplotlib built
    its font cache (e.g. by ``apt-get`` in the same session) are found through fontconfig.
    """
    family = _installed_hangul_family()
    if family is None and shutil.which("fc-list"):
        files = subprocess.run(["fc-list", ":lang=ko", "file"], capture_output=True, text=True,
                               check=False).stdout.split()
        for path in (f.rstrip(":") for f in files):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # a font file matplotlib cannot read is skipped
                continue
        family = _installed_hangul_family()
    if family is None:
        if warn:
            warnings.warn(
                "no font with Hangul found: Korean text in figures will show as boxes "
                "(Debian/Ubuntu: apt-get install fonts-noto-cjk; Colab: apt-get install fonts-nanum)",
                stacklevel=2)
        return None
    # a list of families is what matplotlib falls back along, glyph by glyph (the generic
    # "sans-serif" would resolve to its first installed member only)
    mpl.rcParams["font.family"] = ["DejaVu Sans", family]
    mpl.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212 (minus)
    return family


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


# at import, quietly: a missing font shows as matplotlib's own glyph warnings where Hangul is drawn
use_korean_font(warn=False)
