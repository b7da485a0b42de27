"""Distances between one-round laws and their marginals (§3.6).

* :func:`tv_distance`, :func:`kl_divergence` between two materialised :class:`~mdtheory.exact.round_laws.RoundLaw`.
* :func:`position_inclusion` (P(i ∈ K)) and :func:`token_law_given_position` (P(x_i = s | i ∈ K)).
* :func:`maskgit_moment_tv` – TV(MaskGIT, moment) on (set, tokens) without materialising the law:
  k = 1 elementwise, k = 2 and k = 3 as BLAS contractions over the quadrature nodes, larger k by chunks.
* :func:`maskgit_moment_ordered_tv` – the same on ordered tuples (an upper bound, by data processing).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb, inf

import numpy as np

from .._validation import check_alpha, check_k, check_probs
from .round_laws import (
    LawSizeError,
    RoundLaw,
    _all_sets,
    _maskgit_cells,
    _maskgit_cells_on_grid,
    _moment_position_and_token_logs,
    _token_product,
    maskgit_log_weights,
    maskgit_ordered_law,
    maskgit_round_law,
    moment_ordered_law,
    moment_round_law,
)
from .plackett_luce import pl_set_log_prob
from .race import race_grid, race_node_factors

__all__ = [
    "TVResult",
    "tv_distance",
    "kl_divergence",
    "kl_arrays",
    "position_inclusion",
    "token_law_given_position",
    "maskgit_moment_tv",
    "maskgit_moment_ordered_tv",
]


#: Largest (n_masked · vocab_size · nodes) factor matrix the k ≥ 2 streaming routes may hold.
MAX_ROW_NODE_ELEMS = 40_000_000


def _check_same_layout(p: RoundLaw, q: RoundLaw) -> None:
    if p.probs.shape != q.probs.shape or p.ordered != q.ordered or not np.array_equal(p.sets, q.sets):
        raise ValueError(
            "the two laws must share their cell layout (same n_masked, k, vocab_size and ordering); got "
            f"shapes {p.probs.shape} and {q.probs.shape}, ordered={p.ordered}/{q.ordered}"
        )


def tv_distance(p: RoundLaw, q: RoundLaw) -> float:
    """Total variation ½ Σ |p − q| between two one-round laws with the same cell layout.

    Spec: §3.6.

    Parameters
    ----------
    p, q : RoundLaw
        Laws over the same cells (same N, k, V and orderedness).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the layouts differ.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> round(tv_distance(maskgit_round_law(P, k=1, alpha=np.inf), moment_round_law(P, k=1, alpha=np.inf)), 15)
    0.0
    """
    _check_same_layout(p, q)
    return 0.5 * float(np.abs(p.probs - q.probs).sum())


def kl_divergence(p: RoundLaw, q: RoundLaw) -> float:
    """KL(p ‖ q) = Σ p log(p/q) in nats between two one-round laws; ``inf`` when p has mass where q has none.

    Spec: §3.6.

    Parameters
    ----------
    p, q : RoundLaw
        Laws over the same cells.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the layouts differ.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> law = maskgit_round_law(P, k=1, alpha=1.0)
    >>> kl_divergence(law, law)
    0.0
    """
    _check_same_layout(p, q)
    return kl_arrays(p.probs.ravel(), q.probs.ravel())


def kl_arrays(a: np.ndarray, b: np.ndarray) -> float:
    """KL(a ‖ b) of two probability vectors; ``inf`` when a puts mass where b has none."""
    on = a > 0
    if np.any(b[on] <= 0):
        return inf
    return float(np.sum(a[on] * (np.log(a[on]) - np.log(b[on]))))


def position_inclusion(law: RoundLaw) -> np.ndarray:
    """The inclusion probabilities P(i ∈ K) of a one-round law; they sum to k.

    Spec: §3.6 (the marginal position law; not proportional to the weights, §3.1).

    Parameters
    ----------
    law : RoundLaw
        An unordered law.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> law = moment_round_law(np.array([[0.5, 0.5], [1.0, 0.0]]), k=1, alpha=1.0)
    >>> position_inclusion(law).round(4).tolist()
    [0.3333, 0.6667]
    """
    mass = law.probs.sum(axis=1)
    out = np.zeros(law.n_masked)
    for m in range(law.k):
        np.add.at(out, law.sets[:, m], mass)
    return out


def token_law_given_position(law: RoundLaw) -> np.ndarray:
    """The token law at a position given that it is revealed, P(x_i = s | i ∈ K).

    Spec: §3.6, §4.1 (MaskGIT's tokens are close to p_i^β/m_i).

    Parameters
    ----------
    law : RoundLaw
        An unordered law.

    Returns
    -------
    numpy.ndarray, shape (N, V)
        Rows of positions that are never revealed are zeros.

    Examples
    --------
    >>> import numpy as np
    >>> law = moment_round_law(np.array([[0.5, 0.5], [0.8, 0.2]]), k=1, alpha=1.0)
    >>> token_law_given_position(law)[1].round(4).tolist()  # p^2/m at β = 2
    [0.9412, 0.0588]
    """
    V, k = law.vocab_size, law.k
    table = law.probs.reshape((-1,) + (V,) * k)
    joint = np.zeros((law.n_masked, V))
    for m in range(k):
        other = tuple(ax for ax in range(1, k + 1) if ax != m + 1)
        np.add.at(joint, law.sets[:, m], table.sum(axis=other))
    incl = joint.sum(axis=1, keepdims=True)
    return np.divide(joint, incl, out=np.zeros_like(joint), where=incl > 0)


@dataclass(frozen=True)
class TVResult:
    """The exact TV between the MaskGIT and moment laws of one round, with its error estimate.

    Spec: §3.6, §4.2.

    Parameters
    ----------
    tv : float
        d_TV on cells (K, x_K).
    quad_error : float
        ½ Σ_cells |Kronrod − Gauss| + truncation: a conservative bound on the absolute error of ``tv``.
    truncation : float
        The rigorous bound on the mass of skipped quadrature panels (part of ``quad_error``).
    n_masked, k, vocab_size : int
        N, k and V.
    alpha : float
        α.
    n_cells : int
        The number of cells summed over.
    route : str
        How it was computed (``"table"``, ``"streaming"``, ``"limit"``, ``"homogeneous"``).

    Examples
    --------
    >>> import numpy as np
    >>> r = maskgit_moment_tv(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), k=1, alpha=1.0)
    >>> r.n_cells, r.quad_error < 1e-9
    (6, True)
    """

    tv: float
    quad_error: float
    truncation: float
    n_masked: int
    k: int
    vocab_size: int
    alpha: float
    n_cells: int
    route: str

    def __post_init__(self):
        from .._postconditions import check_distance

        object.__setattr__(self, "tv", check_distance(
            self.tv, route=f"MaskGIT–moment TV ({self.route})", error=self.quad_error,
            regime=f"N={self.n_masked}, k={self.k}, V={self.vocab_size}, alpha={self.alpha!r}"))

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


#: the most cells :func:`maskgit_moment_tv` sums by default (about 40 s on one core; raise ``max_cells``)
DEFAULT_MAX_TV_CELLS = 500_000_000
#: cells summed per second on one core of the project's VM (benchmark exact_tv_k3: 1.8e8 cells in 14.5 s)
TV_CELLS_PER_SECOND = 1.2e7


def maskgit_moment_tv(probs, *, k: int, alpha: float, max_cells: float = DEFAULT_MAX_TV_CELLS) -> TVResult:
    """Exact TV between the MaskGIT and moment laws of one round, on (set, tokens).

    Spec: §3.6, §4.2 (the observable of [H] Theorem 2). Small tables are materialised; large ones are
    streamed set by set, so N = 1024 at k = 2 needs no more memory than one block of sets.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i; each must be a distribution (sum 1 within 1e-9).
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α in [0, ∞]; at α = ∞ both laws coincide (TV = 0).
    max_cells : float
        Refuse, before any work, a sum over more than this many cells C(N, k)·V^k (the message gives the
        estimated time); the default is about 40 s on one core.

    Returns
    -------
    TVResult
        ``tv`` with ``quad_error``.

    Raises
    ------
    ValueError
        If ``probs`` is not a valid (N, V) table, k or alpha is out of range, or α is so small that the
        quadrature cannot resolve the law.
    LawSizeError
        If the sum has more than ``max_cells`` cells (checked before any work).

    Examples
    --------
    >>> import numpy as np
    >>> r = maskgit_moment_tv(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), k=1, alpha=1.0)
    >>> 0 < r.tv < 1
    True
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    n_cells = comb(n, k) * V ** k
    common = dict(n_masked=n, k=k, vocab_size=V, alpha=alpha, n_cells=n_cells)
    if alpha != inf and n_cells > max_cells:
        raise LawSizeError(f"the exact TV sums over C(N, k)·V^k = C({n}, {k})·{V}^{k} = {n_cells:.3g} cells (about "
                           f"{n_cells / TV_CELLS_PER_SECOND:.3g} s on one core), more than max_cells={max_cells:.3g}; "
                           "raise max_cells (CLI: --max-cells) to run it anyway")
    if alpha == inf:  # both samplers: uniform positions, untempered tokens
        return TVResult(tv=0.0, quad_error=0.0, truncation=0.0, route="closed_form", **common)
    if alpha == 0.0 or k == n:
        mg, mo = maskgit_round_law(p, k=k, alpha=alpha), moment_round_law(p, k=k, alpha=alpha)
        return TVResult(tv=tv_distance(mg, mo), quad_error=mg.quad_error, truncation=mg.truncation,
                        route="materialised", **common)
    log_w = maskgit_log_weights(p, alpha)
    grid = race_grid(p, log_w, k)
    log_m, log_q = _moment_position_and_token_logs(p, alpha)
    q = np.exp(log_q)
    if k == 1:  # cells (i, x) of the single positions, chunked over nodes (no rows × nodes limit)
        mg_k, mg_g = _maskgit_cells_on_grid(p, log_w, grid, np.arange(n)[:, None])
        mo = np.exp(log_m - np.logaddexp.reduce(log_m))[:, None] * q
        tv, err = 0.5 * np.abs(mg_k - mo).sum(), 0.5 * np.abs(mg_k - mg_g).sum()
        route = "k1"
    elif n * V * grid.log_t.size > MAX_ROW_NODE_ELEMS:
        raise LawSizeError(
            f"k={k} needs the (n_masked·vocab_size) × nodes factor matrix in memory: {n}·{V}·{grid.log_t.size} = "
            f"{n * V * grid.log_t.size:.3g} > MAX_ROW_NODE_ELEMS={MAX_ROW_NODE_ELEMS:.3g}; reduce N or V (k = 1 has "
            "no such limit)")
    elif k == 2:
        fac = race_node_factors(p, log_w, grid)
        tv, err = _tv_pairs(fac, log_m, q)
        route = "k2_blas"
    elif k == 3:
        tv, err = _tv_triples(race_node_factors(p, log_w, grid), log_m, q)
        route = "k3_blas"
    else:
        tv, err = _tv_general(race_node_factors(p, log_w, grid), log_m, q, n, k)
        route = "chunked"
    return TVResult(tv=min(float(tv), 1.0), quad_error=float(err) + grid.truncation, truncation=grid.truncation,
                    route=route, **common)


