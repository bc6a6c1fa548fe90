"""attnbook: the package behind *Attention, from RNNs to Graph Attention Networks*.

One concept per module, named as the book names it:

- :mod:`attnbook.attention` -- score functions, masked softmax, ``attend`` (chapter "Attention as a
  soft dictionary lookup").
- :mod:`attnbook.plot` -- attention heatmaps and other figures shared by chapters.
- :mod:`attnbook.results` -- headline numbers recorded by notebooks; the book's results page is
  generated from them.
- :mod:`attnbook.utils` -- seeding, device selection, progress bars.

Shape letters used everywhere (batch-first): B batch, S source length, T target length, L sequence
length, D model width, H heads, N nodes, E edges, F features.
"""

__version__ = "0.1.0"
