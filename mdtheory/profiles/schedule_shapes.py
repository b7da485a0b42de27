"""Schedules of a given shape: constant, geometric (given ρ or K) and the square-root rule (§2.4, §5.5,
§5.6). All are explicit int64 size arrays (k_1, …, k_K).

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

from typing import Literal

import numpy as np

from .._validation import check_method, check_positive_int, check_schedule, renamed_keywords
from ..rules.schedules import schedule_sizes
from .enumeration import InformationProfile
from .schedule_costs import _check_steps

__all__ = ["constant_schedule", "geometric_schedule", "geometric_rho", "sqrt_schedule"]


@renamed_keywords(n="seq_len")
def constant_schedule(seq_len: int, n_steps: int) -> np.ndarray:
    """Balanced sizes ⌊N/K⌋ or ⌈N/K⌉, the larger first.

    Spec: §2.4.

    Parameters
    ----------
    seq_len : int
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
    return schedule_sizes("constant", seq_len=seq_len, n_steps=n_steps)


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


@renamed_keywords(n="seq_len")
def geometric_schedule(seq_len: int, *, rho: float | None = None, n_steps: int | None = None,
                       direction: Literal["increasing", "decreasing"] = "increasing") -> np.ndarray:
    """A geometric schedule, given its ratio ρ or its number of steps K.

    Spec: §2.4, §5.5. Increasing: k_1 = 1, k_t = 1 + ⌊ρ s_{t−1}⌋ (the last step truncated); decreasing is the
    reverse. **Convention:** given K, the smallest ρ with at most K steps, then the largest blocks are halved
    until there are exactly K (so the ρ constraint, and its bound, still hold).

    Parameters
    ----------
    seq_len : int
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
    seq_len = check_positive_int(seq_len, name="n")
    check_method(direction, allowed=("increasing", "decreasing"), name="direction")
    if (rho is None) == (n_steps is None):
        raise ValueError("give exactly one of rho and n_steps")
    if rho is not None:
        rho = float(rho)
        if not np.isfinite(rho) or rho < 0:
            raise ValueError(f"rho must be finite and >= 0; got rho={rho!r}")
        sizes = _geometric_increasing(seq_len, rho)
    else:
        K = _check_steps(n_steps, seq_len)
        if K == 1 and seq_len > 1:
            raise ValueError(f"a geometric schedule starts with one token, so n_steps must be >= 2 for N={seq_len}")
        lo, hi = 0.0, float(max(seq_len - 2, 0))
        if len(_geometric_increasing(seq_len, lo)) > K:
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if len(_geometric_increasing(seq_len, mid)) <= K:
                    hi = mid
                else:
                    lo = mid
                if hi - lo <= 1e-12 * max(hi, 1.0):
                    break
            rho = hi
        else:
            rho = lo
        sizes = _split_to(_geometric_increasing(seq_len, rho), K)
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
