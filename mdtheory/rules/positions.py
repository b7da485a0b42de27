"""Position rules: how a choose-then-sample round scores the masked positions (§2.2, §2.3).

A position rule is a frozen dataclass with its parameters, validated once, and two hooks that state its
mathematics in numpy:

* :meth:`PositionRule.scores` maps log-predictions (…, N, V) (rows may be unnormalised logits) to scores
  (…, N);
* :attr:`PositionRule.noise_scale` is the scale σ of the Gumbel noise added to them. The set a round keeps is
  the top k of score + σ·Gumbel: a Plackett–Luce draw on exp(score/σ) for σ > 0, and the deterministic top k
  for σ = 0, with ties (equal on the 2^-36 grid of :func:`tie_keys`) split uniformly or won by the lower
  index.

The exact laws (:mod:`mdtheory.exact`) read these hooks; the torch rounds execute the same rules on a device
and a test checks their scores against these on tables where the rules rank positions differently.
A rule never looks at token draws that are later discarded (§2.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_alpha, check_unit_interval
from .tokens import log_normalise as normalised_log_probs
from .tokens import logsumexp_rows as _logsumexp

__all__ = ["PositionRule", "UniformRule", "MomentRule", "ConfidenceRule", "MarginRule", "EntropyRule",
           "FixedOrderRule", "HybridRule", "TIE_SCALE", "tie_keys"]

TIE_SCALE = 2.0 ** 36  # deterministic rankings: scores equal on the 2^-36 grid are ties


def tie_keys(scores):
    """Scores rounded to the 2^-36 grid (numpy array or torch tensor): the keys every deterministic rule
    ranks by — in the samplers and in the exact laws alike — so that scores differing only by float
    rounding (symmetric positions) tie exactly. ±inf stay ±inf."""
    if hasattr(scores, "detach"):  # a torch tensor (no torch import here)
        return (scores.double() * TIE_SCALE).round()
    return np.round(np.asarray(scores, dtype=np.float64) * TIE_SCALE)


@dataclass(frozen=True)
class PositionRule:
    """Base class: scores of positions and the scale of the Gumbel noise added to them (module doc).

    Spec: §2.3.
    """

    def scores(self, log_probs) -> np.ndarray:  # pragma: no cover
        """Noise-free scores (…, N) of the positions, from log-predictions (…, N, V)."""
        raise NotImplementedError

    @property
    def noise_scale(self) -> float:
        """Scale σ of the Gumbel noise added to :meth:`scores` (0: deterministic top-k)."""
        return 0.0

    @property
    def deterministic(self) -> bool:
        """True when the set is the top k of the scores (ties split by the round's tie rule)."""
        return self.noise_scale == 0.0


@dataclass(frozen=True)
class UniformRule(PositionRule):
    """Uniformly random positions: MDLM's ancestral order.

    Spec: §2.3. Every k-subset of the masked positions is equally likely (equal scores, Gumbel noise of scale 1).

    Examples
    --------
    >>> UniformRule().scores(np.zeros((3, 2))).tolist(), UniformRule().noise_scale
    ([0.0, 0.0, 0.0], 1.0)
    """

    def scores(self, log_probs):
        return np.zeros(np.shape(log_probs)[:-1])

    @property
    def noise_scale(self) -> float:
        return 1.0


@dataclass(frozen=True)
class MomentRule(PositionRule):
    """Plackett–Luce on the moments m_i = Σ_s p_i(s)^β, β = 1 + 1/α: the moment sampler's positions.

    Spec: §2.2, §2.3 (re-derived form of [H] Algorithm 2). The score is log m_i; α = 0 ranks by
    log max_s p_i(s) without noise (ties uniform), α = ∞ is uniform.

    Parameters
    ----------
    alpha : float
        α in [0, ∞].
    deterministic_order : bool
        Take the top k of m without noise (the noiseless limit).

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> lp = np.log([[0.5, 0.5], [0.9, 0.1]])
    >>> MomentRule(alpha=1.0).scores(lp).round(4).tolist()  # log(0.5), log(0.82)
    [-0.6931, -0.1985]
    """

    alpha: float = 1.0
    deterministic_order: bool = False

    def __post_init__(self):
        check_alpha(self.alpha, name="alpha")

    @property
    def noise_scale(self) -> float:
        return 0.0 if (self.deterministic_order or self.alpha == 0.0) and self.alpha != math.inf else 1.0

    def scores(self, log_probs):
        lp = normalised_log_probs(log_probs)
        if self.alpha == math.inf:
            return np.zeros(lp.shape[:-1])
        if self.alpha == 0.0:
            return lp.max(axis=-1)
        return _logsumexp((1.0 + 1.0 / self.alpha) * lp)  # log m_i


@dataclass(frozen=True)
class _NoisyRule(PositionRule):
    """A score-based rule with optional Gumbel noise of scale ``noise``; deterministic when noise = 0."""

    noise: float = 0.0

    def __post_init__(self):
        n = self.noise
        if isinstance(n, bool) or not (isinstance(n, (int, float, np.floating)) and n >= 0 and math.isfinite(n)):
            raise ValueError(f"noise must be finite and >= 0; got noise={n!r}")

    @property
    def noise_scale(self) -> float:
        return float(self.noise)


@dataclass(frozen=True)
class ConfidenceRule(_NoisyRule):
    """Most confident first: the score is log max_s p_i(s), optionally with Gumbel noise.

    Spec: §2.3. Without noise the rule is deterministic and ties are split by the round's tie rule.

    Parameters
    ----------
    noise : float
        Scale of the Gumbel noise added to log max_s p_i(s) (0: deterministic).

    Examples
    --------
    >>> ConfidenceRule().scores(np.log([[0.5, 0.5], [0.9, 0.1]])).round(4).tolist()
    [-0.6931, -0.1054]
    """

    def scores(self, log_probs):
        return normalised_log_probs(log_probs).max(axis=-1)


@dataclass(frozen=True)
class MarginRule(_NoisyRule):
    """Largest margin first: the top-1 minus the top-2 probability, p_(1) − p_(2), optionally with Gumbel noise.

    Spec: §2.3.

    Parameters
    ----------
    noise : float
        Scale of the Gumbel noise added to the margin (0: deterministic).

    Examples
    --------
    >>> MarginRule().scores(np.log([[0.5, 0.45, 0.05], [0.45, 0.3, 0.25]])).round(4).tolist()
    [0.05, 0.15]
    """

    def scores(self, log_probs):
        p = np.exp(normalised_log_probs(log_probs))
        top2 = -np.sort(-p, axis=-1)[..., :2]
        return top2[..., 0] - top2[..., 1]


@dataclass(frozen=True)
class EntropyRule(_NoisyRule):
    """Lowest entropy first: the score is −H(p_i), Shannon (order 1) or Rényi of another order.

    Spec: §2.3. H_a(p) = log Σ_s p(s)^a / (1 − a) for a ≠ 1.

    Parameters
    ----------
    noise : float
        Scale of the Gumbel noise added to −H (0: deterministic).
    order : float
        Rényi order > 0; 1 is Shannon's entropy.

    Raises
    ------
    ValueError
        If ``order`` is not > 0.

    Examples
    --------
    >>> EntropyRule().scores(np.log([[0.5, 0.5], [0.9, 0.1]])).round(4).tolist()
    [-0.6931, -0.3251]
    """

    order: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        if not (isinstance(self.order, (int, float, np.floating)) and self.order > 0 and math.isfinite(self.order)):
            raise ValueError(f"order must be > 0 (Rényi order); got order={self.order!r}")

    def scores(self, log_probs):
        lp = normalised_log_probs(log_probs)
        if self.order == 1.0:
            p = np.exp(lp)
            return (p * np.where(p > 0, lp, 0.0)).sum(axis=-1)
        return -_logsumexp(self.order * lp) / (1.0 - self.order)


@dataclass(frozen=True)
class FixedOrderRule(PositionRule):
    """A fixed reveal order (raster, Halton, van der Corput, …): the earliest still-masked positions first.

    Spec: §2.3. The score of position i is −(its rank in ``order``). Build ``order`` with
    :func:`mdtheory.rules.orders.halton_order` and its siblings.

    Parameters
    ----------
    order : tuple of int
        A permutation of range(N).

    Raises
    ------
    ValueError
        If ``order`` is not a permutation, or its length differs from N when used.

    Examples
    --------
    >>> FixedOrderRule((2, 0, 1)).scores(np.zeros((3, 2))).tolist()
    [-1.0, -2.0, -0.0]
    """

    order: tuple[int, ...] = field(default=())

    def __post_init__(self):
        arr = np.asarray(self.order, dtype=np.int64)
        if arr.ndim != 1 or not np.array_equal(np.sort(arr), np.arange(arr.size)):
            raise ValueError("order must be a permutation of range(n_positions)")
        object.__setattr__(self, "order", tuple(int(x) for x in arr))

    def rank(self, n_positions: int) -> np.ndarray:
        """rank[i] = where position i comes in the order (checks the length against N)."""
        if len(self.order) != n_positions:
            raise ValueError(f"order has length {len(self.order)} but log_probs has n_positions={n_positions}")
        rank = np.empty(n_positions)
        rank[list(self.order)] = np.arange(n_positions, dtype=np.float64)
        return rank

    def scores(self, log_probs):
        shape = np.shape(log_probs)[:-1]
        return np.broadcast_to(-self.rank(shape[-1]), shape).copy()


@dataclass(frozen=True)
class HybridRule(PositionRule):
    """Exploration/exploitation merge: ⌈γk⌉ positions from one rule, the rest from another.

    Spec: §2.3, §4.5 ([H] §4.2). Take the first :meth:`exploit_count` positions of ``exploit``, then fill up to
    k from ``explore`` among the positions left. **Convention:** the merge is asymmetric, as in [H]. A hybrid
    has no scores of its own: the rounds and the exact laws compose its two rules.

    Parameters
    ----------
    exploit : PositionRule
        The exploitation rule (confidence by default).
    explore : PositionRule
        The exploration rule (uniform by default; a Halton ``FixedOrderRule`` in [H]).
    gamma : float
        γ in [0, 1]; 1 is pure exploitation, 0 pure exploration.

    Raises
    ------
    ValueError
        If ``gamma`` is outside [0, 1].

    Examples
    --------
    >>> HybridRule(gamma=0.5).exploit_count(3)
    2
    """

    exploit: PositionRule = field(default_factory=ConfidenceRule)
    explore: PositionRule = field(default_factory=UniformRule)
    gamma: float = 0.5

    def __post_init__(self):
        check_unit_interval(self.gamma, name="gamma")
        for name in ("exploit", "explore"):
            if not isinstance(getattr(self, name), PositionRule):
                raise TypeError(f"{name} must be a PositionRule; got {type(getattr(self, name)).__name__}")

    def exploit_count(self, k: int) -> int:
        """⌈γk⌉, the positions of a step of size k taken from the exploitation rule (1e-12 absorbs γk's rounding)."""
        return int(math.ceil(self.gamma * k - 1e-12))

    def scores(self, log_probs):
        raise TypeError("HybridRule has no scores of its own: it merges the sets of its exploit and explore rules")
