"""Continuum limits of a profile (§5.6): the optimal and constant-schedule costs as N → ∞ for a scaling
function φ, and the Markov chain's φ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate

from .._validation import check_positive_int, renamed_keywords

__all__ = ["ContinuumLimits", "continuum_limits", "markov_scaling_function"]


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


@renamed_keywords(q="vocab_size")
def markov_scaling_function(eps: float, *, vocab_size: int = 2, max_terms: int = 200_000):
    """φ(t) = lim N·f(⌈tN⌉) for the symmetric q-ary Markov chain with flip probability ε.

    Spec: §5.6. With a fraction t revealed, a masked site's nearest revealed neighbours sit at independent
    Geometric(t) distances, which gives g(tN) → G(t) in closed form and φ = −G′.

    Parameters
    ----------
    eps : float
        ε in (0, 1).
    vocab_size : int
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

    ht_all = _symmetric_h_tilde(max_terms + 1, float(eps), check_positive_int(vocab_size, name="q", minimum=2))
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
