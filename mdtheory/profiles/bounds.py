"""Bounds on the factorization error and the [CCL] form of E_fact (§5.4, §5.5, §7).

* k_max bound (§5.4): E_fact ≤ (k_max − 1)·Σ_i f(i) ≤ (k_max − 1)·log|X|. **The condition is on the largest
  block k_max, not on the average N/K**: for uneven schedules no bound in N/K alone can hold (global
  parity with blocks (1, …, 1, 2) has E_fact = log 2 at average size ≈ 1).
* geometric bounds (§5.5): with ρ the smallest constant the schedule satisfies
  (:func:`mdtheory.profiles.optimal_schedules.geometric_rho`), increasing (DTC-type) E_fact ≤ ρ Σ_i (i−1) f(i) ≤ ρ·DTC
  and decreasing (TC-type) E_fact ≤ ρ Σ_i (N−i−1) f(i) ≤ ρ·TC.
* [CCL] (§7): E_σ KL(π ‖ ν_σ) = Σ_j Z_j − Σ_t k_t Z_{s_{t−1}+1}, with Σ_j Z_j = TC, Σ_j (Z_N − Z_j) = DTC,
  N·Z_N = TC + DTC and E·KL ≤ (k_max − 1)·Z_N.

* partial caching (§4.6): a block whose predictions see only the first c_t ≤ s_{t−1} revealed tokens
  has, under random order, E·KL = Σ_j Z_j − Σ_t k_t Z_{c_t+1} (:func:`stale_expected_kl`); Z is
  non-decreasing, so staleness only adds error. **Convention (sub-steps and refresh):** a coarse step is
  split into sub-steps; the predictions are refreshed before sub-step j when (j − 1) is a multiple of
  ``refresh_every`` and otherwise keep the revealed set of the last refresh
  (:func:`partial_caching_schedule`). refresh_every = 1 is the fine schedule, refresh_every ≥ #sub-steps
  the coarse one; the idealised error lies between them.

``BOUND_EXPRESSIONS`` holds the sympy form of each bound (parse with :func:`bound_expression`).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_schedule
from .optimal_schedules import geometric_rho
from .enumeration import InformationProfile
from ..sampling.schedules import block_starts

__all__ = ["kmax_bound", "geometric_increasing_bound", "geometric_decreasing_bound", "ccl_expected_kl",
           "stale_expected_kl", "lag_conditioning", "partial_caching_schedule",
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
    s_prev = block_starts(sizes)
    return float(profile.Z.sum() - sizes @ profile.Z[s_prev])


def stale_expected_kl(profile: InformationProfile, schedule, conditioning) -> float:
    """E·KL = Σ_j Z_j − Σ_t k_t Z_{c_t+1} when block t's predictions see c_t ≤ s_{t−1} tokens (§4.6, §7)."""
    sizes = check_schedule(schedule, total=profile.n)
    starts = block_starts(sizes)
    c = np.asarray(conditioning, dtype=np.int64)
    if c.shape != starts.shape or np.any(c < 0) or np.any(c > starts):
        raise ValueError(f"conditioning must have one entry per step with 0 <= c_t <= s_(t-1)={starts.tolist()}; "
                         f"got {c.tolist()}")
    return float(profile.Z.sum() - sizes @ profile.Z[c])


def lag_conditioning(schedule, lag: int) -> np.ndarray:
    """c_t = s_{t−1−lag} (0 before the start): predictions lag ``lag`` steps behind (§4.6)."""
    sizes = check_schedule(schedule, total=int(np.sum(schedule)))
    if isinstance(lag, bool) or int(lag) != lag or lag < 0:
        raise ValueError(f"lag must be an integer >= 0; got lag={lag!r}")
    starts = block_starts(sizes)
    t = np.arange(sizes.size) - int(lag)
    return np.where(t >= 0, starts[np.maximum(t, 0)], 0)


def partial_caching_schedule(coarse, sub_steps: int, refresh_every: int) -> tuple[np.ndarray, np.ndarray]:
    """(fine sizes, conditioning) of partial caching: each coarse block split into ``sub_steps`` near-equal
    sub-blocks (larger first), predictions refreshed every ``refresh_every`` sub-steps (module doc)."""
    from ..sampling.schedules import schedule_sizes

    sizes = check_schedule(coarse, total=int(np.sum(coarse)))
    if isinstance(sub_steps, bool) or int(sub_steps) != sub_steps or sub_steps < 1:
        raise ValueError(f"sub_steps must be an integer >= 1; got {sub_steps!r}")
    if isinstance(refresh_every, bool) or int(refresh_every) != refresh_every or refresh_every < 1:
        raise ValueError(f"refresh_every must be an integer >= 1; got {refresh_every!r}")
    fine, cond, s = [], [], 0
    for k in sizes:
        parts = schedule_sizes("constant", seq_len=int(k), n_steps=min(int(sub_steps), int(k)))
        seen = s
        for j, part in enumerate(parts):
            if j % refresh_every == 0:
                seen = s
            fine.append(int(part))
            cond.append(seen)
            s += int(part)
    return np.array(fine, dtype=np.int64), np.array(cond, dtype=np.int64)
