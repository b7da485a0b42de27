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

from ._validation import check_alpha, check_k, check_probs

__all__ = ["maskgit_round_law_bruteforce", "moment_round_law_bruteforce", "MAX_BRUTEFORCE_CANDIDATES"]

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
    from .laws import RoundLaw

    keys = list(itertools.permutations(range(n), k)) if ordered else list(itertools.combinations(range(n), k))
    sets = np.array(keys, dtype=np.int64).reshape(-1, k)
    probs = np.zeros((len(keys), vocab ** k))
    index = {key: c for c, key in enumerate(keys)}
    for (positions, tokens), pr in table.items():
        probs[index[positions], np.ravel_multi_index(tokens, (vocab,) * k)] += pr
    return RoundLaw(sets=sets, probs=probs, vocab_size=vocab, k=k, n_masked=n, sampler=sampler, alpha=alpha,
                    ordered=ordered, method="bruteforce")


def maskgit_round_law_bruteforce(probs, *, k: int, alpha: float, ordered: bool = False):
    """MaskGIT law by enumeration of all candidate vectors and orders (reference, slow by design).

    With ``ordered=True`` the cells are ordered tuples (reveal order = decreasing confidence).
    """
    p = check_probs(probs)
    n, V = p.shape
    k = check_k(k, n_masked=n)
    alpha = check_alpha(alpha)
    _guard(n, V)
    table: dict = {}
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    for cand in itertools.product(range(V), repeat=n):
        log_pc = sum(log_p[i, cand[i]] for i in range(n))
        if log_pc == -inf:
            continue
        if alpha == inf:
            log_weights = [0.0] * n
        elif alpha == 0.0:
            log_weights = None
        else:
            log_weights = [log_p[i, cand[i]] / alpha for i in range(n)]
        for order in itertools.permutations(range(n), k):
            if log_weights is None:
                # deterministic top-k with uniform tie-breaking, as a law over orders: a uniformly
                # random permutation breaks ties, so each valid order gets 1 / (number of valid orders)
                lp = _alpha0_order_log_prob([p[i, cand[i]] for i in range(n)], order)
            else:
                lp = _ordered_pl_log_prob(log_weights, order)
            if lp == -inf:
                continue
            key_pos = order if ordered else tuple(sorted(order))
            key_tok = tuple(cand[i] for i in key_pos)
            table[(key_pos, key_tok)] = table.get((key_pos, key_tok), 0.0) + float(np.exp(log_pc + lp))
    return _law_from_dict(table, n, k, V, "maskgit", alpha, ordered=ordered)


def _alpha0_order_log_prob(conf: list[float], order: tuple[int, ...]) -> float:
    """log P(order) for sorting ``conf`` descending with a uniformly random permutation breaking ties."""
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
            lp = _alpha0_order_log_prob(list(p.max(axis=1)), order)
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
