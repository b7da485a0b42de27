"""Exponential-race quadrature for Gumbel-top-k laws (§3.1–§3.2).

Gumbel-top-k with log-weights ``log w_i`` is an exponential race: E_i ~ Exp(w_i) and the chosen set is
the k earliest arrivals. When the weight of position j is itself random (MaskGIT: W_j = p_j(X_j)^{1/α}
with X_j ~ p_j), the survival function of E_j is the Laplace transform φ_j(t) = Σ_s p_j(s) e^{-t w_js}.
Every one-round law in mdtheory is an integral over the race time t of products of three per-(position,
token) factors, evaluated on one shared grid of nodes:

* ``a`` – "token s of position i arrives at t":   p_is · (w_is t) e^{-w_is t} · (dt / t)
* ``c`` – "token s of position i arrived before t": p_is · (1 − e^{-w_is t})
* ``φ`` – "position j has not arrived by t".

Design (the numerical conventions, also listed in the README):

* Weights are normalised so that max w = 1 (the race law is invariant under a common rescaling) and
  handled in log-space: only ``w t = exp(log w + log t)`` is ever formed, so α down to 1e-3 and
  vocabularies of 50k stay finite.
* Panels: [0, t0] with t0 = 1/Σ_j max_s w_js, then geometric panels [t0 2^m, t0 2^{m+1}]. Each panel is
  integrated with the 15-point Gauss–Kronrod rule, whose embedded 7-point Gauss rule gives the error
  estimate ("doubling the nodes", 7 → 15).
* Panels are chosen from the *exact* law of the k-th arrival time E_(k): its CDF at any t is a
  Poisson–binomial tail, computed by dynamic programming. Summed over all cells, the one-round integrands
  add up to the density of E_(k); so (i) a panel whose exact E_(k)-mass is below ``tol_drop`` can be
  skipped, and the skipped mass is a rigorous bound on the absolute error that skipping adds to the sum
  of all cells; (ii) a panel whose Kronrod estimate of that mass disagrees with the exact increment is
  bisected until it agrees (adaptivity driven by an exact reference).
* log φ is clamped at ``LOG_PHI_FLOOR``: a clamped position outside the set contributes ≤ e^{-700}, and
  inside the set the clamp cancels exactly, so the clamp never changes a result above 1e-300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

__all__ = ["RaceGrid", "race_grid", "race_node_factors", "RaceFactors", "order_statistic_cdf", "grid_chunks"]

#: 15-point Kronrod nodes (non-negative half) and weights, with the embedded 7-point Gauss weights.
#: Standard constants of the G7–K15 pair (QUADPACK); tests check their polynomial exactness.
_XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.000000000000000000000000000000000,
])
_WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
])
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975, 0.417959183673469387755102040816327])

#: Nodes on [-1, 1] in increasing order, Kronrod weights and Gauss weights (0 on Kronrod-only nodes).
GK_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])
GK_WEIGHTS_KRONROD = np.concatenate([_WGK[:-1], _WGK[::-1]])
_wg_full = np.zeros(8)
_wg_full[1::2] = _WG  # Gauss nodes are x_1, x_3, x_5, x_7 (= 0) of the Kronrod list
GK_WEIGHTS_GAUSS = np.concatenate([_wg_full[:-1], _wg_full[::-1]])

LOG_PHI_FLOOR = -700.0


@dataclass(frozen=True)
class RaceGrid:
    """Quadrature nodes for one race: ∫_0^∞ F(t) dt ≈ Σ_n weight[n] · (t F(t))|_{t = exp(log_t[n])}.

    Attributes
    ----------
    log_t : (T,) log of the nodes.
    weight_kronrod, weight_gauss : (T,) weights of the Kronrod rule and of the embedded Gauss rule
        (already divided by t, so integrands are written in the dimensionless form t·F(t)).
    truncation : exact E_(k)-mass of the skipped panels and of the tail beyond the last panel; it bounds
        the total absolute error that truncation adds to the sum of all cells of the law.
    mass_check : Σ over panels |Kronrod estimate of the E_(k)-mass − exact mass|, after refinement.
    n_panels : number of panels kept.
    """

    log_t: np.ndarray
    weight_kronrod: np.ndarray
    weight_gauss: np.ndarray
    truncation: float
    mass_check: float
    n_panels: int


def fast_logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    """log Σ exp(x) along ``axis`` for real arrays (−inf where every entry is −inf); lean hot-path version."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def _wt(log_w: np.ndarray, log_t: np.ndarray) -> np.ndarray:
    """w·t on the (n, V, T) grid; capped at e^700 (where e^{-wt} is already 0) so x·e^{-x} stays 0, not NaN."""
    return np.exp(np.minimum(log_w[:, :, None] + log_t[None, None, :], 700.0))


