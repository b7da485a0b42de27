"""The stated rules of one round, each with its exact law (§2, §2.5, §3, §8).

A rule names what a sampler says it draws: ``round_rule("maskgit", alpha=0.5)``. The names and parameters are
the one table of :mod:`mdtheory.rules.registry` (so every mdtheory sampler, hybrid, Halton and entropy sum
included, can be audited against the rule it is built from); the parsed rule is an object of
:mod:`mdtheory.rules`, and its exact law on a table of predictions is :func:`mdtheory.exact.rule_laws.rule_law`
(quadrature, closed forms), checked against a brute-force oracle in the test suite. Rules that reveal a fixed number k of positions give a
:class:`~mdtheory.exact.round_laws.RoundLaw`; rules whose set size is random or set by the predictions
(``eb``, ``threshold``, ``mdlm``) give a dict {(positions, tokens): probability}.

| rule | parameters (defaults) | what it draws |
|---|---|---|
| ``maskgit`` | alpha, ties="uniform" | candidates x̃_i ~ p_i, top k of log p_i(x̃_i) + α·Gumbel |
| ``moment`` | alpha | positions by Plackett–Luce on m_i = Σ_s p_i(s)^β, tokens ∝ p^β (β = 1 + 1/α) |
| ``uniform`` | temperature=1 | a uniform k-set, tokens ∝ p^{1/T} |
| ``confidence``, ``margin``, ``entropy`` | temperature=1, noise=0, ties="uniform" | the top k of a score of the untempered predictions (with Gumbel noise of that scale), tokens ∝ p^{1/T} |
| ``low_confidence`` | temperature=1, confidence="untempered", top_k=None, top_p=None, ties="uniform" | LLaDA / Fast-dLLM: candidates from the tempered (truncated) law q, the top k of p_i(x̃_i) (or q_i(x̃_i) with confidence="tempered") |
| ``dream`` | alg_temp, temperature=1, top_k=None, top_p=None, ties="uniform" | Dream: candidates from q, positions by Plackett–Luce on exp(q_i(x̃_i)/alg_temp) (top k of q_i(x̃_i) at alg_temp = 0) |
| ``eb`` | gamma, temperature=1 | the entropy-bound prefix, tokens ∝ p^{1/T} |
| ``entropy_sum`` | threshold | the entropy-sorted prefix with Σ H ≤ threshold, tokens from p |
| ``umoment`` | alpha | uniform positions, tokens ∝ p^β |
| ``halton``, ``raster`` | order, temperature=1 | a fixed reveal order (a permutation of range(N)), tokens ∝ p^{1/T} |
| ``hybrid`` | alpha, share=0.5, order=None | ⌈share·k⌉ by the moment rule, the rest uniform (or by order), tokens ∝ p^β |
| ``threshold`` | m, threshold, temperature=1, confidence="tempered", ties="uniform" | every candidate with q_i(x̃_i) > θ (or p_i(x̃_i) with confidence="untempered") if at least m, else the top m |
| ``mdlm`` | rate, temperature=1 | each position revealed independently with probability ``rate`` = (t − s)/t |

Truncation (``top_k``, ``top_p``) follows the common convention: temperature first, then top-k (tokens tied
with the k-th largest are kept), then top-p (the shortest prefix, by decreasing probability and then
increasing token id, whose mass reaches p), then renormalisation. ``ties`` says how a rule without noise
breaks equal scores: uniformly (mdtheory's samplers) or in favour of the lower index (a stable sort such as
``torch.sort(..., stable=True)``). ``torch.topk`` does neither: which of several equal scores it returns
depends on its implementation (on the CPU, among four equal scores it returned the third for k = 1), so a
sampler built on it fails both rules on tied rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules.registry import RULE_NAMES, REGISTRY, check_params, describe
from ..rules.rounds import Rule
from ..rules.tokens import truncated

__all__ = ["RoundRule", "round_rule", "RULE_NAMES", "truncated"]


@dataclass(frozen=True)
class RoundRule:
    """A stated round rule: its name, its parameters and the rule object they build (module doc).

    Spec: §2, §2.5, §8. Build one with :func:`round_rule`.

    Parameters
    ----------
    name : str
        One of :data:`RULE_NAMES`.
    params : tuple of (str, object)
        Its parameters, checked and completed with their defaults.
    rule : Rule
        The round rule of :mod:`mdtheory.rules` they state.

    Examples
    --------
    >>> r = round_rule("maskgit", alpha=0.5)
    >>> r.describe(), r.variable
    ('maskgit(alpha=0.5, ties=uniform)', False)
    """

    name: str
    params: tuple
    rule: Rule

    @property
    def variable(self) -> bool:
        """True when the number of positions revealed is random or set by the predictions."""
        return self.rule.variable

    def get(self, key: str, default=None):
        return dict(self.params).get(key, default)

    def describe(self) -> str:
        return describe(self.name, dict(self.params))

    def law(self, probs, k: int | None = None):
        """The exact law on the table ``probs``: a RoundLaw over k-sets (fixed-size rules, which need ``k``),
        or a dict {(positions, tokens): probability} (variable-size rules)."""
        from .._validation import check_probs
        from ..exact.rule_laws import rule_law

        p = check_probs(np.asarray(probs, dtype=np.float64))
        if self.variable:
            return rule_law(self.rule, p)
        if k is None:
            raise ValueError(f"rule {self.name!r} reveals a fixed number of positions: give k")
        return rule_law(self.rule, p, int(k))


def round_rule(name: str, **params) -> RoundRule:
    """A stated round rule with its parameters checked (module doc lists them).

    Spec: §2, §2.5, §8. The rule is the first-step rule of the sampler of the same name
    (:func:`mdtheory.rules.registry.make_sampler`); loop options such as ``anneal`` are refused.

    Parameters
    ----------
    name : str
        One of :data:`RULE_NAMES`.
    **params
        The rule's parameters.

    Returns
    -------
    RoundRule

    Raises
    ------
    ValueError
        For an unknown rule, an unknown or missing parameter, or a value out of range.

    Examples
    --------
    >>> round_rule("low_confidence", temperature=0.5).describe()
    'low_confidence(temperature=0.5, confidence=untempered, ties=uniform)'
    """
    checked = check_params(name, params, round_only=True)
    sampler = REGISTRY[name].build(checked)
    return RoundRule(name, tuple(checked.items()), sampler.rule_at(0, 1))
