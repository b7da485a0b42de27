"""How well a schedule cost orders schedules by a measured sample quality (§5.3, §5.6, §9): significant
pairs, violations, agreements and contradictions at z combined standard errors, and Kendall's τ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ScheduleOrdering", "schedule_ordering"]


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
