"""Optimal schedules (§5.3, §5.6): the exact minimiser of a schedule cost by dynamic programming, the
exhaustive reference, the data-driven optimum of a loss curve, and the comparison of every schedule method
on one profile. The cost is in :mod:`.schedule_costs`, the fixed shapes in :mod:`.schedule_shapes`, the
continuum limits in :mod:`.continuum`; their names still import from here, their earlier home.

**The objective.** For a curve c(m), m = 0..N−1, a schedule costs J(s) = Σ_t k_t·c(s_{t−1}). With c = g
(the conditional-entropy curve) J = E_fact + H(π) (§5.3); with c = CE_θ (a model's loss curve) J =
E_learn + E_fact + H(π) (the data-driven form). One block costs w(a, b) = (b − a)·c(a), and
w(a, b) + w(a', b') − w(a, b') − w(a', b) = (b' − b)(c(a') − c(a)) ≤ 0 for a < a', b < b' whenever c is
non-increasing (f ≥ 0). That Monge property makes the leftmost optimal predecessor monotone in b, so each
DP layer is solved exactly by divide and conquer in O(N log N): O(K·N log N) in total
(:func:`optimal_schedule`, ``method="monotone"``). Curves that are not non-increasing (noisy loss curves)
use the plain O(K·N²) dynamic program (``method="dp"``); ``optimal_schedule_exhaustive`` enumerates all
C(N−1, K−1) compositions (reference). Since c is non-increasing, more steps never cost more, so "exactly
K steps" and "at most K steps" have the same optimum.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import Literal

import numpy as np

from .._validation import DEFAULT_MAX_SECONDS, check_method, check_work
from .continuum import ContinuumLimits, continuum_limits, markov_scaling_function
from .enumeration import InformationProfile, efact
from .schedule_costs import _check_steps, _curve, schedule_cost, schedule_cost_stderr
from .schedule_shapes import constant_schedule, geometric_rho, geometric_schedule, sqrt_schedule

__all__ = ["SCHEDULE_METHODS", "schedule_cost", "optimal_schedule", "optimal_schedule_exhaustive",
           "geometric_schedule", "geometric_rho", "sqrt_schedule", "constant_schedule", "profile_schedule",
           "data_driven_schedule", "ContinuumLimits", "continuum_limits", "markov_scaling_function",
           "schedule_comparison", "schedule_cost_stderr"]

_MOVED_UP = {"ScheduleOrdering", "schedule_ordering"}


def __getattr__(name: str):
    # the schedule ordering compares measured qualities, a Monte-Carlo step above this stage: it cannot be
    # imported from here without an upward import, so its earlier path names its new one
    if name in _MOVED_UP:
        raise AttributeError(f"{name} moved to mdtheory.montecarlo.schedule_ordering (also mdtheory.{name})")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SCHEDULE_METHODS = ("optimal", "sqrt", "constant", "geometric-inc", "geometric-dec")


MAX_EXHAUSTIVE = 2_000_000


def _layer_dp(prev: np.ndarray, c: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """new[b] = min_{t−1 ≤ a < b} prev[a] + (b − a) c[a], all b, by the plain O(N²) scan (chunked)."""
    n = c.size
    new = np.full(n + 1, np.inf)
    arg = np.zeros(n + 1, dtype=np.int64)
    a = np.arange(n)
    for lo in range(t, n + 1, 512):
        b = np.arange(lo, min(n + 1, lo + 512))
        M = prev[None, :n] + (b[:, None] - a[None, :]) * c[None, :]
        M[a[None, :] >= b[:, None]] = np.inf
        M[:, : t - 1] = np.inf
        arg[b] = np.argmin(M, axis=1)
        new[b] = M[np.arange(b.size), arg[b]]
    return new, arg


def _layer_monotone(prev: np.ndarray, c: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The same layer by divide and conquer over the monotone leftmost argmin (Monge cost; module doc)."""
    n = c.size
    new = np.full(n + 1, np.inf)
    arg = np.zeros(n + 1, dtype=np.int64)
    stack = [(t, n, t - 1, n - 1)]
    while stack:
        lo, hi, olo, ohi = stack.pop()
        if lo > hi:
            continue
        mid = (lo + hi) // 2
        a = np.arange(olo, min(ohi, mid - 1) + 1)
        v = prev[a] + (mid - a) * c[a]
        j = int(np.argmin(v))
        new[mid], arg[mid] = v[j], a[j]
        stack.append((lo, mid - 1, olo, int(a[j])))
        stack.append((mid + 1, hi, int(a[j]), ohi))
    return new, arg


