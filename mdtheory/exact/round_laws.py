"""Exact laws of one sampling round (§3).

The law of a round is a table over cells (K, x_K): K a k-subset of the masked positions (sorted
ascending) and x_K the tokens revealed there. ``RoundLaw.probs[c, j]`` is the probability of the set
``RoundLaw.sets[c]`` with the token tuple whose C-order flat index (over shape (V,)*k, in the order of
the set) is j. Both samplers put mass only on cells with p_i(x_i) > 0 for all i in K.

Routes (``method=``):

* ``"quadrature"`` (default): MaskGIT by the race integral of §3.2 (module :mod:`mdtheory.exact.race`);
  the moment law of §3.3 in closed form.
* ``"bruteforce"``: the literal enumeration oracle of §3.4 (:mod:`mdtheory.exact.oracle`), tiny cases only.

Limits (§2.1): α = ∞ gives uniform positions and untempered tokens for both samplers;
α = 0 gives MaskGIT's deterministic top-k of the sampled tokens' probabilities and the moment
sampler's deterministic top-k of max_s p_i(s) with argmax tokens. **Convention:** in both α = 0
rules ties (equal log-scores on the 2^-36 grid, :func:`mdtheory.rules.orders.tie_keys`) are split
uniformly at random, which is the α → 0 limit of the Gumbel rules.
"""

from __future__ import annotations

import dataclasses

import itertools
from dataclasses import dataclass, field
from math import comb, inf
from typing import Literal

import numpy as np

from .._validation import WorkTooLarge, check_alpha, check_k, check_method, check_probs
from ..rules.positions import MomentRule, tie_keys
from ..rules.rounds import ChooseThenSample
from ..rules.tokens import moment_token_transform
from .conditioning import amplification, last_digit_perturbation, perturbed_table, probed, rounding_error, table_tv
from .plackett_luce import pl_ordered_log_prob
from .race import RaceFactors, grid_chunks, race_grid, race_node_factors
from .set_laws import cts_log_cells

__all__ = [
    "RoundLaw",
    "maskgit_log_weights",
    "moment_log_m",
    "maskgit_round_law",
    "sample_then_choose_law",
    "moment_round_law",
    "round_law",
    "maskgit_ordered_law",
    "moment_ordered_law",
    "LawSizeError",
]

#: Largest number of cells a materialised law may have (streaming routes handle larger cases).
MAX_CELLS = 60_000_000


class LawSizeError(WorkTooLarge):
    """Raised when a law has too many cells to materialise; the message gives the size and the limit.

    Spec: §3.2 (cost C(N, k)·V^k cells). Streaming distances such as :func:`maskgit_moment_tv` still work.

    Examples
    --------
    >>> import numpy as np
    >>> try:
    ...     maskgit_round_law(np.full((400, 4), 0.25), k=3, alpha=1.0)
    ... except LawSizeError as e:
    ...     print("cells" in str(e))
    True
    """


