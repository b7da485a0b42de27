"""Per-token against whole-sequence error of parallel unmasking on a chain with forbidden transitions (§10.3).

The ideal factorized sampler (uniform random order, K equal blocks, exact conditionals) on a bigram chain π:

* **per token**: E_σ KL(π ‖ ν_σ)/N, the [CCL] sawtooth of §7 divided by N. On a mixing chain it is Θ(1/K)
  whatever N, so per-token quality needs O(1) steps (:func:`per_token_curve`, exact to N = 10⁴ through the
  chain's closed-form information curve);
* **whole sequence**: the total E·KL is Θ(N/K), so a small sequence-level error needs K = Θ(N)
  (:func:`steps_for_sequence_kl`); and the sequence error rate SER = ν(x ∉ supp π), the chance of a
  forbidden transition somewhere, is bounded by TV(π, ν) ≤ √(KL(π ‖ ν)/2) (:func:`sequence_error_table`,
  exact by enumeration for N ≤ 10).

**Directions.** Every KL here is KL(π ‖ ν), the data law first: finite for factorized samplers. The other
direction KL(ν ‖ π), and with it the perplexity of the samples under π, is infinite as soon as SER > 0; the
tables report it as ``inf`` (strict JSON: the string "inf").
"""

from __future__ import annotations

from .._validation import renamed_keywords

import numpy as np

from .bounds import ccl_expected_kl
from .closed_forms import markov_transition_profile
from .schedule_shapes import constant_schedule

__all__ = ["sequence_error_table", "per_token_curve", "steps_for_sequence_kl"]


def sequence_error_table(target, steps) -> list[dict]:
    """Exact per-token and whole-sequence errors of the ideal factorized sampler, by enumeration.

    Spec: §10.3.

    Parameters
    ----------
    target : JointTable
        π (N ≤ 10 keeps the enumeration under a minute).
    steps : sequence of int
        The K values (equal blocks, :func:`mdtheory.profiles.constant_schedule`).

    Returns
    -------
    list of dict
        Per K: ``kl`` = KL(π ‖ ν) of the sampler's output ν (the mixture over orders), ``kl_per_token``,
        ``path_kl_per_token`` = E_σ KL(π ‖ ν_σ)/N, ``ser`` = ν(x ∉ supp π), ``tv``, ``pinsker`` = √(KL/2),
        ``kl_reverse`` = KL(ν ‖ π) (inf when SER > 0).

    Examples
    --------
    >>> from mdtheory.targets import bigram_chain
    >>> row = sequence_error_table(bigram_chain(4), [2])[0]
    >>> row["ser"] <= row["tv"] <= row["pinsker"], row["kl_reverse"]
    (True, inf)
    """
    from ..multiround.output_laws import output_law
    from ..rules.samplers import CTS

    n = target.n
    rows = []
    for K in steps:
        law = output_law(target, CTS(), constant_schedule(n, int(K)))
        kl = max(float(law.kl), 0.0)
        nu, pi = law.table, target.table
        if law.off_support > 0:
            reverse = float("inf")
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                reverse = float(np.where(nu > 0, nu * np.log(nu / pi), 0.0).sum())
        rows.append({"n": n, "K": int(K), "kl": kl, "kl_per_token": kl / n,
                     "path_kl_per_token": max(float(law.path_kl), 0.0) / n, "ser": float(law.off_support),
                     "tv": float(law.tv), "pinsker": float(np.sqrt(kl / 2)), "kl_reverse": max(reverse, 0.0)})
    return rows


def per_token_curve(transition, sizes, steps) -> list[dict]:
    """E_σ KL(π ‖ ν_σ)/N of the ideal factorized sampler on a stationary chain, for every N in ``sizes`` and K
    in ``steps`` (equal blocks), from the chain's exact information curve.

    Spec: §10.3, §7.

    Parameters
    ----------
    transition : array_like, shape (q, q)
        The chain (e.g. :func:`mdtheory.targets.forbidden_bigram_transition`).
    sizes : sequence of int
        N values (up to 10⁴ and beyond).
    steps : sequence of int
        K values, 1 ≤ K ≤ N for every N.

    Returns
    -------
    list of dict
        ``n``, ``K``, ``kl_per_token`` (nats), ``kl_per_token_times_k``, ``kl`` (the total E·KL).

    Examples
    --------
    >>> from mdtheory.targets import forbidden_bigram_transition
    >>> rows = per_token_curve(forbidden_bigram_transition(3), [1000, 10_000], [16])
    >>> abs(rows[0]["kl_per_token"] / rows[1]["kl_per_token"] - 1) < 0.02  # flat in N
    True
    """
    rows = []
    for n in sizes:
        bad = [K for K in steps if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= n]
        if bad:
            raise ValueError(f"steps must be integers with 1 <= K <= N={n}; got {bad[0]!r}")
        pr = markov_transition_profile(int(n), transition)
        for K in steps:
            kl = ccl_expected_kl(pr, constant_schedule(int(n), int(K)))
            rows.append({"n": int(n), "K": int(K), "kl": kl, "kl_per_token": kl / n, "kl_per_token_times_k": kl * K / n})
    return rows


@renamed_keywords(n="seq_len")
def steps_for_sequence_kl(transition, seq_len: int, budget: float) -> int:
    """The fewest equal blocks K whose total E·KL(π ‖ ν_σ) is at most ``budget`` nats, on a chain of length N.

    Spec: §10.3 (Θ(N) on a mixing chain). Bisection on K (E·KL of equal blocks falls as K grows), checked at the
    answer and one below.

    Parameters
    ----------
    transition : array_like, shape (q, q)
        The chain.
    seq_len : int
        N.
    budget : float
        The target total KL, > 0.

    Returns
    -------
    int

    Examples
    --------
    >>> from mdtheory.targets import forbidden_bigram_transition
    >>> P = forbidden_bigram_transition(3)
    >>> steps_for_sequence_kl(P, 2000, 0.5) > 2 * steps_for_sequence_kl(P, 500, 0.5)
    True
    """
    if not budget > 0:
        raise ValueError(f"budget must be > 0; got budget={budget!r}")
    pr = markov_transition_profile(int(seq_len), transition)

    def kl(K: int) -> float:
        return ccl_expected_kl(pr, constant_schedule(int(seq_len), K))

    lo, hi = 1, int(seq_len)  # kl(n) = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if kl(mid) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return lo

