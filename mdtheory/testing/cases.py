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
