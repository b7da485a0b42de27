"""E_fact of the closed-form Markov profile at N = 10⁴ over a 64-step constant schedule, three ε (target ≤ 1 s).

Run with ``mdtheory bench --only markov_profile_efact``; the result is ``markov_profile_efact.json``."""

from __future__ import annotations

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.profiles.closed_forms import markov_profile
    from mdtheory.profiles.enumeration import efact
    from mdtheory.rules.schedules import schedule_sizes

    n = 1000 if quick else 10_000
    sched = schedule_sizes("constant", seq_len=n, n_steps=64)
    rows = []
    for eps in (0.1, 0.01, 1e-4):
        med, times = median_time(lambda: efact(markov_profile(n, eps), sched), repeats=3 if quick else 5)
        rows.append({"eps": eps, "median_s": med, "times_s": times})
    return {"name": "markov_profile_efact", "n": n, "rows": rows, "median_s": max(r["median_s"] for r in rows),
            "target_s": 1.0}
