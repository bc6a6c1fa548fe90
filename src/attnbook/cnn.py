r"""Convolutional networks for text: TextCNN (Kim 2014) and a character-level CNN (Zhang et al. 2015).

Taught in the chapter *Convolutional networks for text* (``notebooks/30_text_cnn``); the chapter
*The limits of RNNs and CNNs* (``notebooks/31_limits``) measures how far a stack of them can see.

References: Y. Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014;
X. Zhang, J. Zhao, Y. LeCun, "Character-level Convolutional Networks for Text Classification",
NeurIPS 2015; Y. Zhang, B. Wallace, "A Sensitivity Analysis of (and Practitioners' Guide to)
Convolutional Neural Networks for Sentence Classification", 2015.

A sentence of L words is a matrix :math:`x_{1:L}` of word vectors :math:`x_t \in \mathbb{R}^D`.
A filter of width :math:`k` is a matrix :math:`w \in \mathbb{R}^{k \times D}` and a bias :math:`b`;
it slides over the windows of k consecutive words and gives one feature per window,

.. math::

    c_t = \operatorname{ReLU}\big(\langle w,\, x_{t:t+k-1} \rangle + b\big),

and **max-over-time pooling** keeps the largest, :math:`\hat c = \max_t c_t`: one number per filter,
whatever the sentence's length, saying how strongly the filter's n-gram occurs somewhere. TextCNN
concatenates :math:`\hat c` of all its filters (widths 3, 4, 5 with 100 maps each: 300 features),
applies dropout and a linear softmax layer whose weight vectors are kept at a norm of at most 3
(the **max-norm constraint**, :func:`max_norm_`).

Windows and padding. A batch is padded to its longest sentence. So that the padding of a batch can
never change a prediction, the windows of a sentence are those of a *wide* convolution over the
sentence alone: every window that overlaps at least one real word, the word vectors outside the
sentence being zero. For a sentence of length L and a width k there are L + k - 1 of them (so a
sentence shorter than k still has windows), and windows that lie wholly in the padding are excluded
from the max. Kim's own code pads every sentence with k_max - 1 zero vectors in front and pads to
the longest sentence of the data set, so a few all-zero windows take part there; the difference is
only in those windows.

Shapes (batch-first): tokens ``(B, L)`` int64, mask ``(B, L)`` bool (``True`` = a real token),
embeddings ``(B, L, D)``, convolution features ``(B, F, L + k - 1)``, pooled ``(B, F)``, logits
``(B, C)``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.train import train_step
from attnbook.utils import seed_everything

__all__ = [
    "conv_windows",
    "conv_features",
    "max_over_time",
    "ConvMaxPool",
    "TextCNN",
    "CharCNN",
    "max_norm_",
    "add_max_norm",
    "textcnn_step_seconds",
    "top_ngrams",
]


def _check_tokens(tokens: Tensor, mask: Tensor | None, who: str) -> Tensor:
    if tokens.dim() != 2:
        raise ValueError(f"{who} expects tokens of shape (B, L), got {tuple(tokens.shape)}")
    if tokens.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{who} expects integer token ids, got dtype {tokens.dtype}")
    if mask is None:
        return torch.ones_like(tokens, dtype=torch.bool)
    if mask.shape != tokens.shape:
        raise ValueError(
            f"{who} expects a mask of the tokens' shape (B, L) = {tuple(tokens.shape)}, got "
            f"{tuple(mask.shape)}"
        )
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = real token), got dtype {mask.dtype}")
    return mask


def conv_windows(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""The readable path of a wide 1-d convolution: :math:`\langle w_f, x_{t-k+1:t} \rangle + b_f`
    for every window that overlaps the sequence, written as windows and dot products.

    Args:
        x: ``(B, L, D)`` word vectors (zero at padding).
        weight: ``(F, D, k)`` filters, the layout of ``torch.nn.Conv1d`` (``weight[f, :, j]`` is
            applied to the j-th word of a window).
        bias: ``(F,)`` or None.

    Returns:
        ``(B, F, L + k - 1)``: window t covers positions ``t - k + 1 .. t``.
    """
    if x.dim() != 3 or weight.dim() != 3 or weight.shape[1] != x.shape[-1]:
        raise ValueError(
            f"expected x (B, L, D) and weight (F, D, k) with the same D, got x {tuple(x.shape)} "
            f"and weight {tuple(weight.shape)}"
        )
    k = weight.shape[-1]
    padded = F.pad(x, (0, 0, k - 1, k - 1))  # (B, L + 2k - 2, D): zero vectors on both sides
    windows = padded.unfold(1, k, 1)  # (B, L + k - 1, D, k): every window of k vectors
    out = torch.einsum("btdk,fdk->bft", windows, weight)  # (B, F, L + k - 1)
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out


