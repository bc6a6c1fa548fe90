"""attnbook: the package behind *Attention, from RNNs to Graph Attention Networks*.

One concept per module, named as the book names it. By part of the book:

The models and what they are made of
- :mod:`attnbook.attention` -- score functions (additive, dot, scaled dot, general, static), masked
  softmax, ``attend`` and the multi-head attention module (chapters "Attention as a soft dictionary
  lookup", "Similarity functions", "Self-attention").
- :mod:`attnbook.rnn` -- the RNN cell from the equations, LSTM/GRU, gradients over distance,
  recurrent classifiers, the bidirectional GRU encoder of padded sequences (chapter "Recurrent
  networks", used again in 21, 23, 24 and 30).
- :mod:`attnbook.seq2seq` -- encoder, fixed-context and attention decoders, greedy decoding, padded
  batches of pairs, the losses (label smoothing included) (chapters "Sequence to sequence" and
  "Attention in seq2seq").
- :mod:`attnbook.han` -- context-vector attention pooling, the flat attention classifier and the
  Hierarchical Attention Network (chapters "Attention for classification" and "HAN on IMDB").
- :mod:`attnbook.cnn` -- TextCNN (Kim 2014), a character-level CNN, the max-norm constraint
  (chapter "Convolutional networks for text").
- :mod:`attnbook.limits` -- windowed self-attention, conv stacks, path length read off gradients,
  the cost of a layer, the copy-at-distance models (chapter "The limits of RNNs and CNNs").
- :mod:`attnbook.transformer` -- positional encodings, encoder and decoder layers (post-LN, pre-LN)
  and the encoder--decoder Transformer, configured by one ``TransformerConfig`` (chapters
  "Self-attention" and "The Transformer").
- :mod:`attnbook.schedules` -- the Noam and linear warm-up schedules and the Transformer's
  optimiser recipes (chapter "The Transformer").
- :mod:`attnbook.gat` -- the GAT layer (edge list and dense), GATv2, the paper's GAT model and its
  optimiser recipe (chapters "Graph Attention Networks" and "Inside a GAT").
- :mod:`attnbook.gcn` -- the GCN baseline of Kipf & Welling and its optimiser recipe.
- :mod:`attnbook.graph` -- graphs as edge lists: self-loops, edge softmax, scatter sums, sparse
  features.
- :mod:`attnbook.ensemble` -- R GAT or GCN models (one per seed) trained in one pass, on the
  receptive field of the nodes a loss reads (chapter "Graph Attention Networks").

Training and measuring
- :mod:`attnbook.train` -- the one training loop ``fit`` (mini-batches on the model's device, a
  budget of epochs, steps or seconds, evaluation on a schedule, early stopping through
  ``EarlyStopping``, seeding, progress bars) and ``accuracy``.
- :mod:`attnbook.curves` -- learning curves against the clock: ``fit_timed`` (a thin layer on
  ``fit``), the time to reach a target, exact match in one teacher-forced pass (chapter "The
  Transformer").
- :mod:`attnbook.classify` -- a text classifier's pipeline whatever the model: token ids, padded
  batches, batches of similar length, training with early stopping on a dev split, predictions
  (chapters 23, 24 and 30).
- :mod:`attnbook.tagging` -- a sequence layer with a read-out at every position, and its training
  (chapters "The limits of RNNs and CNNs" and "Self-attention").
- :mod:`attnbook.graph_train` -- full-batch training of an ensemble (one epoch function shared with
  the benchmark) with the GAT and GCN papers' early stopping.
- :mod:`attnbook.bench` -- interleaved timings: a GAT epoch against PyG's ``GATConv``, our
  Transformer pieces against torch's (chapters "Self-attention", "The limits of RNNs and CNNs",
  "Graph Attention Networks").
- :mod:`attnbook.results` -- headline numbers recorded by notebooks (``Recorder``), and ``glue`` /
  ``glue_many`` for the numbers the prose quotes; the book's results page is generated from them.

The chapters' experiments (what a chapter runs more than once, or runs again elsewhere)
- :mod:`attnbook.tasks` -- the date task of chapters 11, 21, 22 and 41 in one place (data, budget,
  models, a cached trained model, scores by number of dates and length).
- :mod:`attnbook.recall` -- the long-range recall experiment (chapter "Recurrent networks").
- :mod:`attnbook.date_attention` -- where attention looks on the date task (chapters 21 and 41).
- :mod:`attnbook.race` -- models trained for the same budget of CPU seconds on the reversal task
  (chapter "The Transformer").

Data, figures, machinery
- :mod:`attnbook.data` -- the dataset registry (a data file), verified downloads, the restricted
  unpickler, loaders, the text pipeline, synthetic tasks with known answers.
- :mod:`attnbook.diagrams` -- the concept diagrams (RNN, LSTM, seq2seq, the attention decoder, the
  HAN, TextCNN, receptive fields, multi-head attention, the Transformer's blocks, GAT), drawn from
  code with English or Korean labels; one signature ``fn(ax=None, *, lang)``, one palette.
- :mod:`attnbook.plot` -- attention heatmaps and highlighted text (drawn in a style context:
  importing it changes no global setting).
- :mod:`attnbook.utils` -- seeding (what a seed fixes; the seed offset of the robustness sweep),
  device selection, moving batches to a device, progress bars.

Shape letters used everywhere (batch-first; the book's notation page is the reference): B batch,
S source length, T target length, L sequence length, D model width, H heads, N nodes, E edges,
F features, C classes, V vocabulary size, R seeds trained side by side.
"""

__version__ = "0.2.0"
