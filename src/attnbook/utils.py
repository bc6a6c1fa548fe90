"""Small helpers every chapter uses: seeding, device selection and progress bars.

Code in the book is device-agnostic: :func:`get_device` returns CUDA when it is present (Colab) and
the CPU otherwise.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything", "get_device", "progress"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) and return a seeded ``torch.Generator``.

    Args:
        seed: a non-negative integer.

    Returns:
        a CPU ``torch.Generator`` seeded with ``seed``, for code that wants its own stream.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        torch.cuda.manual_seed_all(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer`` if given, else CUDA when available, else the CPU."""
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
