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

__all__ = ["RoundRule", "round_rule", "stated_rule", "StatedRule", "RULE_NAMES", "truncated"]


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


class _StatedVariable:
    """The ``rule`` slot of a stated rule: only its size kind is read by the audit."""

    def __init__(self, variable: bool):
        self.variable = variable


@dataclass(frozen=True)
class StatedRule(RoundRule):
    """A rule stated by its exact law rather than by a name of the registry (:func:`stated_rule`)."""

    law_fn: object = None
    source: str | None = None

    def law(self, probs, k: int | None = None):
        from .._postconditions import check_law_dict
        from .._validation import check_probs
        from .conventions import call_user_code

        p = check_probs(np.asarray(probs, dtype=np.float64))
        n, V = p.shape
        params = dict(self.params)
        if self.variable:
            out = call_user_code(self.law_fn, p, **params)
            cells = _stated_cells(out, n, V, None, self.name)
            return check_law_dict(cells, route=f"stated rule {self.name}", regime=f"N={n}, V={V}")
        if k is None:
            raise ValueError(f"rule {self.name!r} reveals a fixed number of positions: give k")
        out = call_user_code(self.law_fn, p, k=int(k), **params)
        from ..exact.round_laws import RoundLaw

        if isinstance(out, RoundLaw):
            if (out.n_masked, out.vocab_size, out.k) != (n, V, int(k)) or out.ordered:
                raise ValueError(f"the law of stated rule {self.name!r} is for N={out.n_masked}, V={out.vocab_size}, "
                                 f"k={out.k} (ordered={out.ordered}); the case has N={n}, V={V}, k={k}, unordered")
            return out
        return _round_law_from_cells(_stated_cells(out, n, V, int(k), self.name), n, V, int(k), self.name, params)


def _stated_cells(out, n: int, V: int, k: int | None, name: str) -> dict:
    """``{(sorted positions, tokens in that order): probability}`` from a stated law's answer, every key and
    value checked (one line naming the first bad cell otherwise)."""
    from collections.abc import Mapping

    if not isinstance(out, Mapping):
        raise TypeError(f"the law of stated rule {name!r} must return a dict {{(positions, tokens): probability}} "
                        f"(or a RoundLaw); got {type(out).__name__}")
    cells: dict = {}
    for key, prob in out.items():
        try:
            positions, tokens = (tuple(int(v) for v in part) for part in key)
        except (TypeError, ValueError):
            raise ValueError(f"the law of stated rule {name!r} has a cell {key!r}: keys must be (positions, "
                             "tokens) tuples of integers") from None
        if len(positions) != len(tokens) or len(set(positions)) != len(positions) \
                or any(not 0 <= i < n for i in positions) or any(not 0 <= x < V for x in tokens):
            raise ValueError(f"the law of stated rule {name!r} has a cell {key!r}: positions must be distinct in "
                             f"0..{n - 1}, each with a token in 0..{V - 1}")
        if k is not None and len(positions) != k:
            raise ValueError(f"the law of stated rule {name!r} has a cell {key!r} of {len(positions)} positions; "
                             f"the rule reveals k={k}")
        order = np.argsort(positions)
        cell = (tuple(positions[i] for i in order), tuple(tokens[i] for i in order))
        if cell in cells:
            raise ValueError(f"the law of stated rule {name!r} gives the cell {cell!r} twice")
        cells[cell] = float(prob)
    return cells


def _round_law_from_cells(cells: dict, n: int, V: int, k: int, name: str, params: dict):
    from itertools import combinations

    from ..exact.round_laws import RoundLaw

    sets = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
    row = {tuple(s): r for r, s in enumerate(sets.tolist())}
    table = np.zeros((len(sets), V ** k))
    for (positions, tokens), prob in cells.items():
        table[row[positions], int(np.ravel_multi_index(tokens, (V,) * k)) if k else 0] = prob
    return RoundLaw(sets=sets, probs=table, vocab_size=V, k=k, n_masked=n, sampler=f"stated rule {name}",
                    alpha=float("nan"), method="stated", extra={"params": dict(params)})


def stated_rule(name: str, law, *, variable: bool = False, **params) -> RoundRule:
    """A rule stated by its exact law, audited like the built-in rules (cases, invariants, seed contract, χ²,
    TV bound, worst cells and message).

    Spec: §9. ``law(probs, *, k, **params)`` (a fixed-size rule) or ``law(probs, **params)`` (``variable=True``)
    returns the exact probabilities of one round on the (N, V) table ``probs`` as a dict
    ``{(positions, tokens): probability}`` (positions in any order, each with its token; cells left out have
    probability 0) or as a :class:`~mdtheory.exact.round_laws.RoundLaw`. The answer is checked: keys in range,
    k positions for a fixed-size rule, non-negative values summing to 1.

    Parameters
    ----------
    name : str
        The rule's name in reports (anything but a registry name, which :func:`round_rule` already states).
    law : callable
        The exact law of one round.
    variable : bool
        True when the number of positions revealed is random or set by the predictions.
    **params
        The rule's parameters: passed to ``law`` and, through ``forward``, to the step.

    Returns
    -------
    RoundRule

    Examples
    --------
    >>> import numpy as np
    >>> def first_k(probs, *, k):  # reveal the first k positions, tokens from p
    ...     from itertools import product
    ...     return {(tuple(range(k)), x): float(np.prod([probs[i, x[i]] for i in range(k)]))
    ...             for x in product(range(probs.shape[1]), repeat=k)}
    >>> r = stated_rule("first_k", first_k)
    >>> law = r.law(np.array([[0.5, 0.5], [0.9, 0.1]]), 1)
    >>> law.sets.tolist(), law.probs.round(2).tolist()
    ([[0], [1]], [[0.5, 0.5], [0.0, 0.0]])
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got name={name!r}")
    if name in RULE_NAMES:
        raise ValueError(f"{name!r} is a built-in rule: state it with round_rule({name!r}, ...)")
    if not callable(law):
        raise TypeError(f"law must be callable (the exact law of one round); got {law!r}")
    mod, qual = getattr(law, "__module__", None), getattr(law, "__qualname__", "")
    source = f"{mod}:{qual}" if mod and mod != "__main__" and "<" not in qual else None
    return StatedRule(name=name, params=tuple(params.items()), rule=_StatedVariable(bool(variable)), law_fn=law,
                      source=source)
