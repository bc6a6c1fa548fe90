#!/usr/bin/env python
"""Time our multi-head attention and encoder layer against torch's, forward and backward.

Compares, on one training step's work (forward in training mode + backward) on a fixed batch:
our ``MultiHeadAttention`` (fast path: scaled_dot_product_attention; readable path: a loop of
``attend`` over the heads) against ``torch.nn.MultiheadAttention``, and our ``EncoderLayer``
against ``torch.nn.TransformerEncoderLayer`` -- same weights, same shapes. Prints milliseconds per
step and the ratios ours / torch (below 1 = faster than torch; the book's target for the fast
path is at most 1.1). Runs are interleaved block by block and the median block is reported.

Usage::

    python benchmarks/bench_transformer.py [--threads 1] [--clock wall|cpu] [--repeats 7]

On a shared machine, ``--clock cpu`` counts only this process's CPU time; read ``uptime`` beside
a wall-clock run.
"""

from __future__ import annotations

import argparse
import os
import platform

import torch

from attnbook.bench import transformer_benchmark

SIZES = [  # (B, L, D, H)
    (32, 64, 128, 8),
    (16, 128, 256, 8),
    (64, 32, 64, 4),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    ap.add_argument("--n", type=int, default=5, help="steps per timed block")
    ap.add_argument("--repeats", type=int, default=7, help="timed blocks per candidate (median)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}, load average {load:.2f}, "
          f"clock {args.clock}, device {args.device}")
    for B, L, D, H in SIZES:
        for padded in (True, False):
            r = transformer_benchmark(B, L, D, H, padded=padded, n=args.n, repeats=args.repeats,
                                      device=args.device, clock=args.clock)
            print(f"\nB={B} L={L} D={D} H={H} {'key padding' if padded else 'no mask'}: "
                  f"ms per forward+backward (median of {args.repeats} blocks of {args.n})")
            for what in ("mha", "layer"):
                print(f"  {what:<6s} torch {r[f'{what}_torch'] * 1e3:8.2f}   "
                      f"fast {r[f'{what}_fast'] * 1e3:8.2f} (ratio {r[f'{what}_fast/torch']:.2f})   "
                      f"readable {r[f'{what}_readable'] * 1e3:8.2f} (ratio {r[f'{what}_readable/torch']:.2f})")


if __name__ == "__main__":
    main()