@dataclass(frozen=True)
class RoundLaw:
    """The exact law of one round, as a table over (set, tokens) or (ordered tuple, tokens).

    Spec: §3. **Convention:** sets are sorted ascending and tokens follow the order of the set;
    ``probs[c, j]`` uses the C-order flat index j over (V,)*k.

    Parameters
    ----------
    sets : numpy.ndarray, shape (n_sets, k)
        Sorted positions (for ordered laws: positions in reveal order).
    probs : numpy.ndarray, shape (n_sets, V**k)
        Probabilities, float64.
    vocab_size, k, n_masked : int
        V, k and N.
    sampler : str
        ``"maskgit"``, ``"moment"`` or the route that built it.
    alpha : float
        MaskGIT's Gumbel scale α for a MaskGIT or moment law; NaN for any other rule (whose parameters are
        in ``extra["params"]``, a temperature among them).
    quad_error : float
        Estimated absolute error summed over cells (0 for closed forms).
    rounding_error : float
        Estimated total variation by which float64 rounding of the inputs' last digits moves the law
        (:mod:`mdtheory.exact.conditioning`); a law beyond ``ROUNDING_LIMIT`` is refused, not returned.
    truncation : float
        Rigorous bound on the mass of skipped quadrature panels.
    ordered : bool
        True for ordered-tuple laws.
    method : str
        The route (``"quadrature"``, ``"closed_form"``, ``"bruteforce"``).
    extra : dict
        Route-specific details.

    Examples
    --------
    >>> import numpy as np
    >>> law = moment_round_law(np.array([[0.5, 0.5], [1.0, 0.0]]), k=1, alpha=1.0)
    >>> law.sets.tolist(), law.probs.shape
    ([[0], [1]], (2, 2))
    """

    sets: np.ndarray
    probs: np.ndarray
    vocab_size: int
    k: int
    n_masked: int
    sampler: str
    alpha: float
    quad_error: float = 0.0
    truncation: float = 0.0
    ordered: bool = False
    method: str = "quadrature"
    extra: dict = field(default_factory=dict, repr=False, compare=False)
    rounding_error: float = 0.0

    def __post_init__(self):
        # every route builds its answer here, so this is where each one is checked before it is returned
        from .._postconditions import check_law

        regime = f"N={self.n_masked}, k={self.k}, V={self.vocab_size}, alpha={self.alpha!r}"
        probs = check_law(self.probs, route=f"{self.sampler} round law ({self.method})",
                          error=self.quad_error + self.truncation + 2.0 * self.rounding_error, regime=regime)
        object.__setattr__(self, "probs", probs)

    def __repr__(self) -> str:
        return (f"RoundLaw(sampler={self.sampler!r}, alpha={self.alpha!r}, n_masked={self.n_masked}, k={self.k}, "
                f"vocab_size={self.vocab_size}, n_cells={self.probs.size}, ordered={self.ordered}, "
                f"total={self.probs.sum():.15f}, quad_error={self.quad_error:.2e}, rounding_error={self.rounding_error:.2e})")

    def token_tuples(self) -> np.ndarray:
        """(V**k, k) array: the token tuple of each column of ``probs``."""
        return np.array(np.unravel_index(np.arange(self.vocab_size ** self.k), (self.vocab_size,) * self.k)).T

    def cells(self, *, include_zero: bool = True):
        """Iterate over (positions tuple, tokens tuple, prob) for every cell (tiny laws only)."""
        tuples = self.token_tuples()
        for c, pos in enumerate(self.sets):
            for j, toks in enumerate(tuples):
                pr = float(self.probs[c, j])
                if include_zero or pr > 0:
                    yield tuple(int(i) for i in pos), tuple(int(s) for s in toks), pr


# ----------------------------------------------------------------------------------------------
# weights
def maskgit_log_weights(probs: np.ndarray, alpha: float) -> np.ndarray:
    """log W = (1/α) log p, normalised so that the maximum over the support is 0 (−inf off support)."""
    with np.errstate(divide="ignore"):
        log_w = np.log(probs) / alpha
    return log_w - np.max(log_w)


def moment_log_m(probs: np.ndarray, alpha: float) -> np.ndarray:
    """log m_i = logsumexp_s(β log p_i(s)) with β = 1 + 1/α (§1); shape (n_masked,): the moment rule's scores."""
    with np.errstate(divide="ignore"):
        return MomentRule(alpha=alpha).scores(np.log(probs))


def _all_sets(n: int, k: int) -> np.ndarray:
    return np.array(list(itertools.combinations(range(n), k)), dtype=np.int64).reshape(-1, k)


def round_law_from_cells(cells: list, *, n: int, vocab_size: int, k: int, name: str,
                         rounding_error: float = 0.0) -> "RoundLaw":
    """A :class:`RoundLaw` over every k-set from [(sorted positions, log-probability over (V,)*k)] cells."""
    sets = _all_sets(n, k)
    row = {tuple(int(i) for i in s): c for c, s in enumerate(sets)}
    table = np.zeros((len(sets), vocab_size ** k))
    for K, logv in cells:
        table[row[tuple(K)]] += np.exp(logv)
    return RoundLaw(sets=sets, probs=table, vocab_size=vocab_size, k=k, n_masked=n, sampler=name, alpha=np.nan,
                    method="closed_form", rounding_error=rounding_error)


