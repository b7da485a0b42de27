"""Bounds on the factorization error and the [CCL] form of E_fact (THEORY.md §5.4, §5.5, §7).

* k_max bound (§5.4): E_fact ≤ (k_max − 1)·Σ_i f(i) ≤ (k_max − 1)·log|X|. **The condition is on the largest
  block k_max, not on the average N/K**: for uneven schedules no bound in N/K alone can hold (global
  parity with blocks (1, …, 1, 2) has E_fact = log 2 at average size ≈ 1).
* geometric bounds (§5.5): with ρ the smallest constant the schedule satisfies
  (:func:`mdtheory.optimal_schedules.geometric_rho`), increasing (DTC-type) E_fact ≤ ρ Σ_i (i−1) f(i) ≤ ρ·DTC
  and decreasing (TC-type) E_fact ≤ ρ Σ_i (N−i−1) f(i) ≤ ρ·TC.
* [CCL] (§7): E_σ KL(π ‖ ν_σ) = Σ_j Z_j − Σ_t k_t Z_{s_{t−1}+1}, with Σ_j Z_j = TC, Σ_j (Z_N − Z_j) = DTC,
  N·Z_N = TC + DTC and E·KL ≤ (k_max − 1)·Z_N.

``BOUND_EXPRESSIONS`` holds the sympy form of each bound (parse with :func:`bound_expression`).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_schedule
from .optimal_schedules import geometric_rho
from .profiles import InformationProfile

__all__ = ["kmax_bound", "geometric_increasing_bound", "geometric_decreasing_bound", "ccl_expected_kl",
           "BOUND_EXPRESSIONS", "bound_expression"]

BOUND_EXPRESSIONS = {
    "kmax": "(k_max - 1)*Sum(f(i), (i, 1, N - 1))",
    "kmax_alphabet": "(k_max - 1)*log(q)",
    "geometric_increasing": "rho*Sum((i - 1)*f(i), (i, 1, N - 1))",
    "geometric_increasing_dtc": "rho*DTC",
    "geometric_decreasing": "rho*Sum((N - i - 1)*f(i), (i, 1, N - 1))",
    "geometric_decreasing_tc": "rho*TC",
    "ccl_kmax": "(k_max - 1)*Z(N)",
    "constant_continuum": "Integral(phi(t), (t, 0, 1))/2",
    "optimal_continuum": "Integral(sqrt(phi(t)), (t, 0, 1))**2/2",
    "bounded_regime": "(k - 1)/2*Integral(phi(t), (t, 0, 1))",
}


def bound_expression(name: str):
    """The sympy expression of a named bound (keys of ``BOUND_EXPRESSIONS``)."""
    import sympy

    if name not in BOUND_EXPRESSIONS:
        raise ValueError(f"unknown bound {name!r}; allowed: {', '.join(BOUND_EXPRESSIONS)}")
    clash = {s: sympy.Symbol(s) for s in ("N", "TC", "DTC", "rho", "k", "k_max", "q")}
    clash.update({fn: sympy.Function(fn) for fn in ("f", "Z", "phi")})
    return sympy.sympify(BOUND_EXPRESSIONS[name], locals=clash)


def kmax_bound(profile: InformationProfile, schedule) -> float:
    """(k_max − 1)·Σ_i f(i) (§5.4)."""
    sizes = check_schedule(schedule, total=profile.n)
    return float((sizes.max() - 1) * profile.f.sum())


def geometric_increasing_bound(profile: InformationProfile, schedule) -> float:
    """ρ·Σ_i (i−1) f(i) with ρ = max_t (k_t − 1)/s_{t−1} (the schedule must start with 1) (§5.5)."""
    check_schedule(schedule, total=profile.n)
    i = np.arange(1, profile.n)
    return float(geometric_rho(schedule, direction="increasing") * ((i - 1) * profile.f).sum())


def geometric_decreasing_bound(profile: InformationProfile, schedule) -> float:
    """ρ·Σ_i (N−i−1) f(i) with ρ = max_t (k_t − 1)/(N − s_t) (the schedule must end with 1) (§5.5)."""
    check_schedule(schedule, total=profile.n)
    i = np.arange(1, profile.n)
    return float(geometric_rho(schedule, direction="decreasing") * ((profile.n - i - 1) * profile.f).sum())


def ccl_expected_kl(profile: InformationProfile, schedule) -> float:
    """[CCL]'s Σ_j Z_j − Σ_t k_t Z_{s_{t−1}+1} (§7; equals E_fact of §5.3)."""
    sizes = check_schedule(schedule, total=profile.n)
    s_prev = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return float(profile.Z.sum() - sizes @ profile.Z[s_prev])