def _row_functions(probs: np.ndarray, log_w: np.ndarray, log_t: np.ndarray):
    """Return (F, φ, t·f) with shape (n_rows, T): CDF, survival and t×density of each arrival time."""
    x = _wt(log_w, log_t)  # (n, V, T): w·t
    e = np.exp(-x)
    p = probs[:, :, None]
    F = np.sum(p * -np.expm1(-x), axis=1)
    phi = np.sum(p * e, axis=1)
    tf = np.sum(p * x * e, axis=1)
    return F, phi, tf


def _poisson_binomial_tail(F, phi, tf, k: int, *, homogeneous_count: int | None = None):
    """P(at least k of the independent arrivals happened by t) and its t-derivative times t.

    ``F``, ``phi``, ``tf`` have shape (n_rows, T). Forward-mode dynamic programming over rows, kept in
    the (count < k, count >= k) state space so that the lower tail keeps full relative precision.
    If ``homogeneous_count`` is given, the single row is repeated that many times (binomial closed form).
    """
    if homogeneous_count is not None:
        from scipy.stats import binom

        n = homogeneous_count
        Fr, tfr = F[0], tf[0]
        cdf = binom.sf(k - 1, n, Fr)
        dens = n * tfr * binom.pmf(k - 1, n - 1, Fr) if n > 1 else tfr
        return cdf, dens
    T = F.shape[1]
    P = np.zeros((k, T))
    P[0] = 1.0
    D = np.zeros((k, T))
    Pge = np.zeros(T)
    Dge = np.zeros(T)
    for j in range(F.shape[0]):
        Fj, phij, tfj = F[j], phi[j], tf[j]
        Dge = Dge + D[k - 1] * Fj + P[k - 1] * tfj
        Pge = Pge + P[k - 1] * Fj
        newP = P * phij
        newD = D * phij - P * tfj
        newP[1:] += P[:-1] * Fj
        newD[1:] += D[:-1] * Fj + P[:-1] * tfj
        P, D = newP, newD
    return Pge, Dge


def order_statistic_cdf(probs: np.ndarray, log_w: np.ndarray, log_t: np.ndarray, k: int,
                        *, homogeneous_count: int | None = None):
    """CDF and t×density of the k-th arrival time E_(k) at the times exp(log_t) (exact, by DP)."""
    F, phi, tf = _row_functions(probs, log_w, log_t)
    return _poisson_binomial_tail(F, phi, tf, k, homogeneous_count=homogeneous_count)


