"""Least-squares fits of sweep results: the log-log slope of a scaling law, with its standard error (§4.2 (b))."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SlopeFit", "fit_loglog_slope"]


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit log y = intercept + slope · log x, with the slope's standard error (NaN, i.e.
    undefined, when two points fit exactly), the points used and those left out as unresolved (y no larger
    than its own error estimate)."""

    slope: float
    intercept: float
    stderr: float
    n_points: int
    n_unresolved: int = 0


def fit_loglog_slope(x, y, *, error=None) -> SlopeFit:
    """A least-squares line through (log x, log y), with the slope's standard error.

    Spec: §4.2 (b). Points with x ≤ 0 or y ≤ 0 are dropped; so are points that their own error estimate does
    not resolve (y ≤ error), which are counted in ``n_unresolved``: a slope is never fitted to rounding.

    Parameters
    ----------
    x, y : array_like
        At least two positive points.
    error : array_like or float, optional
        The absolute error estimate of each y (for example a quadrature error).

    Returns
    -------
    SlopeFit
        ``slope``, ``intercept``, ``stderr`` and ``n_points``.

    Raises
    ------
    ValueError
        If fewer than two points are usable.

    Examples
    --------
    >>> round(fit_loglog_slope([1, 2, 4], [1.0, 0.5, 0.25]).slope, 12)
    -1.0
    >>> fit_loglog_slope([1, 2, 4, 8], [1.0, 0.5, 0.25, 1e-13], error=1e-12).n_unresolved
    1
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    unresolved = 0
    if error is not None:
        err = np.broadcast_to(np.asarray(error, dtype=np.float64), y.shape)
        below = ok & ~(y > err)  # a NaN error resolves nothing
        unresolved = int(below.sum())
        ok &= ~below
    if ok.sum() < 2:
        return SlopeFit(math.nan, math.nan, math.nan, int(ok.sum()), unresolved)
    lx, ly = np.log(x[ok]), np.log(y[ok])
    A = np.stack([np.ones_like(lx), lx], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    n = lx.size
    if n > 2:
        resid = ly - A @ coef
        s2 = float(resid @ resid) / (n - 2)
        stderr = math.sqrt(s2 / float(((lx - lx.mean()) ** 2).sum()))
    else:  # two points fit exactly: the error of the slope is undefined, not zero
        stderr = math.nan
    return SlopeFit(slope=float(coef[1]), intercept=float(coef[0]), stderr=stderr, n_points=n, n_unresolved=unresolved)


# ---------------------------------------------------------------------------------------------
# the TV(MaskGIT, moment) sweep
