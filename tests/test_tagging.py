"""Tests of attnbook.tagging: the tagger's shapes and bodies, and fit_tagger = fit by hand."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attnbook.tagging import Tagger, fit_tagger, sequence_output
from attnbook.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _gru_tagger(positions: bool = False) -> Tagger:
    torch.manual_seed(0)
    embed = nn.Embedding(5, 6)
    pos = nn.Embedding(7, 6) if positions else None
    width = 12 if positions else 6
    return Tagger(nn.GRU(width, width, batch_first=True), width, 4, embed=embed, positions=pos)


def test_sequence_output_takes_the_first_of_a_tuple():
    x = torch.randn(2, 3, 4)
    gru = nn.GRU(4, 5, batch_first=True)
    assert torch.equal(sequence_output(gru, x), gru(x)[0])
    assert torch.equal(sequence_output(nn.Identity(), x), x)


@pytest.mark.parametrize("positions", [False, True])
def test_tagger_shapes_and_embedded_input(positions):
    model = _gru_tagger(positions)
    tokens = torch.randint(0, 5, (3, 7))
    logits = model(tokens)
    assert logits.shape == (3, 7, 4)
    # handing in the token vectors gives the same logits, and a gradient with respect to them
    emb = model.embed(tokens).detach().requires_grad_(True)
    out = model(tokens, emb)
    torch.testing.assert_close(out, logits)
    out.sum().backward()
    assert emb.grad is not None and emb.grad.shape == (3, 7, 6)
    # the registration order: embed, positions, body, read-out
    names = [n.split(".")[0] for n, _ in model.named_parameters()]
    assert list(dict.fromkeys(names)) == ["embed", *(["positions"] if positions else []), "body", "out"]


def test_tagger_without_embed_feeds_the_tokens_to_the_body():
    class Body(nn.Module):  # embeds by itself and returns a tuple, as a Transformer encoder does
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 3)

        def forward(self, tokens):
            return self.embed(tokens), None

    model = Tagger(Body(), width=3, num_out=2)
    assert model(torch.randint(0, 5, (2, 4))).shape == (2, 4, 2)
    with pytest.raises(ValueError, match="embed"):
        model(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="embed"):
        Tagger(Body(), 3, 2, positions=nn.Embedding(4, 3))


def _task(n: int = 96, length: int = 7, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 5, (n, length), generator=g)
    y = torch.full_like(x, -100)
    y[:, 1:] = x[:, :-1] % 4  # name (mod 4) the token one position back; nothing at position 0
    return x, y


def test_fit_tagger_equals_fit_on_stacked_pairs():
    x, y = _task()
    hand = _gru_tagger()
    h_hand = fit(hand, list(zip(x, y, strict=True)),
                 lambda b: (torch.stack([a for a, _ in b]), torch.stack([c for _, c in b])),
                 lambda m, b: F.cross_entropy(m(b[0]).flatten(0, 1), b[1].flatten()),
                 epochs=2, batch_size=16, lr=3e-3, seed=0, show_progress=False)
    ours = _gru_tagger()
    h_ours = fit_tagger(ours, x, y, epochs=2, batch_size=16, lr=3e-3, seed=0, show_progress=False)
    assert h_ours.train_loss == h_hand.train_loss
    for p, q in zip(ours.parameters(), hand.parameters(), strict=True):
        assert torch.equal(p, q)


def test_fit_tagger_learns_ignores_and_stops_at_a_target():
    x, y = _task(n=256)
    model = _gru_tagger()

    def accuracy(m):  # the targets -100 are not counted
        keep = y != -100
        return (m(x).argmax(-1)[keep] == y[keep]).float().mean().item()

    hist = fit_tagger(model, x, y, epochs=30, batch_size=32, lr=1e-2, evaluate=accuracy,
                      target=0.99, show_progress=False)
    assert hist.best_score >= 0.99 and hist.stopped_early
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        fit_tagger(model, x, y[:10], epochs=1)


def test_fit_tagger_passes_a_tuple_of_inputs_as_the_model_arguments():
    x, y = _task(n=32)

    class TwoInputs(nn.Module):  # e.g. a seq2seq model's (source, decoder input)
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Embedding(5, 4), nn.Embedding(5, 4)

        def forward(self, src, other):
            return self.a(src) + self.b(other)  # (B, L, 4)

    torch.manual_seed(0)
    model = TwoInputs()
    hist = fit_tagger(model, (x, x.flip(1)), y, epochs=2, batch_size=8, show_progress=False)
    assert len(hist.train_loss) == 2 and model.a.weight.grad is not None
