"""Entropy profile, information profile and the [CCL] curve (§5.2, §5.3, §7).

For m = 0..N, H_m = E_S H(x_S) over uniform m-subsets S. Derived quantities (spec indexing):

* g(m) = H_{m+1} − H_m = E H(x_j | x_S), m = 0..N−1 (non-increasing);
* f(i) = g(i−1) − g(i), i = 1..N−1 — **indexing convention:** ``f[0]`` is f(1) (the spec's f(i) is the
  mutual information of two masked tokens given i−1 revealed ones; no shift);
* Z_j = g(0) − g(j−1), j = 1..N (Z_1 = 0) — ``Z[0]`` is Z_1; f(i) = Z_{i+1} − Z_i;
* TC = Σ_m (g(0) − g(m)), DTC = Σ_m (g(m) − g(N−1)), Σ_j I(x_j; x_{−j}) = N·Z_N = TC + DTC.

Every profile is built from g (:func:`profile_from_g`): TC, DTC and Z are then sums of non-negative
terms, so closed forms at N = 10⁴ keep full relative precision instead of differencing H_m ≈ N log q.

E_fact (§5.3, random order) is Σ_t Σ_{i=s_{t−1}+1}^{s_t−1} (s_t − i) f(i), evaluated as that non-negative
sum (the equivalent Σ_t k_t g(s_{t−1}) − H(π) cancels N log q against itself). ``efact_bruteforce``
averages the path error Σ_t TC(x_{z_t} | x_{z<t}) over all N! orders literally (reference, slow by design).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb, factorial

import numpy as np
from scipy.special import entr

from .._validation import check_schedule
from ..multiround.targets import JointTable

__all__ = ["InformationProfile", "subset_entropies", "entropy_profile", "profile_from_g", "profile_from_entropy",
           "information_profile", "efact_weights", "efact", "efact_bruteforce", "block_cost"]


def _entropy(p: np.ndarray) -> float:
    return float(entr(p).sum())


def subset_entropies(target: JointTable) -> dict[frozenset, float]:
    """H(x_S) for every subset S of the positions (enumeration; 2^N marginals).

    Each marginal is summed from a parent one size larger, so the cost is Σ_S q^{|S|+1} ≈ (q+1)^N·q
    instead of 2^N·q^N.
    """
    n = target.n
    level = {frozenset(range(n)): target.table}
    out = {frozenset(range(n)): _entropy(target.table)}
    for size in range(n - 1, -1, -1):
        nxt = {}
        for S in itertools.combinations(range(n), size):
            Sf = frozenset(S)
            extra = min(set(range(n)) - Sf)
            parent = level[Sf | {extra}]
            axis = sorted(Sf | {extra}).index(extra)
            nxt[Sf] = parent.sum(axis=axis)
            out[Sf] = _entropy(nxt[Sf]) if size else 0.0
        level = nxt
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
    """Profile quantities (module doc for the indexing); ``error`` bounds the truncation error of g
    (0 for enumeration and exact closed forms); ``alphabet_size`` is |X| where it is finite."""

    H: np.ndarray
    g: np.ndarray
    f: np.ndarray
    Z: np.ndarray
    tc: float
    dtc: float
    sum_mutual_info: float
    error: float = 0.0
    alphabet_size: int | None = None

    @property
    def n(self) -> int:
        return self.H.size - 1

    @property
    def entropy(self) -> float:
        """H(π) = H_N."""
        return float(self.H[-1])

    def to_dict(self) -> dict:
        return {"H": self.H.tolist(), "g": self.g.tolist(), "f": self.f.tolist(), "Z": self.Z.tolist(),
                "tc": self.tc, "dtc": self.dtc, "sum_mutual_info": self.sum_mutual_info, "error": self.error}


def profile_from_g(g, *, H=None, error: float = 0.0, alphabet_size: int | None = None) -> InformationProfile:
    """Build the profile from the conditional-entropy curve g(0..N−1) (§5.2, §7).

    ``H`` (H_0..H_N) may be given when it is known more precisely than the cumulative sum of g.
    """
    g = np.asarray(g, dtype=np.float64)
    if g.ndim != 1 or g.size < 1 or not np.all(np.isfinite(g)):
        raise ValueError(f"g must be a finite 1-D array (g(0), ..., g(N-1)) with N >= 1; got shape {g.shape}")
    n = g.size
    H = np.concatenate([[0.0], np.cumsum(g)]) if H is None else np.asarray(H, dtype=np.float64)
    if H.shape != (n + 1,):
        raise ValueError(f"H must have length N+1={n + 1}; got shape {H.shape}")
    f = g[:-1] - g[1:]
    Z = g[0] - g
    Z[0] = 0.0
    return InformationProfile(H=H, g=g, f=f, Z=Z, tc=float(Z.sum()), dtc=float((g - g[-1]).sum()),
                              sum_mutual_info=float(n * (g[0] - g[-1])), error=float(error),
                              alphabet_size=alphabet_size)


def profile_from_entropy(H, *, alphabet_size: int | None = None) -> InformationProfile:
    """Derive g, f, Z, TC, DTC and Σ I from an entropy profile (H_0 = 0, …, H_N)."""
    H = np.asarray(H, dtype=np.float64)
    n = H.size - 1
    if H.ndim != 1 or n < 1 or abs(H[0]) > 1e-12:
        raise ValueError(f"H must be (H_0 = 0, ..., H_N) with N >= 1; got {H[:3]}…")
    return profile_from_g(np.diff(H), H=H, alphabet_size=alphabet_size)


def information_profile(target: JointTable) -> InformationProfile:
    """The full profile of an explicit target, by enumeration (§5.2, §7)."""
    return profile_from_entropy(entropy_profile(target), alphabet_size=target.q)


def efact_weights(schedule, n: int) -> np.ndarray:
    """c_i = s_t − i for i = 1..N−1 in block t (0 at block ends): E_fact = Σ_i c_i f(i) (§5.3)."""
    sizes = check_schedule(schedule, total=n)
    ends = np.repeat(np.cumsum(sizes), sizes)  # the block end s_t of every position 1..N
    return (ends[:-1] - np.arange(1, n)).astype(np.float64)


def efact(profile: InformationProfile, schedule) -> float:
    """Exact factorisation error under random order, Σ_t Σ_{i=s_{t−1}+1}^{s_t−1} (s_t − i) f(i) (§5.3).

    Examples
    --------
    >>> from mdtheory.multiround.targets import repeated_bit
    >>> round(efact(information_profile(repeated_bit(4)), [3, 1]) / float(np.log(2)), 12)  # (k_1 − 1) log 2
    2.0
    """
    return float(efact_weights(schedule, profile.n) @ profile.f)


def block_cost(profile: InformationProfile, a: int, b: int) -> float:
    """C(a, b) = Σ_{i=a+1}^{b−1} (b − i) f(i): the E_fact of one block revealing positions a+1..b (§5.3)."""
    if not 0 <= a < b <= profile.n:
        raise ValueError(f"block_cost needs 0 <= a < b <= N={profile.n}; got a={a}, b={b}")
    i = np.arange(a + 1, b)
    return float(((b - i) * profile.f[i - 1]).sum())


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
