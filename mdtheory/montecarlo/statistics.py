"""Monte-Carlo methodology (§9): empirical one-round laws and tests against exact laws.

* :func:`empirical_round_counts` runs a real sampler round (any callable with the signature of
  :func:`mdtheory.sampling.rounds.maskgit_round`) on a batch of identical copies of ``probs`` and counts the
  (set, tokens) cells in the layout of :class:`~mdtheory.exact.round_laws.RoundLaw`.
* :func:`chisquare_test` — Pearson χ² of counts against an exact law. Cells with expected count < 5 are
  pooled into one bin (scipy's discrete χ² rule); cells outside the law's support must be empty.
  Pass/fail at a stated false-alarm rate.
* :func:`tv_estimate` — plug-in TV between the empirical and exact laws with a bootstrap-free upper
  confidence bound from the multinomial concentration (Bretagnolle–Huber–Carol / L1 deviation):
  P(‖p̂ − p‖₁ ≥ ε) ≤ 2^{c} e^{−nε²/2} for c cells.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import chi2

from ..exact.round_laws import _all_sets

__all__ = ["empirical_round_counts", "ChiSquareResult", "chisquare_test", "tv_estimate"]


def empirical_round_counts(round_fn: Callable, probs: np.ndarray, *, k: int, n_samples: int, seed: int,
                           device: str = "cpu", batch: int = 200_000, **round_kwargs) -> np.ndarray:
    """Run a real round function many times on copies of one table and count its (set, tokens) cells.

    Spec: §9. The counts use the layout of :class:`RoundLaw`, so they compare directly with an exact law.

    Parameters
    ----------
    round_fn : callable
        A round with the signature of :func:`maskgit_round`.
    probs : array_like, shape (N, V)
        The table, repeated across the batch.
    k : int
        Positions per round.
    n_samples : int
        Rounds.
    seed : int
        Seed of the torch generator.
    device : str
        Where the rounds run.
    batch : int
        Rounds per call.
    **round_kwargs
        Passed to ``round_fn`` (``alpha``, ``position_rule``, …).

    Returns
    -------
    numpy.ndarray, shape (n_sets, V**k)
        int64 counts.

    Examples
    --------
    >>> from mdtheory.sampling import maskgit_round
    >>> counts = empirical_round_counts(maskgit_round, [[0.5, 0.5], [0.9, 0.1]], k=1, n_samples=1000, seed=0, alpha=1.0)
    >>> int(counts.sum()), counts.shape
    (1000, (2, 2))
    """
    probs = np.asarray(probs, dtype=np.float64)
    n, V = probs.shape
    sets = _all_sets(n, k)  # the row order of RoundLaw.probs
    index = np.full((n,) * k, -1, dtype=np.int64)
    index[tuple(sets.T)] = np.arange(len(sets))
    counts = np.zeros((len(sets), V ** k), dtype=np.int64)
    gen = torch.Generator(device=device).manual_seed(seed)
    with np.errstate(divide="ignore"):
        lp_row = torch.tensor(np.log(probs), device=device)
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        out = round_fn(lp_row.expand(b, -1, -1), k=k, generator=gen, **round_kwargs)
        pos, tok = out.positions.cpu().numpy(), out.tokens.cpu().numpy()
        order = np.argsort(pos, axis=1)
        pos, tok = np.take_along_axis(pos, order, 1), np.take_along_axis(tok, order, 1)
        set_id = index[tuple(pos.T)]
        tok_id = np.ravel_multi_index(tuple(tok.T), (V,) * k)
        np.add.at(counts, (set_id, tok_id), 1)
        done += b
    return counts


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson χ² of counts against an exact law. ``passed`` iff statistic ≤ critical value at
    ``false_alarm`` and no count falls outside the support."""

    statistic: float
    dof: int
    critical_value: float
    p_value: float
    false_alarm: float
    n_samples: int
    off_support: int
    passed: bool


def _counts_and_law(counts, law) -> tuple[np.ndarray, np.ndarray]:
    """Flat counts and law probabilities of the same layout, with at least one draw."""
    obs = np.asarray(counts, dtype=np.float64).ravel()
    p = np.asarray(getattr(law, "probs", getattr(law, "table", law)), dtype=np.float64).ravel()
    if obs.shape != p.shape:
        raise ValueError(f"counts and law must have the same layout; got {obs.size} counts and {p.size} cells")
    if not (np.all(np.isfinite(obs)) and np.all(obs >= 0) and obs.sum() > 0):
        raise ValueError("counts must be finite, non-negative and not all zero (no draws is no evidence)")
    return obs, p


def chisquare_test(counts: np.ndarray, law, *, false_alarm: float = 1e-4) -> ChiSquareResult:
    """Pearson's χ² test of counts against an exact law, at a stated false-alarm rate.

    Spec: §9. Cells with expected count below 5 are pooled into one bin (scipy's discrete χ² rule); a count
    outside the law's support fails the test outright.

    Parameters
    ----------
    counts : numpy.ndarray
        Observed counts.
    law : RoundLaw, OutputLaw or numpy.ndarray
        The exact law, in the layout of ``counts``.
    false_alarm : float
        The test's level, in (0, 1).

    Returns
    -------
    ChiSquareResult
        ``statistic``, ``critical_value``, ``dof``, ``p_value``, ``off_support`` and ``passed``.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> r = chisquare_test(np.array([510, 490]), np.array([0.5, 0.5]), false_alarm=1e-3)
    >>> r.passed, r.dof
    (True, 1)
    """
    obs, p = _counts_and_law(counts, law)
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm must lie in (0, 1); got false_alarm={false_alarm!r}")
    n = obs.sum()
    exp = p * n
    off = int(obs[p <= 0].sum())
    big = exp >= 5
    o = np.concatenate([obs[big], [obs[~big & (p > 0)].sum()]])
    e = np.concatenate([exp[big], [exp[~big & (p > 0)].sum()]])
    keep = e > 0
    o, e = o[keep], e[keep]
    stat = float(((o - e) ** 2 / e).sum())
    dof = max(1, o.size - 1)
    crit = float(chi2.isf(false_alarm, dof))
    return ChiSquareResult(statistic=stat, dof=dof, critical_value=crit, p_value=float(chi2.sf(stat, dof)),
                           false_alarm=false_alarm, n_samples=int(n), off_support=off,
                           passed=bool(stat <= crit and off == 0))


def tv_estimate(counts: np.ndarray, law, *, confidence: float = 0.99):
    """The plug-in TV between counts and an exact law, with an upper confidence bound on the true TV.

    Spec: §9. ‖p̂ − p‖₁ ≤ ε with probability 1 − δ for ε = √(2 (c log 2 + log(1/δ))/n), c the support cells.

    Parameters
    ----------
    counts : numpy.ndarray
        Observed counts.
    law : RoundLaw, OutputLaw or numpy.ndarray
        The exact law, in the layout of ``counts``.
    confidence : float
        1 − δ.

    Returns
    -------
    tuple of float
        (plug-in TV, upper bound).

    Examples
    --------
    >>> tv, upper = tv_estimate(np.array([510, 490]), np.array([0.5, 0.5]))
    >>> round(tv, 3), bool(upper > tv)
    (0.01, True)
    """
    obs, p = _counts_and_law(counts, law)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got confidence={confidence!r}")
    n = obs.sum()
    tv = 0.5 * float(np.abs(obs / n - p).sum())
    c = int((p > 0).sum() + (obs[p <= 0] > 0).sum())
    eps = math.sqrt(2.0 * (c * math.log(2.0) + math.log(1.0 / (1.0 - confidence))) / n)
    return tv, tv + 0.5 * eps