#: K·N² cells per second of the plain dynamic program, and K·N·log₂N of the monotone route, on one core of the
#: project's VM (measured on N = 2000–4000; used only to refuse work up front)
DP_CELLS_PER_SECOND = 1e8
MONOTONE_CELLS_PER_SECOND = 1e6


def optimal_schedule(curve, n_steps: int, *, method: Literal["auto", "monotone", "dp"] = "auto",
                     max_seconds: float = DEFAULT_MAX_SECONDS) -> np.ndarray:
    """The exact minimiser of Σ_t k_t·c(s_{t−1}) over schedules with exactly K steps.

    Spec: §5.6. ``curve`` is an :class:`InformationProfile` (the minimiser of E_fact) or a curve c(0..N−1) such as a
    model's loss curve (the data-driven optimum). ``auto`` uses an O(K N log N) divide-and-conquer when c is
    non-increasing (the cost is then Monge), else the O(K N²) dynamic program. Ties go to the leftmost
    predecessor (a convention).

    Parameters
    ----------
    curve : InformationProfile or array_like, shape (N,)
        The profile or the curve.
    n_steps : int
        K, 1 ≤ K ≤ N.
    method : {"auto", "monotone", "dp"}
        The route.
    max_seconds : float
        Refuse (before any work) a route estimated to take longer on one core: the DP costs about
        K·N²/1e8 s, the monotone route K·N·log₂N/1e6 s (``inf`` turns the guard off).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If K or the curve is invalid, or ``monotone`` is asked for a curve that is not non-increasing.
    WorkTooLarge
        If the estimate exceeds ``max_seconds`` (a ``ValueError``).

    Examples
    --------
    >>> from mdtheory.profiles import parity_profile
    >>> pr = parity_profile(6)  # all dependence in the last pair: reveal it one token at a time
    >>> sizes = optimal_schedule(pr, 3)
    >>> int(sizes[-1]), efact(pr, sizes) == 0.0
    (1, True)
    """
    c = _curve(curve)
    n = c.size
    K = _check_steps(n_steps, n)
    check_method(method, allowed=("auto", "monotone", "dp"))
    if method == "auto":
        method = "monotone" if np.all(np.diff(c) <= 1e-12 * max(1.0, np.abs(c).max())) else "dp"
    if method == "dp":
        check_work(K * n * n / DP_CELLS_PER_SECOND, limit=max_seconds, option="max_seconds",
                   what=f"the optimal schedule's dynamic program at N={n}, K={K} (K·N² = {K * n * n:.3g} cells)")
    else:
        cells = K * n * np.log2(max(n, 2))
        check_work(cells / MONOTONE_CELLS_PER_SECOND, limit=max_seconds, option="max_seconds",
                   what=f"the optimal schedule's monotone route at N={n}, K={K} (K·N·log₂N = {cells:.3g} cells)")
    layer = _layer_monotone if method == "monotone" else _layer_dp
    D = np.full(n + 1, np.inf)
    D[0] = 0.0
    args = []
    for t in range(1, K + 1):
        D, arg = layer(D, c, t)
        args.append(arg)
    ends = [n]
    for arg in reversed(args[1:]):
        ends.append(int(arg[ends[-1]]))
    return np.diff(np.array([0] + ends[::-1])).astype(np.int64)


