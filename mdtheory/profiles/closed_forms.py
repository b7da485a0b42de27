"""Closed-form information profiles of the §6 families, exact at N up to 10⁴ (§5.2, §6, §7).

Every function returns an :class:`~mdtheory.profiles.enumeration.InformationProfile` built from the conditional
entropy curve g(m) = E H(x_j | x_S), |S| = m, computed without differencing large entropies.

* **Stationary Markov chains** (binary, symmetric q-ary, any transition matrix; Gaussian AR(1)). For a
  sorted set S the chain rule gives H(x_S) = H(μ) + Σ_gaps h(d) with h(d) = H(x_d | x_0). Writing
  h̃(d) = h(d) − H(μ) = −I(x_0; x_d) ≤ 0 and w(m, d) = (N−d)·C(N−d−1, m−2)/C(N, m) (the expected number of
  gaps of length d in a uniform m-subset),
  H_m = m·H(μ) + Σ_d w(m, d) h̃(d) and g(m) = H(μ) + Σ_d Δw(m, d) h̃(d), with the exact integer form
  Δw(m, d) = w(m, d)·[2(N−m) − (m+1)(d−1)] / ((m−1)(N−m)). Cost O(N·D) where D is the number of gaps
  kept: |h̃(d)| is non-increasing in d (data processing), so dropping d > D changes g by at most
  2N·|h̃(D+1)|, reported as ``profile.error``.
* **Exchangeable binary laws** (Beta–Bernoulli, the noisy repeated bit): g(m) = Σ_j P(j ones in m)·h₂(p(m, j))
  with the predictive p(m, j); the count law is propagated by the predictive, O(N²) without special functions.
* **Parities and the repeated bit** from their subset-entropy formulas.

**Convention (q-ary chain):** "flip probability ε" means the chain leaves its state with probability ε
and then moves to one of the other q − 1 states uniformly (q = 2: the binary flip chain). The chain
starts from its stationary law (uniform).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.special import entr, gammaln, rel_entr

from .._validation import check_positive_int, renamed_keywords
from ..targets.chains import stationary_law
from .enumeration import InformationProfile, profile_from_g

__all__ = ["markov_gap_profile", "markov_profile", "markov_transition_profile", "gaussian_ar1_profile",
           "exchangeable_binary_profile", "beta_bernoulli_profile", "noisy_repeated_bit_profile",
           "repeated_bit_profile", "hidden_subset_parity_profile", "parity_profile",
           "FAMILIES", "family_profile"]

_TRUNC = 1e-19  # gaps with N·|h̃(d)| below this (relative to H(μ)) are dropped


def _check_prob(value, name: str, *, open_: bool = False) -> float:
    v = float(value)
    if not np.isfinite(v) or not (0.0 < v < 1.0 if open_ else 0.0 <= v <= 1.0):
        rule = "0 < {0} < 1" if open_ else "0 <= {0} <= 1"
        raise ValueError(f"{name} must satisfy {rule.format(name)}; got {name}={value!r}")
    return v


@renamed_keywords(alphabet_size="vocab_size")
@renamed_keywords(n="seq_len")
def markov_gap_profile(seq_len: int, h_marginal: float, h_tilde, *, vocab_size: int | None = None) -> InformationProfile:
    """Profile of a stationary Markov chain from H(μ) and h̃(d) = H(x_d | x_0) − H(μ), d = 1..N−1 (module doc).

    ``h_tilde`` must be non-positive and non-increasing in |·| (true for every Markov chain).
    """
    seq_len = check_positive_int(seq_len, name="n")
    ht = np.asarray(h_tilde, dtype=np.float64).ravel()
    if ht.size != seq_len - 1 or not np.all(np.isfinite(ht)) or np.any(ht > 1e-15):
        raise ValueError(f"h_tilde must hold N-1={seq_len - 1} finite non-positive values; got size {ht.size}")
    ht = np.minimum(ht, 0.0)
    scale = max(abs(h_marginal), 1.0)
    small = np.nonzero(seq_len * np.abs(ht) <= _TRUNC * scale)[0]
    D = int(small[0]) if small.size else seq_len - 1  # keep d = 1..D
    error = 2.0 * seq_len * abs(ht[D]) if D < seq_len - 1 else 0.0
    ht = ht[:D]
    g = np.full(seq_len, float(h_marginal))
    H = np.arange(seq_len + 1, dtype=np.float64) * h_marginal
    if seq_len >= 2 and D > 0:
        d = np.arange(1, D + 1, dtype=np.float64)
        w = 2.0 * (seq_len - d) / (seq_len * (seq_len - 1.0))  # w(2, d)
        H[2] += w @ ht
        g[1] += w @ ht
        dm1 = d - 1.0
        for m in range(2, seq_len):
            dw = w * ((2.0 * (seq_len - m) - (m + 1.0) * dm1) / ((m - 1.0) * (seq_len - m)))
            g[m] += dw @ ht
            w = np.maximum(w + dw, 0.0)  # exact zeros once C(N−d−1, m−1) = 0
            H[m + 1] += w @ ht
    return profile_from_g(g, H=H, error=error, vocab_size=vocab_size)


def _symmetric_h_tilde(n: int, eps: float, q: int) -> np.ndarray:
    lam = 1.0 - eps * q / (q - 1.0)
    d = np.arange(1, n, dtype=np.float64)
    u = (1.0 - 1.0 / q) * np.sign(lam) ** d * np.abs(lam) ** d  # P(x_d = x_0) − 1/q
    stay = 1.0 / q + u
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(stay > 0, stay * np.log1p(q * u), 0.0)
        b = np.where(stay < 1, (1.0 - stay) * np.log1p(-q * u / (q - 1.0)), 0.0)
    return -(a + b)  # −I(x_0; x_d) = −KL(P^d(x_0, ·) ‖ uniform)


@renamed_keywords(q="vocab_size")
@renamed_keywords(n="seq_len")
def markov_profile(seq_len: int, eps: float, *, vocab_size: int = 2) -> InformationProfile:
    """The closed-form profile of the stationary symmetric q-ary Markov chain with flip probability ε.

    Spec: §6. Only the gaps between consecutive revealed positions matter, so N = 10⁴ takes a fraction of a
    second. **Convention:** leave the current state with probability ε, to one of the other q − 1 uniformly.

    Parameters
    ----------
    seq_len : int
        N.
    eps : float
        ε in [0, 1].
    vocab_size : int
        States, ≥ 2.

    Returns
    -------
    InformationProfile
        With ``error`` bounding the truncated gaps.

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> pr = markov_profile(10_000, 0.1)
    >>> bool(abs(pr.f.sum() - pr.sum_mutual_info / 10_000) < 1e-12)  # Σ f = Σ_j I(x_j; x_−j) / N
    True
    """
    seq_len = check_positive_int(seq_len, name="n")
    vocab_size = check_positive_int(vocab_size, name="q", minimum=2)
    eps = _check_prob(eps, "eps")
    return markov_gap_profile(seq_len, np.log(vocab_size), _symmetric_h_tilde(seq_len, eps, vocab_size), vocab_size=vocab_size)


@renamed_keywords(n="seq_len")
def markov_transition_profile(seq_len: int, transition) -> InformationProfile:
    """The closed-form profile of the stationary Markov chain with any transition matrix.

    Spec: §6, with h̃(d) = −Σ_a μ_a KL(P^d(a, ·) ‖ μ).

    Parameters
    ----------
    seq_len : int
        N.
    transition : array_like, shape (q, q)
        A row-stochastic matrix with a unique stationary law μ.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If the matrix is invalid.

    Examples
    --------
    >>> a = markov_transition_profile(50, [[0.9, 0.1], [0.1, 0.9]])
    >>> bool(abs(a.tc - markov_profile(50, 0.1).tc) < 1e-10)
    True
    """
    seq_len = check_positive_int(seq_len, name="n")
    P = np.asarray(transition, dtype=np.float64)
    mu = stationary_law(P)
    h_mu = float(entr(mu).sum())
    ht = np.zeros(max(seq_len - 1, 0))
    Pd = np.eye(P.shape[0])
    for d in range(seq_len - 1):
        Pd = Pd @ P
        ht[d] = min(0.0, -float(mu @ rel_entr(Pd, mu[None, :]).sum(axis=1)))  # −I(x_0; x_d) ≤ 0; rounding can flip it
        if d > 0 and abs(ht[d]) * seq_len <= _TRUNC * max(h_mu, 1.0) and abs(ht[d - 1]) * seq_len <= _TRUNC * max(h_mu, 1.0):
            break  # the remaining gaps are truncated anyway
    return markov_gap_profile(seq_len, h_mu, ht, vocab_size=P.shape[0])


@renamed_keywords(n="seq_len")
def gaussian_ar1_profile(seq_len: int, rho: float, *, sigma: float = 1.0) -> InformationProfile:
    """The differential-entropy profile of the stationary Gaussian AR(1) chain, corr(x_0, x_d) = ρ^d.

    Spec: §6: h̃(d) = ½ log(1 − ρ^{2d}) and H(μ) = ½ log(2πe σ²), which may be negative.

    Parameters
    ----------
    seq_len : int
        N.
    rho : float
        ρ in (−1, 1).
    sigma : float
        The marginal standard deviation σ > 0.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> gaussian_ar1_profile(10, 0.0).tc
    0.0
    """
    seq_len = check_positive_int(seq_len, name="n")
    rho = float(rho)
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must satisfy -1 < rho < 1; got rho={rho!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0; got sigma={sigma!r}")
    d = np.arange(1, seq_len, dtype=np.float64)
    return markov_gap_profile(seq_len, 0.5 * np.log(2 * np.pi * np.e * sigma ** 2), 0.5 * np.log1p(-rho ** (2 * d)))


def exchangeable_binary_profile(n: int, log_predictive) -> InformationProfile:
    """Profile of an exchangeable binary law from its predictive.

    ``log_predictive(m, j)`` returns (log P(next = 1 | j ones in m), log P(next = 0 | j ones in m)) for
    the array j = 0..m. g(m) = E h₂(predictive); the count law is propagated by the predictive.
    """
    n = check_positive_int(n, name="n")
    g = np.zeros(n)
    pmf = np.ones(1)
    for m in range(n):
        j = np.arange(m + 1)
        l1, l0 = log_predictive(m, j)
        p1, p0 = np.exp(l1), np.exp(l0)
        with np.errstate(invalid="ignore"):
            h = -(np.where(p1 > 0, p1 * l1, 0.0) + np.where(p0 > 0, p0 * l0, 0.0))
        live = pmf > 0
        g[m] = float(pmf[live] @ h[live])
        nxt = np.zeros(m + 2)
        nxt[:-1] += pmf * np.where(live, p0, 0.0)
        nxt[1:] += pmf * np.where(live, p1, 0.0)
        pmf = nxt / nxt.sum()
    return profile_from_g(g, vocab_size=2)


@renamed_keywords(n="seq_len")
def beta_bernoulli_profile(seq_len: int, a: float, b: float) -> InformationProfile:
    """The closed-form profile of exchangeable Beta–Bernoulli(a, b) bits.

    Spec: §6: p_j = B(a + j, b + m − j)/B(a, b) and H_m = −Σ_j C(m, j) p_j log p_j.

    Parameters
    ----------
    seq_len : int
        N.
    a, b : float
        > 0.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> pr = beta_bernoulli_profile(20, 1.0, 1.0)
    >>> bool(np.all(pr.f >= 0))
    True
    """
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0):
        raise ValueError(f"a and b must be finite and > 0; got a={a!r}, b={b!r}")

    def pred(m, j):
        den = np.log(a + b + m)
        return np.log(a + j) - den, np.log(b + m - j) - den

    return exchangeable_binary_profile(seq_len, pred)


@renamed_keywords(n="seq_len")
def noisy_repeated_bit_profile(seq_len: int, eta: float) -> InformationProfile:
    """The closed-form profile of the noisy repeated bit: U ~ Bern(½), x_i = U ⊕ W_i, W_i ~ Bern(η).

    Spec: §6 (a two-point mixture of iid Bernoulli(η) and Bernoulli(1 − η)).

    Parameters
    ----------
    seq_len : int
        N.
    eta : float
        η in [0, 1].

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> round(noisy_repeated_bit_profile(4, 0.0).tc / float(np.log(2)), 12)  # η = 0: the repeated bit
    3.0
    """
    eta = _check_prob(eta, "eta")
    with np.errstate(divide="ignore"):
        lt, l1t = np.log(eta), np.log1p(-eta)

    def pred(m, j):
        # posterior log-weights of θ = η and θ = 1 − η given j ones in m
        with np.errstate(invalid="ignore"):
            a = np.where(j > 0, j * lt, 0.0) + np.where(m - j > 0, (m - j) * l1t, 0.0)
            b = np.where(j > 0, j * l1t, 0.0) + np.where(m - j > 0, (m - j) * lt, 0.0)
        top = np.maximum(a, b)
        top = np.where(np.isfinite(top), top, 0.0)
        wa, wb = np.exp(a - top), np.exp(b - top)
        s = wa + wb
        with np.errstate(divide="ignore", invalid="ignore"):
            p1 = np.where(s > 0, (wa * eta + wb * (1 - eta)) / s, 0.5)
            return np.log(p1), np.log1p(-p1)

    return exchangeable_binary_profile(seq_len, pred)


@renamed_keywords(q="vocab_size")
@renamed_keywords(n="seq_len")
def repeated_bit_profile(seq_len: int, *, vocab_size: int = 2) -> InformationProfile:
    """The profile of N copies of one uniform symbol: g(0) = log q and g(m ≥ 1) = 0, so f(1) = log q.

    Spec: §6.

    Parameters
    ----------
    seq_len : int
        N.
    vocab_size : int
        Alphabet size ≥ 2.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> round(repeated_bit_profile(5).dtc / float(np.log(2)), 12)
    1.0
    """
    seq_len = check_positive_int(seq_len, name="n")
    vocab_size = check_positive_int(vocab_size, name="q", minimum=2)
    g = np.zeros(seq_len)
    g[0] = np.log(vocab_size)
    return profile_from_g(g, vocab_size=vocab_size)


@renamed_keywords(n="seq_len")
def hidden_subset_parity_profile(seq_len: int, m: int) -> InformationProfile:
    """The profile of even parity on a hidden subset of size m (the other bits fair).

    Spec: §6: H(x_S) = (|S| − 1[T ⊆ S]) log 2, which gives Z_j = (m/N)·C(N − m, j − m)/C(N − 1, j − 1)·log 2.

    Parameters
    ----------
    seq_len : int
        N.
    m : int
        1 ≤ m ≤ N; m = 1 is independent fair bits with one bit fixed to 0.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> round(hidden_subset_parity_profile(5, 2).tc / float(np.log(2)), 12)
    1.0
    """
    seq_len = check_positive_int(seq_len, name="n")
    m = check_positive_int(m, name="m")
    if m > seq_len:
        raise ValueError(f"m must satisfy 1 <= m <= seq_len={seq_len}; got m={m}")
    j = np.arange(seq_len + 1)
    with np.errstate(invalid="ignore"):
        logp = np.where(j >= m, gammaln(seq_len - m + 1) - gammaln(np.maximum(j - m, 0) + 1) - gammaln(seq_len - j + 1)
                        - (gammaln(seq_len + 1) - gammaln(j + 1) - gammaln(seq_len - j + 1)), -np.inf)
    p = np.exp(logp)  # P(T ⊆ S_j)
    g = np.log(2.0) * (1.0 - (p[1:] - p[:-1]))
    return profile_from_g(g, vocab_size=2)


@renamed_keywords(n="seq_len")
def parity_profile(seq_len: int) -> InformationProfile:
    """The profile of global parity: f(N − 1) = log 2, TC = log 2, DTC = (N − 1) log 2.

    Spec: §6.

    Parameters
    ----------
    seq_len : int
        N ≥ 2.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If N is out of range.

    Examples
    --------
    >>> round(parity_profile(6).dtc / float(np.log(2)), 12)
    5.0
    """
    return hidden_subset_parity_profile(seq_len, seq_len)


FAMILIES = {
    # name: (function, required parameters, optional parameters with defaults)
    "markov": (markov_profile, ("n", "eps"), {"vocab_size": 2}),
    "beta-bernoulli": (beta_bernoulli_profile, ("n", "a", "b"), {}),
    "noisy-repeated-bit": (noisy_repeated_bit_profile, ("n", "eta"), {}),
    "repeated-bit": (repeated_bit_profile, ("n",), {"vocab_size": 2}),
    "parity": (parity_profile, ("n",), {}),
    "hidden-parity": (hidden_subset_parity_profile, ("n", "m"), {}),
    "gaussian-ar1": (gaussian_ar1_profile, ("n", "rho"), {}),
}


#: refuse closed forms estimated to take longer than this by default (raise ``max_seconds``)
DEFAULT_MAX_PROFILE_SECONDS = 60.0


def _gaps(decay: float) -> float:
    """How many gaps d a chain keeps before |decay|^d falls below 1e-20 (its truncation; ∞ without decay)."""
    decay = abs(decay)
    return math.inf if decay >= 1.0 else (0.0 if decay == 0.0 else math.log(1e-20) / math.log(decay))


def profile_seconds(family: str, params: Mapping[str, float]) -> float:
    """A conservative estimate of the seconds :func:`family_profile` takes on one core of the project's VM
    (Markov chains and AR(1) cost N·min(N, gaps kept); the exchangeable mixtures N²)."""
    n = float(params.get("n") or 0)
    if family == "markov":
        q = params.get("vocab_size") or 2
        gaps = _gaps(1.0 - q * float(params.get("eps") or 0.0) / (q - 1))
        return 3e-9 * n * min(n, gaps) + 5e-6 * n
    if family == "gaussian-ar1":
        return 3e-9 * n * min(n, _gaps(float(params.get("rho") or 0.0))) + 5e-6 * n
    if family in ("beta-bernoulli", "noisy-repeated-bit"):
        return 1.5e-8 * n * n
    return 1e-7 * n


def family_profile(family: str, params: Mapping[str, float], *,
                   max_seconds: float = DEFAULT_MAX_PROFILE_SECONDS) -> InformationProfile:
    """The closed-form profile of a named target family, from a mapping of its parameters.

    Spec: §6. ``FAMILIES`` lists each family with its required and optional parameters; a parameter the family
    does not take is refused (entries that are None count as not given).

    Parameters
    ----------
    family : str
        A key of ``FAMILIES``: markov, beta-bernoulli, noisy-repeated-bit, repeated-bit, parity, hidden-parity,
        gaussian-ar1.
    params : mapping
        The family's parameters, e.g. ``{"n": 5, "eps": 0.1}``.
    max_seconds : float
        Refuse, before any work, a profile estimated (:func:`profile_seconds`) to take longer.

    Returns
    -------
    InformationProfile

    Raises
    ------
    ValueError
        If the family is unknown, a required parameter is missing, a parameter is not taken by the family, or
        a value is invalid.

    Examples
    --------
    >>> family_profile("markov", {"n": 5, "eps": 0.5}).tc  # ε = ½: independent fair bits
    0.0
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown target family {family!r}; allowed: {', '.join(FAMILIES)}")
    fn, required, optional = FAMILIES[family]
    given = {p: v for p, v in dict(params).items() if v is not None}
    if "q" in given:  # the earlier spelling of vocab_size
        import warnings

        if "vocab_size" in given:
            raise TypeError("family_profile: give 'vocab_size' only ('q' is its earlier spelling)")
        warnings.warn("family_profile: the keyword 'q' is now 'vocab_size'", DeprecationWarning, stacklevel=2)
        given["vocab_size"] = given.pop("q")
    unused = sorted(set(given) - set(required) - set(optional))
    if unused:
        takes = ", ".join([*required, *optional])
        raise ValueError(f"target {family!r} does not take {', '.join(unused)} (it takes: {takes})")
    missing = [p for p in required if p not in given]
    if missing:
        raise ValueError(f"target {family!r} needs {', '.join(missing)}")
    seconds = profile_seconds(family, given)
    if seconds > max_seconds:
        raise ValueError(f"the {family} profile with {', '.join(f'{k}={v}' for k, v in given.items())} would take about "
                         f"{seconds:.3g} s, more than max_seconds={max_seconds:g}; raise max_seconds (CLI: "
                         "--max-seconds) to run it anyway")
    n, *rest = (given[p] for p in required)
    return fn(n, *rest, **{p: given[p] for p in optional if p in given})