def conv_features(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The fast path of :func:`conv_windows` (``torch.nn.functional.conv1d``), same numbers."""
    if x.dim() != 3 or weight.dim() != 3 or weight.shape[1] != x.shape[-1]:
        raise ValueError(
            f"expected x (B, L, D) and weight (F, D, k) with the same D, got x {tuple(x.shape)} "
            f"and weight {tuple(weight.shape)}"
        )
    k = weight.shape[-1]
    return F.conv1d(x.transpose(1, 2), weight, bias, padding=k - 1)  # (B, F, L + k - 1)


def max_over_time(features: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
    r"""Max-over-time pooling :math:`\hat c_f = \max_t c_{f,t}` over the valid windows.

    Args:
        features: ``(B, F, W)`` one feature per filter and window.
        valid: ``(B, W)`` bool, ``True`` at windows that take part.

    Returns:
        ``(pooled, argmax)``: ``(B, F)`` the largest feature of each filter (0 for a sequence with
        no valid window, i.e. an empty one) and ``(B, F)`` the index of the winning window
        (the "weights" of this pooling: which n-gram the filter fired on).
    """
    if features.dim() != 3 or valid.shape != (features.shape[0], features.shape[2]):
        raise ValueError(
            f"expected features (B, F, W) and valid (B, W), got {tuple(features.shape)} and "
            f"{tuple(valid.shape)}"
        )
    masked = features.masked_fill(~valid.unsqueeze(1), float("-inf"))  # (B, F, W)
    pooled, argmax = masked.max(dim=-1)  # (B, F), (B, F)
    empty = ~valid.any(dim=-1, keepdim=True)  # (B, 1)
    return pooled.masked_fill(empty, 0.0), argmax


class ConvMaxPool(nn.Module):
    """``n_maps`` filters of one width ``k``, ReLU, then max-over-time pooling.

    Args:
        embed_dim: D.
        n_maps: F, the number of filters (feature maps).
        width: k, the number of consecutive tokens a filter sees.
        readable: compute with :func:`conv_windows` instead of ``conv1d`` (same numbers, slower).

    Shapes:
        x ``(B, L, D)``, lengths ``(B,)`` -> pooled ``(B, F)``, window index ``(B, F)``; window t
        covers tokens ``t - k + 1 .. t``.
    """

    def __init__(self, embed_dim: int, n_maps: int, width: int, readable: bool = False) -> None:
        super().__init__()
        if width < 1 or n_maps < 1:
            raise ValueError(f"width and n_maps must be >= 1, got width={width}, n_maps={n_maps}")
        self.embed_dim, self.n_maps, self.width, self.readable = embed_dim, n_maps, width, readable
        self.conv = nn.Conv1d(embed_dim, n_maps, width)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        if x.dim() != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"{self!r} expects x of shape (B, L, {self.embed_dim}), got {tuple(x.shape)}")
        conv = conv_windows if self.readable else conv_features
        c = F.relu(conv(x, self.conv.weight, self.conv.bias))  # (B, F, L + k - 1)
        n_windows = c.shape[-1]
        # window t overlaps the sentence iff t < length + k - 1 (an empty sentence has none)
        t = torch.arange(n_windows, device=x.device)  # (W,)
        valid = (t < (lengths + self.width - 1).unsqueeze(1)) & (lengths > 0).unsqueeze(1)
        return max_over_time(c, valid)  # (B, F), (B, F)

    def __repr__(self) -> str:
        return f"ConvMaxPool({self.embed_dim}, {self.n_maps}, width={self.width})"


@torch.no_grad()
def max_norm_(weight: Tensor, max_norm: float) -> Tensor:
    r"""The max-norm constraint of Kim (2014): rescale every row :math:`w_c` (the weights into one
    output unit, a row of a ``Linear`` layer's ``(C, F)`` weight) with :math:`\lVert w_c \rVert_2 >
    s` to :math:`\lVert w_c \rVert_2 = s`; rows within the ball are left alone. In place; returns
    ``weight``."""
    if weight.dim() != 2:
        raise ValueError(f"max_norm_ expects a (C, F) weight, got {tuple(weight.shape)}")
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    return weight.renorm_(2, 0, max_norm)


def add_max_norm(optimizer: torch.optim.Optimizer, weight: Tensor, max_norm: float):
    """Apply :func:`max_norm_` to ``weight`` after every ``optimizer.step()`` (a step post-hook,
    so any training loop keeps the constraint). Returns the hook's handle (``.remove()``)."""

    def hook(opt, args, kwargs):
        max_norm_(weight, max_norm)

    max_norm_(weight, max_norm)
    return optimizer.register_step_post_hook(hook)


class TextCNN(nn.Module):
    r"""TextCNN of Kim (2014): embeddings, convolutions of several widths, max-over-time pooling,
    dropout, a linear softmax layer.

    Kim's CNN-rand: ``embed_dim=300``, ``widths=(3, 4, 5)``, ``n_maps=100``, ReLU, ``dropout=0.5``,
    max-norm 3 on the output weights (applied by the training loop: :func:`add_max_norm`), batches
    of 50 with Adadelta, early stopping on a dev split.

    Args:
        vocab_size: number of token ids; id ``pad_id`` gets a zero vector.
        num_classes: C.
        embed_dim: D.
        widths: the filter widths k.
        n_maps: filters per width.
        dropout: dropout probability on the pooled features (training only).
        pad_id: the padding id (``vocab.pad_id``).
        embeddings: optional ``(vocab_size, D)`` pretrained vectors (CNN-static / non-static).
        freeze: keep ``embeddings`` fixed (CNN-static).
        readable: compute the convolutions with :func:`conv_windows` (tests; same numbers).

    Shapes:
        tokens ``(B, L)`` int64, mask ``(B, L)`` bool -> logits ``(B, C)``.

    Attributes:
        last_windows: after a forward pass, ``{width: (B, n_maps) window index}`` of the winning
            window of every filter (window t of width k covers tokens ``t - k + 1 .. t``).
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 300,
        widths: Sequence[int] = (3, 4, 5),
        n_maps: int = 100,
        dropout: float = 0.5,
        pad_id: int = 0,
        embeddings: Tensor | None = None,
        freeze: bool = False,
        readable: bool = False,
    ) -> None:
        super().__init__()
        if embeddings is not None:
            if embeddings.shape != (vocab_size, embed_dim):
                raise ValueError(
                    f"embeddings must be (vocab_size, embed_dim) = {(vocab_size, embed_dim)}, got "
                    f"{tuple(embeddings.shape)}"
                )
            self.embed = nn.Embedding.from_pretrained(embeddings.float(), freeze=freeze,
                                                      padding_idx=pad_id)
        else:
            # Kim's random vectors: uniform in [-0.25, 0.25] (his code; the padding row stays 0)
            self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
            with torch.no_grad():
                self.embed.weight.uniform_(-0.25, 0.25)
                self.embed.weight[pad_id].zero_()
        self.widths, self.n_maps, self.embed_dim = tuple(widths), n_maps, embed_dim
        self.convs = nn.ModuleList(ConvMaxPool(embed_dim, n_maps, k, readable) for k in self.widths)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(n_maps * len(self.widths), num_classes)
        self.last_windows: dict[int, Tensor] = {}

    def features(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """The pooled features ``(B, n_maps * len(widths))`` before dropout."""
        mask = _check_tokens(tokens, mask, repr(self))
        x = self.embed(tokens) * mask.unsqueeze(-1)  # (B, L, D), exactly zero at padding
        lengths = mask.sum(dim=1)  # (B,)
        pooled = []
        for conv in self.convs:
            p, where = conv(x, lengths)  # (B, F), (B, F)
            pooled.append(p)
            self.last_windows[conv.width] = where.detach()
        return torch.cat(pooled, dim=-1)  # (B, F * widths)

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.out(self.dropout(self.features(tokens, mask)))  # (B, C)

    def extra_repr(self) -> str:
        return f"widths={self.widths}, n_maps={self.n_maps}"


class CharCNN(nn.Module):
    r"""A character-level CNN after Zhang, Zhao & LeCun (2015), scaled down for short strings.

    Zhang et al. quantize characters as one-hot vectors (no embedding), stack six convolutions
    (widths 7, 7, 3, 3, 3, 3, with max-pooling) over a fixed frame of 1,014 characters and end with
    three fully connected layers with dropout. For surnames of a few characters this keeps the
    one-hot input, stacks ``len(widths)`` "same" convolutions with ReLU (no pooling in between:
    the strings are short), takes a max over time instead of flattening a fixed frame, and ends
    with one hidden fully connected layer with dropout.

    Padding never changes a prediction: padded positions are zeroed after every layer, which is
    what the zero padding of a "same" convolution assumes at the end of a string.

    Args:
        n_chars: size of the character vocabulary (one-hot width); id ``pad_id`` is zero.
        num_classes: C.
        channels: feature maps per convolution.
        widths: the widths of the stacked convolutions (odd).
        hidden: width of the fully connected layer.
        dropout: dropout before each fully connected layer.
        pad_id: the padding id.

    Shapes:
        tokens ``(B, L)`` int64, mask ``(B, L)`` bool -> logits ``(B, C)``.
    """

    def __init__(
        self,
        n_chars: int,
        num_classes: int,
        channels: int = 128,
        widths: Sequence[int] = (5, 3, 3),
        hidden: int = 256,
        dropout: float = 0.5,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        if any(k % 2 == 0 for k in widths):
            raise ValueError(f"'same' convolutions need odd widths, got {tuple(widths)}")
        self.n_chars, self.pad_id, self.widths = n_chars, pad_id, tuple(widths)
        dims = [n_chars] + [channels] * len(widths)
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, k, padding=k // 2) for a, b, k in zip(dims, dims[1:], widths, strict=False)
        )
        self.fc = nn.Linear(channels, hidden)
        self.out = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        mask = _check_tokens(tokens, mask, repr(self))
        if tokens.numel() and int(tokens.max()) >= self.n_chars:
            raise ValueError(f"{self!r}: token id {int(tokens.max())} >= n_chars = {self.n_chars}")
        m = mask.unsqueeze(1)  # (B, 1, L)
        h = F.one_hot(tokens, self.n_chars).float().transpose(1, 2) * m  # (B, n_chars, L)
        for conv in self.convs:
            h = F.relu(conv(h)) * m  # (B, channels, L), zero at padding
        valid = mask
        pooled, _ = max_over_time(h, valid)  # (B, channels)
        hidden = F.relu(self.fc(self.dropout(pooled)))  # (B, hidden)
        return self.out(self.dropout(hidden))  # (B, C)

    def __repr__(self) -> str:
        return f"CharCNN({self.n_chars}, {self.out.out_features}, widths={self.widths})"


def textcnn_step_seconds(embed_dim: int, vocab_size: int = 18_000, batch_size: int = 50,
                         length: int = 21, steps: int = 5, seed: int = 0) -> float:
    """Median seconds of one Adam step of a :class:`TextCNN` of width ``embed_dim`` (the other
    settings Kim's) on a random batch of ``batch_size`` sentences of ``length`` tokens; the first
    of ``steps + 1`` steps (a cold start) is left out. Seeds the global generators with ``seed``."""
    seed_everything(seed)
    model = TextCNN(vocab_size, 2, embed_dim=embed_dim)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = torch.randint(1, vocab_size, (batch_size, length))
    y = torch.randint(0, 2, (batch_size,))
    times = []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        train_step(model, (x, y), lambda m, b: F.cross_entropy(m(b[0]), b[1]), opt, max_grad_norm=None)
        times.append(time.perf_counter() - t0)
    return float(statistics.median(times[1:]))


def top_ngrams(features: Tensor, windows: Tensor, widths: Tensor, ids: Tensor,
               decode: Callable[[list[int]], list[str]], f: int, n: int = 6) -> list[str]:
    """The n-grams on which filter ``f`` of a trained :class:`TextCNN` fires hardest, strongest
    first and without repeats: what the filter has learned to detect.

    Args:
        features: ``(N, F)`` pooled features of N sentences (:meth:`TextCNN.features`).
        windows: ``(N, F)`` the winning window of each filter (``last_windows``, widths concatenated
            in the order of ``features``).
        widths: ``(F,)`` each filter's width k.
        ids: ``(N, L)`` the sentences' token ids (padding after the words).
        decode: token ids -> words without padding (``vocab.decode``).
        f: the filter.
        n: how many n-grams.
    """
    out: list[str] = []
    k = int(widths[f])
    for i in features[:, f].argsort(descending=True).tolist():
        t = int(windows[i, f])  # window t covers tokens t - k + 1 .. t
        words = decode(ids[i].tolist())
        gram = " ".join(words[max(t - k + 1, 0): t + 1])
        if gram not in out:
            out.append(gram)
        if len(out) == n:
            break
    return out