def _check_size(n: int, k: int, vocab: int, *, ordered: bool = False) -> None:
    n_cells = comb(n, k) * vocab ** k * (np.prod(range(1, k + 1)) if ordered else 1)
    if n_cells > MAX_CELLS:
        raise LawSizeError(
            f"the law has {n_cells:.3g} cells (n_masked={n}, k={k}, vocab_size={vocab}), more than "
            f"MAX_CELLS={MAX_CELLS:.3g}; use mdtheory.exact.distances.maskgit_moment_tv for streaming TV"
        )


def _round_law_inputs(probs, k, alpha, method, allowed, sampler):
    """Validate the public arguments of a round law; run the oracle when ``method == "bruteforce"``.

    Returns (probs, k, alpha, bruteforce law or None).
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    check_method(method, allowed=allowed)
    if method == "bruteforce":
        from . import oracle

        b = getattr(oracle, f"{sampler}_round_law_bruteforce")(p, k=k, alpha=alpha)
        return p, k, alpha, RoundLaw(sets=b.sets, probs=b.probs, vocab_size=b.vocab_size, k=b.k, n_masked=b.n_masked,
                                     sampler=b.sampler, alpha=b.alpha, ordered=b.ordered, method="bruteforce")
    _check_size(n, k, V)
    return p, k, alpha, None


def _token_product(factors: np.ndarray) -> np.ndarray:
    """(n, k, V) per-member token factors → (n, V**k) products over the k members (C order)."""
    n, k, V = factors.shape
    out = factors[:, 0, :]
    for m in range(1, k):
        out = (out[:, :, None] * factors[:, m, None, :]).reshape(n, -1)
    return out


# ----------------------------------------------------------------------------------------------
# MaskGIT
def _maskgit_cells(fac: RaceFactors, sets: np.ndarray, *, chunk_elems: int = 20_000_000):
    """Kronrod and Gauss values of every cell of the given sets: two (n_sets, V**k) arrays."""
    n_sets, k = sets.shape
    V, T = fac.a.shape[1], fac.a.shape[2]
    out_k = np.empty((n_sets, V ** k))
    out_g = np.empty((n_sets, V ** k))
    chunk = max(1, chunk_elems // (V ** k * T))
    for s0 in range(0, n_sets, chunk):
        S = sets[s0:s0 + chunk]
        # exp(Σ_{j∉K} log φ_j) — the clamp cancels exactly for members (race module doc)
        E = np.exp(fac.log_phi_total[None, :] - fac.log_phi[S].sum(axis=1))  # (n, T)
        P = fac.c[S[:, 0]]
        Dk = fac.a[S[:, 0]]
        Dg = fac.a_gauss[S[:, 0]]
        for m in range(1, k):
            cm, am, gm = fac.c[S[:, m]], fac.a[S[:, m]], fac.a_gauss[S[:, m]]  # (n, V, T)
            n = S.shape[0]
            Dk = (Dk[:, :, None, :] * cm[:, None] + P[:, :, None, :] * am[:, None]).reshape(n, -1, T)
            Dg = (Dg[:, :, None, :] * cm[:, None] + P[:, :, None, :] * gm[:, None]).reshape(n, -1, T)
            P = (P[:, :, None, :] * cm[:, None]).reshape(n, -1, T)
        out_k[s0:s0 + chunk] = np.einsum("nxt,nt->nx", Dk, E)
        out_g[s0:s0 + chunk] = np.einsum("nxt,nt->nx", Dg, E)
    return out_k, out_g


def _maskgit_cells_on_grid(p: np.ndarray, log_w: np.ndarray, grid, sets: np.ndarray):
    """:func:`_maskgit_cells` accumulated over node chunks, so (n, V, nodes) never has to fit in memory."""
    cells_k = cells_g = 0.0
    for sub in grid_chunks(grid, row_elems=p.size):
        ck, cg = _maskgit_cells(race_node_factors(p, log_w, sub), sets)
        cells_k, cells_g = cells_k + ck, cells_g + cg
    return cells_k, cells_g


def _deterministic_choice_cells(probs: np.ndarray, scores: np.ndarray, sets: np.ndarray,
                                ties: str = "uniform") -> np.ndarray:
    """Sample-then-choose with no noise: candidates x̃_i ~ probs_i, keep the top-k of scores_i(x̃_i),
    ties (equal on the tie grid, :func:`mdtheory.rules.orders.tie_keys`) split uniformly (§2.1) or, with
    ``ties="first"``, won by the lower index.

    For a cell with scores v = s_K(x_K), threshold v_min = min v held by a members of K, every j ∉ K
    must draw a score below v_min or tie with it: P = Π q_K(x_K) · Σ_b [z^b] Π_{j∉K}(L_j + E_j z) / C(a+b, a),
    with L_j (E_j) the q_j-mass of tokens scoring below (equal to) v_min. Under ``ties="first"`` a j ∉ K may
    tie only if it comes after the last member i* of K at v_min: P = Π q_K(x_K) · Π_{j∉K}(L_j + E_j·[j > i*]).
    MaskGIT at α = 0 is s = log p.
    """
    n, V = probs.shape
    k = sets.shape[1]
    tuples = np.array(np.unravel_index(np.arange(V ** k), (V,) * k)).T  # (V^k, k)
    out = np.zeros((sets.shape[0], V ** k))
    keys = np.where(probs > 0, tie_keys(scores), -np.inf)
    for c, K in enumerate(sets):
        others = np.setdiff1d(np.arange(n), K)
        rest, rest_keys = probs[others], keys[others]  # (n − k, V)
        q = probs[K[None, :], tuples]  # (V^k, k)
        kv = keys[K[None, :], tuples]
        v_min = kv.min(axis=1)
        a = (kv == v_min[:, None]).sum(axis=1)
        factor = {}
        for val in np.unique(v_min[v_min > -np.inf]):
            L = (rest * (rest_keys < val)).sum(axis=1)
            E = (rest * (rest_keys == val)).sum(axis=1)
            poly = np.array([1.0])
            for Lj, Ej in zip(L, E):
                poly = np.convolve(poly, [Lj, Ej]) if Ej > 0 else poly * Lj
            factor[val] = poly
        for j in np.nonzero(v_min > -np.inf)[0]:
            if ties == "first":
                last = K[kv[j] == v_min[j]].max()  # i*, the last member of K at the threshold
                below = (rest * (rest_keys < v_min[j])).sum(axis=1)
                equal = (rest * (rest_keys == v_min[j])).sum(axis=1)
                out[c, j] = np.prod(q[j]) * np.prod(below + equal * (others > last))
                continue
            poly, aj = factor[v_min[j]], int(a[j])
            out[c, j] = np.prod(q[j]) * sum(poly[b] / comb(aj + b, aj) for b in range(poly.size))
    return out


def sample_then_choose_law(probs, scores, *, k: int, noise: float, ties: str = "uniform") -> RoundLaw:
    """The exact law of a generic sample-then-choose round: candidates from ``probs``, scores from ``scores``.

    Spec: §2.1, §3.2. Every masked i draws x̃_i ~ probs_i and the round keeps the top k of s_i(x̃_i) + noise·g_i.
    This covers MaskGIT (s = log p, noise = α), LLaDA / Fast-dLLM low-confidence remasking (candidates from
    tempered p, s = log of the untempered p, noise = 0) and Dream's ``alg_temp`` (s = confidence, noise = τ).

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The candidate laws.
    scores : array_like, shape (N, V)
        s_i(x) for every position and token.
    k : int
        1 ≤ k ≤ N.
    noise : float
        Gumbel scale in [0, ∞]; 0 keeps the top k, ∞ is uniform.
    ties : {"uniform", "first"}
        At noise 0, equal scores are broken uniformly (the samplers' convention) or in favour of the lower
        index (a stable sort).

    Returns
    -------
    RoundLaw

    Raises
    ------
    ValueError
        If an input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    >>> a = sample_then_choose_law(P, np.log(P), k=1, noise=1.0)
    >>> float(np.abs(a.probs - maskgit_round_law(P, k=1, alpha=1.0).probs).max()) < 1e-12
    True
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    noise = check_alpha(noise, name="noise")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != p.shape:
        raise ValueError(f"scores must have the shape of probs {p.shape}; got {s.shape}")
    if ties not in ("uniform", "first"):
        raise ValueError(f"ties must be 'uniform' or 'first'; got ties={ties!r}")
    if np.any(np.isnan(s)) or np.any(np.isinf(s) & (p > 0)):
        raise ValueError("scores must be finite wherever probs > 0")
    _check_size(n, k, V)
    sets = _all_sets(n, k)
    common = dict(sets=sets, vocab_size=V, k=k, n_masked=n, sampler="sample-then-choose", alpha=noise)
    if k == n or noise == inf:
        return RoundLaw(probs=_token_product(p[sets]) / comb(n, k), method="closed_form", **common)
    if noise == 0.0:
        return RoundLaw(probs=_deterministic_choice_cells(p, s, sets, ties), method="closed_form", **common)
    def race(p, s):
        log_w = np.where(p > 0, s / noise, -np.inf)
        log_w = log_w - np.max(log_w)
        grid = race_grid(p, log_w, k)
        return grid, _maskgit_cells_on_grid(p, log_w, grid, sets)

    grid, (cells_k, cells_g) = race(p, s)
    err = float(np.abs(cells_k - cells_g).sum()) + grid.truncation
    # the scores are divided by the noise: at a small one, the inputs' last digits may decide the law
    rounding = rounding_error(
        p, 1.0 / noise, k,
        lambda flip: table_tv(race(perturbed_table(p, flip=flip), last_digit_perturbation(s, flip=flip))[1][0], cells_k),
        route="sample-then-choose round law (quadrature)", regime=f"N={n}, k={k}, V={V}, noise={noise!r}")
    return RoundLaw(probs=cells_k, quad_error=err, truncation=grid.truncation, rounding_error=rounding,
                    extra={"n_nodes": grid.log_t.size, "n_panels": grid.n_panels, "mass_check": grid.mass_check},
                    **common)


def maskgit_round_law(probs, *, k: int, alpha: float,
                      method: Literal["quadrature", "bruteforce"] = "quadrature") -> RoundLaw:
    """The exact law of one MaskGIT round on (set, tokens), by quadrature.

    Spec: §3.2 (re-derived form of [H] Theorem 1):
    P(K, x_K) = Π_{i∈K} p_i(x_i) ∫_0^∞ d/dt[Π_{i∈K}(1 − e^{−w_i t})] Π_{j∉K} φ_j(t) dt, w_i = p_i(x_i)^{1/α}.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α in [0, ∞]; 0 and ∞ are the limits of §2.1.
    method : {"quadrature", "bruteforce"}
        ``"bruteforce"`` runs the §3.4 oracle (N ≤ 7).

    Returns
    -------
    RoundLaw
        With ``quad_error``, the estimated absolute error summed over cells.

    Raises
    ------
    ValueError
        If an input is invalid.
    LawSizeError
        If the table is too large to materialise.

    Notes
    -----
    At k = N every position is revealed and the tokens follow p exactly (no tempering).

    Examples
    --------
    >>> import numpy as np
    >>> law = maskgit_round_law(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), k=1, alpha=1.0)
    >>> round(float(law.probs.sum()), 12)
    1.0
    """
    p, k, alpha, brute = _round_law_inputs(probs, k, alpha, method, ("quadrature", "bruteforce"), "maskgit")
    if brute is not None:
        return brute
    # MaskGIT is the sample-then-choose round with scores log p and noise α (k = N and α = ∞ give
    # untempered tokens at uniform positions; α = 0 the tie polynomial)
    with np.errstate(divide="ignore"):
        law = sample_then_choose_law(p, np.where(p > 0, np.log(p), 0.0), k=k, noise=alpha)
    return dataclasses.replace(law, sampler="maskgit")


# ----------------------------------------------------------------------------------------------
# moment sampler
def _moment_position_and_token_logs(p: np.ndarray, alpha: float):
    """(log position weights (n,), log token law (n, V)) of the moment sampler, α in (0, ∞), from its rules."""
    return moment_log_m(p, alpha), moment_token_transform(alpha).log_law(p)


def moment_round_law(probs, *, k: int, alpha: float,
                     method: Literal["closed_form", "bruteforce"] = "closed_form") -> RoundLaw:
    """The exact law of one moment-sampler round on (set, tokens), in closed form.

    Spec: §3.3: P_M(K, x_K) = P_PL(K; weights m) · Π_{i∈K} p_i(x_i)^β/m_i, with m_i = Σ_s p_i(s)^β.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α in [0, ∞]; α = 0 takes the top k of max_s p_i(s) with argmax tokens (ties uniform).
    method : {"closed_form", "bruteforce"}
        The route.

    Returns
    -------
    RoundLaw

    Raises
    ------
    ValueError
        If an input is invalid.
    LawSizeError
        If the table is too large to materialise.

    Notes
    -----
    The final-step convention of §2.2 belongs to the sampling loop; this one-round law still tempers at k = N.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.5], [1.0, 0.0]])
    >>> moment_round_law(P, k=1, alpha=1.0).probs.round(4).tolist()  # m = (0.5, 1): P(pos) = (1/3, 2/3)
    [[0.1667, 0.1667], [0.6667, 0.0]]
    """
    p, k, alpha, brute = _round_law_inputs(probs, k, alpha, method, ("closed_form", "bruteforce"), "moment")
    if brute is not None:
        return brute
    # the moment sampler's round is the choose-then-sample rule of its position weights and tempered tokens
    n, V = p.shape
    rule = ChooseThenSample(MomentRule(alpha=alpha), moment_token_transform(alpha))
    masked = np.ones(n, dtype=bool)
    cells, rounding = probed(lambda q: cts_log_cells(rule, q, masked, k), p, amplification(rule), k,
                             route="moment round law", regime=f"N={n}, k={k}, V={V}, alpha={alpha!r}")
    law = round_law_from_cells(cells, n=n, vocab_size=V, k=k, name="moment", rounding_error=rounding)
    return dataclasses.replace(law, alpha=alpha)


def round_law(sampler: Literal["maskgit", "moment"], probs, *, k: int, alpha: float) -> RoundLaw:
    """The exact one-round law of a sampler named ``"maskgit"`` or ``"moment"``.

    Spec: §3.2, §3.3.

    Parameters
    ----------
    sampler : {"maskgit", "moment"}
        Which law.
    probs : array_like, shape (N, V)
        The rows p_i.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α in [0, ∞].

    Returns
    -------
    RoundLaw

    Raises
    ------
    ValueError
        If ``sampler`` or another input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> round_law("moment", np.array([[0.5, 0.5], [0.9, 0.1]]), k=1, alpha=1.0).sampler
    'moment'
    """
    check_method(sampler, allowed=("maskgit", "moment"), name="sampler")
    fn = maskgit_round_law if sampler == "maskgit" else moment_round_law
    return fn(probs, k=k, alpha=alpha)


# ----------------------------------------------------------------------------------------------
# ordered-tuple laws (§3.6: they upper-bound the set TV by data processing)
def _all_orders(n: int, k: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n), k)), dtype=np.int64).reshape(-1, k)


