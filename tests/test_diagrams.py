"""The concept diagrams of attnbook.diagrams (chapters 10, 11, 21, 40, 41, 50): every one draws in
English and in Korean with one signature, the Korean labels are Hangul drawn with a font that has
the glyphs, the global rcParams are left alone, and the diagrams draw what they are given."""

import inspect
import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from attnbook import diagrams  # noqa: E402

HANGUL = re.compile("[\uac00-\ud7a3]")


def _render(ax):
    """Draw the figure to PNG; a glyph missing from the font (a box, "tofu", in the picture) fails."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
        warnings.filterwarnings("error", message=".*findfont")
        ax.figure.savefig(buf, format="png", dpi=50)
    assert buf.tell() > 1000
    plt.close(ax.figure)


def _texts(ax):
    return [t.get_text() for t in ax.texts] + [ax.get_title()]


@pytest.mark.parametrize("lang", diagrams.LANGS)
@pytest.mark.parametrize("name", diagrams.DIAGRAMS)
def test_every_diagram_draws_in_both_languages(name, lang):
    fn = getattr(diagrams, name)
    params = inspect.signature(fn).parameters
    assert list(params)[:2] == ["ax", "lang"] and params["lang"].default == "en"  # one signature
    assert all(p.kind is p.KEYWORD_ONLY for p in list(params.values())[1:])
    rc_before = dict(plt.rcParams)
    ax = fn(lang=lang)
    assert dict(plt.rcParams) == rc_before  # the Korean font only inside the drawing
    texts = " ".join(_texts(ax))
    if lang == "ko":
        assert HANGUL.search(texts), texts  # Korean labels
        families = {tuple(t.get_fontfamily()) for t in ax.texts if HANGUL.search(t.get_text())}
        assert all(f[0] == diagrams.korean_font() for f in families), families
    else:
        assert not HANGUL.search(texts), texts
    _render(ax)
    # into given axes, too (one figure with two diagrams)
    fig, (a, b) = plt.subplots(1, 2)
    assert fn(a, lang=lang) is a and fn(ax=b, lang=lang) is b
    _render(a)


@pytest.mark.parametrize("name", diagrams.DIAGRAMS)
def test_an_unknown_language_is_refused(name):
    with pytest.raises(ValueError, match="lang"):
        getattr(diagrams, name)(lang="fr")
    plt.close("all")


def test_the_korean_labels_use_the_glossary_terms():
    texts = " ".join(_texts(diagrams.encoder_decoder(lang="ko")))
    for term in ("멀티헤드", "셀프 어텐션", "크로스 어텐션", "층 정규화", "피드포워드", "위치 인코딩",
                 "룩어헤드", "인코더", "디코더"):
        assert term in texts, term
    for refused in ("멀티 헤드", "레이어", "인과 마스크"):
        assert refused not in texts, refused
    texts = " ".join(_texts(diagrams.seq2seq_context(lang="ko")))
    assert "인코더" in texts and "디코더" in texts
    plt.close("all")


@pytest.mark.parametrize("name", diagrams.DIAGRAMS)
def test_no_korean_label_uses_a_form_the_glossary_refuses(name):
    from i18n import glossary_refused  # tools/ (pytest's pythonpath)

    refused = glossary_refused()
    texts = " ".join(_texts(getattr(diagrams, name)(lang="ko")))
    plt.close("all")
    assert refused and not [form for form in refused if form in texts], texts


def test_korean_font_is_found_or_named():
    name = diagrams.korean_font()
    assert name in matplotlib.font_manager.get_font_names()


def test_toy_graph_draws_its_edges_and_self_loops():
    edge_index = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]])
    ax = diagrams.toy_graph(edge_index=edge_index, num_nodes=5)
    loops = [p for p in ax.patches if isinstance(p, Circle) and p.get_linestyle() == "--"]
    assert len(loops) == 5  # one self-loop per node
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == 4  # four undirected edges, each stored twice, drawn once
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("no neighbours") == 1  # node 4
    _render(ax)
    no_loops = diagrams.toy_graph(edge_index=edge_index, num_nodes=5, self_loops=False)
    assert not [p for p in no_loops.patches if isinstance(p, Circle) and p.get_linestyle() == "--"]
    _render(no_loops)
    with pytest.raises(ValueError, match="outside"):
        diagrams.toy_graph(edge_index=[[0, 7], [7, 0]], num_nodes=5)
    assert [t.get_text() for t in diagrams.toy_graph(lang="ko").texts].count("이웃 없음") == 1
    plt.close("all")


def test_toy_graph_other_sizes_on_a_circle():
    _render(diagrams.toy_graph(edge_index=[[0, 1, 2], [1, 2, 0]], num_nodes=3))  # one direction: arrows


def test_gat_layer_shows_one_row_per_neighbour_and_the_heads():
    ax = diagrams.gat_layer(target=2, neighbours=(0, 1, 2, 3), heads=8)
    texts = [t.get_text() for t in ax.texts]
    for j in range(4):
        assert rf"$\alpha_{{2{j}}}\, W h_{{{j}}}$" in texts
        assert f"$e_{{2{j}}}$" in texts
    assert texts.count("LeakyReLU") == 4
    assert "softmax over $j$" in texts
    assert any("query term" in t for t in texts) and any("key term" in t for t in texts)
    assert any("concatenate" in t for t in texts) and any("average" in t for t in texts)
    assert r"$h_{2}'^{(H)}$" in texts
    _render(ax)
    with pytest.raises(ValueError, match="heads"):
        diagrams.gat_layer(heads=1)
    plt.close("all")


def test_seq2seq_context_draws_the_whole_target_then_eos():
    """The decoder writes every character of the target and ends with one <eos> (issue 19: the
    chapter drew a cut target, whose decoder stopped mid-date)."""
    for lang in diagrams.LANGS:
        ax = diagrams.seq2seq_context(source="26/8/2006", target="2006-08-26", lang=lang)
        texts = [t.get_text() for t in ax.texts]
        assert texts.count("<eos>") == 1 and texts.count("<bos>") == 1
        steps = texts[texts.index("<bos>"):texts.index("<eos>") + 1]  # each step: input, output
        outputs = steps[1::2]
        assert "".join(outputs[:-1]) == "2006-08-26" and outputs[-1] == "<eos>"
        _render(ax)


def test_attention_decoder_step_indexes_the_source_by_j():
    """Chapter 21 writes the source position j (s is the decoder state): so does its diagram."""
    ax = diagrams.attention_decoder_step(source="ab")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert r"\alpha_{t,j}" in texts and r"\sum_j \alpha_{t,j} h_j" in texts and "h_s" not in texts
    _render(ax)
    with pytest.raises(ValueError, match="weights"):
        diagrams.attention_decoder_step(source="abc", weights=[0.5, 0.5])


def test_multihead_attention_and_encoder_block_state_the_shapes():
    ax = diagrams.multihead_attention(heads=2)
    texts = [t.get_text() for t in ax.texts]
    assert any(r"$(H d_v) \times D$" in t for t in texts)
    plt.close("all")
    for norm_first, first in ((False, "Multi-head\nself-attention"), (True, "LayerNorm")):
        ax = diagrams.encoder_block(norm_first=norm_first)
        labels = [t.get_text() for t in ax.texts]
        assert labels[1] == first  # after the input box: attention first (post-LN) or LN (pre-LN)
        plt.close("all")


def test_encoder_decoder_draws_both_stacks_and_the_memory():
    ax = diagrams.encoder_decoder(layers="2")
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
    # the Korean one draws the same structure (the residual paths do not depend on the labels)
    ko = diagrams.encoder_decoder(layers="2", lang="ko")
    assert len(ko.lines) == len(ax.lines) and len(ko.patches) == len(ax.patches)
    plt.close("all")


def test_the_palette_gives_attention_one_colour():
    assert diagrams.PALETTE["attention"] not in {v for k, v in diagrams.PALETTE.items() if k != "attention"}


def test_without_a_korean_font_a_reader_gets_english_labels_and_the_build_an_error(monkeypatch):
    import matplotlib.pyplot as plt

    from attnbook.diagrams import _style

    def missing():
        raise RuntimeError("no Korean font")

    monkeypatch.setattr(_style, "korean_font", missing)
    monkeypatch.delenv(_style.STRICT_FONTS, raising=False)
    with pytest.warns(UserWarning, match="English labels"):
        ax = diagrams.unrolled_rnn(lang="ko")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert not re.search(r"[\uac00-\ud7a3]", texts)
    plt.close("all")
    monkeypatch.setenv(_style.STRICT_FONTS, "1")
    with pytest.raises(RuntimeError, match="no Korean font"):
        diagrams.unrolled_rnn(lang="ko")
    plt.close("all")


@pytest.mark.parametrize("dilated", [False, True])
def test_receptive_fields_agree_with_the_gradients_of_a_conv_stack(dilated):
    from attnbook.diagrams.convolution import _receptive_field
    from attnbook.limits import ConvStack, depends_on

    state = torch.random.get_rng_state()
    ax = diagrams.receptive_fields(depth=3, length=17, dilated=dilated)
    assert torch.equal(torch.random.get_rng_state(), state)  # no draw from the global RNG
    seen = _receptive_field(3, 17, 3, dilated, target=8)
    assert len(seen[0]) == (15 if dilated else 7)
    assert f"sees {len(seen[0])} inputs" in ax.get_title()
    plt.close(ax.figure)
    stack = ConvStack(1, 3, k=3, dilated=dilated)
    with torch.no_grad():
        for conv in stack.layers:  # every unit active, so that no ReLU hides a dependence
            conv.weight.fill_(1.0)
            conv.bias.fill_(1.0)
    dep = depends_on(stack, torch.ones(1, 17, 1))[8]  # (L,)
    assert set(dep.nonzero().flatten().tolist()) == seen[0]
    with pytest.raises(ValueError, match="odd"):
        diagrams.receptive_fields(k=2)


# ----------------------------------------------------------------------------------------------
# The text-classification diagrams (chapters 23 and 30)


def test_text_cnn_draws_a_row_per_word_a_window_and_maps_per_width():
    words, widths, n_maps = ("a", "good", "film", "indeed"), (2, 3), 2
    ax = diagrams.text_cnn(words=words, widths=widths, embed_dim=4, n_maps=n_maps)
    texts = _texts(ax)
    assert all(w in texts for w in words), texts  # one row label per word
    assert "k=2" in texts and "k=3" in texts and "2, 3" in ax.get_title()
    # the sentence matrix (4 x 4 cells), a window per width, the maps' windows and pooled cells
    n_windows = sum((len(words) + k - 1) * n_maps for k in widths)
    assert len(ax.patches) >= len(words) * 4 + len(widths) + n_windows + len(widths) * n_maps
    plt.close("all")


def test_hierarchical_attention_draws_every_word_and_sentence():
    ax = diagrams.hierarchical_attention(n_sentences=2, n_words=3)
    texts = _texts(ax)
    assert {f"$w_{{{i}{j}}}$" for i in (1, 2) for j in (1, 2, 3)} <= set(texts)
    assert {"$s_1$", "$s_2$", "$h_1$", "$h_2$"} <= set(texts)
    ko = " ".join(_texts(diagrams.hierarchical_attention(lang="ko")))
    for term in ("문장 벡터", "문서 벡터", "어텐션", "쿼리", "양방향"):
        assert term in ko, term
    with pytest.raises(ValueError):
        diagrams.hierarchical_attention(n_sentences=0)
    plt.close("all")


@pytest.mark.parametrize("name", diagrams.DIAGRAMS)
def test_no_diagram_touches_the_global_random_state(name):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    getattr(diagrams, name)()
    assert torch.equal(torch.get_rng_state(), state)
    plt.close("all")


def test_importing_plot_leaves_the_global_rcparams_alone():
    import subprocess
    import sys

    code = ("import matplotlib as mpl; before = dict(mpl.rcParams); import attnbook.plot; "
            "assert dict(mpl.rcParams) == before")
    subprocess.run([sys.executable, "-c", code], check=True)