def _scaled(fac, k: int):
    """Row factors multiplied by exp(S/k − log φ_i) so that products over k members carry Π_{j∉K} φ_j."""
    n, V, T = fac.a.shape
    scale = np.exp(fac.log_phi_total[None, :] / k - fac.log_phi)[:, None, :]  # (n, 1, T)
    return ((fac.a * scale).reshape(n * V, T), (fac.a_gauss * scale).reshape(n * V, T),
            (fac.c * scale).reshape(n * V, T))


def _tv_pairs(fac, log_m, q, *, block: int = 128):
    n, V, T = fac.a.shape
    A, Ag, C = _scaled(fac, 2)
    tv = err = 0.0
    for i0 in range(0, n - 1, block):
        i1 = min(n - 1, i0 + block)
        rows = slice(i0 * V, i1 * V)
        mk = (A[rows] @ C.T + C[rows] @ A.T).reshape(i1 - i0, V, n, V)
        mg = (Ag[rows] @ C.T + C[rows] @ Ag.T).reshape(i1 - i0, V, n, V)
        ii, jj = np.nonzero(np.arange(i0, i1)[:, None] < np.arange(n)[None, :])
        cells_k = mk[ii, :, jj, :]  # (n_pairs, V, V)
        cells_g = mg[ii, :, jj, :]
        sets = np.stack([ii + i0, jj], axis=1)
        pos = np.exp(pl_set_log_prob(log_m, sets))
        mo = pos[:, None, None] * q[sets[:, 0], :, None] * q[sets[:, 1], None, :]
        tv += 0.5 * np.abs(cells_k - mo).sum()
        err += 0.5 * np.abs(cells_k - cells_g).sum()
    return tv, err


