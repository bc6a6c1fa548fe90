"""Small helpers every chapter uses: seeding, device selection, moving batches, progress bars.

Code in the book is device-agnostic: every notebook picks its device with :func:`get_device` (CUDA
when it is present, as in Colab's GPU runtime; the CPU otherwise), builds its models there, and the
training loops move each batch to the device of the model (:func:`to_device`).

What a seed fixes (:func:`seed_everything`): Python's ``random``, NumPy's global generator and
PyTorch's CPU and CUDA generators, so weight initialisation, dropout masks and shuffling repeat
exactly on the same machine and software. It does not fix the order of floating-point reductions
on a GPU (``index_add_``/scatter-add, cuDNN's algorithm choice): pass ``deterministic=True`` for
that, at some cost in speed. It cannot fix Python's string hashing (``PYTHONHASHSEED`` is read when
the interpreter starts); no code in the book depends on set or dict order of strings.

The seed offset (:func:`seed_offset`): every seeded draw of an experiment -- weight initialisation,
dropout, shuffling, splits, synthetic data -- goes through :func:`draw_seed`, which adds
``$ATTNBOOK_SEED_OFFSET`` (default 0) to the seed the notebook names. ``seed_everything``,
:func:`generator`, :func:`numpy_rng`, :func:`python_rng` and every package function that takes a
``seed`` (``train.fit``, the synthetic tasks, ``data.corpora.kfold``, ...) honour it. Setting the
offset to 1 or 2 re-runs the whole book with other draws of the same experiments: the robustness
sweep (``make robustness``, ``tools/robustness.py``) does that, as another machine's numerics would.
Hand-checked toys keep their numbers under any offset: they use hand-set weights or their own
``torch.Generator().manual_seed(k)``, never these helpers.
"""

from __future__ import annotations

import dataclasses
import os
import random

import numpy as np
import torch

__all__ = ["seed_offset", "draw_seed", "seed_everything", "generator", "numpy_rng", "python_rng",
           "get_device", "to_device", "model_device", "progress"]


SEED_OFFSET_VARIABLE = "ATTNBOOK_SEED_OFFSET"


def seed_offset() -> int:
    """The seed offset, ``$ATTNBOOK_SEED_OFFSET`` (a non-negative integer; 0 when unset or empty)."""
    raw = os.environ.get(SEED_OFFSET_VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{SEED_OFFSET_VARIABLE} must be a non-negative integer, got {raw!r}")
    return value


def _check_seed(seed) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def draw_seed(seed: int) -> int:
    """The seed an experiment's draw really uses: ``seed`` plus the seed offset (:func:`seed_offset`).

    Package functions that take a ``seed`` call this once, where they create their generator; a
    notebook calls it only for a generator of its own kind (``random.Random(draw_seed(k))``).
    """
    _check_seed(seed)
    return int(seed) + seed_offset()


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``draw_seed(seed)``: for an experiment's draws.

    A hand-checked toy uses ``torch.Generator().manual_seed(k)`` instead, which no offset moves.
    """
    g = torch.Generator(device=device)
    g.manual_seed(draw_seed(seed))
    return g


def numpy_rng(seed: int) -> np.random.Generator:
    """``numpy.random.default_rng(draw_seed(seed))``: NumPy draws of an experiment."""
    return np.random.default_rng(draw_seed(seed))


def python_rng(seed: int) -> random.Random:
    """``random.Random(draw_seed(seed))``: Python draws of an experiment (shuffles of lists)."""
    return random.Random(draw_seed(seed))


def seed_everything(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) with ``draw_seed(seed)`` and return a seeded
    ``torch.Generator``.

    Args:
        seed: a non-negative integer; the seed offset is added to it (:func:`draw_seed`).
        deterministic: also make GPU reductions repeatable (``torch.use_deterministic_algorithms``,
            cuDNN's deterministic mode, and the cuBLAS workspace setting it needs). Off by default:
            it is slower, and on the CPU every operation the book uses is repeatable already.

    Returns:
        a CPU ``torch.Generator`` seeded with ``draw_seed(seed)``, for code that wants its own
        stream.
    """
    seed = draw_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds the CUDA generators too
    if deterministic:
        # cuBLAS reads this when its first handle is created; harmless on the CPU
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=False)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer`` if given, else CUDA when available, else the CPU."""
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter (or buffer); the CPU for a model with neither."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def to_device(batch, device: torch.device | str):
    """``batch`` with every tensor in it moved to ``device``.

    Understands tensors, objects with a ``.to(device)`` method (e.g. ``graph.SparseRows``),
    dataclasses (a new instance is returned), named tuples, tuples, lists and dicts, nested;
    anything else is returned as it is. The caller's objects are not modified.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        changes = {f.name: to_device(getattr(batch, f.name), device)
                   for f in dataclasses.fields(batch) if f.init}
        return dataclasses.replace(batch, **changes)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a named tuple
        return type(batch)(*(to_device(x, device) for x in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(x, device) for x in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if callable(getattr(batch, "to", None)) and not isinstance(batch, torch.nn.Module):
        return batch.to(device)
    return batch


def progress(iterable=None, **kwargs):
    """A tqdm progress bar: a widget in Jupyter when ipywidgets is installed, plain text otherwise.

    Set ``ATTNBOOK_PROGRESS=0`` to silence progress bars (useful in scripts and benchmarks).
    """
    if os.environ.get("ATTNBOOK_PROGRESS", "1") == "0":
        kwargs["disable"] = True
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and "IPKernelApp" in shell.config:
            from tqdm.notebook import tqdm

            return tqdm(iterable, **kwargs)
    except Exception:
        pass
    from tqdm.std import tqdm

    return tqdm(iterable, **kwargs)
