r"""The text-classification diagrams: the hierarchical attention network (chapter *Attention for
classification and the HAN*, ``notebooks/23_han``) and TextCNN (chapter *Convolutional networks for
text*, ``notebooks/30_text_cnn``)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.patches import Rectangle

from ._style import ATTENTION_INK, INK, MUTED, PALETTE, arrow, box, diagram, new_axes, title, tr

__all__ = ["hierarchical_attention", "text_cnn"]

# one colour per filter width in TextCNN (fills of the feature maps, edges of the windows)
_WIDTH_INKS = ("#c0392b", "#2e7d32", "#2f6fae", ATTENTION_INK, "#b9770e")


def _both_directions(ax, xs: Sequence[float], y: float, half: float) -> None:
    """The two recurrences of a bidirectional GRU between neighbouring states at height ``y``."""
    for a, b in zip(xs[:-1], xs[1:], strict=True):
        arrow(ax, (a + half, y + 0.08), (b - half, y + 0.08), lw=0.7)
        arrow(ax, (b - half, y - 0.08), (a + half, y - 0.08), lw=0.7)


@diagram
def hierarchical_attention(ax=None, *, lang: str = "en", n_sentences: int = 3, n_words: int = 4):
    r"""The hierarchical attention network of Yang et al. (2016).

    Words at the bottom feed a word-level bidirectional GRU per sentence; word attention with the
    context vector :math:`u_w` as the query pools each sentence into a sentence vector :math:`s_i`;
    a sentence-level bidirectional GRU and attention with :math:`u_s` give the document vector
    :math:`v`, which a softmax layer classifies. (Chapter *Attention for classification and the
    HAN*, ``notebooks/23_han``.)

    Args:
        n_sentences: sentences drawn (at least 1).
        n_words: words drawn per sentence (at least 1).
    """
    if n_sentences < 1 or n_words < 1:
        raise ValueError(f"n_sentences and n_words must be >= 1, got {n_sentences}, {n_words}")
    step = 1.3  # distance between neighbouring words
    width = n_sentences * (n_words + 1) * step
    ys = {"word": 0.0, "wgru": 1.0, "watt": 2.0, "sent": 3.0, "sgru": 4.0, "satt": 5.0,
          "doc": 6.0, "out": 7.0}
    ax = new_axes(ax, (9, 6.2), (-0.8, width + 3.6), (-0.6, ys["out"] + 0.6), equal=False)
    word_attention = tr(lang, r"word attention, query $u_w$", r"단어 어텐션, 쿼리 $u_w$")
    sent_x = []
    for i in range(n_sentences):
        x0 = i * (n_words + 1) * step
        xs = [x0 + j * step for j in range(n_words)]
        centre = sum(xs) / n_words
        sent_x.append(centre)
        for j, x in enumerate(xs):
            box(ax, x, ys["word"], f"$w_{{{i + 1}{j + 1}}}$", w=0.8, h=0.45, color="input",
                fontsize=9)
            box(ax, x, ys["wgru"], f"$h_{{{i + 1}{j + 1}}}$", w=0.8, h=0.45, color="encoder",
                fontsize=9)
            arrow(ax, (x, ys["word"] + 0.25), (x, ys["wgru"] - 0.25), lw=0.8)
            arrow(ax, (x, ys["wgru"] + 0.25), (centre, ys["watt"] - 0.25), color=ATTENTION_INK,
                  lw=0.8)
        _both_directions(ax, xs, ys["wgru"], 0.42)
        box(ax, centre, ys["watt"], word_attention, w=3.4, h=0.5, color="attention", fontsize=8)
        box(ax, centre, ys["sent"], f"$s_{i + 1}$", w=0.8, h=0.45, color="context", fontsize=9)
        arrow(ax, (centre, ys["watt"] + 0.27), (centre, ys["sent"] - 0.25), lw=0.8)
    mid = sum(sent_x) / n_sentences
    for i, x in enumerate(sent_x):
        box(ax, x, ys["sgru"], f"$h_{i + 1}$", w=0.8, h=0.45, color="encoder", fontsize=9)
        arrow(ax, (x, ys["sent"] + 0.25), (x, ys["sgru"] - 0.25), lw=0.8)
        arrow(ax, (x, ys["sgru"] + 0.25), (mid, ys["satt"] - 0.27), color=ATTENTION_INK, lw=0.8)
    _both_directions(ax, sent_x, ys["sgru"], 0.42)
    box(ax, mid, ys["satt"], tr(lang, r"sentence attention, query $u_s$", r"문장 어텐션, 쿼리 $u_s$"),
        w=3.6, h=0.5, color="attention", fontsize=8)
    box(ax, mid, ys["doc"], tr(lang, "document vector $v$", "문서 벡터 $v$"), w=2.4, h=0.45,
        color="context", fontsize=8)
    arrow(ax, (mid, ys["satt"] + 0.27), (mid, ys["doc"] - 0.25), lw=0.8)
    box(ax, mid, ys["out"], tr(lang, "softmax: class", "소프트맥스: 클래스"), w=2.4, h=0.45,
        color="output", fontsize=8)
    arrow(ax, (mid, ys["doc"] + 0.25), (mid, ys["out"] - 0.25), lw=0.8)
    labels = {"word": tr(lang, "words (embedded)", "단어 (임베딩)"),
              "wgru": tr(lang, "word GRU (both directions)", "단어 GRU (양방향)"),
              "sent": tr(lang, "sentence vectors", "문장 벡터"),
              "sgru": tr(lang, "sentence GRU (both directions)", "문장 GRU (양방향)")}
    for key, text in labels.items():
        ax.text(width - 0.6, ys[key], text, ha="left", va="center", fontsize=8, color=MUTED)
    return ax


@diagram
def text_cnn(ax=None, *, lang: str = "en",
             words: Sequence[str] = ("the", "film", "is", "not", "bad", "at", "all"),
             widths: Sequence[int] = (3, 4, 5), embed_dim: int = 5, n_maps: int = 2):
    """TextCNN (Kim 2014): the sentence matrix, one window per filter width, the feature maps,
    max-over-time pooling, the concatenated features and the softmax layer. (Chapter
    *Convolutional networks for text*, ``notebooks/30_text_cnn``.)

    Args:
        words: the sentence, one row of the matrix per word.
        widths: the filter widths k (one example window and ``n_maps`` feature maps each).
        embed_dim: cells per row (D).
        n_maps: feature maps drawn per width.
    """
    if not words or not widths or embed_dim < 1 or n_maps < 1:
        raise ValueError("text_cnn needs words, widths, embed_dim >= 1 and n_maps >= 1")
    L = len(words)
    x_maps, x_pool, x_out = 5.0, 8.5, 10.5
    ax = new_axes(ax, (8, 4), (-2.2, x_out + 1.2), (-1.6, L + 1))
    # the sentence matrix: one row per word, embed_dim cells
    for r, w in enumerate(words):
        y = L - 1 - r
        ax.text(-0.3, y + 0.5, w, ha="right", va="center", fontsize=9)
        for c in range(embed_dim):
            ax.add_patch(Rectangle((c * 0.5, y), 0.5, 1, fc=PALETTE["input"], ec=MUTED, lw=0.5))
    ax.text(embed_dim * 0.25, L + 0.4, tr(lang, "L x D sentence matrix", "L x D 문장 행렬"),
            ha="center", fontsize=8)
    row = 0
    for i, k in enumerate(widths):
        col = _WIDTH_INKS[i % len(_WIDTH_INKS)]
        top = L - i  # an example window of k words starting at word i
        ax.add_patch(Rectangle((-0.05, top - k), embed_dim * 0.5 + 0.1, k, fc="none", ec=col, lw=2))
        n_win = L + k - 1
        for m in range(n_maps):
            x0 = x_maps + (i * n_maps + m) * 0.45
            for t in range(n_win):
                ax.add_patch(Rectangle((x0, L - (t + 1) * L / n_win), 0.35, L / n_win,
                                       fc=col, alpha=0.15 + 0.5 * ((t * 7 + m * 3) % 5 == 0), ec="none"))
            # max-over-time: one cell per map
            ax.add_patch(Rectangle((x_pool, L - 1 - row * 0.55), 0.5, 0.5, fc=col, alpha=0.8, ec=INK,
                                   lw=0.5))
            ax.plot([x0 + 0.35, x_pool], [L / 2, L - 0.75 - row * 0.55], color=col, lw=0.5, alpha=0.5)
            row += 1
        arrow(ax, (embed_dim * 0.5 + 0.1, top - k / 2), (x_maps + i * n_maps * 0.45, L - 0.2),
              color=col, lw=1)
        ax.text(x_maps + (i * n_maps + 0.5) * 0.45, L + 0.4, f"k={k}", ha="center", fontsize=8,
                color=col)
    ax.text(x_maps + 1.3, -0.8, tr(lang, "feature maps\n(one per filter)", "특징 맵\n(필터마다 하나)"),
            ha="center", fontsize=8)
    ax.text(x_pool + 0.25, -0.8, tr(lang, "max over\ntime", "시간 축\n최대 풀링"), ha="center",
            fontsize=8)
    for c in range(2):
        ax.add_patch(Rectangle((x_out, L / 2 - 1 + c * 1.2), 0.5, 0.5, fc=PALETTE["output"], ec=INK,
                               lw=0.5))
    arrow(ax, (x_pool + 0.5, L / 2), (x_out, L / 2), lw=1)
    ax.text(x_out + 0.25, -0.8, tr(lang, "dropout,\nsoftmax", "드롭아웃,\n소프트맥스"), ha="center",
            fontsize=8)
    shown = ", ".join(str(k) for k in widths)
    title(ax, tr(lang, f"TextCNN: filters of widths {shown} slide over the word vectors",
                 f"TextCNN: 너비 {shown}인 필터가 단어 벡터 위를 지나간다"), fontsize=10)
    return ax
