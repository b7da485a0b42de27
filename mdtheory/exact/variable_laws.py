"""Exact laws of rounds whose revealed set has a random or state-dependent size (§2.5, §8, §9).

Their cells are (positions, tokens) pairs of any size, so each law is a dict {(K, x_K): probability}, K a
sorted tuple of positions and x_K the tokens there (the empty set is a cell too).

* **EB** (entropy bound, §8): the lowest-entropy prefix of the (tempered) predictions whose entropy sum minus
  its largest term stays within γ; tokens from the tempered predictions. The set is a function of the
  predictions.
* **Threshold / top-m** (Fast-dLLM, LLaDA2, diffusers' block refinement): candidates x̃_i ~ q_i; every
  position whose confidence q_i(x̃_i) exceeds θ is committed when there are at least m of them, else the
  top-m confidences.
* **MDLM ancestral** (Sahoo et al. 2024): going from time t to s < t, every masked position is revealed
  independently with probability r = (t − s)/t, with its token drawn from the prediction. The number
  revealed is Binomial(N, r): P(K, x_K) = r^|K| (1 − r)^(N − |K|) Π_{i∈K} p_i(x_i).

Tempering (temperature T) means q_i ∝ p_i^{1/T}.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np

from .._validation import check_probs
from ..rules.rounds import Bernoulli, EntropyPrefix, Threshold
from ..rules.tokens import tempered
from ..rules.tokens import temperature_transform as _tokens

__all__ = ["tempered", "eb_round_law", "threshold_round_law", "mdlm_round_law", "law_dict", "threshold_law", "mdlm_law"]



def law_dict(law) -> dict:
    """A fixed-size :class:`RoundLaw` as {(positions, tokens): probability} (nonzero cells only)."""
    tuples = law.token_tuples()
    out = {}
    for c, K in enumerate(law.sets):
        for j in np.nonzero(law.probs[c])[0]:
            out[(tuple(int(i) for i in K), tuple(int(t) for t in tuples[j]))] = float(law.probs[c, j])
    return out


def eb_round_law(probs, *, gamma: float, temperature: float = 1.0):
    """The exact one-round law of the EB rule on tempered predictions: a deterministic set, tokens ~ q.

    Spec: §8. The set is the EB prefix of q's entropies (ties by position index, as the sampler sorts); its
    size is a function of the predictions, so the law is a :class:`RoundLaw` whose ``k`` is that size.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The predictions.
    gamma : float
        The entropy budget γ ≥ 0.
    temperature : float
        T > 0 of the tokens and of the entropies.

    Returns
    -------
    RoundLaw

    Examples
    --------
    >>> law = eb_round_law([[0.9, 0.1], [0.5, 0.5], [0.99, 0.01]], gamma=0.3)
    >>> law.k, round(float(law.probs.sum()), 12)
    (2, 1.0)
    """
    from .round_laws import RoundLaw, _all_sets, _token_product

    p = check_probs(np.atleast_2d(np.asarray(probs, dtype=np.float64)))
    rule = EntropyPrefix(gamma, True, _tokens(temperature))
    q = rule.token_transform.law(p)
    K = rule.select(p)
    sets = _all_sets(q.shape[0], len(K))
    table = np.zeros((len(sets), q.shape[1] ** len(K)))
    row = [tuple(s) for s in sets.tolist()].index(K)
    table[row] = _token_product(q[list(K)][None])[0]
    return RoundLaw(sets=sets, probs=table, vocab_size=q.shape[1], k=len(K), n_masked=q.shape[0], sampler="eb",
                    alpha=np.nan, method="closed_form", extra={"params": {"gamma": float(gamma),
                                                                          "temperature": float(temperature)}})


def threshold_round_law(probs, *, m: int, threshold: float, temperature: float = 1.0,
                        ties: str = "uniform", confidence: str = "tempered") -> dict:
    """The exact law of the threshold/top-m rule ({(positions, tokens): probability}; set sizes vary).

    Spec: §8, §9. Candidates x̃_i ~ q_i = p_i^{1/T}/Σ with confidence c_i = q_i(x̃_i) (``confidence="tempered"``)
    or c_i = p_i(x̃_i), the raw softmax (``"untempered"``). If at least m positions have c_i > θ, all of them
    are committed; otherwise the top-m confidences are, equal ones split uniformly
    (``ties="uniform"``, on the tie grid of :func:`mdtheory.rules.orders.tie_keys`) or won by the lower
    index (``ties="first"``). Closed form: a set K with every member above θ (|K| ≥ m) has
    P = Π_K q_i(x_i) Π_{j∉K} q_j(c ≤ θ); a set of size m with a member at or below θ has the deterministic
    top-m probability (every j ∉ K then scores no higher, so fewer than m are above θ). Here
    q_j(c ≤ θ) = Σ_s q_j(s)·[c_j(s) ≤ θ].

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The predictions.
    m : int
        1 ≤ m ≤ N.
    threshold : float
        θ.
    temperature : float
        T > 0.
    ties : {"uniform", "first"}
        How equal confidences are broken in the top-m branch.
    confidence : {"tempered", "untempered"}
        Which probability of the candidate is compared with θ and ranked.

    Returns
    -------
    dict
        {(positions, tokens): probability}.

    Examples
    --------
    >>> law = threshold_round_law([[0.9, 0.1], [0.6, 0.4]], m=1, threshold=0.8)
    >>> round(sum(law.values()), 12)
    1.0
    """
    p = check_probs(np.atleast_2d(np.asarray(probs, dtype=np.float64)))
    n = p.shape[0]
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= n:
        raise ValueError(f"m must be an integer with 1 <= m <= N={n}; got m={m!r}")
    if confidence not in ("tempered", "untempered"):
        raise ValueError(f"confidence must be 'tempered' or 'untempered'; got confidence={confidence!r}")
    rule = Threshold(m=m, threshold=threshold, token_transform=_tokens(temperature),
                     confidence="q" if confidence == "tempered" else "p", ties=ties)
    from .._postconditions import check_law_dict

    return check_law_dict(threshold_law(rule, p), route="threshold round law (enumeration)",
                          regime=f"N={p.shape[0]}, V={p.shape[1]}")


def threshold_law(rule: Threshold, probs: np.ndarray) -> dict:
    """The exact law of a :class:`~mdtheory.rules.Threshold` rule on predictions (N, V): {(K, x_K): p}.

    Spec: §8, §9 (the closed form of :func:`threshold_round_law`). With fewer than m rows, all are the top m.

    Examples
    --------
    >>> law = threshold_law(Threshold(m=1, threshold=0.8), np.array([[0.9, 0.1], [0.6, 0.4]]))
    >>> round(sum(law.values()), 12)
    1.0
    """
    from .round_laws import _deterministic_choice_cells

    p = np.asarray(probs, dtype=np.float64)
    q = rule.token_transform.law(p)
    n, V = q.shape
    m, threshold = min(int(rule.m), n), rule.threshold
    c = rule.confidence_table(p)
    below = (q * (c <= threshold)).sum(axis=1)  # q_j(c ≤ θ)
    law: dict = {}
    for size in range(m, n + 1):
        for K in combinations(range(n), size):
            rest = [j for j in range(n) if j not in K]
            for x in product(range(V), repeat=size):
                if np.all(c[list(K), list(x)] > threshold):
                    pr = float(np.prod(q[list(K), list(x)]) * np.prod(below[rest]))
                    if pr > 0:
                        law[(K, x)] = pr
    with np.errstate(divide="ignore"):
        scores = np.log(c)
    sets = np.array(list(combinations(range(n), m)), dtype=np.int64)
    cells = _deterministic_choice_cells(q, scores, sets, rule.ties)
    for r, K in enumerate(sets):
        for j, x in enumerate(product(range(V), repeat=m)):
            if cells[r, j] > 0 and np.min(c[K, list(x)]) <= threshold:
                key = (tuple(int(i) for i in K), tuple(x))
                law[key] = law.get(key, 0.0) + float(cells[r, j])
    return law


def mdlm_round_law(probs, *, rate: float, temperature: float = 1.0) -> dict:
    """The exact law of one MDLM ancestral step: each position revealed independently with probability r.

    Spec: §2.5. P(K, x_K) = r^|K| (1 − r)^(N − |K|) Π_{i∈K} q_i(x_i), q the tempered predictions; the empty set
    (nothing revealed) is a cell. From time t to s, r = (t − s)/t.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The predictions.
    rate : float
        r in (0, 1].
    temperature : float
        T > 0.

    Returns
    -------
    dict
        {(positions, tokens): probability}.

    Examples
    --------
    >>> law = mdlm_round_law([[0.5, 0.5], [0.9, 0.1]], rate=0.25)
    >>> round(law[((), ())], 6), round(sum(law.values()), 12)
    (0.5625, 1.0)
    """
    p = check_probs(np.atleast_2d(np.asarray(probs, dtype=np.float64)))
    if isinstance(rate, bool) or not (isinstance(rate, (int, float, np.floating)) and 0 < rate <= 1):
        raise ValueError(f"rate must be a number in (0, 1]; got rate={rate!r}")
    from .._postconditions import check_law_dict

    return check_law_dict(mdlm_law(Bernoulli(rate=rate, token_transform=_tokens(temperature)), p),
                          route="MDLM round law (enumeration)", regime=f"N={p.shape[0]}, V={p.shape[1]}")


def mdlm_law(rule: Bernoulli, probs: np.ndarray) -> dict:
    """The exact law of a :class:`~mdtheory.rules.Bernoulli` (MDLM) rule on predictions (N, V): {(K, x_K): p}.

    Examples
    --------
    >>> round(mdlm_law(Bernoulli(rate=0.5), np.array([[0.5, 0.5]]))[((), ())], 6)
    0.5
    """
    q = rule.token_transform.law(np.asarray(probs, dtype=np.float64))
    n, V = q.shape
    rate = rule.rate
    law: dict = {}
    for size in range(n + 1):
        weight = rate ** size * (1 - rate) ** (n - size)
        if weight == 0:
            continue
        for K in combinations(range(n), size):
            for x in product(range(V), repeat=size):
                pr = weight * float(np.prod(q[list(K), list(x)])) if size else weight
                if pr > 0:
                    law[(K, x)] = pr
    return law
