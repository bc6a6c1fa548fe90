"""Training R graph models full batch, with the early stopping of the GAT and GCN papers.

Taught in the chapter *Graph Attention Networks* (``notebooks/50_gat``, section "Reproducing
Table 2 of the paper") and used again in ``notebooks/51_gat_inside``. :func:`fit_ensemble` trains
an ensemble (:mod:`attnbook.ensemble`) on one graph with Adam, every node's features in every
step (*full batch*: the graph is the batch), and stops each model by the rule of the paper that
reports it. The rules are :class:`attnbook.train.EarlyStopping`'s, the book's one early-stopping
abstraction, with the papers' conditions:

- :class:`GATStopping` -- Veličković et al.'s code: patience on two scores at once;
- :class:`GCNStopping` -- Kipf & Welling's code: stop when the validation loss rises above its
  recent mean.

One epoch is :func:`full_batch_epoch` -- a training step on the whole graph
(:func:`full_batch_step`) and the evaluation pass that early stopping reads -- shared with the
benchmark (:func:`attnbook.bench.make_epoch`); :func:`fit_steps` takes a number of full-batch
steps without evaluation (the dictionary-lookup task of ``notebooks/51_gat_inside``). The
optimisers are the papers' recipes, beside the models: :func:`attnbook.gat.gat_optimizer` and
:func:`attnbook.gcn.gcn_optimizer`.

The loop runs on the device of the model: the graph and its split are moved there.

Shapes: R models, N nodes, E edges, C classes.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnbook.ensemble import GATEnsemble, GCNEnsemble, ReceptiveField
from attnbook.gat import gat_optimizer
from attnbook.gcn import gcn_optimizer
from attnbook.graph import SparseRows
from attnbook.train import EarlyStopping
from attnbook.utils import model_device
from attnbook.utils import progress as progress_bar

__all__ = ["GATStopping", "GCNStopping", "FitResult", "per_model_loss_acc", "node_logits",
           "full_batch_step", "full_batch_epoch", "fit_steps", "fit_ensemble"]

GraphInput = ReceptiveField | tuple[Tensor | SparseRows, Tensor, Tensor]
"""What a full-batch pass reads: an ensemble's :class:`~attnbook.ensemble.ReceptiveField` of the
target nodes, or ``(x, edge_index, mask)`` for a single model (the targets: ``mask``)."""


class GATStopping(EarlyStopping):
    """The GAT paper's rule (its code): two scores, validation accuracy and validation loss.

    :meth:`step` takes ``(accuracy, loss)``. A model whose accuracy or loss is at least as good as
    its best so far resets its patience counter; its weights are kept when *both* are; it stops
    after ``patience`` epochs with neither.
    """

    def start(self, num_models: int, device: torch.device) -> None:
        super().start(num_models, device)
        self.best_loss = torch.full((num_models,), float("inf"), dtype=torch.float64, device=device)

    def rule(self, acc: Tensor, loss: Tensor) -> tuple[Tensor, Tensor]:
        improved = (acc >= self.best) | (loss <= self.best_loss)
        save = (acc >= self.best) & (loss <= self.best_loss)
        self.best = torch.where(improved, torch.maximum(self.best, acc), self.best)
        self.best_loss = torch.where(improved, torch.minimum(self.best_loss, loss), self.best_loss)
        self.since_best = torch.where(improved, torch.zeros_like(self.since_best), self.since_best + 1)
        return save, self.since_best >= self.patience

    def keep(self, mask: Tensor) -> None:
        super().keep(mask)
        self.best_loss = self.best_loss[mask]


class GCNStopping(EarlyStopping):
    """The GCN paper's rule (its code): :meth:`step` takes the validation loss; a model stops once
    it exceeds the mean of the previous ``patience`` epochs' losses. Every epoch is kept: the
    reported model is the last one."""

    def start(self, num_models: int, device: torch.device) -> None:
        super().start(num_models, device)
        self.losses: list[Tensor] = []

    def rule(self, loss: Tensor) -> tuple[Tensor, Tensor]:
        save = torch.ones_like(loss, dtype=torch.bool)
        if len(self.losses) >= self.patience:
            stop = loss > torch.stack(self.losses[-self.patience:]).mean(0)
        else:
            stop = torch.zeros_like(save)
        self.losses.append(loss)
        return save, stop

    def keep(self, mask: Tensor) -> None:
        super().keep(mask)
        self.losses = [v[mask] for v in self.losses]


@dataclass
class FitResult:
    """What :func:`fit_ensemble` found, one entry per model (seed), on the CPU.

    Attributes:
        test_acc: test accuracy (%) at the epoch chosen by validation, ``(R,)``.
        val_acc: validation accuracy (%) at that epoch, ``(R,)``.
        best_epoch: the chosen epoch of each model, ``(R,)``.
        stop_epoch: the epoch at which each model's early stopping fired (``max_epochs`` if it
            never did), ``(R,)``.
        epochs: epochs run in total (the last model to stop).
        seconds: wall-clock time of the whole fit.
        history: per epoch, the mean over models of train loss, val loss, val accuracy.
    """

    test_acc: Tensor
    val_acc: Tensor
    best_epoch: Tensor
    stop_epoch: Tensor
    epochs: int
    seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)


def per_model_loss_acc(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Each model's mean cross-entropy and accuracy (%): logits ``(M, R, C)``, labels ``(M,)`` ->
    ``(R,)``, ``(R,)``."""
    M, R, C = logits.shape
    target = y.unsqueeze(1).expand(M, R)
    loss = F.cross_entropy(logits.reshape(M * R, C), target.reshape(-1), reduction="none").view(M, R).mean(0)
    acc = (logits.argmax(-1) == target).float().mean(0) * 100
    return loss, acc


