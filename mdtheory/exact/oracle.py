"""Brute-force oracles (THEORY.md §3.4). Reference, slow by design.

Literal transcriptions of the definitions, used only to test the fast routes:

* MaskGIT: enumerate every candidate vector x̃ ∈ S^N (probability Π p_i(x̃_i)); given x̃, the ordered
  top-k of log W_i + g_i is Plackett–Luce with W_i = p_i(x̃_i)^{1/α}; sum over all k! orders of every
  k-set. α = 0: deterministic top-k of p_i(x̃_i) with ties split uniformly; α = ∞: uniform positions.
* Moment: ordered Plackett–Luce with weights m_i over all k-tuples, tokens from p_i^β/m_i.

Everything is kept in log-space so that small α does not underflow. A size guard raises beyond
``MAX_BRUTEFORCE_CANDIDATES`` candidate vectors.
"""

from __future__ import annotations

import itertools
from math import inf

import numpy as np
from scipy.special import logsumexp

from .._validation import check_alpha, check_k, check_probs
from ..sampling.orders import tie_keys

__all__ = ["maskgit_round_law_bruteforce", "moment_round_law_bruteforce", "output_law_bruteforce",
           "sample_then_choose_law_bruteforce",
           "MAX_BRUTEFORCE_CANDIDATES"]

MAX_BRUTEFORCE_CANDIDATES = 300_000


def _guard(n: int, vocab: int) -> None:
    if vocab ** n > MAX_BRUTEFORCE_CANDIDATES:
        raise ValueError(
            f"brute force needs vocab_size**n_masked = {vocab}**{n} = {vocab ** n} candidate vectors, more than "
            f"MAX_BRUTEFORCE_CANDIDATES={MAX_BRUTEFORCE_CANDIDATES}; use the quadrature route"
        )


def _ordered_pl_log_prob(log_weights: list[float], order: tuple[int, ...]) -> float:
    """log Π_l w_{r_l} / (Σ of the weights not yet chosen), literally."""
    remaining = list(range(len(log_weights)))
    total = 0.0
    for r in order:
        total += log_weights[r] - logsumexp([log_weights[j] for j in remaining])
        remaining.remove(r)
    return total


def _law_from_dict(table: dict, n: int, k: int, vocab: int, sampler: str, alpha: float, *, ordered: bool):
    from .round_laws import RoundLaw

    keys = list(itertools.permutations(range(n), k)) if ordered else list(itertools.combinations(range(n), k))
    sets = np.array(keys, dtype=np.int64).reshape(-1, k)
    probs = np.zeros((len(keys), vocab ** k))
    index = {key: c for c, key in enumerate(keys)}
    for (positions, tokens), pr in table.items():
        probs[index[positions], np.ravel_multi_index(tokens, (vocab,) * k)] += pr
    return RoundLaw(sets=sets, probs=probs, vocab_size=vocab, k=k, n_masked=n, sampler=sampler, alpha=alpha,
                    ordered=ordered, method="bruteforce")