def _ordered_law_inputs(probs, k, alpha):
    """Validate the arguments of an ordered law (0 < α < ∞) and enumerate the ordered k-tuples."""
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    if not 0.0 < alpha < inf:
        raise ValueError(f"alpha must satisfy 0 < alpha < inf for the ordered law; got alpha={alpha!r}")
    _check_size(n, k, V, ordered=True)
    return p, k, alpha, _all_orders(n, k)


def maskgit_ordered_law(probs, *, k: int, alpha: float) -> RoundLaw:
    """The exact law of MaskGIT's revealed positions in confidence order, with their tokens.

    Spec: §3.6. The integrand of an ordered cell (i_1, …, i_k) is a_{i_k}(t)·P(E_{i_1} < … < E_{i_{k−1}} < t)·
    Π_{j∉K} φ_j(t); the inner probability is a signed sum of exponentials (absolute error ~1e-16).

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
    RoundLaw
        An ordered law.

    Raises
    ------
    ValueError
        If an input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> law = maskgit_ordered_law(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), k=2, alpha=1.0)
    >>> law.ordered, law.sets.shape
    (True, (6, 2))
    """
    p, k, alpha, orders = _ordered_law_inputs(probs, k, alpha)
    n, V = p.shape
    (out, truncation), rounding = probed(lambda q: _maskgit_ordered_cells(q, alpha, k, orders), p, 1.0 + 1.0 / alpha,
                                         k, distance=lambda a, b: table_tv(a[0], b[0]), route="maskgit ordered law",
                                         regime=f"N={n}, k={k}, V={V}, alpha={alpha!r}")
    return RoundLaw(sets=orders, probs=out, vocab_size=V, k=k, n_masked=n, sampler="maskgit", alpha=alpha,
                    truncation=truncation, quad_error=truncation, ordered=True, rounding_error=rounding)


