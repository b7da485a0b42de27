"""The information profile of Dirichlet joint tables by enumeration (N = 12, q = 2 and larger).

Run with ``mdtheory bench --only enumeration_profile``; the result is ``enumeration_profile.json``."""

from __future__ import annotations

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.profiles.enumeration import information_profile
    from mdtheory.targets import dirichlet_joint

    rows = []
    for n, q in ((10, 2), (6, 3)) if quick else ((12, 2), (8, 3), (14, 2)):
        t = dirichlet_joint(n, q, seed=0)
        med, times = median_time(lambda: information_profile(t), repeats=3)
        rows.append({"n": n, "q": q, "median_s": med, "times_s": times})
    return {"name": "enumeration_profile", "rows": rows, "median_s": rows[0]["median_s"], "target_s": 5.0}