def sample_then_choose_law_bruteforce(probs, scores, *, k: int, noise: float, ordered: bool = False,
                                      sampler: str = "sample-then-choose"):
    """Sample-then-choose law by enumeration of all candidate vectors and orders (reference).

    Candidates x̃_i ~ probs_i; the ordered top-k of s_i(x̃_i) + noise·g_i is Plackett–Luce with weights
    exp(s_i(x̃_i)/noise); noise = 0 sorts the tie-grid keys with uniform tie-breaking; noise = ∞ is uniform.
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    noise = check_alpha(noise, name="noise")
    s = np.asarray(scores, dtype=np.float64)
    _guard(n, V)
    table: dict = {}
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    for cand in itertools.product(range(V), repeat=n):
        log_pc = sum(log_p[i, cand[i]] for i in range(n))
        if log_pc == -inf:
            continue
        sc = s[np.arange(n), cand]
        for order in itertools.permutations(range(n), k):
            if noise == 0.0:
                # deterministic top-k with uniform tie-breaking, as a law over orders: a uniformly
                # random permutation breaks ties, so each valid order gets 1 / (number of valid orders)
                lp = _alpha0_order_log_prob(list(tie_keys(sc)), order)
            else:
                lp = _ordered_pl_log_prob([0.0] * n if noise == inf else list(sc / noise), order)
            if lp == -inf:
                continue
            key_pos = order if ordered else tuple(sorted(order))
            key_tok = tuple(cand[i] for i in key_pos)
            table[(key_pos, key_tok)] = table.get((key_pos, key_tok), 0.0) + float(np.exp(log_pc + lp))
    return _law_from_dict(table, n, k, V, sampler, noise, ordered=ordered)


def maskgit_round_law_bruteforce(probs, *, k: int, alpha: float, ordered: bool = False):
    """MaskGIT law by enumeration of all candidate vectors and orders (reference, slow by design).

    With ``ordered=True`` the cells are ordered tuples (reveal order = decreasing confidence).
    """
    p = check_probs(probs)
    with np.errstate(divide="ignore"):
        scores = np.where(p > 0, np.log(p), 0.0)
    return sample_then_choose_law_bruteforce(p, scores, k=k, noise=check_alpha(alpha), ordered=ordered,
                                             sampler="maskgit")


def _alpha0_order_log_prob(conf: list[float], order: tuple[int, ...]) -> float:
    """log P(order) for sorting ``conf`` (tie-grid keys) descending, a uniform permutation breaking ties."""
    n = len(conf)
    remaining = list(range(n))
    total = 0.0
    for r in order:
        best = max(conf[j] for j in remaining)
        if conf[r] != best:
            return -inf
        total -= np.log(sum(1 for j in remaining if conf[j] == best))
        remaining.remove(r)
    return total


def moment_round_law_bruteforce(probs, *, k: int, alpha: float, ordered: bool = False):
    """Moment-sampler law by enumeration of ordered k-tuples (reference, slow by design)."""
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    _guard(n, V)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    if alpha == inf:
        log_pos = [0.0] * n
        log_tok = log_p
    elif alpha == 0.0:
        log_pos = None
        top = p == p.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            log_tok = np.log(top / top.sum(axis=1, keepdims=True))
    else:
        beta = 1.0 + 1.0 / alpha
        log_pos = [logsumexp(beta * log_p[i]) for i in range(n)]
        log_tok = np.array([beta * log_p[i] - log_pos[i] for i in range(n)])
    table: dict = {}
    for order in itertools.permutations(range(n), k):
        if log_pos is None:
            lp = _alpha0_order_log_prob(list(tie_keys(log_p.max(axis=1))), order)
        else:
            lp = _ordered_pl_log_prob(log_pos, order)
        if lp == -inf:
            continue
        key_pos = order if ordered else tuple(sorted(order))
        for toks in itertools.product(range(V), repeat=k):
            lt = sum(log_tok[key_pos[m], toks[m]] for m in range(k))
            if lt == -inf:
                continue
            table[(key_pos, toks)] = table.get((key_pos, toks), 0.0) + float(np.exp(lp + lt))
    return _law_from_dict(table, n, k, V, "moment", alpha, ordered=ordered)


# ----------------------------------------------------------------------------------------------
# whole samplers (THEORY.md §2, §4.4): every path of (set, tokens) choices, no state merging
def _rule_set_law_bruteforce(rule, log_probs, masked: np.ndarray, k: int) -> dict:
    """{sorted set: prob} of a CTS position rule, by enumerating reveal orders literally."""
    from ..sampling.rounds import HybridRule

    if isinstance(rule, HybridRule):
        m = int(np.ceil(rule.gamma * k - 1e-12))
        out: dict = {}
        for A, pa in (_rule_set_law_bruteforce(rule.exploit, log_probs, masked, m) if m else {(): 1.0}).items():
            avail = masked.copy()
            avail[list(A)] = False
            rest = _rule_set_law_bruteforce(rule.explore, log_probs, avail, k - m) if k > m else {(): 1.0}
            for B, pb in rest.items():
                key = tuple(sorted(A + B))
                out[key] = out.get(key, 0.0) + pa * pb
        return out
    idx = [int(i) for i in np.nonzero(masked)[0]]
    s = rule.base_scores(log_probs)[0].detach().cpu().numpy().astype(np.float64)
    sigma = float(rule.noise_scale)
    out = {}
    if sigma == 0.0:  # every order sorted by decreasing score (on the tie grid) is equally likely
        s = tie_keys(s)
        orders = [o for o in itertools.permutations(idx) if all(s[o[j]] >= s[o[j + 1]] for j in range(len(o) - 1))]
        for o in orders:
            key = tuple(sorted(o[:k]))
            out[key] = out.get(key, 0.0) + 1.0 / len(orders)
        return out
    lw = {i: s[i] / sigma for i in idx}
    for o in itertools.permutations(idx, k):  # Gumbel-top-k: ordered Plackett–Luce, literally
        rest, lp = list(idx), 0.0
        for i in o:
            lp += lw[i] - logsumexp([lw[j] for j in rest])
            rest.remove(i)
        key = tuple(sorted(o))
        out[key] = out.get(key, 0.0) + float(np.exp(lp))
    return out


def _round_bruteforce(rs, probs: np.ndarray, masked: np.ndarray, k: int, final: bool) -> list:
    """[(positions, tokens, prob)] of one round, from the literal definitions."""
    import torch

    from ..sampling.loop import CTS, EB, _MaskGITRound
    from ..sampling.rounds import Identity

    idx = np.nonzero(masked)[0]
    q = probs.shape[1]
    if isinstance(rs, EB):
        h = [float(-(probs[i][probs[i] > 0] * np.log(probs[i][probs[i] > 0])).sum()) for i in idx]
        order = [int(i) for _, i in sorted(zip(h, idx))]
        hs = sorted(h)
        take = max(j + 1 for j in range(len(hs)) if sum(hs[: j + 1]) - hs[j] <= rs.gamma + 1e-12)
        K = tuple(sorted(order[:take]))
        return [(K, x, float(np.prod([probs[i, v] for i, v in zip(K, x)]))) for x in itertools.product(range(q), repeat=len(K))]
    if isinstance(rs, _MaskGITRound):
        law = maskgit_round_law_bruteforce(probs[idx], k=k, alpha=rs.alpha)
        return [(tuple(int(idx[i]) for i in pos), toks, pr) for pos, toks, pr in law.cells()]
    assert isinstance(rs, CTS)
    with np.errstate(divide="ignore"):
        lp = torch.as_tensor(np.log(probs), dtype=torch.float64)[None]
    transform = Identity() if final else rs.token_transform
    rows = transform(lp[0]).detach().cpu().numpy()
    tok = np.exp(rows - logsumexp(rows, axis=1, keepdims=True))
    out = []
    for K, pK in _rule_set_law_bruteforce(rs.position_rule, lp, masked, k).items():
        for x in itertools.product(range(q), repeat=k):
            out.append((K, x, pK * float(np.prod([tok[i, v] for i, v in zip(K, x)]))))
    return out


def output_law_bruteforce(target, sampler, schedule=None, *, model=None) -> tuple[np.ndarray, float]:
    """(output table, path KL) of a whole sampler by enumerating every path (tiny N; reference).

    The path KL is KL(ideal path ‖ algorithm path) summed over complete paths literally: the ideal
    path draws each set from the algorithm's position law and its tokens from π(x_K | x_U) jointly.
    """
    from ..sampling.loop import EB, _AlphaSampler, annealed_alpha

    n, q = target.n, target.q
    if n > 5:
        raise ValueError(f"output_law_bruteforce enumerates every path; N must be <= 5, got N={n}")
    model = target if model is None else model
    sizes = None if isinstance(sampler, EB) else list(schedule)
    steps = n if sizes is None else len(sizes)
    table = np.zeros((q,) * n)
    path_kl = [0.0]

    def walk(values, t, p_alg, p_ideal):
        revealed = values >= 0
        if revealed.all():
            table[tuple(values)] += p_alg
            if p_ideal > 0:
                path_kl[0] += p_ideal * np.log(p_ideal / p_alg)
            return
        rs = sampler
        if isinstance(sampler, _AlphaSampler):
            rs = sampler._round_at(annealed_alpha(sampler.alpha, t, steps) if sampler.anneal else sampler.alpha)
        x = np.maximum(values, 0)
        probs = model.conditionals(x, revealed)
        k = 1 if sizes is None else sizes[t]
        cells = _round_bruteforce(rs, probs, ~revealed, k, final=sizes is not None and t == steps - 1)
        pos_law: dict = {}
        for K, _, pr in cells:
            pos_law[K] = pos_law.get(K, 0.0) + pr
        for K, toks, pr in cells:
            # π(x_K | x_U) straight from the joint table
            index = tuple(int(values[i]) if revealed[i] else slice(None) for i in range(n))
            sub = target.table[index]
            free = [i for i in range(n) if not revealed[i]]
            block = sub.sum(axis=tuple(a for a, i in enumerate(free) if i not in K)) / sub.sum()
            ideal = pos_law[K] * float(block[toks])
            if pr <= 0 and ideal <= 0:
                continue
            v = values.copy()
            v[list(K)] = toks
            walk(v, t + 1, p_alg * pr, p_ideal * ideal)

    walk(np.full(n, -1), 0, 1.0, 1.0)
    return table, path_kl[0]
