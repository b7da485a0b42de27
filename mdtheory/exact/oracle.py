"""Brute-force oracles (§3.4, §2, §8). Reference, slow by design.

Literal transcriptions of the definitions, used only to test the fast routes. They share no code with
what they check: scores, tie rules, Plackett–Luce probabilities, token laws and the annealing of α are
written out here again, from the spec.

* MaskGIT round: enumerate every candidate vector x̃ ∈ S^N (probability Π p_i(x̃_i)); given x̃, the
  ordered top-k of log W_i + g_i is Plackett–Luce with W_i = p_i(x̃_i)^{1/α}; sum over all k! orders of
  every k-set. α = 0: deterministic top-k of p_i(x̃_i) with ties split uniformly; α = ∞: uniform positions.
* Moment round: ordered Plackett–Luce with weights m_i over all k-tuples, tokens from p_i^β/m_i.
* Whole samplers: every path of (set, tokens) choices on a target, without merging states.

Everything is kept in log-space so that small α does not underflow. Size guards raise beyond
``MAX_BRUTEFORCE_CANDIDATES`` candidate vectors, or beyond N = 5 for whole samplers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from math import inf

import numpy as np

from .._validation import check_alpha, check_k, check_probs

__all__ = ["BruteForceLaw", "maskgit_round_law_bruteforce", "moment_round_law_bruteforce", "output_law_bruteforce",
           "sample_then_choose_law_bruteforce", "mdlm_round_law_bruteforce", "MAX_BRUTEFORCE_CANDIDATES"]

MAX_BRUTEFORCE_CANDIDATES = 300_000
MAX_BRUTEFORCE_POSITIONS = 5
TIE_GRID = 2.0 ** 36  # deterministic rules compare scores rounded to the 2^-36 grid (the spec's tie convention)


@dataclass(frozen=True)
class BruteForceLaw:
    """A one-round law from enumeration, in the cell layout of :class:`RoundLaw`.

    Spec: §3.4.

    Parameters
    ----------
    sets : numpy.ndarray, shape (n_sets, k)
        Sorted positions (ordered laws: in reveal order).
    probs : numpy.ndarray, shape (n_sets, V**k)
        Probabilities.
    vocab_size, k, n_masked : int
        V, k and N.
    sampler : str
        Which law.
    alpha : float
        α (or the noise scale).
    ordered : bool
        Whether cells are ordered tuples.

    Examples
    --------
    >>> import numpy as np
    >>> b = moment_round_law_bruteforce(np.array([[0.5, 0.5], [1.0, 0.0]]), k=1, alpha=1.0)
    >>> len(list(b.cells()))
    4
    """

    sets: np.ndarray
    probs: np.ndarray
    vocab_size: int
    k: int
    n_masked: int
    sampler: str
    alpha: float
    ordered: bool = False

    def cells(self):
        """Yield (positions, tokens, probability) for every cell."""
        for c, positions in enumerate(self.sets):
            for j in range(self.vocab_size ** self.k):
                tokens = np.unravel_index(j, (self.vocab_size,) * self.k)
                yield tuple(int(i) for i in positions), tuple(int(t) for t in tokens), float(self.probs[c, j])


def _guard(n: int, vocab: int) -> None:
    if vocab ** n > MAX_BRUTEFORCE_CANDIDATES:
        raise ValueError(
            f"brute force needs vocab_size**n_masked = {vocab}**{n} = {vocab ** n} candidate vectors, more than "
            f"MAX_BRUTEFORCE_CANDIDATES={MAX_BRUTEFORCE_CANDIDATES}; use the quadrature route"
        )


def _log_sum(values) -> float:
    """log Σ exp(v), literally (−inf terms contribute nothing)."""
    finite = [v for v in values if v != -inf]
    if not finite:
        return -inf
    top = max(finite)
    return top + math.log(sum(math.exp(v - top) for v in finite))


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -inf


def _tie_key(score: float) -> float:
    return score if abs(score) == inf else round(score * TIE_GRID)


def _ordered_pl_log_prob(log_weights: list[float], order: tuple[int, ...]) -> float:
    """log Π_l w_{r_l} / (Σ of the weights not yet chosen), literally, each factor as 1 / Σ_j (w_j / w_{r_l}):
    the ratios are formed before the sum, so huge log-weights (α → 0) keep the digits that tell them apart."""
    remaining = list(range(len(log_weights)))
    total = 0.0
    for r in order:
        if log_weights[r] == -inf:
            return -inf
        total -= _log_sum([log_weights[j] - log_weights[r] for j in remaining])
        remaining.remove(r)
    return total


def _sorted_order_log_prob(scores: list[float], order: tuple[int, ...]) -> float:
    """log P(order) for sorting ``scores`` descending on the tie grid, a uniform permutation breaking ties."""
    keys = [_tie_key(s) for s in scores]
    remaining = list(range(len(keys)))
    total = 0.0
    for r in order:
        best = max(keys[j] for j in remaining)
        if keys[r] != best:
            return -inf
        total -= math.log(sum(1 for j in remaining if keys[j] == best))
        remaining.remove(r)
    return total


def _first_index_order_log_prob(scores: list[float], order: tuple[int, ...]) -> float:
    """0 if ``order`` is how a stable descending sort of ``scores`` (on the tie grid) begins, else −inf."""
    keys = [_tie_key(s) for s in scores]
    ranked = sorted(range(len(keys)), key=lambda j: (-keys[j], j))
    return 0.0 if tuple(ranked[:len(order)]) == tuple(order) else -inf


def _law_from_table(table: dict, n: int, k: int, vocab: int, sampler: str, alpha: float, *,
                    ordered: bool) -> BruteForceLaw:
    keys = list(itertools.permutations(range(n), k)) if ordered else list(itertools.combinations(range(n), k))
    probs = np.zeros((len(keys), vocab ** k))
    index = {key: c for c, key in enumerate(keys)}
    for (positions, tokens), pr in table.items():
        flat = 0
        for t in tokens:
            flat = flat * vocab + t
        probs[index[positions], flat] += pr
    return BruteForceLaw(sets=np.array(keys, dtype=np.int64).reshape(-1, k), probs=probs, vocab_size=vocab, k=k,
                         n_masked=n, sampler=sampler, alpha=alpha, ordered=ordered)


def sample_then_choose_law_bruteforce(probs, scores, *, k: int, noise: float, ordered: bool = False,
                                      sampler: str = "sample-then-choose", ties: str = "uniform") -> BruteForceLaw:
    """A sample-then-choose law by enumerating every candidate vector and order. Reference, slow by design.

    Spec: §3.4. Candidates x̃_i ~ probs_i; the top k of s_i(x̃_i) + noise·g_i in order is Plackett–Luce with
    weights exp(s/noise); noise = 0 sorts with uniform ties; noise = ∞ is uniform.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The candidate laws.
    scores : array_like, shape (N, V)
        The scores s_i(x).
    k : int
        1 ≤ k ≤ N.
    noise : float
        In [0, ∞].
    ordered : bool
        Cells are ordered tuples.
    sampler : str
        A label stored in the result.
    ties : {"uniform", "first"}
        At noise 0: a uniform permutation breaks ties, or the lower index wins them.

    Returns
    -------
    BruteForceLaw

    Raises
    ------
    ValueError
        If an input is invalid or the enumeration is too large.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> round(float(sample_then_choose_law_bruteforce(P, np.log(P), k=1, noise=0.0).probs.sum()), 12)
    1.0
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    noise = check_alpha(noise, name="noise")
    s = np.asarray(scores, dtype=np.float64)
    _guard(n, V)
    table: dict = {}
    for cand in itertools.product(range(V), repeat=n):
        log_pc = sum(_log(p[i, cand[i]]) for i in range(n))
        if log_pc == -inf:
            continue
        sc = [float(s[i, cand[i]]) for i in range(n)]
        for order in itertools.permutations(range(n), k):
            if noise == 0.0:
                lp = _sorted_order_log_prob(sc, order) if ties == "uniform" else _first_index_order_log_prob(sc, order)
            else:
                lp = _ordered_pl_log_prob([0.0] * n if noise == inf else [v / noise for v in sc], order)
            if lp == -inf:
                continue
            key_pos = order if ordered else tuple(sorted(order))
            key_tok = tuple(cand[i] for i in key_pos)
            table[(key_pos, key_tok)] = table.get((key_pos, key_tok), 0.0) + math.exp(log_pc + lp)
    return _law_from_table(table, n, k, V, sampler, noise, ordered=ordered)


