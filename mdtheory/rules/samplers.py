"""Samplers as data: a round rule for each step of a run, and the loop's conventions (§2).

A sampler says which :class:`~mdtheory.rules.rounds.Rule` step t of K uses (:meth:`Sampler.rule_at`). The torch
loop (:func:`mdtheory.sampling.loop.sample`) executes those rules on a device; the exact output laws
(:func:`mdtheory.multiround.output_laws.output_law`) and the brute-force oracle read the same objects.

* **Annealing:** with ``anneal=True`` step t (0-based) of K uses α_t = α_0 · (1 − t/K) (MaskGIT/MAGE).
* **Final step:** the step that reveals every remaining position uses :meth:`Rule.at_final` (choose-then-sample
  rounds draw untempered tokens there).
* **Adaptive samplers** (``adaptive``: EB, entropy sum, threshold, MDLM) choose their own step sizes: they run
  until nothing is masked, and take no schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .._validation import check_alpha, check_positive_int
from .positions import MomentRule, PositionRule, UniformRule
from .rounds import Bernoulli, ChooseThenSample, EntropyPrefix, Rule, SampleThenChoose
from .tokens import Identity, TokenTransform, moment_token_transform

__all__ = ["annealed_alpha", "Sampler", "MaskGIT", "Moment", "UMoment", "CTS", "EB", "EntropySum", "RuleSampler",
           "MDLM"]


def annealed_alpha(alpha0: float, step: int, n_steps: int) -> float:
    """α_t = α_0 (1 − t/K) for step t = 0..K−1 (module doc).

    Examples
    --------
    >>> annealed_alpha(2.0, 1, 4)
    1.5
    """
    return alpha0 * (1.0 - step / n_steps)


@dataclass(frozen=True)
class Sampler:
    """Base class: a sampler gives the rule of each step (module doc).

    Spec: §2. Subclasses define :meth:`rule_at`; ``adaptive`` samplers take no schedule.
    """

    adaptive: ClassVar[bool] = False

    def rule_at(self, step: int, n_steps: int) -> Rule:  # pragma: no cover
        """The rule of step ``step`` (0-based) of ``n_steps`` (before the final-step convention)."""
        raise NotImplementedError

    def round_rule(self, step: int, n_steps: int, *, final: bool) -> Rule:
        """The rule step ``step`` executes: :meth:`rule_at`, and :meth:`Rule.at_final` on the final step."""
        rule = self.rule_at(step, n_steps)
        return rule.at_final() if final else rule


@dataclass(frozen=True)
class _AlphaSampler(Sampler):
    """A sampler with Gumbel scale α, optionally annealed (module doc); subclasses define ``_rule``."""

    alpha: float = 1.0
    anneal: bool = False

    def __post_init__(self):
        check_alpha(self.alpha)

    def alpha_at(self, step: int, n_steps: int) -> float:
        return annealed_alpha(self.alpha, step, n_steps) if self.anneal else self.alpha

    def rule_at(self, step, n_steps):
        return self._rule(self.alpha_at(step, n_steps))

    def _rule(self, alpha: float) -> Rule:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class MaskGIT(_AlphaSampler):
    """The MaskGIT sampler: sample-then-choose with confidence log p and Gumbel scale α at every step.

    Spec: §2.1, and §2 for the loop. With ``anneal=True`` step t of K uses α_t = α_0 (1 − t/K) (a convention).

    Parameters
    ----------
    alpha : float
        Gumbel scale α in [0, ∞].
    anneal : bool
        Anneal α linearly over the steps.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> MaskGIT(1.0).rule_at(0, 4)
    SampleThenChoose(token_transform=Identity(), confidence='log_p', noise=1.0, ties='uniform')
    """

    def _rule(self, alpha):
        return SampleThenChoose(Identity(), "log_p", alpha)


@dataclass(frozen=True)
class Moment(_AlphaSampler):
    """The moment sampler: positions by Plackett–Luce on m_i = Σ_s p_i(s)^β, tokens ∝ p^β (β = 1 + 1/α).

    Spec: §2.2 (final-step convention: the step that reveals every remaining position samples at temperature 1).

    Parameters
    ----------
    alpha : float
        Gumbel scale α in [0, ∞].
    anneal : bool
        Anneal α linearly over the steps.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> Moment(0.5).rule_at(0, 2).token_transform
    Temperature(tau=0.3333333333333333)
    """

    def _rule(self, alpha):
        return ChooseThenSample(MomentRule(alpha=alpha), moment_token_transform(alpha))


@dataclass(frozen=True)
class UMoment(_AlphaSampler):
    """U-moment: uniform positions with the moment sampler's tempered tokens p^β/m.

    Spec: §2.3. **Convention:** read from [H]'s experiment names; it isolates the temperature from the order.

    Parameters
    ----------
    alpha : float
        Gumbel scale α; tokens are tempered at τ = α/(1 + α).
    anneal : bool
        Anneal α linearly over the steps.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> UMoment(1.0).anneal
    False
    """

    def _rule(self, alpha):
        return ChooseThenSample(UniformRule(), moment_token_transform(alpha))


@dataclass(frozen=True)
class CTS(Sampler):
    """A choose-then-sample sampler: any position rule with any token transform, at every step.

    Spec: §2.3. The last step of a run draws untempered tokens (§2.2).

    Parameters
    ----------
    position_rule : PositionRule
        How each step's set is chosen (uniform by default).
    token_transform : TokenTransform
        ``Identity()`` (default), ``Temperature(tau)`` or ``Truncated(...)``.
    ties : {"uniform", "first"}
        How a deterministic rule splits equal scores.

    Examples
    --------
    >>> from mdtheory.rules import ConfidenceRule
    >>> CTS(ConfidenceRule(noise=0.5)).position_rule
    ConfidenceRule(noise=0.5)
    """

    position_rule: PositionRule = field(default_factory=UniformRule)
    token_transform: TokenTransform = field(default_factory=Identity)
    ties: str = "uniform"

    def __post_init__(self):
        ChooseThenSample(self.position_rule, self.token_transform, self.ties)  # validates once, here

    def rule_at(self, step, n_steps):
        return ChooseThenSample(self.position_rule, self.token_transform, self.ties)


@dataclass(frozen=True)
class EB(Sampler):
    """The EB-sampler: each step reveals the largest entropy-sorted prefix with Σ H − max H ≤ γ.

    Spec: §8 (Ben-Hamu et al.). Positions by increasing Shannon entropy, ties by index, at least one per step;
    tokens from p. Its steps are not set by a schedule.

    Parameters
    ----------
    gamma : float
        The entropy budget γ ≥ 0 of a step (each step has TC ≤ γ); 0.1 nats by default.

    Raises
    ------
    ValueError
        If ``gamma`` is negative, infinite or NaN.

    Examples
    --------
    >>> EB(0.3).rule_at(0, 1)
    EntropyPrefix(budget=0.3, subtract_max=True, token_transform=Identity())
    """

    gamma: float = 0.1

    adaptive: ClassVar[bool] = True

    def __post_init__(self):
        EntropyPrefix(self.gamma, True)

    def rule_at(self, step, n_steps):
        return EntropyPrefix(self.gamma, True)


@dataclass(frozen=True)
class EntropySum(Sampler):
    """Entropy-sum decoding: each step unmasks positions by increasing entropy until the cumulative entropy
    would exceed a threshold.

    Spec: §10.6 (Cai & Li). **Conventions:** positions by increasing Shannon entropy, ties by index; the
    position that would take the sum past the threshold is not taken (the largest prefix with Σ H ≤ τ), except
    that every step takes at least one; tokens from p.

    Parameters
    ----------
    threshold : float
        τ ≥ 0, the entropy (nats) one step may spend.

    Raises
    ------
    ValueError
        If ``threshold`` is negative, infinite or NaN.

    Examples
    --------
    >>> EntropySum(0.5).threshold
    0.5
    """

    threshold: float = 0.5

    adaptive: ClassVar[bool] = True

    def __post_init__(self):
        EntropyPrefix(self.threshold, False)

    def rule_at(self, step, n_steps):
        return EntropyPrefix(self.threshold, False)


@dataclass(frozen=True)
class RuleSampler(Sampler):
    """The same round rule at every step: how a stated rule (Dream, low-confidence, threshold, …) runs a loop.

    Spec: §2, §2.5. Adaptive when the rule is variable-size; the final step follows :meth:`Rule.at_final`.

    Parameters
    ----------
    rule : Rule
        The round rule.

    Examples
    --------
    >>> from mdtheory.rules import Threshold
    >>> RuleSampler(Threshold(m=1, threshold=0.9)).adaptive
    True
    """

    rule: Rule = field(default_factory=ChooseThenSample)

    def __post_init__(self):
        if not isinstance(self.rule, Rule):
            raise TypeError(f"rule must be an mdtheory.rules.Rule; got {type(self.rule).__name__}")

    @property
    def adaptive(self) -> bool:  # type: ignore[override]
        return self.rule.variable

    def rule_at(self, step, n_steps):
        return self.rule


@dataclass(frozen=True)
class MDLM(Sampler):
    """MDLM ancestral sampling on K equal time steps: step t of K reveals each masked position with rate 1/(K − t).

    Spec: §2.5 (MDLM, Sahoo et al. 2024) with the linear schedule α_t = 1 − t: from time (K − t)/K to (K − t − 1)/K
    the rate (t − s)/t is 1/(K − t); the last step's rate is 1, so the run ends after K steps. Steps may reveal
    nothing. **Convention:** equal time steps.

    Parameters
    ----------
    n_steps : int
        K ≥ 1.
    token_transform : TokenTransform
        The token law (``Identity()``: tokens from p).

    Examples
    --------
    >>> MDLM(4).rule_at(1, 4).rate
    0.3333333333333333
    """

    n_steps: int = 8
    token_transform: TokenTransform = field(default_factory=Identity)

    adaptive: ClassVar[bool] = True

    def __post_init__(self):
        check_positive_int(self.n_steps, name="n_steps")

    def rule_at(self, step, n_steps=None):
        return Bernoulli(rate=1.0 / max(1, self.n_steps - step), token_transform=self.token_transform)
