"""The statistics of the audit (§9): counts of a round's (positions, tokens) cells tested against an exact law
by Pearson χ² at a stated false-alarm rate (cells with expected count < 5 pooled) and by the plug-in TV with
its upper confidence bound, with the cells of largest standardised residual named; the sample size that
resolves a TV of :data:`AUDIT_TV_RESOLUTION`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cases import AuditCase

__all__ = ["AuditResult", "AUDIT_TV_RESOLUTION", "MAX_AUDIT_DRAWS", "min_audit_samples", "audit_round",
           "audit_variable_round"]


@dataclass(frozen=True)
class AuditResult:
    """Outcome of one audit: χ² test, TV estimate with its upper confidence bound, worst cells."""

    peer: str
    case: str
    k: int
    n_samples: int
    chi2: object
    tv: float
    tv_upper: float
    worst_cells: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.chi2.passed)

    def to_dict(self) -> dict:
        return {"peer": self.peer, "case": self.case, "k": self.k, "n_samples": self.n_samples,
                "chi2": self.chi2.statistic, "critical": self.chi2.critical_value, "p_value": self.chi2.p_value,
                "tv": self.tv, "tv_upper": self.tv_upper, "passed": self.passed, "worst_cells": self.worst_cells}


#: an audit needs enough draws that its TV upper bound is within this of the estimate (it never passes on
#: no evidence): n ≥ 2(c·log 2 + log(1/δ))/(2·resolution)² for c support cells at confidence 1 − δ
AUDIT_TV_RESOLUTION = 0.05


#: a case whose law needs more draws than this to resolve ``AUDIT_TV_RESOLUTION`` is refused up front (named
#: explicitly) or skipped with a warning (in the default set): e.g. an MDLM step on the V = 64 case
MAX_AUDIT_DRAWS = 5_000_000


def min_audit_samples(n_cells: int, *, confidence: float = 0.99) -> int:
    """The fewest draws for which the TV bound of :func:`mdtheory.montecarlo.tv_estimate` on ``n_cells`` cells is within
    ``AUDIT_TV_RESOLUTION`` of the estimate, at ``confidence``."""
    return int(np.ceil(2 * (n_cells * np.log(2) + np.log(1 / (1 - confidence))) / (2 * AUDIT_TV_RESOLUTION) ** 2))


def audit_round(round_fn, case: AuditCase, exact_law, *, peer: str = "peer", n_samples: int = 200_000,
                seed: int = 0, false_alarm: float = 1e-6, confidence: float = 0.99, batch: int = 50_000,
                n_worst: int = 3) -> AuditResult:
    """Run a round function many times on one case and test its empirical law against an exact law.

    Spec: §9: Pearson χ² at ``false_alarm`` and a TV estimate with its upper confidence bound; the worst cells
    are named in the result.

    Parameters
    ----------
    round_fn : callable
        ``round_fn(log_probs, *, k, generator) -> RoundOutput`` (bind α and other options beforehand).
    case : AuditCase
        The table and k.
    exact_law : RoundLaw
        The law the round states it draws.
    peer : str
        A label.
    n_samples : int
        Rounds.
    seed : int
        Seed.
    false_alarm : float
        The χ² test's level.
    confidence : float
        Of the TV bound.
    batch : int
        Rounds per call.
    n_worst : int
        Cells listed in the result.

    Returns
    -------
    AuditResult
        ``passed``, χ², TV and its bound, and the worst cells.

    Examples
    --------
    >>> import functools
    >>> from mdtheory import maskgit_round_law
    >>> from mdtheory.sampling import maskgit_round
    >>> from mdtheory.testing import audit_cases
    >>> case = audit_cases()[0]
    >>> r = audit_round(functools.partial(maskgit_round, alpha=1.0), case, maskgit_round_law(case.probs, k=case.k, alpha=1.0),
    ...                 n_samples=20000)
    >>> r.passed
    True
    """
    from ..montecarlo.statistics import chisquare_test, empirical_round_counts, tv_estimate

    for name, value in (("false_alarm", false_alarm), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must lie in (0, 1); got {name}={value!r}")
    n_min = min_audit_samples(int(np.count_nonzero(exact_law.probs)), confidence=confidence)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < n_min:
        raise ValueError(f"n_samples must be an integer >= {n_min} (the draws that resolve a TV of {AUDIT_TV_RESOLUTION} "
                         f"at confidence {confidence} on this case's {np.count_nonzero(exact_law.probs)} cells); "
                         f"got n_samples={n_samples!r}")
    counts = empirical_round_counts(round_fn, case.probs, k=case.k, n_samples=n_samples, seed=seed, batch=batch)
    chi = chisquare_test(counts, exact_law, false_alarm=false_alarm)
    tv, upper = tv_estimate(counts, exact_law, confidence=confidence)
    expected = exact_law.probs * n_samples
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(expected > 0, (counts - expected) / np.sqrt(expected), np.where(counts > 0, np.inf, 0.0))
    tuples = exact_law.token_tuples()
    worst = []
    for flat in np.argsort(-np.abs(z), axis=None)[:n_worst]:
        c, j = np.unravel_index(flat, z.shape)
        worst.append({"positions": exact_law.sets[c].tolist(), "tokens": tuples[j].tolist(),
                      "observed": int(counts[c, j]), "expected": float(expected[c, j]), "z": float(z[c, j])})
    return AuditResult(peer=peer, case=case.name, k=case.k, n_samples=n_samples, chi2=chi, tv=tv, tv_upper=upper,
                       worst_cells=worst)


def audit_variable_round(round_fn, probs, law: dict, *, peer: str = "peer", n_samples: int = 100_000, seed: int = 0,
                         false_alarm: float = 1e-6, batch: int = 20_000):
    """χ² of a peer whose rounds reveal a variable number of positions, against a {(K, x_K): prob} law.
    ``round_fn(log_probs, generator) -> (selected (B, N) bool, tokens (B, N))``. Returns the ChiSquareResult
    and the counts dict."""
    from ..montecarlo.statistics import chisquare_test

    counts = _variable_counts(round_fn, np.asarray(probs, dtype=np.float64), n_samples, seed, batch)
    keys = sorted(set(law) | set(counts))
    expected = np.array([law.get(k, 0.0) for k in keys])
    observed = np.array([counts.get(k, 0) for k in keys])
    return chisquare_test(observed, expected, false_alarm=false_alarm), counts


def _variable_counts(call, probs, n_samples: int, seed: int, batch: int) -> dict:
    import torch

    with np.errstate(divide="ignore"):
        lp = torch.as_tensor(np.log(probs))
    gen = torch.Generator().manual_seed(seed)
    counts: dict = {}
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        sel, tok = call(lp.expand(b, -1, -1), generator=gen)
        sel, tok = sel.cpu().numpy(), tok.cpu().numpy()
        for r in range(b):
            K = tuple(int(i) for i in np.nonzero(sel[r])[0])
            key = (K, tuple(int(t) for t in tok[r, list(K)]))
            counts[key] = counts.get(key, 0) + 1
        done += b
    return counts


def _audit_dict(counts: dict, law: dict, *, peer: str, case: str, n_samples: int, false_alarm: float,
                confidence: float, n_worst: int = 3) -> AuditResult:
    from ..montecarlo.statistics import chisquare_test, tv_estimate

    keys = sorted(set(law) | set(counts))
    expected = np.array([law.get(c, 0.0) for c in keys])
    observed = np.array([counts.get(c, 0) for c in keys])
    chi = chisquare_test(observed, expected, false_alarm=false_alarm)
    tv, upper = tv_estimate(observed, expected, confidence=confidence)
    e = expected * n_samples
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(e > 0, (observed - e) / np.sqrt(e), np.where(observed > 0, np.inf, 0.0))
    worst = [{"positions": list(keys[i][0]), "tokens": list(keys[i][1]), "observed": int(observed[i]),
              "expected": float(e[i]), "z": float(z[i])} for i in np.argsort(-np.abs(z))[:n_worst]]
    sizes = {len(c[0]) for c in keys}
    return AuditResult(peer=peer, case=case, k=max(sizes) if sizes else 0, n_samples=n_samples, chi2=chi, tv=tv,
                       tv_upper=upper, worst_cells=worst)


def _describe_failure(r: AuditResult, probs_shape) -> str:
    cells = "; ".join(f"positions {c['positions']} tokens {c['tokens']}: observed {c['observed']}, expected "
                      f"{c['expected']:.1f} (z = {c['z']:+.1f})" for c in r.worst_cells)
    chi = r.chi2
    return (f"case {r.case} (N={probs_shape[0]}, V={probs_shape[1]}, k={r.k}): χ² = {chi.statistic:.1f} > "
            f"{chi.critical_value:.1f} (dof {chi.dof}, p = {chi.p_value:.2g}); TV ≈ {r.tv:.4f} (upper bound "
            f"{r.tv_upper:.4f}); worst cells: {cells}")
