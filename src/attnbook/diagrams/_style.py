"""The diagrams' one palette, their box/arrow helpers, and the language switch (English or Korean).

Every public drawing function of :mod:`attnbook.diagrams` has the signature
``fn(ax=None, *, lang="en", **opts) -> Axes`` (the :func:`diagram` decorator checks ``lang`` and,
for Korean, draws inside a style context whose font has Hangul; global rcParams are never changed).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

LANGS = ("en", "ko")

# One palette for every diagram, by role: the same role has the same colour in every chapter.
PALETTE = {
    "input": "#dbe9f6",      # inputs: tokens, characters, nodes' features
    "output": "#f2f2f2",     # outputs and plain tensors (shapes)
    "cell": "#fde2c2",       # a recurrent cell, the encoder's states
    "encoder": "#fde2c2",
    "decoder": "#d9f0d3",    # the decoder's states, the receiving node
    "context": "#f4b6c2",    # a context vector, the combination of heads
    "attention": "#e5d8f0",  # attention: scores -> softmax -> weighted sum
    "gate": "#fff5b8",       # gates, non-linearities, small learned maps
    "linear": "#c9dcef",     # a learned linear projection
    "norm": "#d5eeee",       # layer normalisation
    "ffn": "#f9d3a5",        # the position-wise feed-forward network
}
INK = "#333333"             # box edges, arrows
MUTED = "#666666"           # side notes, shapes
RESIDUAL = "#777777"        # residual paths
ATTENTION_INK = "#8e44ad"   # the attention weights (bars, arrows, self-loops)
CONTEXT_INK = "#c0392b"     # the fixed context vector's line
QUERY_INK = "#2e7d32"       # GAT's query term, added to every edge

# Fonts with Hangul, best first (all from Debian's fonts-noto-cjk but the last two).
KOREAN_FONT_PACKAGE = "fonts-noto-cjk"
KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC",
                "Noto Sans KR", "NanumGothic")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def tr(lang: str, en: str, ko: str) -> str:
    """The label in the diagram's language (symbols and formulas are the same in both)."""
    return ko if check_lang(lang) == "ko" else en


@functools.lru_cache(maxsize=1)
def korean_font() -> str:
    """The name of an installed font with Hangul (matplotlib's name for it).

    Looks in matplotlib's font list first, then in the system's font files (a font installed after
    matplotlib built its cache is added for this process). Raises ``RuntimeError`` naming the font
    package when there is none.
    """
    def known():
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in KOREAN_FONTS if n in names), None)

    name = known()
    if name is None:
        for path in font_manager.findSystemFonts():
            if any(key in path for key in ("NotoSansCJK", "NotoSansKR", "NanumGothic")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        name = known()
    if name is None:
        raise RuntimeError(
            "the Korean diagrams need a font with Hangul and none is installed: install "
            f"{KOREAN_FONT_PACKAGE} (Debian/Ubuntu: sudo apt-get install {KOREAN_FONT_PACKAGE}; it "
            f"provides {KOREAN_FONTS[0]!r}), then run again")
    return name


STRICT_FONTS = "ATTNBOOK_STRICT_FONTS"   # "1": a missing Korean font is an error, not a warning


@contextmanager
def language(lang: str):
    """A style context for drawing in ``lang``: for Korean, a font with Hangul first (DejaVu Sans
    as the fallback for the symbols it lacks); the global rcParams are left as they are."""
    if check_lang(lang) == "en":
        yield
        return
    with plt.rc_context({"font.family": [korean_font(), "DejaVu Sans"]}):
        yield


def diagram(fn: Callable) -> Callable:
    """Give a drawing function the one signature ``fn(ax=None, *, lang="en", **opts)``: check
    ``lang`` and draw inside :func:`language`."""
    @functools.wraps(fn)
    def wrapper(ax=None, *, lang: str = "en", **opts):
        if check_lang(lang) == "ko":
            try:
                korean_font()
            except RuntimeError as e:
                # the book's build must draw Korean (tools/build_book.py sets the variable); a
                # reader without the font (a bare Colab) gets the English labels and a warning
                if os.environ.get(STRICT_FONTS) == "1":
                    raise
                warnings.warn(f"{e}. Drawing with English labels instead.", stacklevel=2)
                lang = "en"
        with language(lang):
            return fn(ax, lang=lang, **opts)
    return wrapper


def new_axes(ax, size: tuple[float, float], xlim: tuple[float, float], ylim: tuple[float, float],
             equal: bool = True):
    """``ax`` (or a new figure's axes of ``size`` inches), limits set, axes hidden."""
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be matplotlib Axes or None, got {type(ax).__name__}: pass a "
                        "diagram's options by keyword, e.g. seq2seq_context(source=..., target=...)")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if equal:
        ax.set_aspect("equal")
    ax.axis("off")
    return ax


class Box(NamedTuple):
    """A drawn box: its centre and size, for attaching arrows."""

    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> tuple[float, float]:
        return self.x, self.y + self.h / 2

    @property
    def bottom(self) -> tuple[float, float]:
        return self.x, self.y - self.h / 2


def box(ax, x: float, y: float, text: str | None, *, w: float = 1.0, h: float = 0.6,
        color: str = "cell", fontsize: float = 10, lw: float = 1.0, **text_kw) -> Box:
    """A rounded box centred at ``(x, y)`` filled with the palette's ``color`` (a role, or a colour);
    ``text=None`` or ``""`` for an empty box (e.g. the copies behind a stack of heads)."""
    size = min(w, h)
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle=f"round,pad={0.04 * size:.4g},rounding_size={0.18 * size:.4g}",
                                fc=PALETTE.get(color, color), ec=INK, lw=lw))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, **text_kw)
    return Box(x, y, w, h)


def circle(ax, x: float, y: float, text: str, *, r: float = 0.18, color: str = "gate",
           fontsize: float = 10) -> None:
    ax.add_patch(Circle((x, y), r, fc=PALETTE.get(color, color), ec=INK, lw=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, *, text: str | None = None, color: str = INK, lw: float = 1.1,
          style: str = "-|>", rad: float = 0.0, ls: str = "-", fontsize: float = 7.5) -> None:
    """An arrow from ``start`` to ``end`` (``rad`` bends it), optionally labelled beside its
    middle (e.g. a shape)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10.5, color=color, lw=lw,
                                 connectionstyle=f"arc3,rad={rad}", linestyle=ls, shrinkA=0,
                                 shrinkB=0))
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        dx = 0.012 * (ax.get_xlim()[1] - ax.get_xlim()[0])
        ax.text(mx + dx, my, text, ha="left", va="center", fontsize=fontsize, color=MUTED)


def title(ax, text: str, fontsize: float = 11) -> None:
    """Set the axes' title in the drawing's font (the title's text object may predate the
    drawing's language context, when ``ax`` was made outside it)."""
    ax.set_title(text, fontsize=fontsize, fontfamily=plt.rcParams["font.family"])
