"""Figures shared by the chapters: attention heatmaps with token labels, and Hangul in figures.

First used in *Attention as a soft dictionary lookup* (``notebooks/20_soft_dictionary``); the
seq2seq alignment plots and the Transformer's attention maps use the same :func:`heatmap`.

matplotlib's default font (DejaVu Sans) has no Hangul, so Korean tokens would be drawn as boxes.
The figures here draw inside a style context (:func:`hangul`) that adds a CJK font (Noto Sans CJK,
from Debian's ``fonts-noto-cjk``, or Nanum in Colab: ``apt-get install fonts-nanum``) as a fallback
family; importing the module changes no global rcParams (:func:`use_korean_font` does, on request).
The concept diagrams live in :mod:`attnbook.diagrams`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

from attnbook.diagrams._style import KOREAN_FONT_PACKAGE, korean_font

__all__ = ["heatmap", "heatmaps", "attention_text", "word_shades", "hangul", "hangul_rc",
           "use_korean_font"]

def hangul_family(warn: bool = False) -> str | None:
    """The installed font with Hangul that figures fall back to (``None`` if the machine has none);
    the one :func:`attnbook.diagrams.korean_font` finds."""
    try:
        return korean_font()
    except RuntimeError:
        if warn:
            warnings.warn(
                "no font with Hangul found: Korean text in figures will show as boxes "
                f"(Debian/Ubuntu: apt-get install {KOREAN_FONT_PACKAGE}; Colab: apt-get install "
                "fonts-nanum)", stacklevel=3)
        return None


def hangul_rc(family: str | None = None) -> dict:
    """The rcParams that let a figure draw Hangul: ``font.family`` = ``["DejaVu Sans", <the CJK
    family>]`` (Latin text keeps matplotlib's default look, Hangul falls back to the CJK font glyph
    by glyph) and a hyphen for the minus sign (CJK fonts often lack U+2212). Empty without a font."""
    family = family or hangul_family()
    if family is None:
        return {}
    # a list of families is what matplotlib falls back along, glyph by glyph (the generic
    # "sans-serif" would resolve to its first installed member only)
    return {"font.family": ["DejaVu Sans", family], "axes.unicode_minus": False}


@contextmanager
def hangul():
    """A style context in which text can be Hangul (:func:`hangul_rc`); the figures of this module
    draw inside it, and the global rcParams are left as they are."""
    with mpl.rc_context(hangul_rc()):
        yield


def use_korean_font(warn: bool = True) -> str | None:
    """Make *every* later figure able to draw Hangul, for a reader's own figures: sets the global
    rcParams of :func:`hangul_rc` and returns the CJK family used (None if there is none).

    Importing this module does not call it: :func:`heatmap`, :func:`heatmaps` and
    :func:`attention_text` draw inside :func:`hangul` and change no global setting.
    """
    family = hangul_family(warn=warn)
    mpl.rcParams.update(hangul_rc(family))
    return family


def _in_hangul(fn):
    """Draw inside :func:`hangul` (Korean tokens get the CJK font; global rcParams untouched)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with hangul():
            return fn(*args, **kwargs)
    return wrapper


def _to_numpy(weights) -> np.ndarray:
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().float().numpy()
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"heatmap expects a 2-d (rows, columns) array, got shape {w.shape}")
    return w


@_in_hangul
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


@_in_hangul
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


def word_shades(word_weights, sentence_weights, lengths: Sequence[int], scale: str = "yang") -> list:
    """The shade in [0, 1] of every word of a document in :func:`attention_text`.

    Args:
        word_weights: ``(S, L)`` array, the word attention alpha of sentence i in row i.
        sentence_weights: ``(S,)`` array, the sentence attention beta.
        lengths: the number of real words of each sentence (the rest of a row is padding).
        scale: ``"yang"``: sqrt(beta_i) * alpha_it, divided by its largest value in the document
            (the division is ours: the darkest word gets the full colour). As we read Yang et al.
            (2016, section 3.6), they display sqrt(p_s) p_w -- p_s the sentence's weight, p_w the
            word's -- so that only the important words of important sentences are emphasised; the
            square root fades the words of a sentence with a small weight less than beta_i itself
            would, and a word of a sentence with beta_i = 0 is blank.
            ``"sentence"``: alpha_it divided by the largest weight of its own sentence, so every
            sentence has a word at full shade, whatever its beta_i.

    Returns:
        one array of shades per sentence, of its length.
    """
    ww = np.asarray(word_weights, dtype=float)
    sw = np.asarray(sentence_weights, dtype=float)
    rows = [ww[i, :n] for i, n in enumerate(lengths)]
    if scale == "sentence":
        return [r / max(r.max(), 1e-12) if len(r) else r for r in rows]
    if scale != "yang":
        raise ValueError(f'scale must be "yang" or "sentence", got {scale!r}')
    rows = [np.sqrt(max(sw[i], 0.0)) * r for i, r in enumerate(rows)]
    top = max([r.max() for r in rows if len(r)] + [1e-12])
    return [r / top for r in rows]


