"""Exact MaskGIT-vs-moment TV at k = 2: N = 1024 Dirichlet rows over V = 4 (target ≤ 30 s).

Run with ``mdtheory bench --only exact_tv_k2``; the result is ``exact_tv_k2.json``."""

from __future__ import annotations

import numpy as np

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.exact.distances import maskgit_moment_tv

    n = 256 if quick else 1024
    P = np.random.default_rng(0).dirichlet(np.ones(4), size=n)
    med, times = median_time(lambda: maskgit_moment_tv(P, k=2, alpha=1.0), repeats=1 if quick else 3, warmup=0)
    r = maskgit_moment_tv(P, k=2, alpha=1.0) if quick else None
    return {"name": "exact_tv_k2", "n_masked": n, "k": 2, "vocab_size": 4, "median_s": med, "times_s": times,
            "target_s": 30.0, **({"tv": r.tv} if r else {})}
