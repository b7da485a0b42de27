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
from .round_laws import LawSizeError
from .race import fast_logsumexp as _lse
from .race import race_grid, race_node_factors

__all__ = ["compositions", "HomogeneousLaw", "homogeneous_law_bytes", "homogeneous_round_laws",
           "homogeneous_maskgit_moment_tv", "DEFAULT_MAX_HOMOGENEOUS_BYTES"]

MAX_COMPOSITIONS = 5_000_000
#: the most memory (bytes) the homogeneous laws may take by default; raise ``max_bytes`` to go further
DEFAULT_MAX_HOMOGENEOUS_BYTES = 2 * 1024 ** 3
#: elements of the (compositions × tokens × nodes) block evaluated at once (32 MB of float64 per array)
_BLOCK_ELEMS = 4_000_000


def compositions(k: int, parts: int, *, max_rows: int | None = MAX_COMPOSITIONS) -> np.ndarray:
    """All n ∈ ℕ^parts with Σ n = k, shape (C(k+parts−1, parts−1), parts), lexicographic order.

    More than ``max_rows`` rows are refused before any work (``None``: no limit).
    """
    n_rows = comb(k + parts - 1, parts - 1)
    if max_rows is not None and n_rows > max_rows:
        raise LawSizeError(f"there are C(k+V-1, V-1) = {n_rows:.3g} token compositions for k={k}, V={parts}; "
                           f"more than max_rows={max_rows:.3g}")
    # stars and bars: the V−1 bar positions among k+V−1 slots; part sizes are the gaps between bars
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(k + parts - 1), parts - 1)),
                       dtype=np.int64, count=n_rows * (parts - 1))
    bars = flat.reshape(n_rows, parts - 1)
    edges = np.concatenate([np.full((n_rows, 1), -1), bars, np.full((n_rows, 1), k + parts - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def homogeneous_law_bytes(k: int, vocab_size: int) -> int:
    """Memory (bytes) that :func:`homogeneous_maskgit_moment_tv` needs at k and V: the C(k+V−1, V−1)
    compositions (V int64 each), twelve float64 per composition (the laws and the TV's temporaries), and one
    evaluation block (four arrays of 32 MB).

    Spec: §3.5.

    Parameters
    ----------
    k : int
        Positions revealed.
    vocab_size : int
        Tokens in the support of the common prediction.

    Returns
    -------
    int
        The estimate, an upper bound on the peak (measured peaks are about half of it).

    Examples
    --------
    >>> homogeneous_law_bytes(2, 4)  # 10 compositions, plus the fixed block
    128001280
    """
    n_comp = comb(k + vocab_size - 1, vocab_size - 1)
    return n_comp * (vocab_size + 12) * 8 + 4 * _BLOCK_ELEMS * 8


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


def homogeneous_round_laws(p, *, n_masked: int, k: int, alpha: float,
                           max_bytes: float = DEFAULT_MAX_HOMOGENEOUS_BYTES) -> HomogeneousLaw:
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
    max_bytes : float
        Refuse, before any work, laws estimated (:func:`homogeneous_law_bytes`) to need more memory than this.

    Returns
    -------
    HomogeneousLaw
        Per-composition log-probabilities of one cell under each law (``log_cell_maskgit``,
        ``log_cell_moment``) and the log-number of cells with that composition (``log_multiplicity``).

    Raises
    ------
    ValueError
        If p is not a distribution or a parameter is out of range.
    LawSizeError
        If the memory estimate exceeds ``max_bytes`` (checked before any work).

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
    if not (isinstance(max_bytes, (int, float)) and max_bytes > 0):
        raise ValueError(f"max_bytes must be a number > 0; got max_bytes={max_bytes!r}")
    support = np.nonzero(row[0] > 0)[0]
    need = homogeneous_law_bytes(k, support.size)
    if need > max_bytes:
        raise LawSizeError(f"the homogeneous law at k={k} over {support.size} tokens needs about {need / 2 ** 20:.4g} MiB "
                           f"({comb(k + support.size - 1, support.size - 1):.3g} token compositions), more than "
                           f"max_bytes={max_bytes / 2 ** 20:.4g} MiB; raise max_bytes to run it anyway")
    ps = row[0, support]
    log_p = np.log(ps)
    counts = compositions(k, support.size, max_rows=None)
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
    log_rest = (n - k) * fac.log_phi[0]  # (T,)
    with np.errstate(divide="ignore"):
        lwk, lwg = np.log(grid.weight_kronrod), np.log(grid.weight_gauss)
    shift = log_x - x - l1m  # (V, T)
    log_int_k, log_int_g = np.empty(counts.shape[0]), np.empty(counts.shape[0])
    block = max(1, _BLOCK_ELEMS // (counts.shape[1] * log_x.shape[1]))
    for lo in range(0, counts.shape[0], block):  # blocks of compositions bound the working memory
        c = counts[lo:lo + block]
        # t·d/dt Π_s (1−e^{−x_s})^{n_s} = Σ_s n_s x_s e^{−x_s} (1−e^{−x_s})^{n_s−1} Π_{r≠s}(…)^{n_r}
        base = c @ l1m  # (C, T)
        per_s = np.where((c > 0)[:, :, None], np.log(np.where(c > 0, c, 1))[:, :, None] + shift[None, :, :], -np.inf)
        log_deriv = base + _lse(per_s, axis=1) + log_rest  # (C, T)
        log_int_k[lo:lo + block] = _lse(log_deriv + lwk, axis=1)
        log_int_g[lo:lo + block] = _lse(log_deriv + lwg, axis=1)
    return HomogeneousLaw(counts, support, log_mult, log_tok + log_int_k, log_tok + log_int_g, log_moment,
                          grid.truncation, n, k, alpha)


def homogeneous_maskgit_moment_tv(p, *, n_masked: int, k: int, alpha: float,
                                  max_bytes: float = DEFAULT_MAX_HOMOGENEOUS_BYTES) -> TVResult:
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
    max_bytes : float
        Refuse, before any work, laws estimated (:func:`homogeneous_law_bytes`) to need more memory than this.

    Returns
    -------
    TVResult

    Raises
    ------
    ValueError
        If p is not a distribution or a parameter is out of range.
    LawSizeError
        If the memory estimate exceeds ``max_bytes`` (checked before any work).

    Examples
    --------
    >>> r = homogeneous_maskgit_moment_tv([0.7, 0.2, 0.1], n_masked=100, k=2, alpha=1.0)
    >>> 0 < r.tv < 0.1
    True
    """
    law = homogeneous_round_laws(p, n_masked=n_masked, k=k, alpha=alpha, max_bytes=max_bytes)
    mg = np.exp(law.log_multiplicity + law.log_cell_maskgit)
    mg_g = np.exp(law.log_multiplicity + law.log_cell_maskgit_gauss)
    mo = np.exp(law.log_multiplicity + law.log_cell_moment)
    tv = 0.5 * float(np.abs(mg - mo).sum())
    # the rounding of the log-multiplicities (gammaln of numbers up to N) shows as a mass defect of each law
    defect = abs(float(mg.sum()) - 1.0 + law.truncation) + abs(float(mo.sum()) - 1.0)
    err = 0.5 * float(np.abs(mg - mg_g).sum()) + law.truncation + 0.5 * defect
    tv = min(tv, 1.0)  # a TV is at most 1; what rounding put above it is inside ``err``
    vocab = int(np.asarray(p).shape[-1])
    return TVResult(tv=tv, quad_error=err, truncation=law.truncation, n_masked=law.n_masked, k=law.k,
                    vocab_size=vocab, alpha=law.alpha, n_cells=comb(law.n_masked, law.k) * vocab ** law.k,
                    route="homogeneous")
