"""Tests of attnbook.utils and attnbook.plot (importing plot changes no rcParams: tests/test_diagrams.py)."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from attnbook.plot import attention_text, heatmap, heatmaps, word_shades  # noqa: E402
from attnbook.utils import get_device, progress, seed_everything  # noqa: E402


def test_seed_everything_is_reproducible():
    seed_everything(3)
    a = torch.randn(4)
    g = seed_everything(3)
    assert torch.equal(a, torch.randn(4))
    assert torch.equal(torch.randn(2, generator=g), torch.randn(2, generator=seed_everything(3)))
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_get_device():
    assert get_device("cpu") == torch.device("cpu")
    assert get_device().type in ("cpu", "cuda")


def test_progress_can_be_silenced(monkeypatch):
    monkeypatch.setenv("ATTNBOOK_PROGRESS", "0")
    bar = progress(range(3))
    assert bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.setenv("ATTNBOOK_PROGRESS", "1")
    bar = progress(range(3), file=io.StringIO())
    assert not bar.disable and list(bar) == [0, 1, 2]
    bar.close()


def test_heatmap_labels_and_errors():
    w = torch.softmax(torch.randn(2, 3), -1)
    ax = heatmap(w, x_labels=list("abc"), y_labels=["q1", "q2"], annotate=True, title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(ax.texts) == 6
    with pytest.raises(ValueError, match="2 labels for 3"):
        heatmap(w, x_labels=["a", "b"])
    with pytest.raises(ValueError, match="2-d"):
        heatmap(torch.zeros(2, 2, 2))
    fig = heatmaps([w, w, w, w], titles=list("abcd"), ncols=3)
    assert len([a for a in fig.axes if a.get_title()]) == 4
    plt.close("all")


def test_hangul_is_drawn_without_missing_glyphs():
    """With a CJK font on the machine (CI installs fonts-noto-cjk), Korean labels draw without
    matplotlib's "Glyph ... missing from font" warning (warnings are errors in the tests)."""
    from attnbook.plot import hangul_family

    if hangul_family() is None:
        pytest.skip("no font with Hangul on this machine (apt-get install fonts-noto-cjk)")
    rc_before = dict(plt.rcParams)
    ax = heatmap(torch.eye(2), x_labels=["모양을", "어텐션"], y_labels=["a", "b"], title="셀프 어텐션")
    assert dict(plt.rcParams) == rc_before  # the CJK font only inside the drawing
    ax.figure.canvas.draw()  # drawn after the style context: the labels keep their font
    plt.close(ax.figure)


def test_word_shades_yang_and_sentence():
    # two sentences: the first holds almost all the sentence attention, the second almost none
    ww = torch.tensor([[0.6, 0.3, 0.1], [0.1, 0.9, 0.0]])  # the second sentence has 2 real words
    sw = torch.tensor([0.96, 0.04])
    yang = word_shades(ww.numpy(), sw.numpy(), [3, 2])
    # sqrt(beta_i) * alpha_it over its document maximum (sqrt(0.96) * 0.6)
    top = 0.96 ** 0.5 * 0.6
    assert [len(r) for r in yang] == [3, 2]
    assert yang[0] == pytest.approx([1.0, 0.5, 1 / 6])
    assert yang[1] == pytest.approx([0.2 * 0.1 / top, 0.2 * 0.9 / top])
    # the largest word of the unimportant sentence stays pale; scaled per sentence it is full
    assert yang[1][1] < 0.35
    per_sentence = word_shades(ww.numpy(), sw.numpy(), [3, 2], scale="sentence")
    assert per_sentence[0] == pytest.approx([1.0, 0.5, 1 / 6])
    assert per_sentence[1] == pytest.approx([1 / 9, 1.0])
    # a sentence with no attention is blank under Yang's display
    assert word_shades([[0.5, 0.5], [1.0, 0.0]], [1.0, 0.0], [2, 1])[1] == pytest.approx([0.0])
    with pytest.raises(ValueError):
        word_shades(ww.numpy(), sw.numpy(), [3, 2], scale="row")


def test_attention_text_draws_each_word():
    fig, ax = plt.subplots()
    attention_text([["a", "good", "film"], ["so", "what"]], torch.tensor([[0.2, 0.7, 0.1], [0.5, 0.5, 0.0]]),
                   torch.tensor([0.8, 0.2]), ax=ax, title="t")
    assert [t.get_text() for t in ax.texts if t.get_text() in {"a", "good", "film", "so", "what"}] == [
        "a", "good", "film", "so", "what"]
    with pytest.raises(ValueError):
        attention_text([["a"]], torch.ones(1), torch.ones(1), ax=ax)
    plt.close(fig)
