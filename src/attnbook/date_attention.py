"""Where a model's attention looks on the date task: the share of output year characters whose
largest cross-attention weight is on the source year, and the weight a source character keeps
within its own date.

Taught in *The Transformer* (``notebooks/41_transformer``, section 2), which reads the maps of the
Transformer trained on :data:`attnbook.tasks.DATE_TASK`. The inputs are
:class:`attnbook.data.synthetic.DatePair` examples without filler words: the source is the dates
joined by ``"; "`` and the target their ISO forms ``yyyy-mm-dd`` joined by ``";"`` (11
characters a date), the characters being the tokens.

Shapes: cross-attention weights ``(B, H, T, S)`` (output characters T, source characters S),
encoder self-attention ``(B, H, S, S)``; example b of the weights is ``pairs[b]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from attnbook.data.synthetic import DatePair

__all__ = ["date_spans", "year_positions", "share_on_source_year", "own_date_share"]


def date_spans(pair: DatePair) -> list[range]:
    """The source positions of each date (the dates are joined by ``"; "``)."""
    spans, start = [], 0
    for segment in pair.source.split("; "):
        spans.append(range(start, start + len(segment)))
        start += len(segment) + 2
    return spans


def year_positions(pair: DatePair) -> list[range]:
    """Source positions of each date's year (the last four characters of each date)."""
    return [range(span.stop - 4, span.stop) for span in date_spans(pair)]


def share_on_source_year(weights: Tensor, pairs: Sequence[DatePair]) -> Tensor:
    """``(B, H, T, S)`` cross-attention -> ``(H,)``: per head, the share of output year characters
    whose largest weight falls on the year of the same date in the source."""
    hits, total = torch.zeros(weights.shape[1]), 0
    for b, pair in enumerate(pairs[: weights.shape[0]]):
        for k, span in enumerate(year_positions(pair)):
            for t in range(11 * k, 11 * k + 4):  # output characters yyyy of date k
                top = weights[b, :, t].argmax(-1)  # (H,)
                hits += torch.tensor([int(s) in span for s in top.tolist()])
                total += 1
    return hits / total


def own_date_share(weights: Tensor, pairs: Sequence[DatePair], n_dates: int = 3) -> tuple[Tensor, float]:
    """``(B, H, S, S)`` encoder self-attention -> per head ``(H,)``, the mean weight that a date
    character (not a separator) of an input with ``n_dates`` dates gives to characters of its own
    date; and the same share for attention spread evenly over the source (the date's length over
    the source's)."""
    shares, even, n = torch.zeros(weights.shape[1]), 0.0, 0
    for b, pair in enumerate(pairs[: weights.shape[0]]):
        if len(pair.dates) != n_dates:
            continue
        for span in date_spans(pair):
            own = slice(span.start, span.stop)
            shares += weights[b, :, own, own].sum(-1).sum(-1)  # (H,)
            even += len(span) * len(span) / len(pair.source)
            n += len(span)
    if n == 0:
        raise ValueError(f"no input among the {min(len(pairs), weights.shape[0])} has {n_dates} dates")
    return shares / n, even / n