def _maskgit_ordered_cells(p, alpha, k, orders):
    """(cells (n_orders, V**k), truncation) of :func:`maskgit_ordered_law`."""
    n, V = p.shape
    log_w = maskgit_log_weights(p, alpha)
    grid = race_grid(p, log_w, k)
    fac = race_node_factors(p, log_w, grid)
    log_t = grid.log_t
    T = log_t.size
    out = np.empty((orders.shape[0], V ** k))
    for c, order in enumerate(orders):
        E = np.exp(fac.log_phi_total - fac.log_phi[order].sum(axis=0))  # (T,) Π_{j∉K} φ_j
        # Q_m(t) = Π_{l≤m} p(x_l) · P(E_1 < … < E_m < t) as Σ_r coef_r · exp(−rate_r t);
        # each term is (coef (V^m,), log rate (V^m,)), a rate of 0 being log rate −inf.
        terms = [(np.ones(1), np.array([-np.inf]))]
        for m in range(k - 1):
            lw_m, p_m = log_w[order[m]], p[order[m]]  # (V,)
            const = 0.0
            new_terms = []
            for coef, lrate in terms:
                lsum = np.logaddexp(lrate[:, None], lw_m[None, :])  # log(λ + w), (V^m, V)
                with np.errstate(invalid="ignore"):
                    ratio = np.where(np.isneginf(lw_m)[None, :], 0.0, np.exp(lw_m[None, :] - lsum))
                cr = (coef[:, None] * ratio * p_m[None, :]).reshape(-1)
                const = const + cr
                new_terms.append((-cr, lsum.reshape(-1)))
            terms = [(const, np.full(const.shape, -np.inf))] + new_terms
        Q = sum(coef[:, None] * _safe_exp_rate(lrate, log_t) for coef, lrate in terms)  # (V^{k−1}, T)
        a_last = fac.a[order[-1]]  # (V, T)
        out[c] = (Q[:, None, :] * a_last[None, :, :]).reshape(-1, T) @ E
    return out, grid.truncation


