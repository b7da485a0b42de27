"""Plackett–Luce (Gumbel-top-k) probabilities in log-space (§3.1).

* Ordered top-k of (log w_i + g_i): Π_l w_{r_l} / (Σ_i w_i − Σ_{t<l} w_{r_t}).
* Unordered set K: the sum of the ordered form over the k! orders (k ≤ ``MAX_K_ORDERS``), otherwise the
  race integral ∫_0^∞ W_c e^{−W_c t} Π_{i∈K}(1 − e^{−w_i t}) dt (the inclusion–exclusion form cancels
  catastrophically and is not used).

The complement mass W_c = Σ_{j∉K} w_j is formed from ascending prefix sums over the gaps between the
ranks of K, never as Σ_all − Σ_K, so it keeps its relative precision when K holds the dominant weights.

Every probability here is invariant under log w → log w + c, and the arithmetic is made so too: the
log-weights are shifted by their largest finite value before any prefix sum or difference. Unshifted, weights
of size ~1/α (α → 0) put every partial sum at a magnitude where its ulp exceeds log 2, so the prefix
``logaddexp`` sums stop growing and the differences of nearly tied weights become noise (laws that summed to 3
or 12).
"""

from __future__ import annotations

import itertools

import numpy as np

from .race import fast_logsumexp

__all__ = ["pl_log_complement", "pl_ordered_log_prob", "pl_set_log_prob"]

#: Largest k for which set probabilities are summed over the k! orders.
MAX_K_ORDERS = 6


def _logdiffexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(e^a − e^b) for a ≥ b, elementwise (−inf where a == b)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a + np.log(-np.expm1(b - a))
    out = np.where(np.isneginf(b), a, out)
    return np.where(a <= b, -np.inf, out)


def _shift(log_w: np.ndarray) -> tuple[np.ndarray, float]:
    """``log_w − c`` with c its largest finite entry (0 if there is none), and c."""
    finite = log_w[np.isfinite(log_w)]
    c = float(finite.max()) if finite.size else 0.0
    return log_w - c, c


#: the widest spread of finite log-weights (after the shift) for which the prefix-sum routes keep ~1e-13
#: absolute precision; wider spreads (α → 0) take the per-stage relative route
MAX_PREFIX_SPREAD = 700.0


def _wide(log_w: np.ndarray) -> bool:
    finite = log_w[np.isfinite(log_w)]
    return finite.size > 1 and float(finite.max() - finite.min()) > MAX_PREFIX_SPREAD


