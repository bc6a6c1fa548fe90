#!/usr/bin/env python
"""Steps to 99 % and steps per second of Transformer recipes on the date task (chapter 41's search).

Chapter 41 (``notebooks/41_transformer``) races the attention RNN of chapter 21 against a
Transformer on ``attnbook.tasks.DATE_TASK``. The time to 99 % held-out exact match is the product
of two things that this script measures separately for each recipe: the optimizer steps needed
(deterministic on one CPU thread: same seeds, same batches) and the steps per CPU second (noisy on
a shared machine). The held-out score is the one-pass teacher-forced exact match
(``attnbook.curves.teacher_forced_exact_match``, equal to greedy decoding's), on the first
``--n-eval`` test examples every ``--every`` steps, off the clock.

Every recipe: pre-LN unless said, no dropout, Adam (betas 0.9, 0.98), batches of 64 unless said,
gradient norm clipped to 1, a linear warm-up to the peak rate, and with ``decay`` a linear decay
to a tenth of it (``attnbook.schedules.warmup_linear_schedule``).

Usage::

    python benchmarks/bench_transformer_dates.py [--max-steps 1500] [--every 50] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from attnbook.curves import teacher_forced_exact_match
from attnbook.schedules import warmup_linear_schedule
from attnbook.seq2seq import teacher_forcing_loss
from attnbook.tasks import DATE_TASK
from attnbook.train import minibatches, train_step
from attnbook.transformer import Transformer
from attnbook.utils import seed_everything

RECIPES = {  # name: (model settings, optimizer settings)
    "d64 L1 lr8e-3 decay700 (chapter 41's race, capped at 700 steps)": (
        dict(d_model=64, layers=1), dict(lr=8e-3, total=700)),
    "d64 L1 lr1e-2 decay700": (dict(d_model=64, layers=1), dict(lr=1e-2, total=700)),
    "d64 L1 lr6e-3 decay700": (dict(d_model=64, layers=1), dict(lr=6e-3, total=700)),
    "d64 L1 lr4e-3 decay700": (dict(d_model=64, layers=1), dict(lr=4e-3, total=700)),
    "d64 L1 lr2e-3 decay700": (dict(d_model=64, layers=1), dict(lr=2e-3, total=700)),
    "d64 L1 lr2e-3 decay1200": (dict(d_model=64, layers=1), dict(lr=2e-3, total=1200)),
    "d64 L1 lr2e-3 decay900": (dict(d_model=64, layers=1), dict(lr=2e-3, total=900)),
    "d64 L1 lr2e-3": (dict(d_model=64, layers=1), dict(lr=2e-3)),
    "d64 L1 lr4e-3": (dict(d_model=64, layers=1), dict(lr=4e-3)),
    "d64 L2 lr2e-3": (dict(d_model=64, layers=2), dict(lr=2e-3)),
    "d64 enc2 dec1 lr2e-3": (dict(d_model=64, layers=2, decoder_layers=1), dict(lr=2e-3)),
    "d128 L1 lr1e-3": (dict(d_model=128, layers=1), dict(lr=1e-3)),
    "d64 L1 learned positions lr3e-3": (dict(d_model=64, layers=1, positional="learned"), dict(lr=3e-3)),
    "d64 L1 batch 32 lr1e-3": (dict(d_model=64, layers=1), dict(lr=1e-3, batch_size=32)),
}


def run(name: str, model_cfg: dict, opt_cfg: dict, max_steps: int, every: int, n_eval: int) -> dict:
    data = DATE_TASK.load()
    seed_everything(0)
    model = Transformer(len(data.src_vocab), len(data.tgt_vocab), heads=4, dropout=0.0,
                        norm_first=True, **model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=opt_cfg["lr"], betas=(0.9, 0.98), eps=1e-9)
    warmup_linear_schedule(opt, warmup=50, total=opt_cfg.get("total", 10**9), floor=0.1)
    gen = seed_everything(0)
    steps, seconds, scores = 0, 0.0, []
    while steps < max_steps and not (scores and scores[-1][1] >= 0.99):
        for idx in minibatches(len(data.train), opt_cfg.get("batch_size", 64), generator=gen):
            t0 = time.process_time()
            model.train()
            batch = data.collate([data.train[i] for i in idx.tolist()])
            train_step(model, batch, teacher_forcing_loss, opt)
            seconds += time.process_time() - t0
            steps += 1
            if steps % every == 0:
                scores.append((steps, teacher_forced_exact_match(model, data.test[:n_eval], data.collate)))
                if scores[-1][1] >= 0.99 or steps >= max_steps:
                    break
    reached = next((s for s, score in scores if score >= 0.99), None)
    return {"recipe": name, "steps_to_99": reached, "steps": steps, "final": scores[-1][1],
            "steps_per_cpu_second": round(steps / seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-steps", type=int, default=1500)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--n-eval", type=int, default=500)
    ap.add_argument("--only", default=None, help="run the recipes whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, (model_cfg, opt_cfg) in RECIPES.items():
        if args.only is None or args.only in name:
            print(json.dumps(run(name, model_cfg, opt_cfg, args.max_steps, args.every, args.n_eval)),
                  flush=True)


if __name__ == "__main__":
    main()
