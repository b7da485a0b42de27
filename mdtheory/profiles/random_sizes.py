"""Randomized step sizes: the exact expected KL of the ideal factorized sampler when the sizes are random (§10.1).

The sizes (k_1, …, k_K) are drawn independently of the order; given them, the expected KL is the [CCL] sawtooth
of §7, so for a size law L

    E·KL(L) = E_L[ Σ_j Z_j − Σ_t k_t·Z_{s_{t−1}+1} ] = Σ_j Z_j − E_L Σ_t k_t·Z_{s_{t−1}+1}.

Three routes, each exact:

* :func:`expected_kl_random_sizes`, the generating recursion. The built-in laws draw each size from the
  number s already revealed (and the step t), so E Σ_t k_t Z_{s_{t−1}+1} = Σ_{t,s} P(s_{t−1} = s)·E[k_t | s, t]·Z_{s+1}:
  O(K·N) for the multinomial split, O(N·(support of a size)) for the Poisson split, a finite mixture for
  the random geometric ratio. N = 10⁴ with the Markov curve takes well under a second.
* :func:`expected_kl_over_compositions`, a sum over the compositions of any finite size law given as
  {sizes: probability} (:meth:`SizeLaw.compositions` lists them for the built-in laws, N ≲ 16).
* :func:`random_sizes_bruteforce`, the oracle: every assignment of tokens to steps (multinomial), every branch
  of the size process (Poisson), every ratio (geometric), each averaged over all N! orders of the target
  literally (:func:`mdtheory.profiles.enumeration.efact_bruteforce`), N ≤ 7.

The size laws (**conventions**, listed in docs/conventions.md):

* ``multinomial(K)``: every token picks one of K steps uniformly and independently (the Binomial split:
  k_t | s ~ Binomial(N − s, 1/(K − t + 1))); empty steps cost nothing and are not counted as steps.
* ``poisson(m)``: each step reveals 1 + Poisson(m − 1) tokens, the last step what is left; about N/m steps.
* ``geometric(K, direction)``: a ratio ρ drawn uniformly from a grid of 9 values, log-spaced over
  [ρ_K/2, 2ρ_K], where ρ_K is the smallest ratio whose geometric schedule (§5.5) has at most K steps; the
  schedule is then the geometric one of that ratio. ``decreasing`` ends with single tokens (the Õ(TC/K)
  law), ``increasing`` starts with them (the Õ(DTC/K) law). Neither needs the target's profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from itertools import product

import numpy as np
from scipy import stats

from .._validation import DEFAULT_MAX_SECONDS, check_positive_int, check_work
from .closed_forms import hidden_subset_parity_profile, markov_profile, parity_profile, repeated_bit_profile
from .enumeration import InformationProfile

__all__ = ["SizeLaw", "size_law", "RandomSizesKL", "expected_kl_random_sizes", "expected_kl_over_compositions",
           "random_sizes_bruteforce", "SIZE_LAWS", "DIAGNOSTIC_FAMILIES"]

SIZE_LAWS = ("multinomial", "poisson", "geometric")


#: the diagnostic families of §10.1, name → profile(N) (TC, DTC in bits: parity 1, N − 1; copy N − 1, 1;
#: pair parity 1, 1), and a smooth one
DIAGNOSTIC_FAMILIES = {"parity (m = N)": parity_profile, "copy": repeated_bit_profile,
                       "pair parity (m = 2)": partial(hidden_subset_parity_profile, m=2),
                       "Markov (ε = 0.1)": partial(markov_profile, eps=0.1)}
_GRID = 9  # ratios of the random geometric law


@dataclass(frozen=True)
class SizeLaw:
    """A law of step sizes, drawn independently of the order (§10.1); build it with :func:`size_law`."""

    name: str
    n_steps: int | None = None
    mean_size: float | None = None
    direction: str = "decreasing"

    def describe(self) -> str:
        if self.name == "multinomial":
            return f"multinomial(K={self.n_steps})"
        if self.name == "poisson":
            return f"poisson(mean size {self.mean_size:g})"
        return f"geometric(K={self.n_steps}, {self.direction})"

    def ratios(self, n: int) -> np.ndarray:
        """The ρ grid of the geometric law at N = n."""
        from .schedule_shapes import geometric_schedule

        K = min(self.n_steps, n)
        lo, hi = 0.0, float(n)  # geometric_schedule(rho=n) has two steps; bisect the smallest ρ with ≤ K steps
        if K >= n:
            base = 1e-9
        else:
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if len(geometric_schedule(n, rho=mid, direction=self.direction)) <= K:
                    hi = mid
                else:
                    lo = mid
            base = hi
        return base * np.logspace(-1, 1, _GRID, base=2.0)

    def compositions(self, n: int) -> dict:
        """Every composition of N this law can draw, with its probability: {sizes (empty steps dropped): p}.

        Enumerates weak compositions (multinomial), branches of the size process (Poisson) or ratios (geometric);
        refuses N > 16."""
        n = check_positive_int(n, name="n")
        if n > 16:
            raise ValueError(f"enumerating compositions needs N <= 16; got N={n} (use expected_kl_random_sizes)")
        law: dict = {}
        if self.name == "multinomial":
            K = self.n_steps
            for cut in _weak_compositions(n, K):
                log_p = math.lgamma(n + 1) - sum(math.lgamma(k + 1) for k in cut) - n * math.log(K)
                key = tuple(k for k in cut if k)
                law[key] = law.get(key, 0.0) + math.exp(log_p)
        elif self.name == "poisson":
            lam = self.mean_size - 1.0

            def branch(left: int, prefix: tuple, p: float) -> None:
                if left == 0:
                    law[prefix] = law.get(prefix, 0.0) + p
                    return
                for k in range(1, left):
                    branch(left - k, prefix + (k,), p * float(stats.poisson.pmf(k - 1, lam)))
                branch(0, prefix + (left,), p * float(stats.poisson.sf(left - 2, lam)))  # P(1 + Poisson ≥ left)

            branch(n, (), 1.0)
        else:
            from .schedule_shapes import geometric_schedule

            for rho in self.ratios(n):
                key = tuple(int(k) for k in geometric_schedule(n, rho=float(rho), direction=self.direction))
                law[key] = law.get(key, 0.0) + 1.0 / _GRID
        return law


def _weak_compositions(n: int, parts: int):
    if parts == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in _weak_compositions(n - first, parts - 1):
            yield (first,) + rest


def size_law(name: str, *, n_steps: int | None = None, mean_size: float | None = None,
             direction: str = "decreasing") -> SizeLaw:
    """A law of random step sizes (module doc lists them).

    Spec: §10.1.

    Parameters
    ----------
    name : {"multinomial", "poisson", "geometric"}
        The law.
    n_steps : int, optional
        K, for ``multinomial`` and ``geometric``.
    mean_size : float, optional
        m ≥ 1, the mean size of a ``poisson`` step.
    direction : {"decreasing", "increasing"}
        Of the ``geometric`` law.

    Returns
    -------
    SizeLaw

    Raises
    ------
    ValueError
        For an unknown law or a parameter out of range.

    Examples
    --------
    >>> law = size_law("multinomial", n_steps=2)
    >>> {k: round(v, 4) for k, v in sorted(law.compositions(2).items())}
    {(1, 1): 0.5, (2,): 0.5}
    """
    if name not in SIZE_LAWS:
        raise ValueError(f"name must be one of {', '.join(SIZE_LAWS)}; got name={name!r}")
    if name in ("multinomial", "geometric"):
        n_steps = check_positive_int(n_steps, name="n_steps") if n_steps is not None else None
        if n_steps is None or (name == "geometric" and n_steps < 2):
            raise ValueError(f"the {name} law needs n_steps >= {2 if name == 'geometric' else 1}; got {n_steps!r}")
        if mean_size is not None:
            raise ValueError(f"the {name} law takes n_steps, not mean_size")
    else:
        if n_steps is not None:
            raise ValueError("the poisson law takes mean_size, not n_steps")
        if mean_size is None or isinstance(mean_size, bool) or not np.isfinite(float(mean_size)) \
                or float(mean_size) < 1:
            raise ValueError(f"mean_size must be a finite number >= 1; got mean_size={mean_size!r}")
        mean_size = float(mean_size)
    if direction not in ("decreasing", "increasing"):
        raise ValueError(f"direction must be 'decreasing' or 'increasing'; got direction={direction!r}")
    return SizeLaw(name, n_steps, mean_size, direction)


@dataclass(frozen=True)
class RandomSizesKL:
    """Exact E·KL of a size law on a profile, with the expected number of (non-empty) steps."""

    expected_kl: float
    expected_steps: float
    law: str
    method: str

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


#: the recursion's cost on one core of the project's VM (N = 2000–10000; used only to refuse work up front):
#: K·N binomial terms per second for the multinomial law, and seconds per (position, Poisson term) pair
MULTINOMIAL_TERMS_PER_SECOND = 5e6
POISSON_SECONDS_PER_POSITION, POISSON_SECONDS_PER_TERM = 3e-5, 2e-7


def expected_kl_random_sizes(profile: InformationProfile, law: SizeLaw, *,
                             max_seconds: float = DEFAULT_MAX_SECONDS) -> RandomSizesKL:
    """The exact E·KL of the ideal factorized sampler with random sizes, by the generating recursion.

    Spec: §10.1: E·KL = Σ_j Z_j − Σ_{t,s} P(s_{t−1} = s)·E[k_t | s, t]·Z_{s+1}.

    Parameters
    ----------
    profile : InformationProfile
        The target's profile (any N; the Markov curve reaches N = 10⁴).
    law : SizeLaw
        From :func:`size_law`.
    max_seconds : float
        Refuse (before any work) a recursion estimated to take longer on one core: about K·N/5e6 s for the
        multinomial law, N·(3e-5 + 2e-7·T) s for the Poisson law with T ≈ λ + 12√λ + 40 terms (``inf``: no guard).

    Returns
    -------
    RandomSizesKL
        ``expected_kl`` (nats, KL(π ‖ ν), data law first) and ``expected_steps``.

    Raises
    ------
    WorkTooLarge
        If the estimate exceeds ``max_seconds`` (a ``ValueError``).

    Examples
    --------
    >>> from mdtheory.profiles import repeated_bit_profile
    >>> r = expected_kl_random_sizes(repeated_bit_profile(6), size_law("multinomial", n_steps=6))
    >>> round(r.expected_kl / float(np.log(2)), 6)  # E[k_first − 1]·log 2
    0.569059
    """
    if not isinstance(law, SizeLaw):
        raise TypeError(f"law must be a SizeLaw (mdtheory.size_law); got {law!r}")
    n = profile.n
    Z = profile.Z
    total = float(Z.sum())
    s = np.arange(n + 1)
    if law.name == "multinomial":
        K = law.n_steps
        check_work(K * n / MULTINOMIAL_TERMS_PER_SECOND, limit=max_seconds, option="max_seconds",
                   what=f"the multinomial size law's recursion at N={n}, K={K} (K·N = {K * n:.3g} terms)")
        reward = 0.0
        steps = 0.0
        for t in range(1, K + 1):
            pmf = stats.binom.pmf(s[:-1], n, (t - 1) / K)  # s_{t−1} ~ Binomial(N, (t − 1)/K)
            reward += float(pmf @ ((n - s[:-1]) / (K - t + 1) * Z))
        steps = K * (1.0 - (1.0 - 1.0 / K) ** n)
    elif law.name == "poisson":
        lam = law.mean_size - 1.0
        top = int(lam + 12 * math.sqrt(lam) + 40)  # P(Poisson > top) < 1e-17: the rest goes to the last step
        check_work(n * (POISSON_SECONDS_PER_POSITION + POISSON_SECONDS_PER_TERM * top), limit=max_seconds,
                   option="max_seconds", what=f"the Poisson size law's recursion at N={n}, mean size "
                                              f"{law.mean_size:g} ({top} terms per position)")
        k = np.arange(1, top + 1)
        pk = stats.poisson.pmf(k - 1, lam)
        visit = np.zeros(n + 1)
        visit[0] = 1.0
        reward = 0.0
        for a in range(n):
            if visit[a] == 0.0:
                continue
            left = n - a
            take = np.minimum(k, left)
            p = pk.copy()
            p[take == left] = 0.0
            p_end = max(0.0, 1.0 - p.sum())  # everything at least `left` is truncated to the last step
            np.add.at(visit, a + take[take < left], visit[a] * p[take < left])
            visit[n] += visit[a] * p_end
            reward += visit[a] * Z[a] * float(p[take < left] @ take[take < left] + p_end * left)
        steps = float(visit[:n].sum())
    else:
        from .bounds import ccl_expected_kl
        from .schedule_shapes import geometric_schedule

        schedules = [geometric_schedule(n, rho=float(r), direction=law.direction) for r in law.ratios(n)]
        kl = float(np.mean([ccl_expected_kl(profile, sz) for sz in schedules]))
        return RandomSizesKL(max(kl, 0.0), float(np.mean([len(sz) for sz in schedules])), law.describe(),
                             "recursion")
    return RandomSizesKL(max(total - reward, 0.0), float(steps), law.describe(), "recursion")


def expected_kl_over_compositions(profile: InformationProfile, compositions: dict) -> RandomSizesKL:
    """The exact E·KL of any finite size law, summed over its compositions.

    Spec: §10.1.

    Parameters
    ----------
    profile : InformationProfile
        The profile.
    compositions : dict
        {sizes (a composition of N): probability}, probabilities summing to 1 (e.g. :meth:`SizeLaw.compositions`).

    Returns
    -------
    RandomSizesKL

    Raises
    ------
    ValueError
        If the probabilities are negative or do not sum to 1, or a key is not a composition of N.

    Examples
    --------
    >>> from mdtheory.profiles import repeated_bit_profile
    >>> r = expected_kl_over_compositions(repeated_bit_profile(4), {(2, 2): 0.5, (1, 1, 1, 1): 0.5})
    >>> round(r.expected_kl / float(np.log(2)), 12), r.expected_steps
    (0.5, 3.0)
    """
    from .bounds import ccl_expected_kl

    probs = np.array(list(compositions.values()), dtype=np.float64)
    if probs.size == 0 or np.any(~np.isfinite(probs)) or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-9:
        raise ValueError("compositions must map compositions of N to probabilities >= 0 summing to 1")
    kl = sum(p * ccl_expected_kl(profile, list(sizes)) for sizes, p in compositions.items())
    steps = sum(p * len(sizes) for sizes, p in compositions.items())
    return RandomSizesKL(max(float(kl), 0.0), float(steps), "given compositions", "compositions")


def random_sizes_bruteforce(target, law: SizeLaw) -> float:
    """E·KL by brute force over orders and sizes: every token-to-step assignment (multinomial), every branch of
    the size process (Poisson), every ratio (geometric), each averaged over all N! orders of the target
    literally. Reference for N ≤ 7, slow by design.

    Spec: §10.1, §5.1.

    Parameters
    ----------
    target : JointTable
        π, N ≤ 7.
    law : SizeLaw
        The size law.

    Returns
    -------
    float
        E·KL in nats.

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> round(random_sizes_bruteforce(repeated_bit(3), size_law("multinomial", n_steps=3)) / float(np.log(2)), 6)
    0.555556
    """
    from .enumeration import efact_bruteforce
    from .schedule_shapes import geometric_schedule

    n = target.n
    if n > 7:
        raise ValueError(f"the brute force needs N <= 7; got N={n}")
    cache: dict = {}

    def cost(sizes: tuple) -> float:
        if sizes not in cache:
            cache[sizes] = efact_bruteforce(target, list(sizes))
        return cache[sizes]

    if law.name == "multinomial":
        K = law.n_steps
        total = 0.0
        for assignment in product(range(K), repeat=n):  # token j goes to step assignment[j]
            sizes = tuple(c for c in (assignment.count(t) for t in range(K)) if c)
            total += cost(sizes) / K ** n
        return total
    if law.name == "poisson":
        lam = law.mean_size - 1.0

        def walk(left: int, prefix: tuple) -> float:
            if left == 0:
                return cost(prefix)
            out, tail = 0.0, 1.0
            for extra in range(left - 1):  # 1 + Poisson = extra + 1 < left
                w = math.exp(-lam) * lam ** extra / math.factorial(extra) if lam > 0 else float(extra == 0)
                tail -= w
                out += w * walk(left - extra - 1, prefix + (extra + 1,))
            return out + tail * walk(0, prefix + (left,))

        return walk(n, ())
    return float(np.mean([cost(tuple(int(k) for k in geometric_schedule(n, rho=float(r), direction=law.direction)))
                          for r in law.ratios(n)]))
