"""attnbook: the package behind *Attention, from RNNs to Graph Attention Networks*.

One concept per module, named as the book names it:

- :mod:`attnbook.attention` -- score functions, masked softmax, ``attend`` (chapter "Attention as a
  soft dictionary lookup").
- :mod:`attnbook.cnn` -- TextCNN (Kim 2014), a character-level CNN, the max-norm constraint, text
  batches by length (chapter "Convolutional networks for text").
- :mod:`attnbook.bench` -- timing a GAT training epoch against PyG's ``GATConv`` (chapter "Graph
  Attention Networks").
- :mod:`attnbook.ensemble` -- S GAT or GCN models (one per seed) trained in one pass, on the
  receptive field of the nodes a loss reads (chapter "Graph Attention Networks").
- :mod:`attnbook.gat` -- the GAT layer (edge list and dense), GATv2, the paper's GAT model
  (chapters "Graph Attention Networks" and "Inside a GAT").
- :mod:`attnbook.gcn` -- the GCN baseline of Kipf & Welling (chapter "Graph Attention Networks").
- :mod:`attnbook.graph` -- graphs as edge lists: self-loops, edge softmax, scatter sums, sparse
  features.
- :mod:`attnbook.graph_train` -- full-batch training of an ensemble with the GAT and GCN papers'
  early stopping.
- :mod:`attnbook.limits` -- windowed self-attention, conv stacks, path length read off gradients,
  interleaved timing, the copy-at-distance task (chapter "The limits of RNNs and CNNs").
- :mod:`attnbook.plot` -- attention heatmaps and other figures shared by chapters.
- :mod:`attnbook.results` -- headline numbers recorded by notebooks; the book's results page is
  generated from them.
- :mod:`attnbook.timing` -- interleaved timings of our Transformer pieces against torch's
  (chapter "Self-attention").
- :mod:`attnbook.transformer` -- multi-head attention, positional encodings, masks, encoder and
  decoder layers (post-LN, pre-LN), the encoder--decoder Transformer, the Noam schedule, label
  smoothing (chapters "Self-attention" and "The Transformer").
- :mod:`attnbook.transformer_diagrams` -- the multi-head attention and encoder-block diagrams.
- :mod:`attnbook.utils` -- seeding, device selection, progress bars.

Shape letters used everywhere (batch-first): B batch, S source length, T target length, L sequence
length, D model width, H heads, N nodes, E edges, F features.
"""

__version__ = "0.1.0"
