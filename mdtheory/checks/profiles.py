"""[LZ]/[CCL] profile checks (THEORY.md §5.2–§5.4, §7) — first part of issue #4."""

from __future__ import annotations

import numpy as np

from ..profiles import efact, information_profile
from ..registry import register
from ..targets import dirichlet_joint, global_parity


@register("profiles.identities", "§5.2, §7",
          "f ≥ 0, Σf = ΣI/N, Σ(N−i)f = TC, Σ i f = DTC, TC + DTC = ΣI, f(i) = Z_{i+1} − Z_i, ΣZ = TC, "
          "Σ(Z_N − Z_j) = DTC hold to 1e-10 on random Dirichlet joints.", expression="1e-10")
def _check_identities(*, n_cases: int = 6, seed: int = 0, tol: float = 1e-10):
    worst = 0.0
    for c in range(n_cases):
        n, q = (4, 3) if c % 2 else (6, 2)
        pr = information_profile(dirichlet_joint(n, q, concentration=0.5, rng=[seed, c]))
        i = np.arange(1, n)
        devs = [max(0.0, -pr.f.min()), abs(pr.f.sum() - pr.sum_mutual_info / n), abs(((n - i) * pr.f).sum() - pr.tc),
                abs((i * pr.f).sum() - pr.dtc), abs(pr.tc + pr.dtc - pr.sum_mutual_info),
                float(np.abs(pr.f - np.diff(pr.Z)).max()), abs(pr.Z.sum() - pr.tc),
                abs((pr.Z[-1] - pr.Z).sum() - pr.dtc)]
        worst = max(worst, *devs)
    return worst, tol, {"n_cases": n_cases}


@register("profiles.kmax_bound", "§5.4",
          "Dimension-free bound E_fact ≤ (k_max − 1)·Σ_i f(i) on random joints and schedules "
          "(value = max of E_fact − bound, must be ≤ 0).", expression="(k_max - 1)*Sum(f(i), (i, 1, N - 1))")
def _check_kmax(*, n_cases: int = 6, seed: int = 1, bound_factor: float = 1.0):
    rng = np.random.default_rng(seed)
    worst = -np.inf
    for c in range(n_cases):
        n = 6
        pr = information_profile(dirichlet_joint(n, 2, concentration=0.3, rng=[seed, c]))
        cuts = np.sort(rng.choice(np.arange(1, n), size=int(rng.integers(1, n - 1)), replace=False))
        sizes = np.diff(np.concatenate([[0], cuts, [n]]))
        worst = max(worst, efact(pr, sizes) - bound_factor * (sizes.max() - 1) * pr.f.sum())
    # tightness: the repeated bit attains the bound with the largest block first
    return worst, 0.0, {"n_cases": n_cases}


@register("profiles.uneven_schedule_counterexample", "§5.4",
          "No bound in the average block size N/K alone: global parity with blocks (1, …, 1, 2) has "
          "E_fact = log 2 although N/K ≈ 1 (value = |E_fact − log 2|).", expression="log(2)")
def _check_counterexample(*, n: int = 8, schedule=None, tol: float = 1e-12):
    sched = [1] * (n - 2) + [2] if schedule is None else schedule
    e = efact(information_profile(global_parity(n)), sched)
    return abs(e - np.log(2.0)), tol, {"efact": e, "average_block": n / len(sched)}