def _tv_triples(fac, log_m, q):
    n, V, T = fac.a.shape
    A, Ag, C = _scaled(fac, 3)
    A3, Ag3, C3 = (X.reshape(n, V, T) for X in (A, Ag, C))
    tv = err = 0.0
    for i in range(n - 2):
        r = slice((i + 1) * V, n * V)
        Ar, Agr, Cr = A[r], Ag[r], C[r]
        nr = n - i - 1
        ax, gx, cx = A3[i][:, None, :], Ag3[i][:, None, :], C3[i][:, None, :]  # (V, 1, T)
        cc = (cx * Cr[None]).reshape(V * nr * V, T)
        mk = ((ax * Cr[None] + cx * Ar[None]).reshape(-1, T) @ Cr.T + cc @ Ar.T).reshape(V, nr, V, nr, V)
        mg = ((gx * Cr[None] + cx * Agr[None]).reshape(-1, T) @ Cr.T + cc @ Agr.T).reshape(V, nr, V, nr, V)
        jj, ll = np.triu_indices(nr, 1)
        cells_k = mk[:, jj, :, ll, :]  # (n_pairs, V_i, V_j, V_l)
        cells_g = mg[:, jj, :, ll, :]
        sets = np.stack([np.full(jj.size, i), jj + i + 1, ll + i + 1], axis=1)
        pos = np.exp(pl_set_log_prob(log_m, sets))
        mo = (pos[:, None, None, None] * q[i][None, :, None, None] * q[sets[:, 1]][:, None, :, None]
              * q[sets[:, 2]][:, None, None, :])
        tv += 0.5 * np.abs(cells_k - mo).sum()
        err += 0.5 * np.abs(cells_k - cells_g).sum()
    return tv, err


def _tv_general(fac, log_m, q, n: int, k: int, *, chunk: int = 4096):
    sets = _all_sets(n, k)
    tv = err = 0.0
    for s0 in range(0, sets.shape[0], chunk):
        S = sets[s0:s0 + chunk]
        ck, cg = _maskgit_cells(fac, S)
        mo = np.exp(pl_set_log_prob(log_m, S))[:, None] * _token_product(q[S])
        tv += 0.5 * np.abs(ck - mo).sum()
        err += 0.5 * np.abs(ck - cg).sum()
    return tv, err


def maskgit_moment_ordered_tv(probs, *, k: int, alpha: float) -> float:
    """Exact TV between MaskGIT and moment on ordered tuples (reveal order and tokens).

    Spec: §3.6. By data processing it is at least the TV on unordered sets.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        0 < α < ∞.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the inputs are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    >>> maskgit_moment_ordered_tv(P, k=2, alpha=1.0) >= maskgit_moment_tv(P, k=2, alpha=1.0).tv
    True
    """
    return tv_distance(maskgit_ordered_law(probs, k=k, alpha=alpha), moment_ordered_law(probs, k=k, alpha=alpha))
