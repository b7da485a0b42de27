"""Train the digits preset from scratch on this machine (target ≤ 5 min on 2 cores).

Run with ``mdtheory bench --only train_digits``; the result is ``train_digits.json``."""

from __future__ import annotations

import time


def run(quick: bool, device: str = "cpu") -> dict:
    import tempfile
    from dataclasses import replace

    from mdtheory.models.training import TRAIN_PRESETS, train

    cfg = TRAIN_PRESETS["digits"]
    if quick:
        cfg = replace(cfg, steps=100)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        summary = train(cfg, d, progress=False)
        sec = time.perf_counter() - t0
    return {"name": "train_digits", "steps": cfg.steps, "median_s": sec, "target_s": 300.0,
            "held_out_loss": summary["held_out_loss"]}
