"""attnbook: the package behind *Attention, from RNNs to Graph Attention Networks*.

One concept per module, named as the book names it:

- :mod:`attnbook.attention` -- score functions, masked softmax, ``attend`` (chapter "Attention as a
  soft dictionary lookup").
- :mod:`attnbook.rnn` -- the RNN cell from the equations, LSTM/GRU, gradients over distance,
  recurrent classifiers (chapter "Recurrent networks").
- :mod:`attnbook.seq2seq` -- encoder, fixed-context and attention decoders, greedy decoding, padded
  batches of pairs (chapters "Sequence to sequence" and "Attention in seq2seq").
- :mod:`attnbook.tasks` -- the date task of chapters 11, 21, 22 and 41 in one place (data, budget,
  models, scores by number of dates and length).
- :mod:`attnbook.han` -- context-vector attention pooling, the flat attention classifier and the
  Hierarchical Attention Network (chapters "Attention for classification" and "HAN on IMDB").
- :mod:`attnbook.diagrams` -- the concept diagrams (RNN, LSTM, seq2seq, the attention decoder, multi-head
  attention, the Transformer's blocks, GAT), drawn from code with English or Korean labels.
- :mod:`attnbook.train` -- the fit loop (mini-batches on the model's device, progress bars,
  early stopping through ``EarlyStopping``, seeding).
- :mod:`attnbook.data` -- the dataset registry (a data file), verified downloads, the restricted
  unpickler, loaders, the text pipeline, synthetic tasks.
- :mod:`attnbook.curves` -- learning curves against the clock: training for a budget of CPU
  seconds, the time to reach a target, exact match in one teacher-forced pass (chapter "The
  Transformer").
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
- :mod:`attnbook.utils` -- seeding (what a seed fixes; the seed offset of the robustness sweep), device selection, moving batches to a
  device, progress bars.

Shape letters used everywhere (batch-first; the book's notation page is the reference): B batch,
S source length, T target length, L sequence length, D model width, H heads, N nodes, E edges,
F features, C classes, V vocabulary size, R seeds trained side by side.
"""

__version__ = "0.2.0"