def node_logits(model: nn.Module, inputs: GraphInput) -> Tensor:
    """The target nodes' logits: ``model(field)`` ``(M, R, C)`` for an ensemble's
    :class:`~attnbook.ensemble.ReceptiveField`, ``model(x, edge_index)[mask]`` ``(M, C)`` for a
    single model and ``(x, edge_index, mask)``."""
    if isinstance(inputs, ReceptiveField):
        return model(inputs)
    x, edge_index, mask = inputs
    return model(x, edge_index)[mask]


def full_batch_step(model: nn.Module, optimizer: torch.optim.Optimizer, inputs: GraphInput,
                    y: Tensor) -> tuple[Tensor, Tensor]:
    """One optimizer step on the whole graph, the model in training mode.

    The loss is the cross-entropy of the target nodes (labels ``y`` ``(M,)``): for an ensemble
    (logits ``(M, R, C)``) the sum over the models of each one's mean (:func:`per_model_loss_acc`:
    each model gets exactly its own gradient), for a single model (``(M, C)``) the mean.

    Returns:
        ``(loss, logits)``, detached: the loss per model ``(R,)`` (a single model: a scalar) and
        the training pass's logits, before the step.
    """
    model.train()
    optimizer.zero_grad()
    logits = node_logits(model, inputs)
    if logits.dim() == 3:
        loss, _ = per_model_loss_acc(logits, y)
        loss.sum().backward()
    else:
        loss = F.cross_entropy(logits, y)
        loss.backward()
    optimizer.step()
    return loss.detach(), logits.detach()


