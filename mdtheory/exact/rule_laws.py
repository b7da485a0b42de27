"""The exact law of any round rule on a table of predictions (§2, §3, §8).

One entry point, :func:`rule_law`, for every :class:`~mdtheory.rules.Rule`; the route is chosen by the rule's
structure:

* :class:`~mdtheory.rules.ChooseThenSample`: the position rule's exact set law — Plackett–Luce on
  exp(score/σ) for a noisy rule (:func:`mdtheory.exact.plackett_luce.pl_set_log_prob`), the top k with
  exactly enumerated ties for a deterministic one, the composition of two such laws for a hybrid — times
  the product of the token laws of the chosen rows;
* :class:`~mdtheory.rules.SampleThenChoose`: race quadrature, or the tie polynomial at noise 0
  (:func:`mdtheory.exact.round_laws.sample_then_choose_law`);
* :class:`~mdtheory.rules.EntropyPrefix`: a deterministic set times its token product;
* :class:`~mdtheory.rules.Threshold` and :class:`~mdtheory.rules.Bernoulli`: the closed forms of
  :mod:`mdtheory.exact.variable_laws`.

:func:`rule_log_cells` gives the same law at one partial state of a multi-round run, in log-space, over the
still-masked positions; the exact output laws of whole samplers are built from it.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .._validation import check_k, check_probs
from ..rules.rounds import Bernoulli, ChooseThenSample, EntropyPrefix, Rule, SampleThenChoose, Threshold
from .conditioning import amplification, law_dict_tv, probed
from .round_laws import round_law_from_cells, sample_then_choose_law
from .set_laws import _log_product, cts_log_cells, position_set_law
from .variable_laws import mdlm_law, threshold_law

__all__ = ["rule_law", "rule_log_cells", "position_set_law"]  # position_set_law lives in set_laws


def _dict_cells(law: dict, idx: np.ndarray, V: int) -> list:
    """{(local K, x_K): p} over the masked rows → [(global K, log vector over (V,)*|K|)]."""
    grouped: dict = defaultdict(lambda: None)
    for (K, x), pr in law.items():
        key = tuple(int(idx[i]) for i in K)
        if grouped[key] is None:
            grouped[key] = np.full(V ** len(K), -np.inf)
        flat = int(np.ravel_multi_index(x, (V,) * len(K))) if K else 0
        grouped[key][flat] = np.logaddexp(grouped[key][flat], math.log(pr))
    return list(grouped.items())


def rule_log_cells(rule: Rule, probs: np.ndarray, masked: np.ndarray, k: int | None = None, *,
                   with_rounding: bool = False):
    """The exact law of one round at a state, in log-space: [(positions, log-probability vector over (V,)*|K|)].

    Spec: §2, §3, §8. ``probs`` (N, V) are the predictions at every position, ``masked`` (N,) the positions still
    masked; positions are global and sorted, tokens follow them in C order, and the exponentials sum to 1 over
    all cells. ``k`` is the size of a fixed-size rule (ignored by variable-size ones). Apply the final-step
    convention first (:meth:`Rule.at_final`).

    Parameters
    ----------
    rule : Rule
        The round rule.
    probs : numpy.ndarray, shape (N, V)
        The predictions.
    masked : numpy.ndarray, shape (N,), bool
        Still-masked positions.
    k : int, optional
        Positions to reveal (fixed-size rules).
    with_rounding : bool
        Also return the law's stated rounding error (:mod:`mdtheory.exact.conditioning`).

    Returns
    -------
    list of (tuple of int, numpy.ndarray), or (that list, float) with ``with_rounding``

    Raises
    ------
    IllConditioned
        If float64 does not resolve the law (its rounding error would exceed ``ROUNDING_LIMIT``).

    Examples
    --------
    >>> from mdtheory.rules import ChooseThenSample, ConfidenceRule
    >>> cells = rule_log_cells(ChooseThenSample(ConfidenceRule()), np.array([[0.5, 0.5], [0.9, 0.1]]), np.ones(2, bool), 1)
    >>> [(K, np.exp(v).round(3).tolist()) for K, v in cells]
    [((1,), [0.9, 0.1])]
    """
    cells, rounding = _log_cells_and_rounding(rule, probs, masked, k)
    return (cells, rounding) if with_rounding else cells


def _log_cells_and_rounding(rule: Rule, probs, masked, k: int | None) -> tuple[list, float]:
    """:func:`rule_log_cells` and the law's stated rounding error (:mod:`mdtheory.exact.conditioning`)."""
    masked = np.asarray(masked, dtype=bool)
    p = np.asarray(probs, dtype=np.float64)
    if isinstance(rule, SampleThenChoose):  # its quadrature states its own rounding error
        idx = np.nonzero(masked)[0]
        law = _sample_then_choose(rule, p[idx], k)
        with np.errstate(divide="ignore"):
            cells = [(tuple(int(i) for i in idx[row]), np.log(law.probs[c])) for c, row in enumerate(law.sets)]
        return cells, law.rounding_error
    n = int(masked.sum())
    return probed(lambda q: _log_cells(rule, q, masked, k), p, amplification(rule), k or n,
                  route=f"{type(rule).__name__} round law", regime=f"N={n}, k={k}, V={p.shape[1]}, {rule!r}")


