"""Exact set laws of position rules, and the cells of a choose-then-sample round (§2.3, §3.1).

The one-round building block of :mod:`mdtheory.exact.rule_laws` and of the moment sampler's law
(:func:`mdtheory.exact.round_laws.moment_round_law`).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np

from ..rules.positions import HybridRule, PositionRule, tie_keys
from ..rules.rounds import ChooseThenSample
from .plackett_luce import pl_set_log_prob

__all__ = ["position_set_law", "cts_log_cells"]


def _topk_with_ties(scores: np.ndarray, idx: np.ndarray, k: int, ties: str = "uniform"
                    ) -> list[tuple[tuple[int, ...], float]]:
    s = tie_keys(scores[idx])
    if ties == "first":  # a stable sort: among equal scores the lowest index comes first
        order = np.lexsort((idx, -s))
        return [(tuple(sorted(int(i) for i in idx[order[:k]])), 1.0)]
    thr = np.sort(s)[::-1][k - 1]
    sure = idx[s > thr]
    tied = idx[s == thr]
    need = k - sure.size
    p = 1.0 / math.comb(tied.size, need)
    return [(tuple(sorted(sure.tolist() + list(extra))), p) for extra in itertools.combinations(tied.tolist(), need)]


def _log(probs) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(probs, dtype=np.float64))


def position_set_law(rule: PositionRule, probs: np.ndarray, masked: np.ndarray, k: int, *, ties: str = "uniform"
                     ) -> list[tuple[tuple[int, ...], float]]:
    """Exact law of the set a position rule selects: [(sorted positions, probability), ...].

    Spec: §2.3, §3.1. ``probs`` is one state's (N, V) predictions and ``masked`` an (N,) bool array. A rule
    without noise breaks ties among equal scores uniformly (``ties="uniform"``) or in favour of the lowest index
    (``ties="first"``); a noisy rule is a Plackett–Luce draw on exp(score/σ).

    Parameters
    ----------
    rule : PositionRule
        The rule (its ``scores`` and ``noise_scale`` are read; a hybrid composes its two rules).
    probs : numpy.ndarray, shape (N, V)
        The predictions at every position.
    masked : numpy.ndarray, shape (N,), bool
        The positions still masked.
    k : int
        1 ≤ k ≤ the number masked.
    ties : {"uniform", "first"}
        The tie rule of a deterministic choice.

    Returns
    -------
    list of (tuple of int, float)

    Examples
    --------
    >>> from mdtheory.rules import MarginRule
    >>> P = np.array([[0.5, 0.45, 0.05], [0.45, 0.3, 0.25], [0.49, 0.49, 0.02]])
    >>> position_set_law(MarginRule(), P, np.ones(3, bool), 1)
    [((1,), 1.0)]
    """
    if ties not in ("uniform", "first"):
        raise ValueError(f"ties must be 'uniform' or 'first'; got ties={ties!r}")
    masked = np.asarray(masked, dtype=bool)
    if isinstance(rule, HybridRule):
        m = rule.exploit_count(k)
        firsts = position_set_law(rule.exploit, probs, masked, m, ties=ties) if m > 0 else [((), 1.0)]
        out: dict = defaultdict(float)
        for A, pa in firsts:
            avail = masked.copy()
            avail[list(A)] = False
            rest = position_set_law(rule.explore, probs, avail, k - m, ties=ties) if k > m else [((), 1.0)]
            for B, pb in rest:
                out[tuple(sorted(A + B))] += pa * pb
        return list(out.items())
    idx = np.nonzero(masked)[0]
    if not 1 <= k <= idx.size:
        raise ValueError(f"k must satisfy 1 <= k <= n_masked={idx.size}; got k={k}")
    scores = np.asarray(rule.scores(_log(probs)), dtype=np.float64)
    sigma = float(rule.noise_scale)
    if sigma == 0.0:
        return _topk_with_ties(scores, idx, k, ties)
    sets = np.array(list(itertools.combinations(range(idx.size), k)), dtype=np.int64)
    if np.ptp(scores[idx]) == 0.0:  # equal weights (the uniform rule): every k-set equally likely
        return [(tuple(int(i) for i in idx[row]), 1.0 / len(sets)) for row in sets]
    set_probs = np.exp(pl_set_log_prob(scores[idx] / sigma, sets))
    return [(tuple(int(i) for i in idx[row]), float(p)) for row, p in zip(sets, set_probs)]


def _log_product(log_rows: np.ndarray) -> np.ndarray:
    """Log of the product law over (V,)*k of k independent rows given in log-space (C order)."""
    out = np.zeros(1)
    for row in np.asarray(log_rows):
        out = (out[:, None] + row[None, :]).ravel()
    return out


def cts_log_cells(rule: ChooseThenSample, probs: np.ndarray, masked: np.ndarray, k: int) -> list:
    """[(sorted positions, log-probability over (V,)*k)] of a choose-then-sample round at one state.

    The set law of :func:`position_set_law` times the product of the token laws of the chosen rows.
    """
    p = np.asarray(probs, dtype=np.float64)
    log_w = rule.token_transform.log_law(p)
    return [(K, math.log(pk) + _log_product(log_w[list(K)]))
            for K, pk in position_set_law(rule.position_rule, p, masked, k, ties=rule.ties) if pk > 0]
