"""Profile-driven schedules: geometric, exact optimum, square-root rule, data-driven, continuum limits
(§2.4, §5.3, §5.5, §5.6).

All schedules are explicit int64 size arrays (k_1, …, k_K) that :func:`mdtheory.sample` accepts.

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

**Geometric schedules (§2.4, §5.5).** Increasing (DTC-type): k_1 = 1 and k_t = 1 + ⌊ρ·s_{t−1}⌋, the last
step truncated to reach N. Decreasing (TC-type): the reverse, so k_K = 1 and k_t − 1 ≤ ρ(N − s_t).
*Convention, "given K":* the smallest ρ whose schedule has at most K steps, after which the largest
blocks are halved until there are exactly K (halving keeps k_t − 1 ≤ ρ s_{t−1}, so the §5.5 bound still
holds with that ρ; with f ≥ 0 it never increases E_fact).

**Square-root rule (§5.6).** *Convention:* block ends s_t (t < K) are placed where the cumulative
√f-mass M(s) = Σ_{i ≤ s} √f(i) first reaches t/K of the total, then moved the least needed so that
every step reveals ≥ 1 token. A profile with f ≡ 0 gets the constant schedule.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb
from typing import Literal

import numpy as np
from scipy import integrate

from .._validation import check_method, check_positive_int, check_schedule
from .enumeration import InformationProfile, efact
from ..rules.schedules import block_starts, schedule_sizes

__all__ = ["SCHEDULE_METHODS", "schedule_cost", "optimal_schedule", "optimal_schedule_exhaustive",
           "geometric_schedule", "geometric_rho", "sqrt_schedule", "constant_schedule", "profile_schedule",
           "data_driven_schedule", "ContinuumLimits", "continuum_limits", "markov_scaling_function",
           "schedule_comparison", "schedule_cost_stderr", "ScheduleOrdering", "schedule_ordering"]

SCHEDULE_METHODS = ("dp", "sqrt", "constant", "geometric-inc", "geometric-dec")
MAX_EXHAUSTIVE = 2_000_000


def _check_steps(n_steps, n: int) -> int:
    K = check_positive_int(n_steps, name="n_steps")
    if K > n:
        raise ValueError(f"n_steps must satisfy 1 <= n_steps <= N={n}; got n_steps={K}")
    return K


def _curve(curve) -> np.ndarray:
    c = np.asarray(curve.g if isinstance(curve, InformationProfile) else curve, dtype=np.float64)
    if c.ndim != 1 or c.size < 1 or not np.all(np.isfinite(c)):
        raise ValueError(f"curve must be a finite 1-D array c(0..N-1); got shape {c.shape}")
    return c


def schedule_cost(curve, schedule) -> float:
    """The schedule cost J = Σ_t k_t·c(s_{t−1}) for a curve c (g, or a loss curve) or a profile (c = g).

    Spec: §5.3 (E_fact = J − H(π) when c = g; E_learn + E_fact = J − H(π) when c is the loss curve).

    Parameters
    ----------
    curve : InformationProfile, CurveEstimate or array_like, shape (N,)
        The curve.
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule does not fit the curve.

    Examples
    --------
    >>> schedule_cost([2.0, 1.0, 1.0, 1.0], [1, 3])
    5.0
    """
    c = _curve(curve)
    sizes = check_schedule(schedule, total=c.size)
    return float(sizes @ c[block_starts(sizes)])


def schedule_cost_stderr(curve, schedule) -> tuple[float, float]:
    """The cost J of a schedule with its standard error, for a Monte-Carlo curve estimate.

    Spec: §5.3, §9: the points c(m) come from independent draws, so se(J)² = Σ_t k_t²·se(c(s_{t−1}))².

    Parameters
    ----------
    curve : CurveEstimate
        The estimate.
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    tuple of float
        (J, se(J)).

    Examples
    --------
    >>> from mdtheory import CurveEstimate
    >>> c = CurveEstimate(values=np.array([2.0, 1.0]), stderr=np.array([0.1, 0.2]), n_samples=10)
    >>> schedule_cost_stderr(c, [1, 1])[0]
    3.0
    """
    c = _curve(curve.values)
    se = np.asarray(curve.stderr, dtype=np.float64)
    if se.shape != c.shape or not np.all(np.isfinite(se)) or np.any(se < 0):
        raise ValueError(f"curve.stderr must be finite, non-negative and of shape {c.shape}; got shape {se.shape}")
    sizes = check_schedule(schedule, total=c.size)
    return schedule_cost(c, sizes), float(np.sqrt((sizes ** 2) @ (se[block_starts(sizes)] ** 2)))


@dataclass(frozen=True)
class ScheduleOrdering:
    """How well the loss-curve cost orders schedules by a sample-quality score (lower is better).

    Spec: §5.3, §5.6.

    Parameters
    ----------
    kendall_tau : float
        Rank correlation between cost and quality.
    significant_pairs : int
        Pairs whose costs differ by more than z combined standard errors.
    violations : int
        Significant pairs whose quality estimates are in the opposite order.
    agreements, contradictions : int or None
        Significant pairs that the quality scores themselves separate, in the same or the opposite order.
    by_cost, by_quality : tuple of str
        The schedules sorted each way.

    Examples
    --------
    >>> r = schedule_ordering(["a", "b"], [1.0, 2.0], [0.1, 0.1], [10.0, 20.0], [1.0, 1.0])
    >>> r.significant_pairs, r.agreements, r.contradictions
    (1, 1, 0)
    """

    kendall_tau: float
    significant_pairs: int  # pairs whose costs differ by more than z combined standard errors
    violations: int  # significant pairs whose quality point estimates are ordered the other way
    agreements: int | None  # significant pairs whose quality differs the same way by > z combined se
    contradictions: int | None  # significant pairs whose quality differs the other way by > z combined se
    by_cost: tuple[str, ...]
    by_quality: tuple[str, ...]


def schedule_ordering(names, costs, cost_stderr, quality, quality_stderr=None, *, z: float = 3.0) -> ScheduleOrdering:
    """Compare the order of schedules by cost J (with standard errors) with their order by quality.

    Spec: §5.3, §5.6, §9. A pair is significant when J_b − J_a > z·√(se_a² + se_b²), a violation when b still has
    the better (lower) quality; with ``quality_stderr`` it is an agreement or a contradiction only when the
    qualities differ by more than z·√(·) too.

    Parameters
    ----------
    names : sequence of str
        Schedule names.
    costs, cost_stderr : sequence of float
        J and se(J).
    quality : sequence of float
        Lower is better (FID, gen-PPL).
    quality_stderr : sequence of float, optional
        Their standard errors.
    z : float
        The significance threshold in combined standard errors.

    Returns
    -------
    ScheduleOrdering

    Raises
    ------
    ValueError
        If the lengths differ.

    Examples
    --------
    >>> schedule_ordering(["a", "b"], [1.0, 2.0], [0.1, 0.1], [10.0, 20.0]).violations
    0
    """
    from scipy.stats import kendalltau

    names = [str(n) for n in names]
    given = {"costs": costs, "cost_stderr": cost_stderr, "quality": quality}
    if quality_stderr is not None:
        given["quality_stderr"] = quality_stderr
    arrs = {}
    for label, v in given.items():
        a = np.asarray(v, dtype=np.float64)
        if a.shape != (len(names),):
            raise ValueError(f"{label} must have one entry per schedule name ({len(names)}); got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{label} must be finite; got {a.tolist()}")
        if label.endswith("stderr") and np.any(a < 0):
            raise ValueError(f"{label} must be non-negative; got {a.tolist()}")
        arrs[label] = a
    if len(names) < 2:
        raise ValueError(f"schedule_ordering needs at least two schedules; got {len(names)}")
    J, se, q = arrs["costs"], arrs["cost_stderr"], arrs["quality"]
    qse = arrs.get("quality_stderr")
    sig = viol = agree = contra = 0
    for a in range(len(names)):
        for b in range(len(names)):
            if J[b] - J[a] > z * np.hypot(se[a], se[b]):
                sig += 1
                viol += int(q[b] < q[a])
                if qse is not None:
                    gap = z * np.hypot(qse[a], qse[b])
                    agree += int(q[b] - q[a] > gap)
                    contra += int(q[a] - q[b] > gap)
    return ScheduleOrdering(float(kendalltau(J, q).statistic), sig, viol,
                            None if qse is None else agree, None if qse is None else contra,
                            tuple(names[i] for i in np.argsort(J, kind="stable")),
                            tuple(names[i] for i in np.argsort(q, kind="stable")))


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


def optimal_schedule(curve, n_steps: int, *, method: Literal["auto", "monotone", "dp"] = "auto") -> np.ndarray:
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

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If K or the curve is invalid, or ``monotone`` is asked for a curve that is not non-increasing.

    Examples
    --------
    >>> from mdtheory import parity_profile
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


def constant_schedule(n: int, n_steps: int) -> np.ndarray:
    """Balanced sizes ⌊N/K⌋ or ⌈N/K⌉, the larger first.

    Spec: §2.4.

    Parameters
    ----------
    n : int
        N.
    n_steps : int
        1 ≤ K ≤ N.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If K is out of range.

    Examples
    --------
    >>> constant_schedule(10, 4).tolist()
    [3, 3, 2, 2]
    """
    return schedule_sizes("constant", seq_len=n, n_steps=n_steps)


def _geometric_increasing(n: int, rho: float) -> np.ndarray:
    sizes, s = [1], 1
    while s < n:
        k = min(1 + int(np.floor(rho * s + 1e-12)), n - s)
        sizes.append(k)
        s += k
    return np.array(sizes[: n] if n > 0 else [], dtype=np.int64)


def _split_to(sizes: np.ndarray, K: int) -> np.ndarray:
    sizes = list(sizes)
    while len(sizes) < K:
        j = len(sizes) - 1 - int(np.argmax(sizes[::-1]))
        k = sizes[j]
        sizes[j: j + 1] = [(k + 1) // 2, k // 2]
    return np.array(sizes, dtype=np.int64)


def geometric_schedule(n: int, *, rho: float | None = None, n_steps: int | None = None,
                       direction: Literal["increasing", "decreasing"] = "increasing") -> np.ndarray:
    """A geometric schedule, given its ratio ρ or its number of steps K.

    Spec: §2.4, §5.5. Increasing: k_1 = 1, k_t = 1 + ⌊ρ s_{t−1}⌋ (the last step truncated); decreasing is the
    reverse. **Convention:** given K, the smallest ρ with at most K steps, then the largest blocks are halved
    until there are exactly K (so the ρ constraint, and its bound, still hold).

    Parameters
    ----------
    n : int
        N.
    rho : float, optional
        ρ > 0.
    n_steps : int, optional
        K (give exactly one of ``rho`` and ``n_steps``).
    direction : {"increasing", "decreasing"}
        Which end the single token is at.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If both or neither of ρ and K are given, or one is out of range.

    Examples
    --------
    >>> geometric_schedule(10, rho=1.0).tolist()
    [1, 2, 4, 3]
    """
    n = check_positive_int(n, name="n")
    check_method(direction, allowed=("increasing", "decreasing"), name="direction")
    if (rho is None) == (n_steps is None):
        raise ValueError("give exactly one of rho and n_steps")
    if rho is not None:
        rho = float(rho)
        if not np.isfinite(rho) or rho < 0:
            raise ValueError(f"rho must be finite and >= 0; got rho={rho!r}")
        sizes = _geometric_increasing(n, rho)
    else:
        K = _check_steps(n_steps, n)
        if K == 1 and n > 1:
            raise ValueError(f"a geometric schedule starts with one token, so n_steps must be >= 2 for N={n}")
        lo, hi = 0.0, float(max(n - 2, 0))
        if len(_geometric_increasing(n, lo)) > K:
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if len(_geometric_increasing(n, mid)) <= K:
                    hi = mid
                else:
                    lo = mid
                if hi - lo <= 1e-12 * max(hi, 1.0):
                    break
            rho = hi
        else:
            rho = lo
        sizes = _split_to(_geometric_increasing(n, rho), K)
    return sizes if direction == "increasing" else sizes[::-1].copy()


def geometric_rho(schedule, *, direction: Literal["increasing", "decreasing"] = "increasing") -> float:
    """The smallest ratio ρ a schedule satisfies.

    Spec: §5.5: max_t (k_t − 1)/s_{t−1} (increasing, k_1 = 1) or max_t (k_t − 1)/(N − s_t) (decreasing, k_K = 1).

    Parameters
    ----------
    schedule : sequence of int
        Step sizes.
    direction : {"increasing", "decreasing"}
        Which form.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule does not start (or end) with 1.

    Examples
    --------
    >>> geometric_rho([1, 2, 4, 3])
    1.0
    """
    sizes = check_schedule(schedule, total=int(np.sum(schedule)))
    check_method(direction, allowed=("increasing", "decreasing"), name="direction")
    if direction == "decreasing":
        sizes = sizes[::-1]
    if sizes[0] != 1:
        raise ValueError(f"a {direction} geometric schedule must {'start' if direction == 'increasing' else 'end'} "
                         f"with a block of size 1; got {schedule!r}")
    s_prev = np.cumsum(sizes)[:-1]
    return float(((sizes[1:] - 1) / s_prev).max()) if sizes.size > 1 else 0.0


def sqrt_schedule(profile: InformationProfile, n_steps: int) -> np.ndarray:
    """The practical square-root rule: blocks of equal √f-mass.

    Spec: §5.6. **Convention:** block ends where the cumulative √f-mass first reaches t/K of the total, moved the
    least needed so every step reveals ≥ 1 token; f ≡ 0 gives the constant schedule.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    n_steps : int
        K.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If K is out of range.

    Examples
    --------
    >>> from mdtheory import markov_profile
    >>> int(sqrt_schedule(markov_profile(100, 0.1), 10).sum())
    100
    """
    n = profile.n
    K = _check_steps(n_steps, n)
    root = np.sqrt(np.maximum(profile.f, 0.0))
    total = root.sum()
    if total <= 0 or K == 1:
        return constant_schedule(n, K)
    M = np.concatenate([[0.0], np.cumsum(root), [total]])  # M(s) for s = 0..N
    ends = np.searchsorted(M, total * np.arange(1, K) / K * (1 - 1e-12), side="left")
    ends = np.concatenate([[0], ends, [n]]).astype(np.int64)
    for t in range(1, K):  # at least one token per step, keeping room for the rest
        ends[t] = min(max(ends[t], ends[t - 1] + 1), n - (K - t))
    return np.diff(ends)


def profile_schedule(profile: InformationProfile, n_steps: int,
                     method: Literal["dp", "sqrt", "constant", "geometric-inc", "geometric-dec"]) -> np.ndarray:
    """The schedule that a named method gives for a profile (the CLI's ``--method``).

    Spec: §2.4, §5.5, §5.6.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    n_steps : int
        K.
    method : {"dp", "sqrt", "constant", "geometric-inc", "geometric-dec"}
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
    check_method(method, allowed=SCHEDULE_METHODS)
    if method == "dp":
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


@dataclass(frozen=True)
class ContinuumLimits:
    """The scaling limits of (K/N)·E_fact with their quadrature error.

    Spec: §5.6.

    Parameters
    ----------
    half_integral : float
        ½∫φ, the limit of the constant schedule.
    half_sqrt_integral_sq : float
        ½(∫√φ)², the limit of the optimal density ρ* ∝ √φ.
    error : float
        The quadrature error estimate.

    Examples
    --------
    >>> c = continuum_limits(lambda t: 1.0 + 0.0 * t)
    >>> round(c.half_integral, 9), round(c.half_sqrt_integral_sq, 9)
    (0.5, 0.5)
    """

    half_integral: float          # ½∫φ: constant schedules
    half_sqrt_integral_sq: float  # ½(∫√φ)²: the optimal density ρ* ∝ √φ
    error: float

    @property
    def gain(self) -> float:
        """∫φ / (∫√φ)² ≥ 1: the asymptotic advantage of the optimal schedule."""
        return self.half_integral / self.half_sqrt_integral_sq

    def bounded(self, k: int) -> float:
        """Bounded tokens per step: E_fact → (k − 1)/2·∫φ."""
        return (k - 1) * self.half_integral


def continuum_limits(phi) -> ContinuumLimits:
    """The two scaling limits ½∫φ and ½(∫√φ)² of (K/N)·E_fact, by adaptive quadrature.

    Spec: §5.6.

    Parameters
    ----------
    phi : callable
        φ on (0, 1), the limit of N·f(⌈tN⌉).

    Returns
    -------
    ContinuumLimits

    Raises
    ------
    ValueError
        If φ is negative or not finite somewhere.

    Examples
    --------
    >>> c = continuum_limits(lambda t: 4 * t)
    >>> round(c.half_integral, 9), round(c.half_sqrt_integral_sq, 9)
    (1.0, 0.888888889)
    """
    i1, e1 = integrate.quad(lambda t: float(phi(t)), 0.0, 1.0, limit=200, epsabs=1e-13, epsrel=1e-12)
    i2, e2 = integrate.quad(lambda t: float(np.sqrt(max(phi(t), 0.0))), 0.0, 1.0, limit=200, epsabs=1e-13,
                            epsrel=1e-12)
    return ContinuumLimits(0.5 * i1, 0.5 * i2 ** 2, 0.5 * e1 + i2 * e2)


def markov_scaling_function(eps: float, *, q: int = 2, max_terms: int = 200_000):
    """φ(t) = lim N·f(⌈tN⌉) for the symmetric q-ary Markov chain with flip probability ε.

    Spec: §5.6. With a fraction t revealed, a masked site's nearest revealed neighbours sit at independent
    Geometric(t) distances, which gives g(tN) → G(t) in closed form and φ = −G′.

    Parameters
    ----------
    eps : float
        ε in (0, 1).
    q : int
        States ≥ 2.
    max_terms : int
        The truncation of the series.

    Returns
    -------
    callable
        φ, vectorised over t in (0, 1).

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> phi = markov_scaling_function(0.1)
    >>> bool(phi(0.5) > 0)
    True
    """
    from .closed_forms import _symmetric_h_tilde

    ht_all = _symmetric_h_tilde(max_terms + 1, float(eps), check_positive_int(q, name="q", minimum=2))
    keep = np.nonzero(np.abs(ht_all) > 1e-300)[0]
    ht = ht_all[: (keep[-1] + 1 if keep.size else 1)]
    d = np.arange(1, ht.size + 1, dtype=np.float64)

    def phi(t: float) -> float:
        t = float(t)
        u = 1.0 - t
        with np.errstate(divide="ignore", invalid="ignore"):
            pw = np.where(d >= 1, u ** (d - 1), 1.0)           # (1−t)^{d−1}
            pw2 = np.where(d >= 2, u ** np.maximum(d - 2, 0), 0.0)  # (1−t)^{d−2}
            pw3 = np.where(d >= 3, u ** np.maximum(d - 3, 0), 0.0)
        d_first = pw - (d - 1) * t * pw2                         # d/dt t(1−t)^{d−1}
        d_second = (d - 1) * (2 * t * pw2 - (d - 2) * t * t * pw3)  # d/dt (d−1) t²(1−t)^{d−2}
        return float(-(2 * d_first @ ht - d_second @ ht))

    return phi


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
    >>> rows = schedule_comparison(markov_profile(30, 0.1), [5], methods=("dp", "constant"))
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
