"""The stated rules of one round, each with its exact law (§2, §2.5, §3, §8).

A rule names what a sampler says it draws: ``round_rule("maskgit", alpha=0.5)``. Its exact law on a table
of predictions comes from mdtheory's exact laws (quadrature, closed forms); every one of them is checked
against a brute-force oracle in the test suite. Rules that reveal a fixed number k of positions give a
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

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RoundRule", "round_rule", "RULE_NAMES", "truncated"]

_FIXED = ("maskgit", "moment", "uniform", "confidence", "margin", "entropy", "low_confidence", "dream")
_VARIABLE = ("eb", "threshold", "mdlm")
RULE_NAMES = _FIXED + _VARIABLE

# per rule: {parameter: default}; a default of None marks a required parameter, _ABSENT an optional one
_ABSENT = object()
_PARAMS = {
    "maskgit": {"alpha": None, "ties": "uniform"},
    "moment": {"alpha": None},
    "uniform": {"temperature": 1.0},
    "confidence": {"temperature": 1.0, "noise": 0.0, "ties": "uniform"},
    "margin": {"temperature": 1.0, "noise": 0.0, "ties": "uniform"},
    "entropy": {"temperature": 1.0, "noise": 0.0, "ties": "uniform"},
    "low_confidence": {"temperature": 1.0, "confidence": "untempered", "top_k": _ABSENT, "top_p": _ABSENT,
                       "ties": "uniform"},
    "dream": {"alg_temp": None, "temperature": 1.0, "top_k": _ABSENT, "top_p": _ABSENT, "ties": "uniform"},
    "eb": {"gamma": None, "temperature": 1.0},
    "threshold": {"m": None, "threshold": None, "temperature": 1.0, "confidence": "tempered", "ties": "uniform"},
    "mdlm": {"rate": None, "temperature": 1.0},
}


def _number(name: str, value, *, low: float, high: float = math.inf, open_low: bool = False,
            allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number; got {name}={value!r}")
    v = float(value)
    ok = (v > low if open_low else v >= low) and v <= high and not math.isnan(v) and (allow_inf or math.isfinite(v))
    if not ok:
        bound = f"{'>' if open_low else '>='} {low:g}" + ("" if high == math.inf else f" and <= {high:g}")
        raise ValueError(f"{name} must be {bound}; got {name}={value!r}")
    return v


def _check(name: str, params: dict) -> dict:
    spec = _PARAMS[name]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ValueError(f"rule {name!r} takes {', '.join(spec)}; got unknown parameter(s) {', '.join(unknown)}")
    out = {}
    for key, default in spec.items():
        if key in params:
            out[key] = params[key]
        elif default is None:
            raise ValueError(f"rule {name!r} needs {key}")
        elif default is not _ABSENT:
            out[key] = default
    for key, value in out.items():
        if key in ("alpha", "alg_temp"):
            out[key] = _number(key, value, low=0.0, allow_inf=key == "alpha")
        elif key in ("temperature",):
            out[key] = _number(key, value, low=0.0, open_low=True)
        elif key in ("noise", "gamma"):
            out[key] = _number(key, value, low=0.0)
        elif key == "rate":
            out[key] = _number(key, value, low=0.0, high=1.0, open_low=True)
        elif key == "top_p":
            out[key] = _number(key, value, low=0.0, high=1.0, open_low=True)
        elif key == "threshold":
            out[key] = _number(key, value, low=0.0, high=1.0)
        elif key in ("m", "top_k"):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{key} must be an integer >= 1; got {key}={value!r}")
            out[key] = int(value)
        elif key == "ties" and value not in ("uniform", "first"):
            raise ValueError(f"ties must be 'uniform' or 'first'; got ties={value!r}")
        elif key == "confidence" and value not in ("untempered", "tempered"):
            raise ValueError(f"confidence must be 'untempered' or 'tempered'; got confidence={value!r}")
    return out


def truncated(probs, *, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Rows restricted to their top-k tokens and then to their top-p nucleus, renormalised (module doc).

    Spec: §2.5.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        Distributions.
    top_k : int, optional
        Keep the tokens at least as probable as the k-th largest.
    top_p : float, optional
        Keep the shortest prefix (decreasing probability, then increasing id) whose mass reaches p.

    Returns
    -------
    numpy.ndarray, shape (N, V)

    Examples
    --------
    >>> truncated([[0.5, 0.3, 0.2]], top_k=2).round(3).tolist()
    [[0.625, 0.375, 0.0]]
    >>> truncated([[0.5, 0.3, 0.2]], top_p=0.6).round(3).tolist()
    [[0.625, 0.375, 0.0]]
    """
    q = np.array(probs, dtype=np.float64, ndmin=2)
    if top_k is not None and top_k < q.shape[1]:
        kth = -np.sort(-q, axis=1)[:, top_k - 1:top_k]
        q = np.where(q >= kth, q, 0.0)
        q /= q.sum(axis=1, keepdims=True)
    if top_p is not None:
        order = np.lexsort((np.broadcast_to(np.arange(q.shape[1]), q.shape), -q), axis=1)
        sorted_q = np.take_along_axis(q, order, 1)
        before = np.cumsum(sorted_q, axis=1) - sorted_q  # mass strictly before each token
        keep_sorted = before < top_p - 1e-12
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, 1)
        q = np.where(keep, q, 0.0)
        q /= q.sum(axis=1, keepdims=True)
    return q


