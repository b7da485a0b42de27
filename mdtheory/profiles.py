"""Entropy profile, information profile and the [CCL] curve (THEORY.md §5.2, §5.3, §7).

For m = 0..N, H_m = E_S H(x_S) over uniform m-subsets S. Derived quantities (spec indexing):

* g(m) = H_{m+1} − H_m, m = 0..N−1 (non-increasing);
* f(i) = g(i−1) − g(i), i = 1..N−1 — **indexing convention:** ``f[0]`` is f(1);
* Z_j = H_1 + H_{j−1} − H_j, j = 1..N (Z_1 = 0) — ``Z[0]`` is Z_1; f(i) = Z_{i+1} − Z_i;
* TC = N H_1 − H_N, DTC = H_N − N g(N−1), Σ_j I(x_j; x_{−j}) = N Z_N = TC + DTC.

E_fact (§5.3, random order): Σ_t k_t g(s_{t−1}) − H(π). ``efact_bruteforce`` averages the path error
Σ_t TC(x_{z_t} | x_{z<t}) over all N! orders literally (reference, slow by design).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb, factorial

import numpy as np
from scipy.special import gammaln

from ._validation import check_schedule
from .targets import JointTable

__all__ = ["InformationProfile", "subset_entropies", "entropy_profile", "profile_from_entropy",
           "information_profile", "binary_markov_entropy_profile", "efact", "efact_bruteforce"]


def _entropy(p: np.ndarray) -> float:
    p = p.ravel()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def subset_entropies(target: JointTable) -> dict[frozenset, float]:
    """H(x_S) for every subset S of the positions (enumeration; 2^N marginals)."""
    n = target.n
    out = {frozenset(): 0.0}
    for size in range(1, n + 1):
        for S in itertools.combinations(range(n), size):
            out[frozenset(S)] = _entropy(target.marginal(S))
    return out


def entropy_profile(target: JointTable) -> np.ndarray:
    """(H_0, …, H_N) by enumeration of all subsets; shape (N+1,)."""
    ents = subset_entropies(target)
    n = target.n
    H = np.zeros(n + 1)
    for S, h in ents.items():
        H[len(S)] += h / comb(n, len(S))
    return H


@dataclass(frozen=True)
class InformationProfile:
    """Profile quantities derived from H (module doc for the indexing)."""

    H: np.ndarray
    g: np.ndarray
    f: np.ndarray
    Z: np.ndarray
    tc: float
    dtc: float
    sum_mutual_info: float

    @property
    def n(self) -> int:
        return self.H.size - 1

    def to_dict(self) -> dict:
        return {"H": self.H.tolist(), "g": self.g.tolist(), "f": self.f.tolist(), "Z": self.Z.tolist(),
                "tc": self.tc, "dtc": self.dtc, "sum_mutual_info": self.sum_mutual_info}


def profile_from_entropy(H) -> InformationProfile:
    """Derive g, f, Z, TC, DTC and Σ I from an entropy profile (H_0 = 0, …, H_N)."""
    H = np.asarray(H, dtype=np.float64)
    n = H.size - 1
    if n < 1 or abs(H[0]) > 1e-12:
        raise ValueError(f"H must be (H_0 = 0, ..., H_N) with N >= 1; got {H[:3]}…")
    g = np.diff(H)
    f = g[:-1] - g[1:]
    Z = np.concatenate([[0.0], H[1] + H[1:-1] - H[2:]])
    tc = n * H[1] - H[n]
    dtc = H[n] - n * g[n - 1]
    return InformationProfile(H=H, g=g, f=f, Z=Z, tc=float(tc), dtc=float(dtc), sum_mutual_info=float(n * Z[-1]))


def information_profile(target: JointTable) -> InformationProfile:
    """The full profile of an explicit target, by enumeration (§5.2, §7)."""
    return profile_from_entropy(entropy_profile(target))


def binary_markov_entropy_profile(n: int, eps: float) -> np.ndarray:
    """Closed-form H_m of the stationary binary chain with flip ε (§6): H_1 = log 2 and, for m ≥ 2,
    H_m = log 2 + Σ_{d=1}^{N−1} (N−d) C(N−d−1, m−2)/C(N, m) h₂(ε_d), ε_d = (1 − (1−2ε)^d)/2."""
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must satisfy 0 <= eps <= 1; got eps={eps!r}")
    d = np.arange(1, n, dtype=np.float64)
    e_d = 0.5 * (1.0 - (1.0 - 2.0 * eps) ** d)
    with np.errstate(divide="ignore", invalid="ignore"):
        h2 = -(np.where(e_d > 0, e_d * np.log(e_d), 0.0) + np.where(e_d < 1, (1 - e_d) * np.log1p(-e_d), 0.0))
    H = np.zeros(n + 1)
    H[1] = np.log(2.0)
    lgN = gammaln(n + 1)
    for m in range(2, n + 1):
        top = n - d - 1  # C(N−d−1, m−2) is 0 when N−d−1 < m−2
        ok = top >= m - 2
        logw = np.full(d.size, -np.inf)
        logw[ok] = (np.log(n - d[ok]) + gammaln(top[ok] + 1) - gammaln(m - 1) - gammaln(top[ok] - m + 3)
                    - (lgN - gammaln(m + 1) - gammaln(n - m + 1)))
        H[m] = np.log(2.0) + float(np.sum(np.exp(logw) * h2))
    return H


def efact(profile: InformationProfile, schedule) -> float:
    """Exact factorisation error under random order: Σ_t k_t g(s_{t−1}) − H(π) (§5.3)."""
    sizes = check_schedule(schedule, total=profile.n)
    s_prev = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return float(np.sum(sizes * profile.g[s_prev]) - profile.H[-1])


def efact_bruteforce(target: JointTable, schedule) -> float:
    """E_σ Σ_t TC(x_{z_t} | x_{z<t}) averaged over all N! orders, literally (reference, slow by design)."""
    n = target.n
    if n > 7:
        raise ValueError(f"efact_bruteforce enumerates N! orders; N must be <= 7, got N={n}")
    sizes = check_schedule(schedule, total=n)
    ents = subset_entropies(target)
    total = 0.0
    for order in itertools.permutations(range(n)):
        revealed: frozenset = frozenset()
        pos = 0
        for k in sizes:
            block = order[pos:pos + k]
            pos += k
            h_rev = ents[revealed]
            singles = sum(ents[revealed | {i}] - h_rev for i in block)
            joint = ents[revealed | frozenset(block)] - h_rev
            total += singles - joint
            revealed = revealed | frozenset(block)
    return total / factorial(n)
