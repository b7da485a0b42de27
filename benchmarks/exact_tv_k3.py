"""Exact MaskGIT-vs-moment TV at k = 3: N = 256 Dirichlet rows over V = 4 (target ≤ 30 s).

Run with ``mdtheory bench --only exact_tv_k3``; the result is ``exact_tv_k3.json``."""

from __future__ import annotations

import numpy as np

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.exact.distances import maskgit_moment_tv

    n = 64 if quick else 256
    P = np.random.default_rng(0).dirichlet(np.ones(4), size=n)
    med, times = median_time(lambda: maskgit_moment_tv(P, k=3, alpha=1.0), repeats=1, warmup=0)
    return {"name": "exact_tv_k3", "n_masked": n, "k": 3, "vocab_size": 4, "median_s": med, "times_s": times,
            "target_s": 30.0}
