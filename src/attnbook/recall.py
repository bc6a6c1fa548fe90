r"""The long-range recall experiment of chapter *Recurrent networks* (``notebooks/10_rnn``).

The task (:func:`attnbook.data.synthetic.recall`): a sequence starts with one of ``n_symbols``
symbols, followed by ``lag`` distractor tokens; after reading the whole sequence the network must
name the first symbol, seen ``lag`` steps ago. :class:`RecallTask` holds the data sizes, the model
widths and the training budget on which the chapter compares the plain RNN, the LSTM and the GRU,
and :meth:`RecallTask.run` trains one :class:`attnbook.rnn.RecurrentClassifier` (one cell, one
forget-gate bias, one lag, one seed) and scores it; with ``profile=True`` it also measures the
gradient over distance (:func:`attnbook.rnn.gradient_profile`) before and after training.

Example::

    from attnbook.recall import RecallTask

    task = RecallTask(epochs=8)
    run = task.run("gru", forget_bias=1.0, lag=25, seed=0, profile=True)
    run["acc"], run["epochs"], run["trained"][25]   # test accuracy, epochs run, gradient at 25 steps
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.data import synthetic
from attnbook.rnn import RecurrentClassifier, gradient_profile
from attnbook.train import accuracy, fit
from attnbook.utils import seed_everything, to_device

__all__ = ["RecallTask", "collate_recall"]


def collate_recall(batch: list[synthetic.RecallExample]) -> tuple[Tensor, Tensor]:
    """Stack recall examples (all of one length) into ``(tokens (B, L), labels (B,))``."""
    return torch.tensor([e.tokens for e in batch]), torch.tensor([e.label for e in batch])


def _loss(model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
    return F.cross_entropy(model(batch[0]), batch[1])


@dataclass(frozen=True)
class RecallTask:
    """The recall task and its budget: the one configuration on which the cells are compared.

    Data: for each lag, ``n_train`` training, ``n_val`` validation and ``n_test`` test sequences
    of ``n_symbols`` symbols and ``n_distractors`` distractors, drawn with ``seed=lag``: every
    cell and every training seed sees the same sequences at one lag.

    Model: an embedding of ``embed_dim``, one recurrent layer of ``hidden`` units, a linear
    read-out of the last state (:class:`attnbook.rnn.RecurrentClassifier`).

    Budget (:func:`attnbook.train.fit`, Adam, gradient norm clipped to 1): at most ``epochs``
    passes in batches of ``batch_size`` at learning rate ``lr``, stopping once ``target`` of the
    validation set is right. ``n_profile`` test sequences give the gradient profiles.
    """

    n_symbols: int = 8
    n_distractors: int = 4
    n_train: int = 3000
    n_val: int = 200
    n_test: int = 500
    embed_dim: int = 16
    hidden: int = 32
    epochs: int = 8
    batch_size: int = 64
    lr: float = 1e-2
    target: float = 0.99
    n_profile: int = 100

    def run(
        self, cell: str, forget_bias: float, lag: int, seed: int, *, profile: bool = False,
        device: torch.device | str = "cpu", lr: float | None = None, epochs: int | None = None,
    ) -> dict:
        """Train one model at distance ``lag`` from ``seed`` and score it on the test sequences.

        Args:
            cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
            forget_bias: the LSTM's initial forget-gate bias (ignored by the other cells).
            lag: the distance between the symbol and the end of the sequence.
            seed: seeds the model's initialisation and the batch order (the seed offset honoured).
            profile: also measure the gradient profiles before and after training.
            device: where the model and the data go.
            lr, epochs: replace the task's learning rate or epoch budget (say so where you do).

        Returns:
            ``{"acc": test accuracy, "epochs": epochs run, "init": profile before training,
            "trained": profile after}`` (the profiles ``(lag + 1,)``, indexed by the distance,
            or None without ``profile``).
        """
        train, rest = synthetic.recall(self.n_train, self.n_val + self.n_test, lag=lag,
                                       n_symbols=self.n_symbols, n_distractors=self.n_distractors,
                                       seed=lag)
        (x_val, y_val), (x_test, y_test) = to_device(
            (collate_recall(rest[: self.n_val]), collate_recall(rest[self.n_val :])), device)
        seed_everything(seed)
        model = RecurrentClassifier(self.n_symbols + self.n_distractors, self.n_symbols, cell=cell,
                                    embed_dim=self.embed_dim, hidden_size=self.hidden,
                                    forget_bias=forget_bias).to(device)
        out = {"init": gradient_profile(model, x_test[: self.n_profile]) if profile else None}
        history = fit(model, train, collate_recall, _loss, epochs=self.epochs if epochs is None else epochs,
                      batch_size=self.batch_size, lr=self.lr if lr is None else lr, seed=seed,
                      evaluate=lambda m: accuracy(m, x_val, y_val), target=self.target,
                      show_progress=False)
        out["epochs"] = len(history.train_loss)
        out["acc"] = accuracy(model, x_test, y_test)
        out["trained"] = gradient_profile(model, x_test[: self.n_profile]) if profile else None
        return out
