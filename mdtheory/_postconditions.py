"""Postconditions on exact answers: every route checks what it claims before it returns (STYLE.md "Nothing
silently wrong").

One mechanism for every route: a law is non-negative and sums to 1 within its stated error, a distance lies in
[0, 1], a KL is ≥ 0 and consistent with Pinsker against its TV, and a quantity that is non-negative in exact
arithmetic (E_fact, a profile value) is ≥ 0 up to its error. A value inside the rounding band is clipped (the
clipping is within the error it reports); a violation beyond it raises :class:`PostconditionError`, which names
the route and the inputs' regime, and nothing is returned.

The rounding allowance is ``ROUNDING_PER_TERM`` times the number of terms summed (at least one), on top of
the error the route itself states (quadrature error, truncation).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["PostconditionError", "ROUNDING_PER_TERM", "check_law", "check_distance", "check_kl",
           "check_nonnegative"]

#: the rounding allowed per summed term, on top of a route's stated error (a few ulps of 1 per term)
ROUNDING_PER_TERM = 8 * np.finfo(np.float64).eps


class PostconditionError(ArithmeticError):
    """An exact route produced an answer that violates what it claims (a bug or an unresolved regime).

    Spec: §9 (exact routes and their stated errors).

    Examples
    --------
    >>> try:
    ...     check_law(np.array([0.7, 0.7]), route="example")
    ... except PostconditionError as e:
    ...     print(str(e).split(";")[0])
    example: the law sums to 1.4 (|1.4 − 1| = 0.4 exceeds its stated error 0 plus rounding 3.6e-15)
    """


def _where(route: str, regime: str | None) -> str:
    return route if not regime else f"{route} ({regime})"


def check_law(probs: np.ndarray, *, route: str, error: float = 0.0, regime: str | None = None,
              total: float = 1.0) -> np.ndarray:
    """``probs`` if it is a law within ``error``: finite, ≥ −(error + rounding), summing to ``total`` within it.

    ``total`` is 1 except for a law that states a missing mass (paths the route does not complete).

    Entries in [−allowance, 0) are clipped to 0; the array is returned as it is otherwise.

    Examples
    --------
    >>> check_law(np.array([0.25, 0.75]), route="example").tolist()
    [0.25, 0.75]
    """
    p = np.asarray(probs, dtype=np.float64)
    where = _where(route, regime)
    if not np.all(np.isfinite(p)):
        bad = int(np.count_nonzero(~np.isfinite(p)))
        raise PostconditionError(f"{where}: the law has {bad} non-finite entries; refused rather than returned")
    err = float(error) if math.isfinite(error) else math.inf
    allowance = err + ROUNDING_PER_TERM * max(1, p.size)
    low = float(p.min()) if p.size else 0.0
    if low < -allowance:
        raise PostconditionError(f"{where}: the law has an entry {low:.3g} < 0 beyond its stated error {err:.2g} "
                                 f"plus rounding {allowance - err:.2g}; refused rather than returned")
    mass = float(p.sum())
    if abs(mass - total) > allowance:
        raise PostconditionError(f"{where}: the law sums to {mass:.6g} (|{mass:.6g} − {total:g}| = {abs(mass - total):.2g} "
                                 f"exceeds its stated error {err:.2g} plus rounding {allowance - err:.2g}); "
                                 "refused rather than returned")
    if low < 0:
        p = np.maximum(p, 0.0)
    return p


def check_law_dict(law: dict, *, route: str, error: float = 0.0, regime: str | None = None) -> dict:
    """A law stored as ``{cell: probability}`` (the variable-size rounds), under the checks of :func:`check_law`.

    Examples
    --------
    >>> check_law_dict({((0,), (1,)): 0.5, ((), ()): 0.5}, route="example")
    {((0,), (1,)): 0.5, ((), ()): 0.5}
    """
    keys = list(law)
    values = check_law(np.fromiter((law[k] for k in keys), dtype=np.float64, count=len(keys)), route=route,
                       error=error, regime=regime)
    return {k: float(v) for k, v in zip(keys, values)}


def check_distance(value: float, *, route: str, error: float = 0.0, regime: str | None = None,
                   upper: float = 1.0) -> float:
    """A distance in [0, ``upper``] within ``error`` (then clipped into the interval).

    Examples
    --------
    >>> check_distance(1.0000000000000004, route="example")
    1.0
    """
    v = float(value)
    where = _where(route, regime)
    allowance = (float(error) if math.isfinite(error) else math.inf) + ROUNDING_PER_TERM * 16
    if not math.isfinite(v) or v < -allowance or v > upper + allowance:
        raise PostconditionError(f"{where}: the distance {v!r} lies outside [0, {upper:g}] beyond its stated error "
                                 f"{error:.2g}; refused rather than returned")
    return min(max(v, 0.0), upper)


def check_kl(kl: float, *, route: str, tv: float | None = None, error: float = 0.0,
             regime: str | None = None) -> float:
    """A KL divergence ≥ 0 (within ``error``), and with ``tv`` consistent with Pinsker: TV ≤ √(KL/2).

    ``kl = inf`` is a valid answer (a support mismatch). Values in [−allowance, 0) are clipped to 0.

    Examples
    --------
    >>> check_kl(0.02, tv=0.1, route="example")
    0.02
    """
    v = float(kl)
    where = _where(route, regime)
    allowance = (float(error) if math.isfinite(error) else math.inf) + ROUNDING_PER_TERM * 16
    if math.isnan(v) or v < -allowance:
        raise PostconditionError(f"{where}: KL = {v!r} is not ≥ 0 within its stated error {error:.2g}; "
                                 "refused rather than returned")
    v = max(v, 0.0)
    if tv is not None and math.isfinite(v) and float(tv) > math.sqrt(v / 2.0) + allowance + 1e-12:
        raise PostconditionError(f"{where}: TV = {float(tv):.6g} exceeds Pinsker's √(KL/2) = {math.sqrt(v / 2):.6g} "
                                 f"for KL = {v:.6g}; the two answers contradict each other and are refused")
    return v


def check_nonnegative(value, *, name: str, route: str, error: float = 0.0, regime: str | None = None,
                      scale: float = 1.0):
    """A quantity that is ≥ 0 in exact arithmetic: clipped to 0 inside ``error`` + rounding·``scale``.

    Works elementwise on arrays; returns a float for a scalar.

    Examples
    --------
    >>> check_nonnegative(-2.2e-16, name="E_fact", route="example")
    0.0
    """
    a = np.asarray(value, dtype=np.float64)
    where = _where(route, regime)
    allowance = (float(error) if math.isfinite(error) else math.inf) + ROUNDING_PER_TERM * 16 * max(1.0, abs(scale))
    if not np.all(np.isfinite(a) | np.isposinf(a)):
        raise PostconditionError(f"{where}: {name} is not finite; refused rather than returned")
    low = float(a.min()) if a.size else 0.0
    if low < -allowance:
        raise PostconditionError(f"{where}: {name} = {low:.3g} < 0 beyond its stated error {error:.2g} plus "
                                 f"rounding {allowance - error:.2g}; refused rather than returned")
    out = np.maximum(a, 0.0)
    return float(out) if out.ndim == 0 else out