def maskgit_round_law_bruteforce(probs, *, k: int, alpha: float, ordered: bool = False) -> BruteForceLaw:
    """The MaskGIT law by enumerating every candidate vector and every order. Reference, slow by design.

    Spec: §3.4. Shares no code with the quadrature route it checks.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i (V^N ≤ 300,000).
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α in [0, ∞].
    ordered : bool
        Cells are ordered tuples (reveal order = decreasing confidence).

    Returns
    -------
    BruteForceLaw

    Raises
    ------
    ValueError
        If an input is invalid or the enumeration is too large.

    Examples
    --------
    >>> import numpy as np
    >>> from mdtheory import maskgit_round_law
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    >>> b = maskgit_round_law_bruteforce(P, k=2, alpha=1.0)
    >>> float(np.abs(b.probs - maskgit_round_law(P, k=2, alpha=1.0).probs).max()) < 1e-12
    True
    """
    p = check_probs(probs)
    scores = [[_log(x) if x > 0 else 0.0 for x in row] for row in p]  # confidence = log p_i(x̃_i)
    return sample_then_choose_law_bruteforce(p, scores, k=k, noise=check_alpha(alpha), ordered=ordered,
                                             sampler="maskgit")


def _moment_factors(p: np.ndarray, alpha: float) -> tuple[list[float] | None, list[list[float]]]:
    """(log m_i, or None for the α = 0 ranking by max p; log token law p_i^β/m_i), from §2.2."""
    n, V = p.shape
    if alpha == inf:
        return [0.0] * n, [[_log(x) for x in row] for row in p]
    if alpha == 0.0:
        tok = []
        for row in p:
            top = [x == max(row) for x in row]
            tok.append([-math.log(sum(top)) if t else -inf for t in top])
        return None, tok
    beta = 1.0 + 1.0 / alpha
    # p_i(s)^β relative to the row's largest, so that the token law keeps its digits when β is huge
    rel = [[beta * (_log(x) - _log(max(row))) for x in row] for row in p]
    log_m = [beta * _log(max(row)) + _log_sum(r) for row, r in zip(p, rel)]
    return log_m, [[v - _log_sum(r) for v in r] for r in rel]


