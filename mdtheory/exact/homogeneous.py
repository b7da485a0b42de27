"""Homogeneous reduction of the one-round laws (§3.5).

When every masked position has the same prediction p, positions are exchangeable and a cell's
probability depends only on the token composition n ∈ ℕ^V (|n| = k) of x_K. The number of cells with
composition n is C(N, k) · k! / Π_s n_s!. For a single cell with composition n:

* MaskGIT:  Π_s p_s^{n_s} ∫_0^∞ d/dt[Π_s (1 − e^{−w_s t})^{n_s}] · φ(t)^{N−k} dt,
* moment:   (1 / C(N, k)) · Π_s (p_s^β / m)^{n_s}.

Everything is in log-space, and the k-th arrival time of the race has the binomial law, so the grid of
:mod:`mdtheory.exact.race` is built from a closed form. This makes exact TV feasible at N ~ 10⁴, k ~ 64.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb, inf

import numpy as np
from scipy.special import gammaln, logsumexp

from .._validation import check_alpha, check_k, check_positive_int, check_probs
from .distances import TVResult
from .race import fast_logsumexp as _lse
from .race import race_grid, race_node_factors

__all__ = ["compositions", "HomogeneousLaw", "homogeneous_round_laws", "homogeneous_maskgit_moment_tv"]

MAX_COMPOSITIONS = 5_000_000


def compositions(k: int, parts: int) -> np.ndarray:
    """All n ∈ ℕ^parts with Σ n = k, shape (C(k+parts−1, parts−1), parts), lexicographic order."""
    if comb(k + parts - 1, parts - 1) > MAX_COMPOSITIONS:
        raise ValueError(
            f"there are C(k+V-1, V-1) = {comb(k + parts - 1, parts - 1):.3g} token compositions for k={k}, "
            f"V={parts}; more than MAX_COMPOSITIONS={MAX_COMPOSITIONS:.3g}"
        )
    out = []
    for bars in itertools.combinations(range(k + parts - 1), parts - 1):
        prev = -1
        row = []
        for b in bars:
            row.append(b - prev - 1)
            prev = b
        row.append(k + parts - 1 - prev - 1)
        out.append(row)
    return np.array(out, dtype=np.int64).reshape(-1, parts)


@dataclass(frozen=True)
class HomogeneousLaw:
    """Per-composition laws: ``log_cell_*[c]`` is the log-probability of ONE cell with composition
    ``counts[c]``; ``log_multiplicity[c]`` the log of the number of such cells. Tokens off the support of
    p are dropped (``support`` maps columns of ``counts`` back to token ids)."""

    counts: np.ndarray
    support: np.ndarray
    log_multiplicity: np.ndarray
    log_cell_maskgit: np.ndarray
    log_cell_maskgit_gauss: np.ndarray
    log_cell_moment: np.ndarray
    truncation: float
    n_masked: int
    k: int
    alpha: float


def _log1mexp(x: np.ndarray, log_x: np.ndarray) -> np.ndarray:
    """log(1 − e^{−x}) for x = e^{log_x} ≥ 0, accurate at both ends and finite where x underflows
    (there log(1 − e^{−x}) = log x − x/2 + O(x²), from the log of x itself)."""
    tiny = log_x < -30.0
    with np.errstate(divide="ignore"):
        mid = np.where(x < 0.693, np.log(-np.expm1(-x)), np.log1p(-np.exp(-x)))
    return np.where(tiny, log_x - 0.5 * x, mid)


def _common_row(p) -> np.ndarray:
    """The common prediction as a (1, V) array: ``p`` is one row (V,), or a table whose rows are all equal."""
    arr = np.asarray(p)
    if arr.ndim == 2 and arr.shape[0] > 1:
        table = check_probs(arr, name="p")
        if np.any(np.abs(table - table[0]) > 1e-12):
            raise ValueError(f"p must be one row (vocab_size,) of predictions shared by every position; got a table "
                             f"of shape {arr.shape} whose rows differ (use maskgit_moment_tv for different rows)")
        arr = table[0]
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[0] != 1):
        raise ValueError(f"p must be one row (vocab_size,) of predictions; got shape {arr.shape}")
    return check_probs(np.atleast_2d(arr), name="p")


def homogeneous_round_laws(p, *, n_masked: int, k: int, alpha: float) -> HomogeneousLaw:
    """The MaskGIT and moment laws of one round when all N positions predict the same p.

    Spec: §3.5. Positions are exchangeable, so the laws live on token compositions n (|n| = k), with
    multiplicity C(N, k)·k!/Π_s n_s!; this reaches N ≈ 10⁴ and k ≈ 64.

    Parameters
    ----------
    p : array_like, shape (V,)
        The common prediction.
    n_masked : int
        N.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        0 < α ≤ ∞.

    Returns
    -------
    HomogeneousLaw
        Per-composition log-probabilities of one cell under each law (``log_cell_maskgit``,
        ``log_cell_moment``) and the log-number of cells with that composition (``log_multiplicity``).

    Raises
    ------
    ValueError
        If p is not a distribution or a parameter is out of range.

    Examples
    --------
    >>> law = homogeneous_round_laws([0.7, 0.3], n_masked=50, k=2, alpha=1.0)
    >>> round(float(np.exp(law.log_cell_moment + law.log_multiplicity).sum()), 12)
    1.0
    """
    row = _common_row(p)
    n = check_positive_int(n_masked, name="n_masked")
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    if alpha == 0.0:
        raise ValueError("alpha must be > 0 for the homogeneous reduction (use the general laws for alpha=0)")
    support = np.nonzero(row[0] > 0)[0]
    ps = row[0, support]
    log_p = np.log(ps)
    counts = compositions(k, support.size)
    log_mult = (gammaln(n + 1) - gammaln(n - k + 1)) - gammaln(counts + 1).sum(axis=1)  # C(N,k)·k!/Π n_s!
    log_tok = counts @ log_p
    if alpha == inf:
        beta, log_m = 1.0, 0.0
    else:
        beta = 1.0 + 1.0 / alpha
        log_m = float(logsumexp(beta * log_p))
    log_binom = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    log_moment = -log_binom + counts @ (beta * log_p - log_m)
    if alpha == inf or k == n:
        lm = log_tok - log_binom
        return HomogeneousLaw(counts, support, log_mult, lm, lm, log_moment, 0.0, n, k, alpha)
    log_w = (log_p / alpha)[None, :]
    log_w = log_w - log_w.max()
    probs1 = ps[None, :]
    grid = race_grid(probs1, log_w, k, homogeneous_count=n)
    fac = race_node_factors(probs1, log_w, grid)
    log_x = np.minimum(log_w[0][:, None] + grid.log_t[None, :], 700.0)  # (V, T) log(w t)
    x = np.exp(log_x)
    l1m = _log1mexp(x, log_x)  # (V, T), finite
    # t·d/dt Π_s (1−e^{−x_s})^{n_s} = Σ_s n_s x_s e^{−x_s} (1−e^{−x_s})^{n_s−1} Π_{r≠s}(…)^{n_r}
    base = counts @ l1m  # (C, T)
    per_s = np.log(np.where(counts > 0, counts, 1))[:, :, None] + (log_x - x - l1m)[None, :, :]
    per_s = np.where((counts > 0)[:, :, None], per_s, -np.inf)
    log_deriv = base + _lse(per_s, axis=1)  # (C, T)
    log_rest = (n - k) * fac.log_phi[0]  # (T,)
    with np.errstate(divide="ignore"):
        lwk, lwg = np.log(grid.weight_kronrod), np.log(grid.weight_gauss)
    log_int_k = _lse(log_deriv + log_rest + lwk, axis=1)
    log_int_g = _lse(log_deriv + log_rest + lwg, axis=1)
    return HomogeneousLaw(counts, support, log_mult, log_tok + log_int_k, log_tok + log_int_g, log_moment,
                          grid.truncation, n, k, alpha)


def homogeneous_maskgit_moment_tv(p, *, n_masked: int, k: int, alpha: float) -> TVResult:
    """The exact TV(MaskGIT, moment) of one round with identical rows p, through token compositions.

    Spec: §3.5, §4.2.

    Parameters
    ----------
    p : array_like, shape (V,)
        The common prediction.
    n_masked : int
        N.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        0 < α ≤ ∞.

    Returns
    -------
    TVResult

    Raises
    ------
    ValueError
        If p is not a distribution or a parameter is out of range.

    Examples
    --------
    >>> r = homogeneous_maskgit_moment_tv([0.7, 0.2, 0.1], n_masked=100, k=2, alpha=1.0)
    >>> 0 < r.tv < 0.1
    True
    """
    law = homogeneous_round_laws(p, n_masked=n_masked, k=k, alpha=alpha)
    mg = np.exp(law.log_multiplicity + law.log_cell_maskgit)
    mg_g = np.exp(law.log_multiplicity + law.log_cell_maskgit_gauss)
    mo = np.exp(law.log_multiplicity + law.log_cell_moment)
    tv = 0.5 * float(np.abs(mg - mo).sum())
    err = 0.5 * float(np.abs(mg - mg_g).sum()) + law.truncation
    vocab = int(np.asarray(p).shape[-1])
    return TVResult(tv=tv, quad_error=err, truncation=law.truncation, n_masked=law.n_masked, k=law.k,
                    vocab_size=vocab, alpha=law.alpha, n_cells=comb(law.n_masked, law.k) * vocab ** law.k,
                    route="homogeneous")
