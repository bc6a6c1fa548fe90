"""Tests of attnbook.transformer_diagrams.encoder_decoder (chapter 41's diagram); the diagrams of
chapter 40 are tested in tests/test_transformer.py."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from attnbook import transformer_diagrams  # noqa: E402


def test_encoder_decoder_draws_both_stacks_and_the_memory():
    ax = transformer_diagrams.encoder_decoder(layers="2")
    texts = [t.get_text() for t in ax.texts]
    # the encoder has one self-attention, the decoder a masked self-attention and a cross-attention
    assert texts.count("Multi-head\nself-attention") == 1
    assert texts.count("Masked multi-head\nself-attention (causal)") == 1
    assert texts.count("Multi-head\ncross-attention") == 1
    assert texts.count("Add & LayerNorm") == 2 + 3  # post-LN: one per sub-layer
    assert "memory (B, S, D)" in texts and "K, V" in texts
    assert texts.count("× 2") == 2
    # everything drawn lies inside the axes' limits
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for t in ax.texts:
        x, y = t.get_position()
        assert x0 <= x <= x1 and y0 <= y <= y1, t.get_text()
    plt.close("all")
