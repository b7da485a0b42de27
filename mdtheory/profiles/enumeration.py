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

from .._validation import DEFAULT_MAX_SECONDS, check_schedule, check_work, renamed_keywords
from ..targets import JointTable

__all__ = ["InformationProfile", "subset_entropies", "entropy_profile", "profile_from_g", "profile_from_entropy",
           "information_profile", "efact_weights", "efact", "efact_bruteforce", "block_cost"]


def _entropy(p: np.ndarray) -> float:
    return float(entr(p).sum())


#: the enumeration's cost on one core of the project's VM (binary N = 12–14, V up to 8; used only to refuse
#: work up front): seconds per subset of positions, and per cell summed
ENUMERATION_SECONDS_PER_SUBSET, ENUMERATION_SECONDS_PER_CELL = 2e-5, 3e-9


def enumeration_seconds(n: int, vocab_size: int) -> float:
    """The estimated seconds, on one core, of enumerating every subset of a V^N joint (module constants)."""
    return 2.0 ** n * ENUMERATION_SECONDS_PER_SUBSET + (vocab_size + 1.0) ** n * vocab_size * \
        ENUMERATION_SECONDS_PER_CELL


def subset_entropies(target: JointTable, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> dict[frozenset, float]:
    """H(x_S) for every subset S of the positions (enumeration; 2^N marginals).

    Each marginal is summed from a parent one size larger, so the cost is Σ_S q^{|S|+1} ≈ (q+1)^N·q
    instead of 2^N·q^N; an estimate of it above ``max_seconds`` is refused before any work
    (:func:`enumeration_seconds`).
    """
    n = target.n
    check_work(enumeration_seconds(n, target.q), limit=max_seconds, option="max_seconds",
               what=f"enumerating the 2^{n} subsets of a joint of V={target.q}, N={n} "
                    f"(about (V+1)^N·V = {(target.q + 1.0) ** n * target.q:.3g} cells)")
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


def entropy_profile(target: JointTable, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> np.ndarray:
    """The entropy profile (H_0, …, H_N) of an explicit target, by enumerating every subset.

    Spec: §5.2: H_m = E_S H(x_S) over uniform m-subsets S.

    Parameters
    ----------
    target : JointTable
        π (binary N ≈ 12 takes a fraction of a second).
    max_seconds : float
        Refuse a target whose enumeration is estimated to take longer (:func:`subset_entropies`).

    Returns
    -------
    numpy.ndarray, shape (N + 1,)

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> (entropy_profile(repeated_bit(3)) / np.log(2)).round(12).tolist()
    [0.0, 1.0, 1.0, 1.0]
    """
    ents = subset_entropies(target, max_seconds=max_seconds)
    n = target.n
    H = np.zeros(n + 1)
    for S, h in ents.items():
        H[len(S)] += h / comb(n, len(S))
    return H


@renamed_keywords(alphabet_size="vocab_size")
@dataclass(frozen=True)
class InformationProfile:
    """The profile quantities of a target: H_m, g, f, Z, TC, DTC and Σ_j I(x_j; x_−j).

    Spec: §5.2, §7. **Convention:** ``f[0]`` is f(1) and ``Z[0]`` is Z_1 = 0; g(m) = H_{m+1} − H_m.

    Parameters
    ----------
    H : numpy.ndarray, shape (N + 1,)
        H_0 = 0, …, H_N = H(π).
    g : numpy.ndarray, shape (N,)
        g(m) = E H(x_j | x_S), |S| = m.
    f : numpy.ndarray, shape (N − 1,)
        f(i) = g(i − 1) − g(i) ≥ 0.
    Z : numpy.ndarray, shape (N,)
        The [CCL] information curve.
    tc, dtc : float
        Total and dual total correlation.
    sum_mutual_info : float
        Σ_j I(x_j; x_−j) = TC + DTC.
    error : float
        A bound on the truncation error of g (0 for enumeration and exact closed forms).
    vocab_size : int, optional
        V = |X| where it is finite (``alphabet_size`` is its earlier spelling).

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> pr = information_profile(repeated_bit(3))
    >>> round(pr.tc / float(np.log(2)), 12), round(pr.dtc / float(np.log(2)), 12)
    (2.0, 1.0)
    """

    H: np.ndarray
    g: np.ndarray
    f: np.ndarray
    Z: np.ndarray
    tc: float
    dtc: float
    sum_mutual_info: float
    error: float = 0.0
    vocab_size: int | None = None

    @property
    def alphabet_size(self) -> int | None:
        """The earlier name of :attr:`vocab_size`."""
        import warnings

        warnings.warn("InformationProfile: the keyword 'alphabet_size' is now 'vocab_size'", DeprecationWarning,
                      stacklevel=2)
        return self.vocab_size

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


@renamed_keywords(alphabet_size="vocab_size")
def profile_from_g(g, *, H=None, error: float = 0.0, vocab_size: int | None = None) -> InformationProfile:
    """The profile derived from the conditional-entropy curve g(0), …, g(N − 1).

    Spec: §5.2, §7. TC = Σ(g(0) − g(m)) and DTC = Σ(g(m) − g(N − 1)) are sums of non-negative terms, which avoids
    the N log q cancellation of H_N − Σ H_1.

    Parameters
    ----------
    g : array_like, shape (N,)
        g(m), non-increasing.
    H : array_like, shape (N + 1,), optional
        H_0..H_N, when known more precisely than the cumulative sum of g.
    error : float
        A bound on the error of g.
    vocab_size : int, optional
        |X|, when finite.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If g is empty or not finite.

    Examples
    --------
    >>> profile_from_g([1.0, 0.5, 0.5]).f.tolist()
    [0.5, 0.0]
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
                              vocab_size=vocab_size)


@renamed_keywords(alphabet_size="vocab_size")
def profile_from_entropy(H, *, vocab_size: int | None = None) -> InformationProfile:
    """The profile derived from an entropy profile H_0 = 0, …, H_N.

    Spec: §5.2, §7.

    Parameters
    ----------
    H : array_like, shape (N + 1,)
        The entropy profile, with H_0 = 0.
    vocab_size : int, optional
        |X|, when finite.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If H is not a finite profile starting at 0.

    Examples
    --------
    >>> profile_from_entropy([0.0, 1.0, 1.5]).tc
    0.5
    """
    H = np.asarray(H, dtype=np.float64)
    n = H.size - 1
    if H.ndim != 1 or n < 1 or abs(H[0]) > 1e-12:
        raise ValueError(f"H must be (H_0 = 0, ..., H_N) with N >= 1; got {H[:3]}…")
    return profile_from_g(np.diff(H), H=H, vocab_size=vocab_size)


def information_profile(target: JointTable, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> InformationProfile:
    """The full information profile of an explicit target, by enumeration.

    Spec: §5.2, §7.

    Parameters
    ----------
    target : JointTable
        π.
    max_seconds : float
        Refuse (before any work) a target whose enumeration is estimated to take longer on one core
        (:func:`enumeration_seconds`; a binary joint of N = 22 is about 3 minutes; ``inf`` turns it off).

    Returns
    -------
    InformationProfile

    Raises
    ------
    WorkTooLarge
        If the estimate exceeds ``max_seconds`` (a ``ValueError``).

    Examples
    --------
    >>> from mdtheory.targets import global_parity
    >>> (information_profile(global_parity(4)).f / np.log(2)).round(12).tolist()  # f(N − 1) = log 2
    [0.0, 0.0, 1.0]
    """
    return profile_from_entropy(entropy_profile(target, max_seconds=max_seconds), vocab_size=target.q)


def efact_weights(schedule, n: int) -> np.ndarray:
    """c_i = s_t − i for i = 1..N−1 in block t (0 at block ends): E_fact = Σ_i c_i f(i) (§5.3)."""
    sizes = check_schedule(schedule, total=n)
    ends = np.repeat(np.cumsum(sizes), sizes)  # the block end s_t of every position 1..N
    return (ends[:-1] - np.arange(1, n)).astype(np.float64)


def efact(profile: InformationProfile, schedule) -> float:
    """The exact factorization error of a schedule under random order.

    Spec: §5.3: E_fact = Σ_t Σ_{i=s_{t−1}+1}^{s_t−1} (s_t − i)·f(i) = Σ_t k_t·g(s_{t−1}) − H(π).

    Parameters
    ----------
    profile : InformationProfile
        The target's profile.
    schedule : sequence of int
        Step sizes summing to N.

    Returns
    -------
    float
        E_fact in nats.

    Raises
    ------
    ValueError
        If the schedule is not a composition of N.

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> round(efact(information_profile(repeated_bit(4)), [3, 1]) / float(np.log(2)), 12)  # (k_1 − 1) log 2
    2.0
    """
    from .._postconditions import check_nonnegative

    c = efact_weights(schedule, profile.n)
    # Σ c_i f(i) with c, f ≥ 0: a negative value is rounding of f (differences of entropies), clipped inside the
    # profile's error and the rounding of entropies of size H(π); beyond that it is refused
    return check_nonnegative(float(c @ profile.f), name="E_fact", route="efact", error=float(c.sum()) * profile.error,
                             regime=f"N={profile.n}", scale=float(np.abs(profile.H).max(initial=1.0)) * profile.n)


def block_cost(profile: InformationProfile, a: int, b: int) -> float:
    """The E_fact of one block that reveals positions a+1..b: C(a, b) = Σ_{i=a+1}^{b−1} (b − i) f(i).

    Spec: §5.3 (O(1) with prefix sums of f and i·f).

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    a, b : int
        0 ≤ a < b ≤ N.

    Returns
    -------
    float

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> round(block_cost(information_profile(repeated_bit(3)), 0, 2) / float(np.log(2)), 12)
    1.0
    """
    if not 0 <= a < b <= profile.n:
        raise ValueError(f"block_cost needs 0 <= a < b <= N={profile.n}; got a={a}, b={b}")
    i = np.arange(a + 1, b)
    return float(((b - i) * profile.f[i - 1]).sum())


def efact_bruteforce(target: JointTable, schedule) -> float:
    """E_fact by averaging Σ_t TC(x_{z_t} | x_{z<t}) over all N! orders, literally. Reference, slow by design.

    Spec: §5.1, §5.3.

    Parameters
    ----------
    target : JointTable
        π (N ≤ 7).
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If N is too large or the schedule is invalid.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(4, 2, seed=0)
    >>> abs(efact_bruteforce(t, [2, 2]) - efact(information_profile(t), [2, 2])) < 1e-12
    True
    """
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
