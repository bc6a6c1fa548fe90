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


def han_diagram(ax=None, n_sentences: int = 3, n_words: int = 4):
    """Draw the hierarchical attention network of Yang et al. (2016) from code (chapter
    "Attention for classification and the HAN", ``notebooks/23_han``).

    Words at the bottom feed a word-level bidirectional GRU per sentence; word attention with the
    context vector :math:`u_w` pools each sentence into a sentence vector :math:`s_i`; a
    sentence-level bidirectional GRU and attention with :math:`u_s` give the document vector
    :math:`v`, which a softmax layer classifies. Returns the axes.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 6.2))
    ax.set_axis_off()

    def box(x, y, w, h, text, color, fontsize=9):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                    fc=color, ec="0.3", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)

    def arrow(x0, y0, x1, y1, color="0.35"):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=8,
                                     color=color, lw=0.8, shrinkA=2, shrinkB=2))

    step = 1.3  # distance between neighbouring words
    width = n_sentences * (n_words + 1) * step
    ys = {"word": 0.0, "wgru": 1.0, "watt": 2.0, "sent": 3.0, "sgru": 4.0, "satt": 5.0,
          "doc": 6.0, "out": 7.0}
    sent_x = []
    for i in range(n_sentences):
        x0 = i * (n_words + 1) * step
        xs = [x0 + j * step for j in range(n_words)]
        centre = sum(xs) / n_words
        sent_x.append(centre)
        for j, x in enumerate(xs):
            box(x, ys["word"], 0.8, 0.45, f"$w_{{{i + 1}{j + 1}}}$", "#eeeeee")
            box(x, ys["wgru"], 0.8, 0.45, f"$h_{{{i + 1}{j + 1}}}$", "#cfe2f3")
            arrow(x, ys["word"] + 0.25, x, ys["wgru"] - 0.25)
            arrow(x, ys["wgru"] + 0.25, centre, ys["watt"] - 0.25, color="#e69138")
        for a, b in zip(xs[:-1], xs[1:], strict=True):
            ax.annotate("", (b - 0.42, ys["wgru"] + 0.08), (a + 0.42, ys["wgru"] + 0.08),
                        arrowprops=dict(arrowstyle="->", color="#3d85c6", lw=0.7))
            ax.annotate("", (a + 0.42, ys["wgru"] - 0.08), (b - 0.42, ys["wgru"] - 0.08),
                        arrowprops=dict(arrowstyle="->", color="#3d85c6", lw=0.7))
        box(centre, ys["watt"], 3.4, 0.5, r"word attention, query $u_w$", "#fce5cd", 8)
        box(centre, ys["sent"], 0.8, 0.45, f"$s_{i + 1}$", "#d9ead3")
        arrow(centre, ys["watt"] + 0.27, centre, ys["sent"] - 0.25)
    mid = sum(sent_x) / n_sentences
    for i, x in enumerate(sent_x):
        box(x, ys["sgru"], 0.8, 0.45, f"$h_{i + 1}$", "#cfe2f3")
        arrow(x, ys["sent"] + 0.25, x, ys["sgru"] - 0.25)
        arrow(x, ys["sgru"] + 0.25, mid, ys["satt"] - 0.27, color="#e69138")
    for a, b in zip(sent_x[:-1], sent_x[1:], strict=True):
        ax.annotate("", (b - 0.42, ys["sgru"] + 0.08), (a + 0.42, ys["sgru"] + 0.08),
                    arrowprops=dict(arrowstyle="->", color="#3d85c6", lw=0.7))
        ax.annotate("", (a + 0.42, ys["sgru"] - 0.08), (b - 0.42, ys["sgru"] - 0.08),
                    arrowprops=dict(arrowstyle="->", color="#3d85c6", lw=0.7))
    box(mid, ys["satt"], 3.6, 0.5, r"sentence attention, query $u_s$", "#fce5cd", 8)
    box(mid, ys["doc"], 2.4, 0.45, "document vector $v$", "#d9ead3", 8)
    arrow(mid, ys["satt"] + 0.27, mid, ys["doc"] - 0.25)
    box(mid, ys["out"], 2.4, 0.45, "softmax: class", "#f4cccc", 8)
    arrow(mid, ys["doc"] + 0.25, mid, ys["out"] - 0.25)
    labels = {"word": "words (embedded)", "wgru": "word GRU (both directions)",
              "sent": "sentence vectors", "sgru": "sentence GRU (both directions)"}
    for key, text in labels.items():
        ax.text(width - 0.6, ys[key], text, ha="left", va="center", fontsize=8, color="0.25")
    ax.set_xlim(-0.8, width + 3.6)
    ax.set_ylim(-0.6, ys["out"] + 0.6)
    return ax


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
