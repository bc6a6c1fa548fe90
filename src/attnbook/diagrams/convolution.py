r"""The convolution diagram of chapter *The limits of RNNs and CNNs* (``notebooks/31_limits``): the
receptive field of one output of a stack of 1-d convolutions, growing layer by layer."""

from __future__ import annotations

from ._style import INK, MUTED, PALETTE, diagram, new_axes, title, tr

__all__ = ["receptive_fields"]

UNSEEN = "#bbbbbb"  # the edge of a position the output does not see


def _receptive_field(depth: int, length: int, k: int, dilated: bool, target: int
                     ) -> dict[int, set[int]]:
    """``{layer: positions}``: the positions of each layer (0 = the inputs) that the output at
    ``target`` of layer ``depth`` depends on, for "same" convolutions of width ``k`` (dilation
    :math:`2^{l-1}` in layer l if ``dilated``) -- what ``attnbook.limits.depends_on`` reads off the
    gradients of a ``ConvStack`` (tested)."""
    seen = {depth: {target}}
    for layer in range(depth, 0, -1):
        dil = 2 ** (layer - 1) if dilated else 1
        seen[layer - 1] = {p + o * dil for p in seen[layer] for o in range(-(k // 2), k // 2 + 1)
                           if 0 <= p + o * dil < length}
    return seen


@diagram
def receptive_fields(ax=None, *, lang: str = "en", depth: int = 3, length: int = 17, k: int = 3,
                     dilated: bool = False, target: int | None = None):
    """Which inputs one output of a stack of ``depth`` convolutions of width ``k`` sees.

    Rows are the layers (the inputs at the bottom); filled dots are the positions that the output
    at ``target`` (default: the middle) depends on, and lines join each of them to the inputs of its
    window in the layer below. Contiguous convolutions widen the field by ``k - 1`` per layer;
    dilated ones (dilations 1, 2, 4, ..., as in WaveNet and ByteNet) double it.

    Args:
        depth: the number of layers.
        length: the number of positions drawn.
        k: the width of each convolution (odd: "same" convolutions).
        dilated: dilation :math:`2^{l-1}` in layer l.
        target: the output position (default ``length // 2``).
    """
    if k < 1 or k % 2 == 0:
        raise ValueError(f"'same' convolutions need an odd width k, got {k}")
    if depth < 1 or length < 1:
        raise ValueError(f"need depth >= 1 and length >= 1, got depth={depth}, length={length}")
    target = length // 2 if target is None else target
    if not 0 <= target < length:
        raise ValueError(f"target must be in [0, {length}), got {target}")
    seen = _receptive_field(depth, length, k, dilated, target)
    ax = new_axes(ax, (5.0, 2.6), (-3.2, length - 0.4), (-0.5, depth + 0.5), equal=False)
    for layer in range(depth, 0, -1):
        dil = 2 ** (layer - 1) if dilated else 1
        for p in seen[layer]:
            for o in range(-(k // 2), k // 2 + 1):
                q = p + o * dil
                if 0 <= q < length:
                    ax.plot([p, q], [layer, layer - 1], color=INK, lw=0.8, alpha=0.45)
    for layer in range(depth + 1):
        for p in range(length):
            on = p in seen[layer]
            ax.plot(p, layer, "o", ms=6, mfc=PALETTE["linear"] if on else "white",
                    mec=INK if on else UNSEEN, mew=0.9, zorder=3)
        label = tr(lang, "input", "입력") if layer == 0 else tr(lang, f"layer {layer}", f"층 {layer}")
        ax.text(-0.9, layer, label, ha="right", va="center", fontsize=8.5, color=MUTED)
    kind = (tr(lang, "dilated", "팽창 합성곱") if dilated
            else tr(lang, "contiguous", "연속 합성곱"))
    n = len(seen[0])
    title(ax, tr(lang, f"{kind}, k = {k}: sees {n} inputs after {depth} layers",
                 f"{kind}, k = {k}: 층 {depth}개 뒤에 입력 {n}개를 봄"), fontsize=9)
    return ax
