"""Exact TV of identical rows through the homogeneous route: N = 10⁴, k = 64, V = 4 (target ≤ 10 s).

Run with ``mdtheory bench --only homogeneous_tv``; the result is ``homogeneous_tv.json``."""

from __future__ import annotations

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.exact.homogeneous import homogeneous_maskgit_moment_tv

    n, k = (1000, 16) if quick else (10_000, 64)
    p = [0.4, 0.3, 0.2, 0.1]
    med, times = median_time(lambda: homogeneous_maskgit_moment_tv(p, n_masked=n, k=k, alpha=1.0),
                              repeats=1 if quick else 3, warmup=0)
    return {"name": "homogeneous_tv", "n_masked": n, "k": k, "vocab_size": 4, "median_s": med, "times_s": times,
            "target_s": 10.0}
