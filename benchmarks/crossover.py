"""Time of brute force vs quadrature for one law (V = 3, k = 2) as N grows; brute force is
extrapolated (×V·N/(N−k) per extra position) past the largest N measured.

Run with ``mdtheory bench --only crossover``; the result is ``crossover.json``."""

from __future__ import annotations

import numpy as np

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.exact.round_laws import maskgit_round_law
    from mdtheory.exact.oracle import maskgit_round_law_bruteforce

    rows = []
    n_max = 5 if quick else 7
    rng = np.random.default_rng(0)
    for n in range(3, n_max + 1):
        P = rng.dirichlet(np.ones(3), size=n)
        tb, _ = median_time(lambda: maskgit_round_law_bruteforce(P, k=2, alpha=1.0), repeats=1, warmup=0)
        tq, _ = median_time(lambda: maskgit_round_law(P, k=2, alpha=1.0), repeats=3)
        rows.append({"n_masked": n, "bruteforce_s": tb, "quadrature_s": tq})
    tb = rows[-1]["bruteforce_s"]
    n = n_max
    while tb < 3600.0:
        n += 1
        tb *= 3 * n / (n - 2)
        rows.append({"n_masked": n, "bruteforce_s_extrapolated": tb})
    return {"name": "crossover", "vocab_size": 3, "k": 2, "rows": rows,
            "bruteforce_infeasible_at_n": n, "note": "first N where brute force exceeds one hour (extrapolated)"}
