"""How far float64 rounding can move an exact law: a probe at the inputs' last digits (§9).

The exact routes compute the law of the float64 table they are given, but they form log-weights such as
log p/α, (1 + 1/α)·log p or log p/τ, and float64 carries log p only to a relative precision of ~1e-16. Where
the factor is large (α or τ small) and two rows or tokens differ only in their last digits, that rounding
decides the answer: at α = 1e-16 two rows one ulp apart get an O(1) log-ratio whose computed value is
noise. The law returned is then valid (it passes the postconditions) but not accurate.

One mechanism for every route:

* a first-order bound, δ = ``PROBE_ULPS``·ε·max(1, max|log p|)·A, where A is the largest factor the rule
  multiplies log-probabilities by (1/α, 1 + 1/α, 1/σ, 1/τ); the law moves by at most ~2kδ in total
  variation. Below ``PROBE_FROM`` this bound is the stated rounding error and nothing more is done;
* above it, two **probes**: the law is computed again on the table perturbed by ``PROBE_ULPS`` ulps, with
  alternating signs along the sorted distinct values, once with each sign first (so that every pair of
  neighbouring values moves apart in one probe and towards each other in the other, and ties stay tied), and
  twice the larger total variation from the answer is its stated rounding error. Rows that differ by fewer
  ulps than the probe at a large factor are therefore refused, even where float64 happened to order them
  right: the rounding of log p could as well have merged them;
* above ``ROUNDING_LIMIT`` the answer is refused with :class:`IllConditioned`, which names the route, the
  regime and the measured sensitivity.

**Convention:** deterministic rules (α, σ or τ = 0) compare computed scores; two entries whose scores round
to the same float64 are tied. No probe is made for them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from .._postconditions import PostconditionError

__all__ = ["IllConditioned", "PROBE_ULPS", "PROBE_FROM", "ROUNDING_LIMIT", "amplification",
           "first_order_rounding", "last_digit_perturbation", "perturbed_table", "rounding_error", "cells_tv",
           "table_tv", "law_dict_tv", "probed"]

#: the size, in ulps, of the relative perturbation of the probe
PROBE_ULPS = 4
#: a first-order rounding bound below which the law is not computed a second time
PROBE_FROM = 1e-12
#: a measured rounding sensitivity (total variation) above which a law is refused
ROUNDING_LIMIT = 1e-6

_EPS = float(np.finfo(np.float64).eps)
#: the parameters that divide log-probabilities or scores, by field name, and the factor each one gives
_SCALE_FIELDS = {"alpha": lambda a: 1.0 + 1.0 / a, "noise": lambda s: 1.0 / s, "tau": lambda t: 1.0 / t,
                 "temperature": lambda t: 1.0 / t}


class IllConditioned(PostconditionError, ValueError):
    """An exact law that float64 cannot resolve: its last-digit sensitivity exceeds ``ROUNDING_LIMIT``.

    Spec: §9 (stated errors). Raised instead of returning a valid but inaccurate law, typically for rows or
    tokens that differ in their last digits at a tiny α or τ. It is a ``ValueError`` as well: the inputs' regime
    is refused (exit 2 from the CLI), like any other regime a route states it cannot resolve.

    Examples
    --------
    >>> import numpy as np
    >>> from mdtheory.exact.round_laws import moment_round_law
    >>> P = np.array([[np.nextafter(0.6, 1), 0.4], [0.6, 0.4]])
    >>> try:
    ...     moment_round_law(P, k=1, alpha=1e-15)
    ... except IllConditioned as e:
    ...     print("ulps" in str(e))
    True
    """


def amplification(rule) -> float:
    """The largest factor a rule multiplies log-probabilities or scores by (1 when there is none).

    Spec: §3.4a. Walks the rule's dataclass fields (nested rules included): α gives 1 + 1/α, a Gumbel scale σ
    gives 1/σ and a temperature τ gives 1/τ; the deterministic (0) and uniform (∞) limits give none.

    Parameters
    ----------
    rule : Rule
        A rule of :mod:`mdtheory.rules` (or any dataclass holding such parameters).

    Returns
    -------
    float
        The factor A ≥ 1.

    Examples
    --------
    >>> from mdtheory.rules import ChooseThenSample, MomentRule, Temperature
    >>> amplification(ChooseThenSample(MomentRule(alpha=0.5), Temperature(0.1)))
    10.0
    """
    best = 1.0
    if not dataclasses.is_dataclass(rule):
        return best
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        if dataclasses.is_dataclass(value):
            best = max(best, amplification(value))
        elif f.name in _SCALE_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
            if 0.0 < value < math.inf:
                best = max(best, _SCALE_FIELDS[f.name](float(value)))
    return best


def first_order_rounding(probs: np.ndarray, factor: float, k: int) -> float:
    """The first-order total-variation bound 2k·δ of the module doc, δ = PROBE_ULPS·ε·max(1, max|log p|)·factor.

    Examples
    --------
    >>> import numpy as np
    >>> first_order_rounding(np.array([[0.5, 0.5]]), 1.0, 1) < 1e-14
    True
    """
    p = np.asarray(probs, dtype=np.float64)
    pos = p[p > 0]
    scale = max(1.0, float(np.max(-np.log(pos)))) if pos.size else 1.0
    return 2.0 * max(1, k) * PROBE_ULPS * _EPS * scale * factor


def last_digit_perturbation(values: np.ndarray, ulps: int = PROBE_ULPS, *, flip: bool = False) -> np.ndarray:
    """``values`` moved by ``ulps`` relative ulps, up and down alternately along the sorted distinct finite values.

    Of two neighbouring distinct values, one pair in two moves apart and the other towards each other (and
    crosses, if closer than the perturbation); ``flip`` swaps the two, so that the two probes together move
    every neighbouring pair both ways. Equal values stay equal; zeros and infinities are unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.5, 0.25, 0.5, 0.0])
    >>> y = last_digit_perturbation(x)
    >>> bool(y[0] == y[2]), bool(y[3] == 0.0), bool(y[1] != 0.25)
    (True, True, True)
    """
    x = np.asarray(values, dtype=np.float64)
    out = x.copy()
    live = np.isfinite(x) & (x != 0)
    if live.any():
        _, rank = np.unique(x[live], return_inverse=True)
        out[live] = x[live] * (1.0 + ulps * _EPS * np.where((rank % 2 == 0) != flip, 1.0, -1.0))
    return out


def perturbed_table(probs: np.ndarray, *, flip: bool = False) -> np.ndarray:
    """A table of distributions perturbed by :func:`last_digit_perturbation` and renormalised row by row."""
    q = last_digit_perturbation(probs, flip=flip)
    return q / q.sum(axis=-1, keepdims=True)


def cells_tv(a: list, b: list) -> float:
    """Total variation between two laws given as [(positions, log-probability vector)] cell lists."""
    def as_dict(cells):
        out: dict = {}
        for K, v in cells:
            out[tuple(K)] = out.get(tuple(K), 0.0) + np.exp(np.asarray(v, dtype=np.float64))
        return out

    da, db = as_dict(a), as_dict(b)
    total = 0.0
    for K in set(da) | set(db):
        x, y = da.get(K), db.get(K)
        if x is None or y is None:
            total += float(np.sum(x if y is None else y))
        elif x.shape != y.shape:  # cannot happen for one rule on one table; keep the answer honest anyway
            total += float(np.sum(x) + np.sum(y))
        else:
            total += float(np.abs(x - y).sum())
    return 0.5 * total


def rounding_error(probs: np.ndarray, factor: float, k: int, recompute: Callable[[bool], float], *, route: str,
                   regime: str) -> float:
    """The stated rounding error of a law: its first-order bound, or the probes' TV; refused above the limit.

    Spec: §3.4a.

    ``recompute(flip)`` computes the law again on inputs perturbed with :func:`perturbed_table` (or
    :func:`last_digit_perturbation`) and that ``flip``, and returns its total variation from the law already
    computed; it is called, with both flips, only where the first-order bound exceeds ``PROBE_FROM``.

    Parameters
    ----------
    probs : numpy.ndarray, shape (N, V)
        The table the law was computed from.
    factor : float
        The rule's :func:`amplification`.
    k : int
        Positions revealed (the number of factors of a cell).
    recompute : callable
        ``recompute(flip) -> float``, as above.
    route, regime : str
        Named in the refusal.

    Returns
    -------
    float
        The stated rounding error, a total variation.

    Raises
    ------
    IllConditioned
        If the probe's total variation exceeds ``ROUNDING_LIMIT``.

    Examples
    --------
    >>> import numpy as np
    >>> rounding_error(np.array([[0.5, 0.5]]), 1.0, 1, lambda flip: 1.0, route="example", regime="") < 1e-14
    True
    """
    bound = first_order_rounding(probs, factor, k)
    if bound <= PROBE_FROM:
        return bound
    tv = max(float(recompute(False)), float(recompute(True)))
    if not tv <= ROUNDING_LIMIT:
        raise IllConditioned(
            f"{route} ({regime}): moving the table by {PROBE_ULPS} ulps moves the law by total variation "
            f"{tv:.3g} > {ROUNDING_LIMIT:g}: float64 does not resolve this law (rows or tokens that differ in "
            f"their last digits, amplified {factor:.3g}×); use a larger alpha or temperature, or exact ties")
    # the probe measures the answer's sensitivity to rounding of the size the route commits; twice that, and
    # never less than the level at which probing starts, is what is stated
    return max(2.0 * tv, PROBE_FROM)


def table_tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation between two laws given as arrays of the same shape."""
    return 0.5 * float(np.abs(np.asarray(a) - np.asarray(b)).sum())


def law_dict_tv(a: dict, b: dict) -> float:
    """Total variation between two laws given as {cell: probability} dicts."""
    return 0.5 * sum(abs(a.get(c, 0.0) - b.get(c, 0.0)) for c in set(a) | set(b))


def probed(compute: Callable[[np.ndarray], object], probs: np.ndarray, factor: float, k: int, *,
           distance: Callable[[object, object], float] = cells_tv, route: str, regime: str) -> tuple[object, float]:
    """``compute(probs)`` and its :func:`rounding_error`, the probes measured with ``distance``.

    ``compute`` is called again on :func:`perturbed_table` inputs where the probe runs; its answer is a cell list
    [(positions, log-probabilities)] with the default ``distance``, or anything ``distance`` compares (an array:
    :func:`table_tv`; a dict law: :func:`law_dict_tv`). ``probs`` may hold more rows than the law is over (a
    multi-round state); the first-order bound reads every row.
    """
    p = np.asarray(probs, dtype=np.float64)
    answer = compute(p)
    err = rounding_error(p, factor, k, lambda flip: distance(answer, compute(perturbed_table(p, flip=flip))),
                         route=route, regime=regime)
    return answer, err