def _safe_exp_rate(log_rate: np.ndarray, log_t: np.ndarray) -> np.ndarray:
    """exp(−rate·t) for log-rates (−inf rate gives 1)."""
    return np.exp(-np.exp(log_rate[:, None] + log_t[None, :]))


def moment_ordered_law(probs, *, k: int, alpha: float) -> RoundLaw:
    """The exact law of the moment sampler's positions in Gumbel-top-k order, with their tokens.

    Spec: §3.1, §3.3: ordered Plackett–Luce on m times Π p^β/m.

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
    RoundLaw
        An ordered law.

    Raises
    ------
    ValueError
        If an input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> law = moment_ordered_law(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), k=2, alpha=1.0)
    >>> round(float(law.probs.sum()), 12)
    1.0
    """
    p, k, alpha, orders = _ordered_law_inputs(probs, k, alpha)
    n, V = p.shape

    def cells(q):
        log_m, log_q = _moment_position_and_token_logs(q, alpha)
        return np.exp(pl_ordered_log_prob(log_m, orders))[:, None] * _token_product(np.exp(log_q)[orders])

    out, rounding = probed(cells, p, 1.0 + 1.0 / alpha, k, distance=table_tv, route="moment ordered law",
                           regime=f"N={n}, k={k}, V={V}, alpha={alpha!r}")
    return RoundLaw(sets=orders, probs=out, vocab_size=V, k=k, n_masked=n, sampler="moment", alpha=alpha,
                    ordered=True, method="closed_form", rounding_error=rounding)
