"""Exact Gumbel-max law under float32 noise: the O(V) common-node route at GPT-2's V.

Run with ``mdtheory bench --only gumbel_law_large_vocab``; the result is ``gumbel_law_large_vocab.json``."""

from __future__ import annotations

import numpy as np

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.exact.finite_precision_noise import truncated_gumbel_max_law, zipf_logits
    from mdtheory.sampling.rounds import gumbel_noise_range

    V = 10_000 if quick else 50_257
    lo, hi = gumbel_noise_range("float32")
    out = {"name": "gumbel_law_large_vocab", "vocab_size": V, "target_s": None}
    for tau in (0.5, 1.0):
        a = zipf_logits(V, 1.1) / tau
        med, times = median_time(lambda: truncated_gumbel_max_law(a, lo, hi), repeats=3)
        out[f"median_s_tau{tau}"] = med
    flat = np.zeros(V)
    out["median_s_flat"], _ = median_time(lambda: truncated_gumbel_max_law(flat, lo, hi), repeats=1, warmup=0)
    out["median_s"] = out["median_s_tau1.0"]
    return out
