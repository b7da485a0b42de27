"""The optimal schedule of a Markov profile (N = 4096, K = 64): the monotone DP against the plain DP.

Run with ``mdtheory bench --only optimal_schedule_dp``; the result is ``optimal_schedule_dp.json``."""

from __future__ import annotations

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.profiles.closed_forms import markov_profile
    from mdtheory.profiles.optimal_schedules import optimal_schedule

    n, K = (1024, 32) if quick else (4096, 64)
    pr = markov_profile(n, 0.05)
    med, times = median_time(lambda: optimal_schedule(pr, K, method="monotone"), repeats=3, warmup=0)
    med_dp, times_dp = median_time(lambda: optimal_schedule(pr, K, method="dp"), repeats=1, warmup=0)
    return {"name": "optimal_schedule_dp", "n": n, "n_steps": K, "median_s": med, "times_s": times,
            "plain_dp_median_s": med_dp, "speedup_vs_plain_dp": med_dp / med, "target_s": 10.0}