def _log_cells(rule: Rule, p: np.ndarray, masked: np.ndarray, k: int | None) -> list:
    idx = np.nonzero(masked)[0]
    V = p.shape[1]
    if isinstance(rule, ChooseThenSample):
        return cts_log_cells(rule, p, masked, k)
    if isinstance(rule, EntropyPrefix):
        K = rule.select(p, masked)
        return [(K, _log_product(rule.token_transform.log_law(p[list(K)])))]
    if isinstance(rule, (Threshold, Bernoulli)):
        return _dict_cells(_variable_law(rule, p[idx]), idx, V)
    raise TypeError(f"no exact law for rule {type(rule).__name__}")


def _sample_then_choose(rule: SampleThenChoose, p: np.ndarray, k: int):
    q = rule.candidate_law(p)
    s = rule.score_table(p)
    return sample_then_choose_law(q, np.where(q > 0, s, 0.0), k=k, noise=rule.noise, ties=rule.ties)


def _variable_law(rule: Rule, p: np.ndarray) -> dict:
    from .._postconditions import check_law_dict

    law = threshold_law(rule, p) if isinstance(rule, Threshold) else mdlm_law(rule, p)
    n, V = p.shape
    return check_law_dict(law, route=f"{type(rule).__name__} round law (enumeration)", regime=f"N={n}, V={V}")


def rule_law(rule: Rule, probs, k: int | None = None):
    """The exact law of one round of ``rule`` on the table ``probs`` (module doc for the routes).

    Spec: §2, §3, §8.

    Parameters
    ----------
    rule : Rule
        Any round rule of :mod:`mdtheory.rules`.
    probs : array_like, shape (N, V)
        The predictions at the N masked positions.
    k : int, optional
        Positions revealed, for a fixed-size rule (required there, refused for a variable-size one).

    Returns
    -------
    RoundLaw or dict
        A :class:`~mdtheory.exact.round_laws.RoundLaw` over k-sets for a fixed-size rule; a dict
        {(positions, tokens): probability} for a variable-size rule.

    Raises
    ------
    ValueError
        If ``probs`` is not a table of distributions, or ``k`` is missing, given when it must not be, or out of
        range.
    TypeError
        If ``rule`` is not a rule.

    Examples
    --------
    >>> from mdtheory.rules import ChooseThenSample, EntropyRule, MarginRule, ConfidenceRule
    >>> P = [[0.5, 0.45, 0.05], [0.45, 0.3, 0.25], [0.49, 0.49, 0.02]]
    >>> [rule_law(ChooseThenSample(r()), P, 1).sets[rule_law(ChooseThenSample(r()), P, 1).probs.sum(1) > 0].tolist()
    ...  for r in (ConfidenceRule, MarginRule, EntropyRule)]
    [[[0]], [[1]], [[2]]]
    """
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be an mdtheory.rules.Rule; got {type(rule).__name__}")
    p = check_probs(np.asarray(probs, dtype=np.float64))
    n, V = p.shape
    everything = np.ones(n, dtype=bool)
    if rule.variable:
        if k is not None:
            raise ValueError(f"{type(rule).__name__} reveals a variable number of positions: give no k")
        if isinstance(rule, EntropyPrefix):  # the rounding of the inputs is probed in rule_log_cells
            return {(K, tuple(int(t) for t in np.unravel_index(j, (V,) * len(K)))): float(np.exp(v[j]))
                    for K, v in rule_log_cells(rule, p, everything) for j in np.nonzero(np.isfinite(v))[0]}
        return probed(lambda q: _variable_law(rule, q), p, amplification(rule), n, distance=law_dict_tv,
                      route=f"{type(rule).__name__} round law", regime=f"N={n}, V={V}, {rule!r}")[0]
    if k is None:
        raise ValueError(f"{type(rule).__name__} reveals a fixed number of positions: give k")
    k = check_k(k, n_masked=n)
    if isinstance(rule, SampleThenChoose):
        return _sample_then_choose(rule, p, k)
    cells, rounding = _log_cells_and_rounding(rule, p, everything, k)
    return round_law_from_cells(cells, n=n, vocab_size=V, k=k, name=type(rule).__name__, rounding_error=rounding)