def _ordered_relative(log_w: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """log P(order) with every factor formed from differences to its own winner: log w_r − log Σ_{j left} w_j =
    −log Σ_{j left} exp(log w_j − log w_r). The differences are taken before any sum, so weights far below the
    largest (a cluster at −1e16 after the shift) keep the digits that tell them apart. O(n_orders·k·N)."""
    n = log_w.size
    n_orders, k = orders.shape
    out = np.zeros(n_orders)
    for lo in range(0, n_orders, 8192):
        block = orders[lo:lo + 8192]
        left = np.ones((block.shape[0], n), dtype=bool)
        total = np.zeros(block.shape[0])
        rows = np.arange(block.shape[0])
        for step in range(k):
            r = block[:, step]
            lr = log_w[r]
            with np.errstate(invalid="ignore"):
                d = np.where(left, log_w[None, :] - lr[:, None], -np.inf)
            d[~np.isfinite(lr)] = 0.0  # a winner of weight 0: probability 0 below
            total += np.where(np.isfinite(lr), -fast_logsumexp(d, axis=1), -np.inf)
            left[rows, r] = False
        out[lo:lo + 8192] = total
    return out


def pl_log_complement(log_w: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """log Σ_{j∉K} w_j for each row K of ``sets`` (shape (n_sets, k)); −inf when K is everything."""
    shifted, c = _shift(np.asarray(log_w, dtype=np.float64))
    return _log_complement_shifted(shifted, sets) + c


def _log_complement_shifted(log_w: np.ndarray, sets: np.ndarray) -> np.ndarray:
    n = log_w.size
    order = np.argsort(log_w, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    prefix = np.concatenate([[-np.inf], np.logaddexp.accumulate(log_w[order])])  # prefix[r] = log Σ_{rank<r}
    ranks = np.sort(rank[np.asarray(sets)], axis=1)  # (n_sets, k)
    lo = np.concatenate([np.full((ranks.shape[0], 1), -1), ranks], axis=1)  # previous rank
    hi = np.concatenate([ranks, np.full((ranks.shape[0], 1), n)], axis=1)  # next rank
    gaps = _logdiffexp(prefix[hi], prefix[lo + 1])  # Σ over ranks strictly between lo and hi
    return fast_logsumexp(gaps, axis=1)


def pl_ordered_log_prob(log_w: np.ndarray, orders: np.ndarray, *, log_rest: np.ndarray | None = None) -> np.ndarray:
    """log P(the top k of log w_i + g_i, in order, equals each row of ``orders``).

    Spec: §3.1: Π_l w_{r_l}/(Σ_i w_i − Σ_{t<l} w_{r_t}), in log-space.

    Parameters
    ----------
    log_w : numpy.ndarray, shape (N,)
        Log-weights.
    orders : numpy.ndarray, shape (n, k)
        Ordered tuples of distinct positions.
    log_rest : numpy.ndarray, optional
        The log-complements of the same rows, when the caller has them.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> round(float(np.exp(pl_ordered_log_prob(np.log([1.0, 3.0]), np.array([[1, 0]]))[0])), 12)
    0.75
    """
    log_w, c = _shift(np.asarray(log_w, dtype=np.float64))
    orders = np.atleast_2d(np.asarray(orders, dtype=np.int64))
    if _wide(log_w):
        return _ordered_relative(log_w, orders)
    # the same shift on the complement (a caller's, or ours), so every ratio is of shifted weights
    log_rest = _log_complement_shifted(log_w, orders) if log_rest is None else np.asarray(log_rest) - c
    lw = log_w[orders]  # (n, k)
    # suffix[l] = log Σ_{l' >= l} w_{r_l'}
    suffix = np.logaddexp.accumulate(lw[:, ::-1], axis=1)[:, ::-1]
    denom = np.logaddexp(log_rest[:, None], suffix)
    return np.sum(lw - denom, axis=1)


def pl_set_log_prob(log_w: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """log P(the unordered top k of log w_i + g_i equals each row of ``sets``).

    Spec: §3.1: P(K) = ∫ W_c e^{−W_c t} Π_{i∈K}(1 − e^{−w_i t}) dt, by inclusion–exclusion for small k and by
    quadrature otherwise.

    Parameters
    ----------
    log_w : numpy.ndarray, shape (N,)
        Log-weights.
    sets : numpy.ndarray, shape (n, k)
        Sets of distinct positions.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> round(float(np.exp(pl_set_log_prob(np.log([1.0, 1.0, 2.0]), np.array([[0, 1]]))[0])), 6)
    0.166667
    """
    log_w, _ = _shift(np.asarray(log_w, dtype=np.float64))
    sets = np.atleast_2d(np.asarray(sets, dtype=np.int64))
    k = sets.shape[1]
    if k == log_w.size:
        return np.zeros(sets.shape[0])
    if k <= MAX_K_ORDERS and _wide(log_w):
        terms = [_ordered_relative(log_w, sets[:, list(perm)]) for perm in itertools.permutations(range(k))]
        return fast_logsumexp(np.stack(terms, axis=0), axis=0)
    if k <= MAX_K_ORDERS:
        log_rest = _log_complement_shifted(log_w, sets)  # the complement does not depend on the order
        terms = [pl_ordered_log_prob(log_w, sets[:, list(perm)], log_rest=log_rest)
                 for perm in itertools.permutations(range(k))]
        return fast_logsumexp(np.stack(terms, axis=0), axis=0)
    return _pl_set_log_prob_integral(log_w, sets)


def _pl_set_log_prob_integral(log_w: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """Race-integral route for large k: each set is a race of its k members against one aggregate rival."""
    from .race import race_grid, race_node_factors

    log_rest = pl_log_complement(log_w, sets)
    out = np.empty(sets.shape[0])
    k = sets.shape[1]
    for row, (members, lr) in enumerate(zip(sets, log_rest)):
        lw = np.concatenate([log_w[members], [lr]])
        lw = lw - lw.max()
        probs = np.ones((k + 1, 1))
        grid = race_grid(probs, lw[:, None], k)
        fac = race_node_factors(probs, lw[:, None], grid)
        # integrand: d/dt Π_{i∈K}(1 − e^{−w_i t}) · e^{−W_c t}
        a, c = fac.a[:k, 0], fac.c[:k, 0]
        P, D = c[0], a[0]
        for m in range(1, k):
            P, D = P * c[m], D * c[m] + P * a[m]
        val = float(np.sum(D * np.exp(fac.log_phi[k])))
        out[row] = np.log(val) if val > 0 else -np.inf
    return out
