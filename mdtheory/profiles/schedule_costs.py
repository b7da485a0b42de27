"""The cost of a schedule under a curve (§5.3), with its standard error for a Monte-Carlo curve.

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

import numpy as np

from .._validation import check_positive_int, check_schedule
from ..rules.schedules import block_starts
from .enumeration import InformationProfile

__all__ = ["schedule_cost", "schedule_cost_stderr"]


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
    >>> from mdtheory.profiles import CurveEstimate
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