@_in_hangul
def attention_text(
    sentences: Sequence[Sequence[str]],
    word_weights,
    sentence_weights,
    ax=None,
    title: str | None = None,
    max_chars: int = 95,
    cmap: str = "Reds",
    fontsize: float = 8.5,
    scale: str = "yang",
):
    """Render a document with its word attention as highlighting and its sentence attention as a
    bar left of each sentence (chapter "Attention for classification and the HAN").

    Args:
        sentences: the document's sentences, each a list of words (only the ones the model read).
        word_weights: ``(S, L)`` array or tensor, the word attention of sentence i in row i.
        sentence_weights: ``(S,)``, the sentence attention.
        ax: the axes to draw into (a new figure if None).
        title: text above.
        max_chars: wrap a sentence after about this many characters.
        cmap: the colour map of the highlighting.
        fontsize: the font size of the words.
        scale: how a word's weight becomes its shade, see :func:`word_shades`: ``"yang"`` (the
            default) shades word t of sentence i by sqrt(beta_i) * alpha_it, scaled so that the
            document's darkest word gets the full colour -- Yang et al.'s (2016) sqrt(p_s) p_w as we
            read their section 3.6, so that only important words of important sentences stand
            out; ``"sentence"`` scales each sentence to its own largest word weight.

    Returns:
        the axes.
    """
    ww = word_weights.detach().cpu().float().numpy() if isinstance(word_weights, torch.Tensor) else np.asarray(word_weights, dtype=float)
    sw = sentence_weights.detach().cpu().float().numpy() if isinstance(sentence_weights, torch.Tensor) else np.asarray(sentence_weights, dtype=float)
    if ww.ndim != 2 or ww.shape[0] < len(sentences) or sw.ndim != 1 or sw.shape[0] < len(sentences):
        raise ValueError(
            f"expected word weights (S, L) and sentence weights (S,) for {len(sentences)} sentences, "
            f"got {ww.shape} and {sw.shape}"
        )
    shades = word_shades(ww, sw, [len(s) for s in sentences], scale=scale)
    lines = []  # (sentence index or None for a continuation, [(word, colour weight)])
    for i, sent in enumerate(sentences):
        line, n, first = [], 0, True
        for j, word in enumerate(sent):
            if n + len(word) > max_chars and line:
                lines.append((i if first else None, line))
                line, n, first = [], 0, False
            line.append((word, float(shades[i][j])))
            n += len(word) + 1
        lines.append((i if first else None, line))
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.26 * len(lines) + 0.6))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(lines), -0.8 if title else 0)
    colours = plt.get_cmap(cmap)
    bar_max = max(sw[: len(sentences)].max(), 1e-12)
    renderer = ax.figure.canvas.get_renderer()
    for row, (i, words) in enumerate(lines):
        if i is not None:
            ax.barh(row + 0.5, 0.07 * sw[i] / bar_max, left=0.0, height=0.7, color="#3d85c6")
            ax.text(0.075, row + 0.5, f"{sw[i]:.2f}", va="center", fontsize=6.5, color="0.3")
        x = 0.11
        for word, w in words:
            t = ax.text(x, row + 0.5, word, va="center", fontsize=fontsize,
                        bbox=dict(boxstyle="square,pad=0.08", fc=colours(0.85 * w), ec="none"),
                        color="white" if w > 0.7 else "black")
            bb = t.get_window_extent(renderer=renderer).transformed(ax.transData.inverted())
            x += bb.width + 0.006
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return ax
