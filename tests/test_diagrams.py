"""Each diagram of attnbook.diagrams renders (chapters 10, 11, 21, 50), and the two of chapter 50
draw what they are given."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from attnbook import diagrams  # noqa: E402


def _render(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.tell() > 1000
    plt.close(fig)


@pytest.mark.parametrize("name", diagrams.__all__)
def test_every_diagram_renders(name):
    _render(getattr(diagrams, name)())


def test_toy_graph_draws_its_edges_and_self_loops():
    edge_index = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]])
    fig = diagrams.toy_graph(edge_index, 5)
    ax = fig.axes[0]
    loops = [p for p in ax.patches if isinstance(p, Circle) and p.get_linestyle() == "--"]
    assert len(loops) == 5  # one self-loop per node
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == 4  # four undirected edges, each stored twice, drawn once
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("no neighbours") == 1  # node 4
    _render(fig)
    no_loops = diagrams.toy_graph(edge_index, 5, self_loops=False)
    assert not [p for p in no_loops.axes[0].patches if isinstance(p, Circle) and p.get_linestyle() == "--"]
    _render(no_loops)
    with pytest.raises(ValueError, match="outside"):
        diagrams.toy_graph([[0, 7], [7, 0]], 5)


def test_toy_graph_other_sizes_on_a_circle():
    _render(diagrams.toy_graph([[0, 1, 2], [1, 2, 0]], 3))  # one direction only: arrows


def test_gat_layer_shows_one_row_per_neighbour_and_the_heads():
    fig = diagrams.gat_layer(target=2, neighbours=(0, 1, 2, 3), heads=8)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for j in range(4):
        assert rf"$\alpha_{{2{j}}}\, W h_{{{j}}}$" in texts
        assert f"$e_{{2{j}}}$" in texts
    assert texts.count("LeakyReLU") == 4
    assert "softmax over $j$" in texts
    assert any("query term" in t for t in texts) and any("key term" in t for t in texts)
    assert any("concatenate" in t for t in texts) and any("average" in t for t in texts)
    assert r"$h_{2}'^{(H)}$" in texts
    _render(fig)
    with pytest.raises(ValueError, match="heads"):
        diagrams.gat_layer(heads=1)


def test_seq2seq_context_draws_the_whole_target_then_eos():
    """The decoder writes every character of the target and ends with one <eos> (issue 19: the
    chapter drew a cut target, whose decoder stopped mid-date)."""
    fig = diagrams.seq2seq_context("26/8/2006", "2006-08-26")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("<eos>") == 1 and texts.count("<bos>") == 1
    start = texts.index("<bos>") - 1  # each decoder step: its cell (no text), input, output
    steps = texts[start:texts.index("<eos>") + 1]
    outputs = steps[2::3]
    assert "".join(outputs[:-1]) == "2006-08-26" and outputs[-1] == "<eos>"
    _render(fig)


def test_attention_decoder_step_indexes_the_source_by_j():
    """Chapter 21 writes the source position j (s is the decoder state): so does its diagram."""
    fig = diagrams.attention_decoder_step("ab")
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert r"\alpha_{t,j}" in texts and r"\sum_j \alpha_{t,j} h_j" in texts and "h_s" not in texts
    _render(fig)
