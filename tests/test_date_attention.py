"""Tests of attnbook.date_attention: the spans of a two-date input, and both shares on hand-set maps."""

import datetime as dt

import pytest
import torch

from attnbook.data.synthetic import DatePair
from attnbook.date_attention import date_spans, own_date_share, share_on_source_year, year_positions

# source "3 mar 2015; 4 apr 2016": date 0 at 0..9, "; " at 10..11, date 1 at 12..21
PAIR = DatePair("3 mar 2015; 4 apr 2016", "2015-03-03;2016-04-04",
                (dt.date(2015, 3, 3), dt.date(2016, 4, 4)), ("d mon yyyy", "d mon yyyy"))
S, T = len(PAIR.source), len(PAIR.target) + 1  # + <eos>


def test_spans_and_years():
    assert date_spans(PAIR) == [range(0, 10), range(12, 22)]
    assert year_positions(PAIR) == [range(6, 10), range(18, 22)]
    assert PAIR.source[6:10] == "2015" and PAIR.source[18:22] == "2016"


def test_share_on_source_year():
    w = torch.zeros(1, 2, T, S)  # head 0 looks at the right year, head 1 at the first character
    for k, years in enumerate(year_positions(PAIR)):
        for i, t in enumerate(range(11 * k, 11 * k + 4)):  # output yyyy of date k
            w[0, 0, t, years[i]] = 1.0
    w[0, 1, :, 0] = 1.0
    assert share_on_source_year(w, [PAIR]).tolist() == [1.0, 0.0]
    w[0, 0, 11, 6] = 2.0  # one of the 8 output year characters looks at the other date's year
    assert share_on_source_year(w, [PAIR]).tolist() == pytest.approx([7 / 8, 0.0])


def test_own_date_share():
    w = torch.full((1, 2, S, S), 1.0 / S)  # head 0: even; head 1: all weight within the own date
    for span in date_spans(PAIR):
        for q in span:
            w[0, 1, q] = 0.0
            w[0, 1, q, span.start:span.stop] = 1.0 / len(span)
    share, even = own_date_share(w, [PAIR], n_dates=2)
    assert even == pytest.approx(10 / S)  # a date's 10 characters of the source's 22
    assert share.tolist() == pytest.approx([10 / S, 1.0])
    with pytest.raises(ValueError, match="3 dates"):
        own_date_share(w, [PAIR], n_dates=3)
