"""Round rules: what one round of a masked-diffusion sampler does, as data (§2, §2.5, §8).

Every round a sampler in the field performs is one of five shapes, each a frozen dataclass holding a token law
(:mod:`mdtheory.rules.tokens`) and, where it chooses positions by scores, a position rule
(:mod:`mdtheory.rules.positions`):

* :class:`ChooseThenSample` (§2.2, §2.3): a position rule picks k positions, then each draws a token from the
  token law. The moment sampler, uniform/confidence/margin/entropy orders, fixed orders, hybrids.
* :class:`SampleThenChoose` (§2.1, §2.5): every masked position draws a candidate x̃_i from the token law q_i,
  then the k with the largest confidence + noise·Gumbel keep their candidates. The confidence is
  log p_i(x̃_i) (MaskGIT; LLaDA's low-confidence remasking), log q_i(x̃_i) (tempered confidence) or
  q_i(x̃_i) itself (Dream, whose noise is its ``alg_temp``).
* :class:`EntropyPrefix` (§8, §10.6): positions by increasing entropy of the token law (ties by index), the
  largest prefix whose entropy sum — less its largest term for the EB-sampler — stays within a budget, at
  least one. A variable-size, deterministic set.
* :class:`Threshold` (§8, §9): candidates as in sample-then-choose; every position whose confidence exceeds θ
  if at least m do, else the top m (Fast-dLLM, LLaDA2, block refinement). Variable size.
* :class:`Bernoulli` (MDLM ancestral): every masked position is revealed independently with probability
  ``rate``, its token from the token law. Variable size.

**Ties.** Deterministic choices (noise 0) rank scores on the 2^-36 grid (:func:`tie_keys`); equal keys are split
uniformly (``ties="uniform"``, mdtheory's samplers and the limit of their noisy versions) or won by the lower
position index (``ties="first"``, what a stable sort does).

**Final-step convention** (§2.2, [H] App. D): on the step that reveals every remaining position a
choose-then-sample round draws untempered tokens (:meth:`Rule.at_final`); a sample-then-choose round keeps
every candidate there, so it needs no change. This is the one place the convention is written.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from .._validation import check_alpha
from .positions import EntropyRule, HybridRule, PositionRule, UniformRule
from .tokens import Identity, TokenTransform

__all__ = ["Rule", "ChooseThenSample", "SampleThenChoose", "EntropyPrefix", "Threshold", "Bernoulli", "TIES",
           "ENTROPY_TOLERANCE", "shannon_entropy"]

TIES = ("uniform", "first")
#: an entropy prefix's sum may exceed its budget by this much (rounding of the cumulative sum)
ENTROPY_TOLERANCE = 1e-12


def _check_ties(ties: str) -> None:
    if ties not in TIES:
        raise ValueError(f"ties must be 'uniform' or 'first'; got ties={ties!r}")


def _check_transform(t) -> None:
    if not isinstance(t, TokenTransform):
        raise TypeError(f"token_transform must be a TokenTransform (Identity, Temperature, Truncated); "
                        f"got {type(t).__name__}")


def shannon_entropy(probs) -> np.ndarray:
    """Shannon entropies (…,) of rows of probabilities (…, V), in nats (0 log 0 = 0).

    Examples
    --------
    >>> shannon_entropy([[0.5, 0.5], [0.9, 0.1]]).round(4).tolist()
    [0.6931, 0.3251]
    """
    with np.errstate(divide="ignore"):
        return -EntropyRule().scores(np.log(np.asarray(probs, dtype=np.float64)))


@dataclass(frozen=True)
class Rule:
    """Base class of the rules of one round (module doc).

    Spec: §2. ``variable`` is True for rules whose number of revealed positions is random or set by the
    predictions; those are not given k.
    """

    variable: ClassVar[bool] = False

    def at_final(self) -> Rule:
        """The rule used on the step that reveals every remaining position (module doc: final-step convention)."""
        return self


@dataclass(frozen=True)
class ChooseThenSample(Rule):
    """Choose k positions by a position rule, then draw their tokens from the token law.

    Spec: §2.3 (re-derived form of [H] Algorithm 3). The rule never sees token draws, so the round's law is
    the rule's set law times the product of the token laws of the chosen rows.

    Parameters
    ----------
    position_rule : PositionRule
        How the set is chosen.
    token_transform : TokenTransform
        The token law (``Identity()`` by default).
    ties : {"uniform", "first"}
        How a deterministic rule splits equal scores.

    Examples
    --------
    >>> from mdtheory.rules import ConfidenceRule, Temperature
    >>> ChooseThenSample(ConfidenceRule(), Temperature(0.5)).at_final().token_transform
    Identity()
    """

    position_rule: PositionRule = field(default_factory=UniformRule)
    token_transform: TokenTransform = field(default_factory=Identity)
    ties: Literal["uniform", "first"] = "uniform"

    def __post_init__(self):
        if not isinstance(self.position_rule, PositionRule):
            raise TypeError(f"position_rule must be a PositionRule; got {type(self.position_rule).__name__}")
        _check_transform(self.token_transform)
        _check_ties(self.ties)

    def at_final(self) -> ChooseThenSample:
        return dataclasses.replace(self, token_transform=Identity())

    @property
    def hybrid(self) -> bool:
        return isinstance(self.position_rule, HybridRule)


@dataclass(frozen=True)
class SampleThenChoose(Rule):
    """Draw a candidate everywhere from the token law q, keep the k most confident (confidence + noise·Gumbel).

    Spec: §2.1 (MaskGIT: q = p, confidence log p, noise α) and §2.5 (LLaDA, Fast-dLLM, Dream).

    Parameters
    ----------
    token_transform : TokenTransform
        The candidate law q (``Identity()``: q = p).
    confidence : {"log_p", "log_q", "q"}
        The score of candidate x̃_i: log p_i(x̃_i), log q_i(x̃_i), or q_i(x̃_i) (Dream).
    noise : float
        Gumbel scale in [0, ∞]: α for MaskGIT, ``alg_temp`` for Dream; ∞ gives uniform positions.
    ties : {"uniform", "first"}
        How equal confidences are split when noise = 0.

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> rule = SampleThenChoose(noise=0.5)
    >>> rule.score_table(np.array([[0.75, 0.25]])).round(4).tolist()
    [[-0.2877, -1.3863]]
    """

    token_transform: TokenTransform = field(default_factory=Identity)
    confidence: Literal["log_p", "log_q", "q"] = "log_p"
    noise: float = 1.0
    ties: Literal["uniform", "first"] = "uniform"

    CONFIDENCES: ClassVar[tuple[str, ...]] = ("log_p", "log_q", "q")

    def __post_init__(self):
        _check_transform(self.token_transform)
        if self.confidence not in self.CONFIDENCES:
            raise ValueError(f"confidence must be one of {', '.join(self.CONFIDENCES)}; got {self.confidence!r}")
        object.__setattr__(self, "noise", check_alpha(self.noise, name="noise"))
        _check_ties(self.ties)

    def candidate_law(self, probs) -> np.ndarray:
        """q (N, V): the law candidates are drawn from."""
        return self.token_transform.law(probs)

    def score_table(self, probs) -> np.ndarray:
        """The confidence (N, V) a candidate s at position i gets (−inf where it is impossible)."""
        p = np.asarray(probs, dtype=np.float64)
        with np.errstate(divide="ignore"):
            if self.confidence == "log_p":
                return np.log(p)
            q = self.candidate_law(p)
            return np.log(q) if self.confidence == "log_q" else q


@dataclass(frozen=True)
class EntropyPrefix(Rule):
    """The entropy-sorted prefix: EB (``subtract_max=True``) or entropy-sum decoding (``False``); tokens ~ q.

    Spec: §8 (Ben-Hamu et al.: Σ H − max H ≤ γ), §10.6 (Cai & Li: Σ H ≤ τ). Masked positions by increasing
    Shannon entropy of the token law q (ties by position index); the largest prefix whose sum, less its largest
    term when ``subtract_max``, is at most ``budget`` (+1e-12 for the cumulative sum's rounding); at least one.

    Parameters
    ----------
    budget : float
        γ or τ, finite and ≥ 0 (nats).
    subtract_max : bool
        Subtract the prefix's largest entropy (EB) or not (entropy sum).
    token_transform : TokenTransform
        The token law q (``Identity()``: q = p), whose entropies are summed.

    Examples
    --------
    >>> EntropyPrefix(0.3, subtract_max=True).select(np.array([[0.9, 0.1], [0.5, 0.5], [0.99, 0.01]]))
    (0, 2)
    """

    budget: float = 0.1
    subtract_max: bool = True
    token_transform: TokenTransform = field(default_factory=Identity)

    variable: ClassVar[bool] = True

    def __post_init__(self):
        b = self.budget
        if isinstance(b, bool) or not (isinstance(b, (int, float, np.floating)) and math.isfinite(b) and b >= 0):
            name = "gamma" if self.subtract_max else "threshold"
            raise ValueError(f"{name} must be finite and >= 0; got {name}={b!r}")
        _check_transform(self.token_transform)

    def select(self, probs, masked=None) -> tuple[int, ...]:
        """The revealed positions (sorted) at one state: predictions (N, V), ``masked`` (N,) bool (all by default)."""
        p = np.asarray(probs, dtype=np.float64)
        masked = np.ones(p.shape[0], dtype=bool) if masked is None else np.asarray(masked, dtype=bool)
        h = shannon_entropy(self.token_transform.law(p))
        idx = np.nonzero(masked)[0]
        order = idx[np.lexsort((idx, h[idx]))]  # by entropy, ties by index
        hs = h[order]
        spent = np.cumsum(hs) - (hs if self.subtract_max else 0.0)
        count = max(1, int(np.count_nonzero(spent <= self.budget + ENTROPY_TOLERANCE)))
        return tuple(sorted(int(i) for i in order[:count]))


@dataclass(frozen=True)
class Threshold(Rule):
    """Commit every candidate whose confidence exceeds θ if at least m do, else the top m.

    Spec: §8, §9. Candidates x̃_i ~ q_i; confidence c_i = q_i(x̃_i) (``confidence="q"``) or the raw softmax
    p_i(x̃_i) (``"p"``). When fewer than m positions are masked, all of them are the top m.

    Parameters
    ----------
    m : int
        The minimum per round, ≥ 1.
    threshold : float
        θ ∈ [0, 1].
    token_transform : TokenTransform
        The candidate law q.
    confidence : {"q", "p"}
        Which probability of the candidate is compared with θ and ranked.
    ties : {"uniform", "first"}
        How equal confidences are split in the top-m branch.

    Examples
    --------
    >>> Threshold(m=1, threshold=0.6).confidence_table(np.array([[0.7, 0.3]])).tolist()
    [[0.7, 0.3]]
    """

    m: int = 1
    threshold: float = 0.9
    token_transform: TokenTransform = field(default_factory=Identity)
    confidence: Literal["q", "p"] = "q"
    ties: Literal["uniform", "first"] = "uniform"

    variable: ClassVar[bool] = True

    def __post_init__(self):
        if isinstance(self.m, bool) or not isinstance(self.m, (int, np.integer)) or self.m < 1:
            raise ValueError(f"m must be an integer >= 1; got m={self.m!r}")
        t = self.threshold
        if isinstance(t, bool) or not (isinstance(t, (int, float, np.floating)) and 0 <= t <= 1):
            raise ValueError(f"threshold must be >= 0 and <= 1; got threshold={t!r}")
        _check_transform(self.token_transform)
        if self.confidence not in ("q", "p"):
            raise ValueError(f"confidence must be 'q' or 'p'; got confidence={self.confidence!r}")
        _check_ties(self.ties)

    def confidence_table(self, probs) -> np.ndarray:
        """c_i(s) (N, V): the confidence position i has when its candidate is s."""
        p = np.asarray(probs, dtype=np.float64)
        return self.token_transform.law(p) if self.confidence == "q" else p


@dataclass(frozen=True)
class Bernoulli(Rule):
    """Reveal every masked position independently with probability ``rate``; tokens from the token law.

    Spec: §2.5 (MDLM ancestral sampling, Sahoo et al. 2024): from time t to s < t, rate = (t − s)/t. The number revealed
    is Binomial(N, rate), possibly 0.

    Parameters
    ----------
    rate : float
        r ∈ (0, 1].
    token_transform : TokenTransform
        The token law.

    Examples
    --------
    >>> Bernoulli(rate=0.25).rate
    0.25
    """

    rate: float = 0.5
    token_transform: TokenTransform = field(default_factory=Identity)

    variable: ClassVar[bool] = True

    def __post_init__(self):
        r = self.rate
        if isinstance(r, bool) or not (isinstance(r, (int, float, np.floating)) and 0 < r <= 1):
            raise ValueError(f"rate must be > 0 and <= 1; got rate={r!r}")
        _check_transform(self.token_transform)