def full_batch_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, train: GraphInput,
                     y_train: Tensor, val: GraphInput, y_val: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One epoch of full-batch training, as early stopping repeats it: :func:`full_batch_step` on
    the training nodes, then the evaluation pass (dropout off, no gradients) on the validation
    nodes.

    Returns:
        ``(train_loss, val_loss, val_acc)``, each ``(R,)`` (``(1,)`` for a single model); the
        accuracy in %.
    """
    loss, _ = full_batch_step(model, optimizer, train, y_train)
    model.eval()
    with torch.no_grad():  # only the validation nodes' receptive field is computed
        logits = node_logits(model, val)
        vloss, vacc = per_model_loss_acc(logits if logits.dim() == 3 else logits.unsqueeze(1), y_val)
    return loss.reshape(-1), vloss, vacc


def fit_steps(model: nn.Module, optimizer: torch.optim.Optimizer, inputs: GraphInput, y: Tensor,
              steps: int, desc: str | None = None) -> dict[str, list[float]]:
    """``steps`` full-batch training steps (:func:`full_batch_step`), no evaluation, no early
    stopping: for a model that is trained, then looked at.

    Args:
        model, optimizer, inputs, y: as :func:`full_batch_step`.
        steps: the number of steps.
        desc: the label of a progress bar (:func:`attnbook.utils.progress`); None: none.

    Returns:
        ``{"loss": [...], "train_acc": [...]}``: per step, the mean training loss and the
        training accuracy (%) of the training pass (before the step's update).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    hist: dict[str, list[float]] = {"loss": [], "train_acc": []}
    for _ in progress_bar(range(steps), desc=desc, leave=False, disable=desc is None):
        loss, logits = full_batch_step(model, optimizer, inputs, y)
        target = y if logits.dim() == 2 else y.unsqueeze(1)
        hist["loss"].append(loss.mean().item())
        hist["train_acc"].append((logits.argmax(-1) == target).float().mean().item() * 100)
    return hist


def fit_ensemble(
    model: GATEnsemble | GCNEnsemble,
    x: SparseRows | Tensor,
    edge_index: Tensor,
    y: Tensor,
    train_mask: Tensor,
    val_mask: Tensor,
    test_mask: Tensor,
    lr: float = 0.005,
    weight_decay: float = 5e-4,
    max_epochs: int = 1000,
    patience: int = 100,
    stopping: str = "gat",
    progress=None,
    attention_weight_decay: float | None = None,
    threads: int | None = None,
) -> FitResult:
    """Train R independent models full-batch with Adam; report test accuracy chosen by validation.

    Early stopping, per model:

    - ``stopping="gat"`` (:class:`GATStopping`) -- the checkpoint is the last epoch at which
      validation accuracy and loss were both at least as good as their best so far; the test
      accuracy is the checkpoint's.
    - ``stopping="gcn"`` (:class:`GCNStopping`) -- stop once the validation loss exceeds the mean
      of the previous ``patience`` (10) epochs; the test accuracy is that of the last epoch.
      ``weight_decay`` then applies to the first layer only, as in Kipf & Welling's code.

    The loss summed over models gives each model exactly its own gradient, and Adam is
    element-wise, so the R models train as they would alone. The evaluation pass (dropout off)
    runs every epoch on the validation nodes. A model that stops is removed from the ensemble (its
    Adam moments with it), so the others' epochs get cheaper. At the end each model's checkpoint
    is restored (``model`` is left holding it) and evaluated on the test nodes, as in the papers'
    code. Each pass computes only what its loss reads (:class:`attnbook.ensemble.ReceptiveField`):
    the training pass the two-hop neighbourhood of the training nodes, the evaluation pass that of
    the validation nodes -- the same numbers as on the full graph, in less time.

    Args:
        model: a :class:`~attnbook.ensemble.GATEnsemble` or :class:`~attnbook.ensemble.GCNEnsemble`;
            training runs on its device.
        x, edge_index, y, train_mask, val_mask, test_mask: the graph and its split (moved to the
            model's device).
        lr, weight_decay: Adam's settings (GAT: 0.005, 5e-4; GCN: 0.01, 5e-4), passed to the
            papers' recipes :func:`attnbook.gat.gat_optimizer` / :func:`attnbook.gcn.gcn_optimizer`.
        max_epochs: hard limit.
        patience: see above (GAT: 100, GCN: 10).
        stopping: ``"gat"`` or ``"gcn"``.
        progress: optional callable wrapping the epoch iterator (e.g. ``attnbook.utils.progress``).
        attention_weight_decay: with ``stopping="gat"``, the weight decay of the attention vectors
            :math:`a` (:meth:`~attnbook.ensemble.GATEnsemble.attention_parameters`); ``None``
            (default): ``weight_decay``, as in the paper. ``notebooks/51_gat_inside`` sets it to 0
            to see what decay does to the attention.
        threads: the number of torch CPU threads during the fit (``torch.set_num_threads``),
            restored afterwards, also on an error; ``None`` (default): leave it as it is. The
            ensemble's operations are small, and on a busy machine two threads can make a CPU fit
            several times slower than one (they wait for each other); ``threads=1`` avoids that.

    Returns:
        a :class:`FitResult`.
    """
    if stopping not in ("gat", "gcn"):
        raise ValueError(f"stopping must be 'gat' or 'gcn', got {stopping!r}")
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be at least 1, got {max_epochs}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1 (or None), got {threads}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _fit(model, x, edge_index, y, train_mask, val_mask, test_mask, lr, weight_decay,
                    max_epochs, patience, stopping, progress, attention_weight_decay)
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _fit(model, x, edge_index, y, train_mask, val_mask, test_mask, lr, weight_decay, max_epochs,
         patience, stopping, progress, attention_weight_decay) -> FitResult:
    """The body of :func:`fit_ensemble`, its arguments checked."""
    t0 = time.perf_counter()
    device = model_device(model)
    x, edge_index, y = x.to(device), edge_index.to(device), y.to(device)
    train_mask, val_mask, test_mask = train_mask.to(device), val_mask.to(device), test_mask.to(device)
    if stopping == "gcn":
        opt = gcn_optimizer(model, lr, weight_decay)
        stopper: EarlyStopping = GCNStopping(patience, stacked=True)
    else:
        opt = gat_optimizer(model, lr, weight_decay, attention_weight_decay)
        stopper = GATStopping(patience, stacked=True)
    # each pass's receptive field, worked out once
    train_field, val_field = model.plan(x, edge_index, train_mask), model.plan(x, edge_index, val_mask)
    y_train, y_val = y[train_mask], y[val_mask]
    cur = model  # the models still training (a smaller copy once some have stopped)
    hist: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_acc": []}
    epochs = range(max_epochs) if progress is None else progress(range(max_epochs))
    for _ in epochs:
        loss, vloss, vacc = full_batch_epoch(cur, opt, train_field, y_train, val_field, y_val)
        hist["train_loss"].append(loss.mean().item())
        hist["val_loss"].append(vloss.mean().item())
        hist["val_acc"].append(vacc.mean().item())
        save, stop = stopper.step(vacc, vloss) if stopping == "gat" else stopper.step(vloss)
        stopper.checkpoint(cur, save)
        if stop.any():
            keep = ~stop
            if not keep.any():
                break
            # drop the stopped models: the others train on unchanged, in less time per epoch
            cur, opt = _keep_models(cur, opt, keep)
            stopper.keep(keep)
    # restore each model's checkpoint into `model` and evaluate it on the validation and test nodes
    stopper.restore(model)
    model.eval()
    with torch.no_grad():
        _, val_acc = per_model_loss_acc(model(val_field), y_val)
        _, test_acc = per_model_loss_acc(model(x, edge_index, test_mask), y[test_mask])
    stop_epoch = torch.where(stopper.stop_epoch < 0, max_epochs, stopper.stop_epoch)
    return FitResult(test_acc.cpu(), val_acc.cpu(), stopper.best_epoch.cpu(), stop_epoch.cpu(),
                     stopper.epoch + 1, time.perf_counter() - t0, hist)


def _keep_models(model: nn.Module, opt: torch.optim.Adam, keep: Tensor) -> tuple[nn.Module, torch.optim.Adam]:
    """A copy of an ensemble with only the models ``keep`` (bool ``(R,)``), and its Adam with their
    moments: the kept models continue exactly as if nothing had been removed."""
    new = copy.deepcopy(model)
    new.num_models = int(keep.sum())
    new_of: dict[int, nn.Parameter] = {}
    for name, p in model.named_parameters():
        q = nn.Parameter(p.detach()[keep].clone())
        setattr(new, name, q)
        new_of[id(p)] = q
    groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [new_of[id(p)] for p in g["params"]]}
              for g in opt.param_groups]
    new_opt = torch.optim.Adam(groups)
    for p, st in opt.state.items():
        new_opt.state[new_of[id(p)]] = {k: (v.clone() if k == "step" else v[keep].clone()) for k, v in st.items()}
    return new, new_opt
