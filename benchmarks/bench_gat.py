#!/usr/bin/env python
"""Time one GAT training epoch on Cora and Citeseer: our edge-list GAT, our dense GAT and PyG's GATConv.

An epoch = forward (training mode), backward, Adam step, and the evaluation forward pass that early
stopping needs. Same shape and settings for every model (8 heads x 8 features, ELU, one output
head, dropout 0.6, lr 0.005, weight decay 5e-4, row-normalised features). Prints seconds per epoch
and the ratios to PyG; a ratio below 1 means faster than PyG. Also times a GATEnsemble of 10 models
(per model), the form the book's 10-seed reproduction trains in.

Usage::

    ATTNBOOK_DATA_MIRROR=/work/shared/data python benchmarks/bench_gat.py [--epochs 10] [--repeats 5]

Wall-clock on a shared machine is noisy: the models are interleaved block by block and the median
block is reported; run it on a quiet machine, and read `uptime` beside it.
"""

from __future__ import annotations

import argparse
import os
import platform

import torch

from attnbook.bench import benchmark
from attnbook.data import load_planetoid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10, help="epochs per timed block")
    ap.add_argument("--repeats", type=int, default=5, help="timed blocks per model (median)")
    ap.add_argument("--no-dense", action="store_true", help="skip the O(N^2) dense layer")
    ap.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
          f"load average {load:.2f}")
    for name in args.datasets:
        data = load_planetoid(name)
        r = benchmark(data, n=args.epochs, repeats=args.repeats, dense=not args.no_dense)
        print(f"\n{name}: ms per epoch (median of {args.repeats} blocks of {args.epochs})")
        for k in ("ours", "ours_dense_input", "dense", "ensemble_per_model", "pyg"):
            if k in r:
                ratio = f"  ratio to PyG {r[f'{k}/pyg']:.2f}" if k != "pyg" else ""
                print(f"  {k:<20s} {r[k] * 1000:8.1f}{ratio}")


if __name__ == "__main__":
    main()
