"""The fixed tables of predictions that the audit drives a round on (§9): peaked, flat, with zero-probability
tokens, with tied rows (:func:`audit_cases`), and a large vocabulary (:func:`round_cases` adds it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AuditCase", "audit_cases", "round_cases"]


@dataclass(frozen=True)
class AuditCase:
    """One fixed probability table (N, V) and the number k of positions a round reveals."""

    name: str
    probs: np.ndarray
    k: int


def audit_cases(*, seed: int = 0, n: int = 4, vocab_size: int = 3) -> list[AuditCase]:
    """The seeded tables every audit runs on: peaked, flat, with zero-probability tokens, and with tied rows.

    Spec: §9.

    Parameters
    ----------
    seed : int
        Seed.
    n : int
        N.
    vocab_size : int
        V.

    Returns
    -------
    list of AuditCase
        Each with ``name``, ``probs`` (N, V) and ``k``.

    Examples
    --------
    >>> [c.name for c in audit_cases()]
    ['peaked', 'flat', 'zeros', 'ties']
    """
    rng = np.random.default_rng(seed)
    peaked = rng.dirichlet(np.full(vocab_size, 0.3), size=n)
    flat = rng.dirichlet(np.full(vocab_size, 30.0), size=n)
    zeros = rng.dirichlet(np.ones(vocab_size), size=n)
    zeros[0, 0] = 0.0
    zeros[-1, -1] = 0.0
    zeros /= zeros.sum(axis=1, keepdims=True)
    tied = np.tile(rng.dirichlet(np.ones(vocab_size)), (n, 1))
    return [AuditCase("peaked", peaked, 1), AuditCase("flat", flat, 2), AuditCase("zeros", zeros, 2),
            AuditCase("ties", tied, 1)]


def round_cases(*, seed: int = 0) -> list[AuditCase]:
    """The cases of :func:`assert_round_law`: :func:`audit_cases` (N = 4, V = 3) and a large vocabulary.

    Spec: §9. The fifth case, ``large_vocab``, has N = 3 Zipf-like rows over V = 64 tokens and k = 1, so that
    a token law that is only right on tiny vocabularies fails.

    Parameters
    ----------
    seed : int
        Seed.

    Returns
    -------
    list of AuditCase

    Examples
    --------
    >>> [(c.name, c.probs.shape, c.k) for c in round_cases()][-1]
    ('large_vocab', (3, 64), 1)
    """
    rng = np.random.default_rng([seed, 64])
    ranks = np.arange(1, 65, dtype=np.float64)
    rows = np.stack([rng.permutation(ranks ** -s) for s in (0.8, 1.1, 1.5)])
    return audit_cases(seed=seed) + [AuditCase("large_vocab", rows / rows.sum(axis=1, keepdims=True), 1)]


def adversarial_cases(rule=None, *, draws: int = 1, seed: int = 0, vocab_size: int = 3) -> list[AuditCase]:
    """Seeded tables drawn where rules are easy to get wrong, each named after what it probes.

    Spec: §9. Per draw: ``straddle`` (top probabilities just above and just below the rule's threshold θ, 0.6
    if it has none), ``many_above`` (four rows above θ, so a top-m rule must take them all), ``crossing``
    (rows that confidence, margin and entropy rank differently, and that a temperature reorders),
    ``near_ties`` (top probabilities 1e-3 apart) and ``two_left`` (two positions, both revealed: the
    final-step convention). A draw's name carries its index: ``straddle#0``.

    Parameters
    ----------
    rule : RoundRule, optional
        The stated rule (its ``threshold``, if any, places the straddling rows).
    draws : int
        Tables per kind.
    seed : int
        Seed.
    vocab_size : int
        V ≥ 3.

    Returns
    -------
    list of AuditCase

    Examples
    --------
    >>> [c.name for c in adversarial_cases()]
    ['straddle#0', 'many_above#0', 'crossing#0', 'near_ties#0', 'two_left#0']
    """
    from .._validation import check_positive_int

    draws = check_positive_int(draws, name="draws")
    V = check_positive_int(vocab_size, name="vocab_size", minimum=3)
    theta = float(rule.get("threshold", 0.6)) if rule is not None and hasattr(rule, "get") else 0.6
    theta = min(max(theta, 0.05), 0.95) if theta <= 1 else 0.6  # an entropy budget is not a probability
    rng = np.random.default_rng([seed, 0xAD])

    def row(top: float) -> np.ndarray:
        rest = rng.dirichlet(np.ones(V - 1)) * (1.0 - top)
        if rest.max() >= top:  # the top token stays the top one
            rest = np.full(V - 1, (1.0 - top) / (V - 1))
        r = np.concatenate([[top], rest])
        return r[rng.permutation(V)]

    out = []
    for d in range(draws):
        eps = rng.uniform(0.005, 0.03)
        lo, hi = max(theta - eps, 1.0 / V + 1e-3), min(theta + eps, 0.999)
        out.append(AuditCase(f"straddle#{d}", np.stack([row(hi), row(lo), row(hi), row(lo)]), 2))
        above = np.sort(rng.uniform(min(theta + 0.01, 0.99), min(theta + 0.1, 0.999), 4))
        out.append(AuditCase(f"many_above#{d}", np.stack([row(t) for t in above]), 2))
        base = np.array([[0.5, 0.45, 0.05], [0.45, 0.3, 0.25], [0.49, 0.49, 0.02]])  # confidence, margin, entropy
        jitter = rng.dirichlet(np.full(3, 400.0), size=3)  # disagree on the row they reveal first
        cross = 0.9 * base + 0.1 * jitter
        cross = np.concatenate([cross, np.full((3, V - 3), 0.0)], axis=1) if V > 3 else cross
        out.append(AuditCase(f"crossing#{d}", cross / cross.sum(axis=1, keepdims=True), 1))
        top = rng.uniform(0.4, 0.8)
        out.append(AuditCase(f"near_ties#{d}", np.stack([row(top + 1e-3 * i) for i in range(4)]), 2))
        out.append(AuditCase(f"two_left#{d}", rng.dirichlet(np.ones(V), size=2), 2))
    return out