def optimal_schedule_exhaustive(curve, n_steps: int) -> np.ndarray:
    """The minimiser of Σ_t k_t·c(s_{t−1}) by trying all C(N − 1, K − 1) compositions. Reference.

    Spec: §5.6.

    Parameters
    ----------
    curve : InformationProfile or array_like
        The profile or the curve.
    n_steps : int
        K.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If there are too many compositions to try.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> pr = markov_profile(9, 0.1)
    >>> bool(efact(pr, optimal_schedule_exhaustive(pr, 3)) == efact(pr, optimal_schedule(pr, 3)))
    True
    """
    c = _curve(curve)
    n = c.size
    K = _check_steps(n_steps, n)
    if comb(n - 1, K - 1) > MAX_EXHAUSTIVE:
        raise ValueError(f"C(N-1, K-1) = {comb(n - 1, K - 1)} compositions exceed MAX_EXHAUSTIVE={MAX_EXHAUSTIVE}")
    best, best_sizes = np.inf, None
    for cuts in itertools.combinations(range(1, n), K - 1):
        s = np.array((0,) + cuts + (n,))
        v = float((np.diff(s) * c[s[:-1]]).sum())
        if v < best:
            best, best_sizes = v, np.diff(s)
    return best_sizes.astype(np.int64)


def profile_schedule(profile: InformationProfile, n_steps: int,
                     method: Literal["optimal", "sqrt", "constant", "geometric-inc", "geometric-dec"]) -> np.ndarray:
    """The schedule that a named method gives for a profile (the CLI's ``--method``).

    Spec: §2.4, §5.5, §5.6.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    n_steps : int
        K.
    method : {"optimal", "sqrt", "constant", "geometric-inc", "geometric-dec"}
        The method.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If the method is unknown or K is out of range.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> profile_schedule(markov_profile(12, 0.1), 3, "constant").tolist()
    [4, 4, 4]
    """
    if method == "dp":  # its earlier spelling; "dp" now names only the plain dynamic program of optimal_schedule
        raise ValueError("method 'dp' is now 'optimal' (the profile's optimum); allowed: " + ", ".join(SCHEDULE_METHODS))
    check_method(method, allowed=SCHEDULE_METHODS)
    if method == "optimal":
        return optimal_schedule(profile, n_steps)
    if method == "sqrt":
        return sqrt_schedule(profile, n_steps)
    if method == "constant":
        return constant_schedule(profile.n, n_steps)
    return geometric_schedule(profile.n, n_steps=n_steps,
                              direction="increasing" if method == "geometric-inc" else "decreasing")


def data_driven_schedule(loss_curve, n_steps: int) -> np.ndarray:
    """The minimiser of Σ_t k_t·CE(s_{t−1}) for a model's loss curve: the data-driven optimal schedule.

    Spec: §5.3, §5.6.

    Parameters
    ----------
    loss_curve : array_like, shape (N,) or CurveEstimate
        CE_θ(0..N−1).
    n_steps : int
        K.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If the curve or K is invalid.

    Examples
    --------
    >>> data_driven_schedule([2.0, 1.0, 1.0, 1.0], 2).tolist()
    [1, 3]
    """
    return optimal_schedule(getattr(loss_curve, "ce", loss_curve), n_steps)


def schedule_comparison(profile: InformationProfile, n_steps_values, methods=SCHEDULE_METHODS) -> list[dict]:
    """E_fact of every method for several K, as table rows.

    Spec: §5.5, §5.6.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    n_steps_values : sequence of int
        The K's.
    methods : sequence of str
        Methods of :func:`profile_schedule`.

    Returns
    -------
    list of dict
        Rows with ``n_steps``, ``method``, ``efact`` and ``sizes``.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> rows = schedule_comparison(markov_profile(30, 0.1), [5], methods=("optimal", "constant"))
    >>> bool(rows[0]["efact"] <= rows[1]["efact"])  # the optimum is never worse
    True
    """
    rows = []
    for K in n_steps_values:
        for method in methods:
            if method.startswith("geometric") and K < 2 <= profile.n:
                continue
            sizes = profile_schedule(profile, int(K), method)
            rows.append({"n_steps": int(K), "method": method, "efact": efact(profile, sizes), "sizes": sizes.tolist()})
    return rows
