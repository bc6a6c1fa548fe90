r"""The book's concept diagrams, drawn from code (matplotlib): the book keeps no picture without its
source, and each diagram can be drawn with English or Korean labels.

Every drawing function has one signature, ``fn(ax=None, *, lang="en", **opts) -> Axes``: it draws
into ``ax`` (a new figure if None) and returns the axes; ``lang`` is ``"en"`` or ``"ko"`` (the
Korean edition's labels, in the glossary's terms; symbols and formulas are the same in both, and a
font with Hangul is used only inside the drawing, see :func:`korean_font`). One palette
(:data:`PALETTE`, by role) and one set of box and arrow helpers serve every diagram.

- :mod:`.recurrent` -- :func:`unrolled_rnn`, :func:`lstm_cell` (chapter *Recurrent networks*,
  ``notebooks/10_rnn``), :func:`seq2seq_context` (*Sequence to sequence*, ``notebooks/11_seq2seq``),
  :func:`attention_decoder_step` (*Attention in seq2seq*, ``notebooks/21_attention_seq2seq``);
- :mod:`.transformer` -- :func:`multihead_attention`, :func:`encoder_block` (*Self-attention*,
  ``notebooks/40_self_attention``), :func:`encoder_decoder` (*The Transformer*,
  ``notebooks/41_transformer``);
- :mod:`.convolution` -- :func:`receptive_fields` (*The limits of RNNs and CNNs*,
  ``notebooks/31_limits``);
- :mod:`.text` -- :func:`hierarchical_attention` (*Attention for classification and the HAN*,
  ``notebooks/23_han``), :func:`text_cnn` (*Convolutional networks for text*,
  ``notebooks/30_text_cnn``);
- :mod:`.graph` -- :func:`toy_graph`, :func:`gat_layer` (*Graph attention networks*,
  ``notebooks/50_gat``).
"""

from __future__ import annotations

from ._style import KOREAN_FONT_PACKAGE, LANGS, PALETTE, korean_font, language
from .convolution import receptive_fields
from .graph import gat_layer, toy_graph
from .recurrent import attention_decoder_step, lstm_cell, seq2seq_context, unrolled_rnn
from .text import hierarchical_attention, text_cnn
from .transformer import encoder_block, encoder_decoder, multihead_attention

DIAGRAMS = ("unrolled_rnn", "lstm_cell", "seq2seq_context", "attention_decoder_step",
            "multihead_attention", "encoder_block", "encoder_decoder", "toy_graph", "gat_layer",
            "receptive_fields", "hierarchical_attention", "text_cnn")
"""The names of every drawing function (each ``fn(ax=None, *, lang="en", **opts) -> Axes``)."""

__all__ = ["hierarchical_attention", "text_cnn", "receptive_fields", "unrolled_rnn", "lstm_cell", "seq2seq_context", "attention_decoder_step",
           "multihead_attention", "encoder_block", "encoder_decoder", "toy_graph", "gat_layer", "DIAGRAMS", "LANGS", "PALETTE", "KOREAN_FONT_PACKAGE", "korean_font",
           "language"]
