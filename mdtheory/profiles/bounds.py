"""Bounds on the factorization error and the [CCL] form of E_fact (§5.4, §5.5, §7).

* k_max bound (§5.4): E_fact ≤ (k_max − 1)·Σ_i f(i) ≤ (k_max − 1)·log|X|. **The condition is on the largest
  block k_max, not on the average N/K**: for uneven schedules no bound in N/K alone can hold (global
  parity with blocks (1, …, 1, 2) has E_fact = log 2 at average size ≈ 1).
* geometric bounds (§5.5): with ρ the smallest constant the schedule satisfies
  (:func:`mdtheory.profiles.schedule_shapes.geometric_rho`), increasing (DTC-type) E_fact ≤ ρ Σ_i (i−1) f(i) ≤ ρ·DTC
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
from .schedule_shapes import geometric_rho
from .enumeration import InformationProfile
from ..rules.schedules import block_starts

__all__ = ["kmax_bound", "mutual_information_bound", "geometric_increasing_bound", "geometric_decreasing_bound", "ccl_expected_kl",
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
    """The sympy expression of a registered bound.

    Spec: §5.4, §5.5, §5.6, §7.

    Parameters
    ----------
    name : str
        A key of ``BOUND_EXPRESSIONS``.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        If the name is unknown.

    Examples
    --------
    >>> str(bound_expression("geometric_increasing_dtc"))
    'DTC*rho'
    """
    import sympy

    if name not in BOUND_EXPRESSIONS:
        raise ValueError(f"unknown bound {name!r}; allowed: {', '.join(BOUND_EXPRESSIONS)}")
    clash = {s: sympy.Symbol(s) for s in ("N", "TC", "DTC", "rho", "k", "k_max", "q")}
    clash.update({fn: sympy.Function(fn) for fn in ("f", "Z", "phi")})
    return sympy.sympify(BOUND_EXPRESSIONS[name], locals=clash)


def kmax_bound(profile: InformationProfile, schedule) -> float:
    """The dimension-free bound (k_max − 1)·Σ_i f(i) on E_fact.

    Spec: §5.4. It uses the largest block, never N/K (uneven schedules break any bound in N/K alone).

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule is invalid.

    Examples
    --------
    >>> from mdtheory.profiles import efact, repeated_bit_profile
    >>> pr = repeated_bit_profile(6)
    >>> bool(abs(kmax_bound(pr, [3, 3]) - efact(pr, [3, 3])) < 1e-12)  # tight for the repeated bit
    True
    """
    sizes = check_schedule(schedule, total=profile.n)
    return float((sizes.max() - 1) * profile.f.sum())


def geometric_increasing_bound(profile: InformationProfile, schedule) -> float:
    """The DTC-type bound ρ·Σ_i (i − 1) f(i) ≤ ρ·DTC of a schedule that starts with one token.

    Spec: §5.5, with ρ = max_t (k_t − 1)/s_{t−1} the smallest ratio the schedule satisfies.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    schedule : sequence of int
        Step sizes with k_1 = 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule does not start with 1.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> from mdtheory.profiles import efact, geometric_schedule
    >>> pr = markov_profile(30, 0.1)
    >>> s = geometric_schedule(30, rho=1.0)
    >>> bool(efact(pr, s) <= geometric_increasing_bound(pr, s))
    True
    """
    check_schedule(schedule, total=profile.n)
    i = np.arange(1, profile.n)
    return float(geometric_rho(schedule, direction="increasing") * ((i - 1) * profile.f).sum())


def geometric_decreasing_bound(profile: InformationProfile, schedule) -> float:
    """The TC-type bound ρ·Σ_i (N − i − 1) f(i) ≤ ρ·TC of a schedule that ends with one token.

    Spec: §5.5, with ρ = max_t (k_t − 1)/(N − s_t).

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    schedule : sequence of int
        Step sizes with k_K = 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule does not end with 1.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> from mdtheory.profiles import efact, geometric_schedule
    >>> pr = markov_profile(30, 0.1)
    >>> s = geometric_schedule(30, rho=1.0, direction="decreasing")
    >>> bool(efact(pr, s) <= geometric_decreasing_bound(pr, s))
    True
    """
    check_schedule(schedule, total=profile.n)
    i = np.arange(1, profile.n)
    return float(geometric_rho(schedule, direction="decreasing") * ((profile.n - i - 1) * profile.f).sum())


def ccl_expected_kl(profile: InformationProfile, schedule) -> float:
    """[CCL]'s E·KL = Σ_j Z_j − Σ_t k_t·Z_{s_{t−1}+1}: the area between Z and its left step function.

    Spec: §7 (equal to E_fact of §5.3).

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule is invalid.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> from mdtheory.profiles import efact
    >>> pr = markov_profile(40, 0.2)
    >>> bool(abs(ccl_expected_kl(pr, [10] * 4) - efact(pr, [10] * 4)) < 1e-12)
    True
    """
    sizes = check_schedule(schedule, total=profile.n)
    s_prev = block_starts(sizes)
    return float(profile.Z.sum() - sizes @ profile.Z[s_prev])


def stale_expected_kl(profile: InformationProfile, schedule, conditioning) -> float:
    """E·KL when block t's predictions see only the first c_t ≤ s_{t−1} revealed tokens (stale conditionals).

    Spec: §4.6, §7: E·KL = Σ_j Z_j − Σ_t k_t·Z_{c_t+1}.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    schedule : sequence of int
        Step sizes.
    conditioning : sequence of int
        c_1, …, c_K with 0 ≤ c_t ≤ s_{t−1}.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the conditioning is out of range.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> from mdtheory.profiles import efact
    >>> pr = markov_profile(20, 0.2)
    >>> s = [5, 5, 5, 5]
    >>> bool(stale_expected_kl(pr, s, lag_conditioning(s, 1)) >= efact(pr, s))  # staleness only adds error
    True
    """
    sizes = check_schedule(schedule, total=profile.n)
    starts = block_starts(sizes)
    c = np.asarray(conditioning, dtype=np.int64)
    if c.shape != starts.shape or np.any(c < 0) or np.any(c > starts):
        raise ValueError(f"conditioning must have one entry per step with 0 <= c_t <= s_(t-1)={starts.tolist()}; "
                         f"got {c.tolist()}")
    return float(profile.Z.sum() - sizes @ profile.Z[c])


def lag_conditioning(schedule, lag: int) -> np.ndarray:
    """The conditioning of predictions that lag ``lag`` steps behind: c_t = s_{t−1−lag} (0 before the start).

    Spec: §4.6.

    Parameters
    ----------
    schedule : sequence of int
        Step sizes.
    lag : int
        d ≥ 0.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If the lag is negative.

    Examples
    --------
    >>> lag_conditioning([2, 2, 2], 1).tolist()
    [0, 0, 2]
    """
    sizes = check_schedule(schedule, total=int(np.sum(schedule)))
    if isinstance(lag, bool) or int(lag) != lag or lag < 0:
        raise ValueError(f"lag must be an integer >= 0; got lag={lag!r}")
    starts = block_starts(sizes)
    t = np.arange(sizes.size) - int(lag)
    return np.where(t >= 0, starts[np.maximum(t, 0)], 0)


def partial_caching_schedule(coarse, sub_steps: int, refresh_every: int) -> tuple[np.ndarray, np.ndarray]:
    """The fine schedule and conditioning of partial caching: each coarse block cut into sub-steps.

    Spec: §4.6. **Convention:** near-equal sub-blocks (larger first); predictions refreshed every
    ``refresh_every`` sub-steps and otherwise seeing the revealed set of the last refresh.

    Parameters
    ----------
    coarse : sequence of int
        The coarse step sizes.
    sub_steps : int
        r ≥ 1.
    refresh_every : int
        ≥ 1; 1 is the fine schedule.

    Returns
    -------
    tuple of numpy.ndarray
        (fine sizes, conditioning c_t).

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> fine, cond = partial_caching_schedule([4, 2], 2, 2)
    >>> fine.tolist(), cond.tolist()
    ([2, 2, 1, 1], [0, 0, 4, 4])
    """
    from ..rules.schedules import schedule_sizes

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


def mutual_information_bound(profile: InformationProfile, schedule) -> float:
    """Li & Cai's mutual-information bound on the expected KL: ((k_max − 1)/N)·Σ_i I(X_i; X_{−i}).

    Spec: §10.2. It equals (k_max − 1)·Z_N, so it is the bound of §5.4 written through the mutual
    information; for K equal blocks it is (1/K − 1/N)·(TC + DTC). Its ratio to the truth
    (:func:`ccl_expected_kl`) is 1 when the profile sits at block starts (the copy law) and 1/(k − 1) when it
    sits at block ends (global parity, equal blocks of k): the bound charges every unit of f(i) the largest
    block's k − 1, the truth only s_t − i.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    float
        The bound in nats.

    Examples
    --------
    >>> from mdtheory.profiles import parity_profile
    >>> pr = parity_profile(12)
    >>> round(ccl_expected_kl(pr, [4, 4, 4]) / mutual_information_bound(pr, [4, 4, 4]), 12)  # 1/(k − 1)
    0.333333333333
    """
    sizes = check_schedule(schedule, total=profile.n)
    return float((sizes.max() - 1) * profile.sum_mutual_info / profile.n)