def _chunk_len(row_elems: int, max_elems: int) -> int:
    """Nodes per chunk so that row_elems × nodes ≤ max_elems (at least one node)."""
    return max(1, max_elems // max(1, row_elems))


def _chunked_tail(probs, log_w, log_t, k, homogeneous_count, *, max_elems: int = 4_000_000):
    """:func:`order_statistic_cdf` over node chunks so that (rows × V × nodes) stays ≤ ``max_elems``."""
    chunk = _chunk_len(probs.size, max_elems)
    cdf, dens = np.empty(log_t.shape), np.empty(log_t.shape)
    for s in range(0, log_t.size, chunk):
        cdf[s:s + chunk], dens[s:s + chunk] = order_statistic_cdf(probs, log_w, log_t[s:s + chunk], k,
                                                                  homogeneous_count=homogeneous_count)
    return cdf, dens


def grid_chunks(grid: "RaceGrid", *, row_elems: int, max_elems: int = 4_000_000):
    """Split ``grid`` into consecutive node chunks with row_elems × nodes ≤ max_elems (at least 1 node).

    Every law is a sum over nodes, so chunks can be evaluated independently and accumulated.
    """
    chunk = _chunk_len(row_elems, max_elems)
    for s in range(0, grid.log_t.size, chunk):
        sl = slice(s, s + chunk)
        yield RaceGrid(log_t=grid.log_t[sl], weight_kronrod=grid.weight_kronrod[sl],
                       weight_gauss=grid.weight_gauss[sl], truncation=grid.truncation,
                       mass_check=grid.mass_check, n_panels=grid.n_panels)


def _panel_nodes(log_a: float | None, log_b: float):
    """Map the GK15 rule onto [0, b] (log_a = None) or [a, b]; return log t and the two weight vectors."""
    if log_a is None:
        u = 0.5 * (1.0 + GK_NODES)  # t = b·u
        log_t = log_b + np.log(u)
        scale = 0.5 / u  # (dt/t) per unit of rule weight
    else:
        r1 = np.expm1(log_b - log_a)  # r − 1
        v = 1.0 + r1 * 0.5 * (1.0 + GK_NODES)
        log_t = log_a + np.log(v)
        scale = 0.5 * r1 / v
    return log_t, GK_WEIGHTS_KRONROD * scale, GK_WEIGHTS_GAUSS * scale


def race_grid(probs: np.ndarray, log_w: np.ndarray, k: int, *, tol_drop: float = 1e-18,
              tol_panel: float = 2e-14, max_depth: int = 8, homogeneous_count: int | None = None,
              max_panels: int = 200_000) -> RaceGrid:
    """Build the shared quadrature grid for the race defined by ``probs`` and ``log_w`` (see module doc).

    ``log_w`` must already be normalised (max over the support = 0) with −inf off the support.
    """
    support = probs > 0
    lw_max_row = np.max(np.where(support, log_w, -np.inf), axis=1)
    if homogeneous_count is not None:
        log_t0 = -(lw_max_row[0] + np.log(homogeneous_count))
    else:
        log_t0 = -float(logsumexp(lw_max_row))
    log_t_end = np.log(60.0) - float(np.min(log_w[support]))  # every candidate has arrived w.p. 1 − e^{-60}

    def tail(log_t):
        return _chunked_tail(probs, log_w, log_t, k, homogeneous_count)

    def cdf(log_t):
        return tail(log_t)[0]

    step = np.log(2.0)
    coarse = 16
    n_fine = max(1, int(np.ceil((log_t_end - log_t0) / step)))
    n_coarse = int(np.ceil(n_fine / coarse))
    if n_coarse > max_panels:
        raise ValueError(
            "the race spans too many time scales for quadrature "
            f"(log-range {log_t_end - log_t0:.3g}); alpha is too small for these probabilities"
        )
    cb = log_t0 + step * coarse * np.arange(n_coarse + 1)
    ccdf = cdf(cb)
    cdf_t0 = ccdf[0]
    truncation = max(0.0, 1.0 - ccdf[-1])
    panels: list[tuple[float | None, float, float]] = []  # (log_a, log_b, exact mass)
    for m in range(n_coarse):
        mass = ccdf[m + 1] - ccdf[m]
        if mass <= tol_drop:
            truncation += max(mass, 0.0)
            continue
        fb = cb[m] + step * np.arange(coarse + 1)
        fcdf = cdf(fb)
        fcdf[0], fcdf[-1] = ccdf[m], ccdf[m + 1]
        for q in range(coarse):
            fm = fcdf[q + 1] - fcdf[q]
            if fm <= tol_drop:
                truncation += max(fm, 0.0)
            else:
                panels.append((fb[q], fb[q + 1], fm))
    panels.insert(0, (None, log_t0, cdf_t0))

    # Adaptive refinement against the exact E_(k)-mass of each panel, breadth-first so that each
    # round costs one batched DP call for the densities and one for the CDF at the midpoints.
    log_ts, wks, wgs = [], [], []
    mass_check = 0.0
    pending = [(a, b, m) for (a, b, m) in panels]
    parent_err = [np.inf] * len(pending)  # bisect only while it helps: stop at the rounding floor
    for depth in range(max_depth + 1):
        if not pending:
            break
        nodes = [_panel_nodes(a, b) for (a, b, _) in pending]
        _, dens = tail(np.concatenate([lt for lt, _, _ in nodes]))
        dens = dens.reshape(len(pending), GK_NODES.size)
        errs = np.abs(np.einsum("pn,pn->p", np.stack([wk for _, wk, _ in nodes]), dens)
                      - np.array([m for (_, _, m) in pending]))
        split, split_err = [], []
        for (panel, (lt, wk, wg), err, perr) in zip(pending, nodes, errs, parent_err):
            if err > tol_panel and depth < max_depth and err < 0.5 * perr:
                split.append(panel)
                split_err.append(err)
            else:
                mass_check += float(err)
                log_ts.append(lt)
                wks.append(wk)
                wgs.append(wg)
        if not split:
            break
        mids = np.array([b - step if a is None else 0.5 * (a + b) for (a, b, _) in split])
        lefts = np.array([-np.inf if a is None else a for (a, _, _) in split])
        cm = cdf(mids)
        ca = np.where(np.isneginf(lefts), 0.0, cdf(np.where(np.isneginf(lefts), mids, lefts)))
        pending, parent_err = [], []
        for (a, b, m), mid, c_mid, c_a, e in zip(split, mids, cm, ca, split_err):
            m_left = c_mid - c_a
            pending += [(a, mid, m_left), (mid, b, m - m_left)]
            parent_err += [e, e]
    order = np.argsort([lt[0] for lt in log_ts], kind="stable")
    log_ts = [log_ts[i] for i in order]
    wks = [wks[i] for i in order]
    wgs = [wgs[i] for i in order]
    return RaceGrid(
        log_t=np.concatenate(log_ts),
        weight_kronrod=np.concatenate(wks),
        weight_gauss=np.concatenate(wgs),
        truncation=float(truncation),
        mass_check=float(mass_check),
        n_panels=len(log_ts),
    )


@dataclass(frozen=True)
class RaceFactors:
    """Per-(position, token, node) factors of the race on a grid (module doc)."""

    a: np.ndarray  # (n, V, T) arrival density, Kronrod-weighted
    a_gauss: np.ndarray  # (n, V, T) arrival density, Gauss-weighted
    c: np.ndarray  # (n, V, T) arrived-before
    log_phi: np.ndarray  # (n, T) clamped log survival
    log_phi_total: np.ndarray  # (T,) Σ_j log_phi[j]


def race_node_factors(probs: np.ndarray, log_w: np.ndarray, grid: RaceGrid) -> RaceFactors:
    """Evaluate the race factors of ``probs``/``log_w`` on ``grid`` (float64)."""
    x = _wt(log_w, grid.log_t)  # (n, V, T)
    e = np.exp(-x)
    p = probs[:, :, None]
    pxe = p * x * e
    with np.errstate(divide="ignore"):
        log_phi = np.log(np.sum(p * e, axis=1))
    log_phi = np.maximum(log_phi, LOG_PHI_FLOOR)
    return RaceFactors(
        a=pxe * grid.weight_kronrod,
        a_gauss=pxe * grid.weight_gauss,
        c=p * -np.expm1(-x),
        log_phi=log_phi,
        log_phi_total=log_phi.sum(axis=0),
    )