@dataclass(frozen=True)
class RoundRule:
    """A stated round rule and its parameters (module doc); build one with :func:`round_rule`.

    Spec: §2, §2.5, §8.

    Parameters
    ----------
    name : str
        One of :data:`RULE_NAMES`.
    params : tuple of (str, object)
        Its parameters, checked and completed with their defaults.

    Examples
    --------
    >>> r = round_rule("maskgit", alpha=0.5)
    >>> r.describe(), r.variable
    ('maskgit(alpha=0.5, ties=uniform)', False)
    """

    name: str
    params: tuple

    @property
    def variable(self) -> bool:
        """True when the number of positions revealed is random or set by the predictions."""
        return self.name in _VARIABLE

    def get(self, key: str, default=None):
        return dict(self.params).get(key, default)

    def describe(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in self.params)})"

    def _candidates(self, p: np.ndarray) -> np.ndarray:
        from ..exact.variable_laws import tempered

        q = tempered(p, self.get("temperature", 1.0))
        if self.get("top_k") is not None or self.get("top_p") is not None:
            q = truncated(q, top_k=self.get("top_k"), top_p=self.get("top_p"))
        return q

    def law(self, probs, k: int | None = None):
        """The exact law on the table ``probs``: a RoundLaw over k-sets (fixed-size rules, which need ``k``),
        or a dict {(positions, tokens): probability} (variable-size rules)."""
        from .._validation import check_probs

        p = check_probs(np.asarray(probs, dtype=np.float64))
        if self.variable:
            return self._variable_law(p)
        if k is None:
            raise ValueError(f"rule {self.name!r} reveals a fixed number of positions: give k")
        return self._fixed_law(p, int(k))

    def _fixed_law(self, p: np.ndarray, k: int):
        from ..exact.round_laws import maskgit_round_law, moment_round_law, sample_then_choose_law

        ties = self.get("ties", "uniform")
        if self.name == "maskgit":
            alpha = self.get("alpha")
            if alpha == 0.0:
                with np.errstate(divide="ignore"):
                    return sample_then_choose_law(p, np.log(p), k=k, noise=0.0, ties=ties)
            return maskgit_round_law(p, k=k, alpha=alpha)
        if self.name == "moment":
            return moment_round_law(p, k=k, alpha=self.get("alpha"))
        if self.name in ("low_confidence", "dream"):
            q = self._candidates(p)
            if self.name == "dream":
                return sample_then_choose_law(q, q, k=k, noise=self.get("alg_temp"), ties=ties)
            base = p if self.get("confidence") == "untempered" else q
            with np.errstate(divide="ignore"):  # −inf only where q is 0: tokens never drawn
                return sample_then_choose_law(q, np.log(base), k=k, noise=0.0, ties=ties)
        return self._cts_law(p, k, ties)

    def _cts_law(self, p: np.ndarray, k: int, ties: str):
        from ..exact.round_laws import RoundLaw, _all_sets
        from ..multiround.output_laws import round_log_cells
        from ..sampling.loop import CTS
        from ..sampling.rounds import ConfidenceRule, EntropyRule, Identity, MarginRule, Temperature, UniformRule

        n, V = p.shape
        rules = {"uniform": UniformRule, "confidence": ConfidenceRule, "margin": MarginRule, "entropy": EntropyRule}
        position_rule = UniformRule() if self.name == "uniform" else rules[self.name](noise=self.get("noise"))
        T = self.get("temperature")
        sampler = CTS(position_rule, Identity() if T == 1.0 else Temperature(tau=T))
        sets = _all_sets(n, k)
        row = {tuple(int(i) for i in s): c for c, s in enumerate(sets)}
        table = np.zeros((len(sets), V ** k))
        for K, logv in round_log_cells(sampler, p, np.ones(n, dtype=bool), k, final=False, ties=ties):
            table[row[tuple(K)]] += np.exp(logv)
        return RoundLaw(sets=sets, probs=table, vocab_size=V, k=k, n_masked=n, sampler=self.name, alpha=T,
                        method="closed_form")

    def _variable_law(self, p: np.ndarray) -> dict:
        from ..exact.variable_laws import eb_round_law, law_dict, mdlm_round_law, threshold_round_law

        T = self.get("temperature")
        if self.name == "eb":
            return law_dict(eb_round_law(p, gamma=self.get("gamma"), temperature=T))
        if self.name == "threshold":
            return threshold_round_law(p, m=self.get("m"), threshold=self.get("threshold"), temperature=T,
                                       ties=self.get("ties"), confidence=self.get("confidence"))
        return mdlm_round_law(p, rate=self.get("rate"), temperature=T)


def round_rule(name: str, **params) -> RoundRule:
    """A stated round rule with its parameters checked (module doc lists them).

    Spec: §2, §2.5, §8.

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
    if name not in RULE_NAMES:
        raise ValueError(f"rule must be one of {', '.join(RULE_NAMES)}; got rule={name!r}")
    checked = _check(name, params)
    return RoundRule(name, tuple(checked.items()))