def moment_round_law_bruteforce(probs, *, k: int, alpha: float, ordered: bool = False) -> BruteForceLaw:
    """The moment-sampler law by enumerating every ordered k-tuple. Reference, slow by design.

    Spec: §3.4.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α in [0, ∞].
    ordered : bool
        Cells are ordered tuples.

    Returns
    -------
    BruteForceLaw

    Raises
    ------
    ValueError
        If an input is invalid or the enumeration is too large.

    Examples
    --------
    >>> import numpy as np
    >>> b = moment_round_law_bruteforce(np.array([[0.5, 0.5], [1.0, 0.0]]), k=1, alpha=1.0)
    >>> b.probs.round(4).tolist()
    [[0.1667, 0.1667], [0.6667, 0.0]]
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    _guard(n, V)
    log_pos, log_tok = _moment_factors(p, alpha)
    table: dict = {}
    for order in itertools.permutations(range(n), k):
        if log_pos is None:
            lp = _sorted_order_log_prob([_log(max(row)) for row in p], order)
        else:
            lp = _ordered_pl_log_prob(log_pos, order)
        if lp == -inf:
            continue
        key_pos = order if ordered else tuple(sorted(order))
        for toks in itertools.product(range(V), repeat=k):
            lt = sum(log_tok[key_pos[m]][toks[m]] for m in range(k))
            if lt == -inf:
                continue
            table[(key_pos, toks)] = table.get((key_pos, toks), 0.0) + math.exp(lp + lt)
    return _law_from_table(table, n, k, V, "moment", alpha, ordered=ordered)


# ----------------------------------------------------------------------------------------------
# whole samplers (§2, §4.4, §8): every path of (set, tokens) choices, no state merging
def _shannon(row) -> float:
    return -sum(x * math.log(x) for x in row if x > 0)


def _rule_scores(rule, p: np.ndarray) -> tuple[list[float], float]:
    """(scores of every position, Gumbel noise scale) of a position rule, from the spec (§2.3)."""
    from ..rules import positions as r

    n = p.shape[0]
    if type(rule) is r.UniformRule:
        return [0.0] * n, 1.0
    if type(rule) is r.MomentRule:
        if rule.alpha == inf:
            return [0.0] * n, 1.0
        if rule.alpha == 0.0:
            return [_log(max(row)) for row in p], 0.0
        beta = 1.0 + 1.0 / rule.alpha
        return [_log_sum([beta * _log(x) for x in row]) for row in p], 0.0 if rule.deterministic_order else 1.0
    if type(rule) is r.ConfidenceRule:
        return [_log(max(row)) for row in p], float(rule.noise)
    if type(rule) is r.MarginRule:
        return [sorted(row)[-1] - sorted(row)[-2] for row in p], float(rule.noise)
    if type(rule) is r.EntropyRule:
        if rule.order == 1.0:
            return [-_shannon(row) for row in p], float(rule.noise)
        return [-_log_sum([rule.order * _log(x) for x in row]) / (1.0 - rule.order) for row in p], float(rule.noise)
    if type(rule) is r.FixedOrderRule:
        return [-float(rule.order.index(i)) for i in range(n)], 0.0
    raise TypeError(f"the oracle has no definition of position rule {type(rule).__name__}")


def _rule_set_law(rule, p: np.ndarray, masked: list[int], k: int, ties: str = "uniform") -> dict:
    """{sorted set: prob} of a CTS position rule, by enumerating reveal orders literally."""
    from ..rules.positions import HybridRule

    if type(rule) is HybridRule:  # the first ⌈γk⌉ from the exploitation order, the rest from exploration
        m = math.ceil(rule.gamma * k - 1e-12)
        out: dict = {}
        firsts = _rule_set_law(rule.exploit, p, masked, m, ties) if m else {(): 1.0}
        for A, pa in firsts.items():
            avail = [i for i in masked if i not in A]
            rest = _rule_set_law(rule.explore, p, avail, k - m, ties) if k > m else {(): 1.0}
            for B, pb in rest.items():
                key = tuple(sorted(A + B))
                out[key] = out.get(key, 0.0) + pa * pb
        return out
    scores, sigma = _rule_scores(rule, p)
    out = {}
    for o in itertools.permutations(masked, k):
        if sigma == 0.0 and ties == "first":
            lp = _first_index_order_log_prob([scores[i] for i in masked], tuple(masked.index(i) for i in o))
        elif sigma == 0.0:
            lp = _sorted_order_log_prob([scores[i] for i in masked], tuple(masked.index(i) for i in o))
        else:  # Gumbel-top-k: ordered Plackett–Luce on exp(score/σ)
            lp = _ordered_pl_log_prob([scores[i] / sigma for i in masked], tuple(masked.index(i) for i in o))
        if lp == -inf:
            continue
        key = tuple(sorted(o))
        out[key] = out.get(key, 0.0) + math.exp(lp)
    return out


def _token_law(row, tau: float) -> list[float]:
    """p^{1/τ}/Σ (τ = 0: uniform over the argmax; τ = 1: p)."""
    if tau == 0.0:
        top = [x == max(row) for x in row]
        return [t / sum(top) for t in top]
    logs = [_log(x) / tau for x in row]
    z = _log_sum(logs)
    return [math.exp(v - z) for v in logs]


def _round_definition(sampler, t: int, n_steps: int):
    """('maskgit', α) or ('cts', position rule, token temperature τ) or ('eb', γ) for step t, from §2."""
    from ..rules import samplers as s
    from ..rules import tokens as r

    if type(sampler) is s.EB:
        return ("eb", sampler.gamma)
    if type(sampler) is s.EntropySum:
        return ("entropy_sum", sampler.threshold)
    if type(sampler) in (s.MaskGIT, s.Moment, s.UMoment):
        alpha = sampler.alpha * (1.0 - t / n_steps) if sampler.anneal else sampler.alpha  # α_t = α_0 (1 − t/K)
        if type(sampler) is s.MaskGIT:
            return ("maskgit", alpha)
        tau = 1.0 if alpha == inf else alpha / (1.0 + alpha)  # p^β/m: τ = 1/β
        from ..rules import positions

        rule = positions.MomentRule(alpha=alpha) if type(sampler) is s.Moment else positions.UniformRule()
        return ("cts", rule, tau, "uniform")
    if type(sampler) is s.CTS:
        tr = sampler.token_transform
        if type(tr) is r.Identity:
            return ("cts", sampler.position_rule, 1.0, sampler.ties)
        if type(tr) is r.Temperature:
            return ("cts", sampler.position_rule, tr.tau, sampler.ties)
        raise TypeError(f"the oracle has no definition of token transform {type(tr).__name__}")
    raise TypeError(f"the oracle has no definition of sampler {type(sampler).__name__}")


def _round_cells(definition, p: np.ndarray, masked: list[int], k: int, final: bool) -> list:
    """[(positions, tokens, prob)] of one round, from the literal definitions."""
    V = p.shape[1]
    if definition[0] == "eb":  # by increasing entropy (ties by index); the largest prefix with Σ H − max H ≤ γ
        order = sorted(masked, key=lambda i: (_shannon(p[i]), i))
        hs = [_shannon(p[i]) for i in order]
        take = max(j + 1 for j in range(len(hs)) if sum(hs[: j + 1]) - hs[j] <= definition[1] + 1e-12)
        K = tuple(sorted(order[:take]))
        return [(K, x, float(np.prod([p[i, v] for i, v in zip(K, x)]))) for x in itertools.product(range(V), repeat=take)]
    if definition[0] == "entropy_sum":  # by increasing entropy (ties by index) while Σ H ≤ τ; at least one
        order = sorted(masked, key=lambda i: (_shannon(p[i]), i))
        running, take = 0.0, 0
        for i in order:
            running += _shannon(p[i])
            if take and running > definition[1] + 1e-12:
                break
            take += 1
        K = tuple(sorted(order[:take]))
        return [(K, x, float(np.prod([p[i, v] for i, v in zip(K, x)]))) for x in itertools.product(range(V), repeat=take)]
    if definition[0] == "maskgit":
        law = maskgit_round_law_bruteforce(p[masked], k=k, alpha=definition[1])
        return [(tuple(masked[i] for i in pos), toks, pr) for pos, toks, pr in law.cells()]
    _, rule, tau, ties = definition
    tok = {i: _token_law(p[i], 1.0 if final else tau) for i in masked}  # the final step is untempered (§2.2)
    out = []
    for K, pK in _rule_set_law(rule, p, masked, k, ties).items():
        for x in itertools.product(range(V), repeat=k):
            out.append((K, x, pK * float(np.prod([tok[i][v] for i, v in zip(K, x)]))))
    return out


def output_law_bruteforce(target, sampler, schedule=None, *, model=None) -> tuple[np.ndarray, float]:
    """The output law and path KL of a whole sampler on a target, by enumerating every path. Reference.

    Spec: §3.4, §4.4. No states are merged; the path KL is KL(ideal path ‖ algorithm path), where the ideal
    path draws each set from the algorithm's position law and its tokens jointly from π(x_K | x_U). N ≤ 5.

    Parameters
    ----------
    target : JointTable
        π, with ``table``, ``n`` and ``q``.
    sampler : Sampler
        ``MaskGIT``, ``Moment``, ``UMoment``, ``CTS`` (built-in rules) or ``EB``.
    schedule : sequence of int, optional
        The step sizes (not used by EB).
    model : object, optional
        Set-keyed predictions (``conditionals``); the target's own by default.

    Returns
    -------
    tuple
        (output table, shape (q,)*N; path KL in nats).

    Raises
    ------
    ValueError
        If N > 5.
    TypeError
        If the sampler or one of its rules has no transcription here.

    Examples
    --------
    >>> from mdtheory import Moment, output_law
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> table, path_kl = output_law_bruteforce(t, Moment(1.0), [1, 2])
    >>> float(abs(table - output_law(t, Moment(1.0), [1, 2]).table).max()) < 1e-12
    True
    """
    from ..rules.samplers import EB, EntropySum

    n, q = target.n, target.q
    if n > MAX_BRUTEFORCE_POSITIONS:
        raise ValueError(f"output_law_bruteforce enumerates every path; N must be <= {MAX_BRUTEFORCE_POSITIONS}, "
                         f"got N={n}")
    model = target if model is None else model
    sizes = None if type(sampler) in (EB, EntropySum) else [int(x) for x in schedule]
    steps = n if sizes is None else len(sizes)
    table = np.zeros((q,) * n)
    path_kl = [0.0]

    def walk(values, t, p_alg, p_ideal):
        revealed = values >= 0
        if revealed.all():
            table[tuple(values)] += p_alg
            if p_ideal > 0:
                path_kl[0] += p_ideal * math.log(p_ideal / p_alg)
            return
        probs = model.conditionals(np.maximum(values, 0), revealed)
        masked = [i for i in range(n) if not revealed[i]]
        k = 1 if sizes is None else sizes[t]
        final = sizes is not None and t == steps - 1
        cells = _round_cells(_round_definition(sampler, t, steps), probs, masked, k, final)
        pos_law: dict = {}
        for K, _, pr in cells:
            pos_law[K] = pos_law.get(K, 0.0) + pr
        for K, toks, pr in cells:
            # π(x_K | x_U) straight from the joint table
            index = tuple(int(values[i]) if revealed[i] else slice(None) for i in range(n))
            sub = target.table[index]
            block = sub.sum(axis=tuple(a for a, i in enumerate(masked) if i not in K)) / sub.sum()
            ideal = pos_law[K] * float(block[toks])
            if pr <= 0 and ideal <= 0:
                continue
            v = values.copy()
            v[list(K)] = toks
            walk(v, t + 1, p_alg * pr, p_ideal * ideal)

    walk(np.full(n, -1), 0, 1.0, 1.0)
    return table, path_kl[0]


def mdlm_round_law_bruteforce(probs, *, rate: float) -> dict:
    """One MDLM ancestral step by enumerating what each position does: stay masked, or reveal token x.

    Spec: §3.4 (the oracle of :func:`mdtheory.exact.variable_laws.mdlm_round_law`; shares no code with it).

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The predictions.
    rate : float
        The probability that a position is revealed.

    Returns
    -------
    dict
        {(positions, tokens): probability}.

    Examples
    --------
    >>> law = mdlm_round_law_bruteforce([[0.5, 0.5]], rate=0.5)
    >>> sorted(law.items())
    [(((), ()), 0.5), (((0,), (0,)), 0.25), (((0,), (1,)), 0.25)]
    """
    p = check_probs(np.atleast_2d(np.asarray(probs, dtype=np.float64)))
    n, V = p.shape
    _guard(n, V + 1)
    table: dict = {}
    for outcome in itertools.product(range(-1, V), repeat=n):  # −1: the position stays masked
        pr = 1.0
        for i, o in enumerate(outcome):
            pr *= (1.0 - rate) if o < 0 else rate * float(p[i, o])
        if pr == 0.0:
            continue
        key = (tuple(i for i in range(n) if outcome[i] >= 0), tuple(o for o in outcome if o >= 0))
        table[key] = table.get(key, 0.0) + pr
    return table
