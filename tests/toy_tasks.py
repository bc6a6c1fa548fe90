"""A tiny seeded classification task shared by test_train.py and test_curves.py (not a test module).

64 points in the plane, label = whether the first coordinate is positive; with the collate function, the
loss and an accuracy metric that ``attnbook.train.fit`` and ``attnbook.curves.fit_timed`` take.
"""

import torch
import torch.nn.functional as F


def toy_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    y = (x[:, 0] > 0).long()
    return list(zip(x, y, strict=True))


def toy_collate(b):
    return torch.stack([x for x, _ in b]), torch.stack([y for _, y in b])


def toy_loss(m, batch):
    return F.cross_entropy(m(batch[0]), batch[1])


def toy_accuracy(data):
    x, y = toy_collate(data)
    return lambda m: (m(x).argmax(-1) == y).float().mean().item()
