"""The one table of named samplers and rules: what ``make_sampler``, the test kit, the CLI and the docs read.

Every name is a sampler of :mod:`mdtheory.rules.samplers` built from its parameters; the rule of one of its
rounds (what the test kit audits a round against) is that sampler's first-step rule. Each parameter has one
meaning wherever it appears:

| parameter | meaning |
|---|---|
| ``alpha`` | MaskGIT's Gumbel scale α ∈ [0, ∞] (the moment family's β = 1 + 1/α) |
| ``temperature`` | T > 0 of the token (or candidate) law p^{1/T} |
| ``noise`` | scale ≥ 0 of the Gumbel noise on a position score |
| ``ties`` | ``uniform`` or ``first``: how a deterministic choice splits equal scores |
| ``share`` | the hybrid's exploitation share γ ∈ [0, 1] |
| ``gamma`` | the EB entropy budget γ ≥ 0 (nats) |
| ``threshold`` | a confidence threshold θ ∈ [0, 1], or the entropy-sum budget τ ≥ 0 (nats) |
| ``order`` | a permutation of range(N): a fixed reveal order |
| ``confidence`` | ``untempered`` (p) or ``tempered`` (q): the probability a candidate is scored by |
| ``top_k``, ``top_p`` | truncation of the candidate law (temperature, then top-k, then top-p) |
| ``alg_temp`` | Dream's Gumbel scale on the candidate confidence |
| ``m`` | the threshold rule's minimum per round |
| ``rate`` | MDLM's per-step reveal probability (one round) |
| ``n_steps`` | MDLM's number of equal time steps (a whole run) |
| ``anneal`` | anneal α linearly over the steps (a loop option; not part of a round) |

This module imports nothing heavy at load time, so the command line can read the names for its help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["SAMPLER_NAMES", "RULE_NAMES", "REQUIRED", "Param", "Entry", "REGISTRY", "check_params", "make_sampler",
           "describe", "example_params"]

REQUIRED = object()  # a parameter without a default
ABSENT = object()  # an optional parameter left out (None in the rule)


def _number(name: str, value, *, low: float, high: float = math.inf, open_low: bool = False,
            allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"{name} must be a number; got {name}={value!r}")
    v = float(value)
    ok = (v > low if open_low else v >= low) and v <= high and not math.isnan(v) and (allow_inf or math.isfinite(v))
    if not ok:
        bound = f"{'>' if open_low else '>='} {low:g}" + ("" if high == math.inf else f" and <= {high:g}")
        raise ValueError(f"{name} must be {bound}{'' if allow_inf else ' and finite'}; got {name}={value!r}")
    return v


def _integer(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and type(value).__name__ not in ("int64", "int32"):
        raise ValueError(f"{name} must be an integer >= 1; got {name}={value!r}")
    if int(value) < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {name}={value!r}")
    return int(value)


def _choice(*allowed: str):
    def check(name: str, value):
        if value not in allowed:
            raise ValueError(f"{name} must be {' or '.join(repr(a) for a in allowed)}; got {name}={value!r}")
        return value
    return check


def _boolean(name: str, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {name}={value!r}")
    return value


def _order(name: str, value):
    try:
        order = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{name} must be a permutation of range(N); got {name}={value!r}") from None
    if sorted(order) != list(range(len(order))):
        raise ValueError(f"{name} must be a permutation of range(N); got {name}={value!r}")
    return order


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "alpha": lambda n, v: _number(n, v, low=0.0, allow_inf=True),
    "alg_temp": lambda n, v: _number(n, v, low=0.0),
    "temperature": lambda n, v: _number(n, v, low=0.0),  # 0: argmax tokens, first-index ties (torch.argmax)
    "noise": lambda n, v: _number(n, v, low=0.0),
    "gamma": lambda n, v: _number(n, v, low=0.0),
    "share": lambda n, v: _number(n, v, low=0.0, high=1.0),
    "rate": lambda n, v: _number(n, v, low=0.0, high=1.0, open_low=True),
    "top_p": lambda n, v: _number(n, v, low=0.0, high=1.0, open_low=True),
    "m": _integer,
    "top_k": _integer,
    "n_steps": _integer,
    "ties": _choice("uniform", "first"),
    "confidence": _choice("untempered", "tempered"),
    "anneal": _boolean,
    "order": _order,
}


@dataclass(frozen=True)
class Param:
    """One parameter of a registry entry: its default (``REQUIRED``, ``ABSENT`` or a value) and whether it is
    a loop option only (refused when stating the rule of one round)."""

    default: Any
    loop_only: bool = False


@dataclass(frozen=True)
class Entry:
    """A named sampler: its parameters, its builder, and a line saying what it draws."""

    params: dict
    build: Callable[[dict], Any]
    summary: str
    check: Callable[[str, Any], Any] | None = None  # a per-entry check for a parameter shared in name only

    def check_value(self, key: str, value):
        if key == "threshold":  # θ ∈ [0, 1] for the threshold rule, τ ≥ 0 for entropy sum
            return self.check(key, value) if self.check else _number(key, value, low=0.0, high=1.0)
        return _CHECKS[key](key, value)


def _tokens(temperature: float):
    from .tokens import temperature_transform

    return temperature_transform(temperature)


def _candidates(p: dict):
    from .tokens import Identity, Truncated, temperature_transform

    if p["temperature"] == 0.0:  # the argmax survives any top-k or top-p truncation
        return temperature_transform(0.0)
    if p["temperature"] == 1.0 and p.get("top_k") is None and p.get("top_p") is None:
        return Identity()
    return Truncated(temperature=p["temperature"], top_k=p.get("top_k"), top_p=p.get("top_p"))


def _maskgit(p):
    from .rounds import SampleThenChoose
    from .samplers import MaskGIT, RuleSampler

    if p["ties"] != "uniform":
        from .tokens import Identity

        return RuleSampler(SampleThenChoose(Identity(), "log_p", p["alpha"], p["ties"]))
    return MaskGIT(alpha=p["alpha"], anneal=p.get("anneal", False))


def _moment(cls_name):
    def build(p):
        from . import samplers

        return getattr(samplers, cls_name)(alpha=p["alpha"], anneal=p.get("anneal", False))
    return build


def _scored(rule_name):
    def build(p):
        from . import positions
        from .samplers import CTS

        return CTS(getattr(positions, rule_name)(noise=p["noise"]), _tokens(p["temperature"]), p["ties"])
    return build


def _uniform(p):
    from .positions import UniformRule
    from .samplers import CTS

    return CTS(UniformRule(), _tokens(p["temperature"]))


def _fixed(p):
    from .positions import FixedOrderRule
    from .samplers import CTS

    if p.get("order") is None:
        raise ValueError("this sampler needs an explicit order (a permutation of range(N))")
    return CTS(FixedOrderRule(tuple(p["order"])), _tokens(p["temperature"]))


def _hybrid(p):
    from .positions import FixedOrderRule, HybridRule, MomentRule, UniformRule
    from .samplers import CTS
    from .tokens import moment_token_transform

    explore = FixedOrderRule(tuple(p["order"])) if p.get("order") is not None else UniformRule()
    return CTS(HybridRule(exploit=MomentRule(alpha=p["alpha"]), explore=explore, gamma=p["share"]),
               moment_token_transform(p["alpha"]))


def _low_confidence(p):
    from .rounds import SampleThenChoose
    from .samplers import RuleSampler

    return RuleSampler(SampleThenChoose(_candidates(p), "log_p" if p["confidence"] == "untempered" else "log_q",
                                        0.0, p["ties"]))


def _dream(p):
    from .rounds import SampleThenChoose
    from .samplers import RuleSampler

    return RuleSampler(SampleThenChoose(_candidates(p), "q", p["alg_temp"], p["ties"]))


def _eb(p):
    from .samplers import EB

    if p["temperature"] != 1.0:
        from .rounds import EntropyPrefix
        from .samplers import RuleSampler

        return RuleSampler(EntropyPrefix(p["gamma"], True, _tokens(p["temperature"])))
    return EB(gamma=p["gamma"])


def _entropy_sum(p):
    from .samplers import EntropySum

    return EntropySum(threshold=p["threshold"])


def _threshold(p):
    from .rounds import Threshold
    from .samplers import RuleSampler

    return RuleSampler(Threshold(m=p["m"], threshold=p["threshold"], token_transform=_tokens(p["temperature"]),
                                 confidence="q" if p["confidence"] == "tempered" else "p", ties=p["ties"]))


def _mdlm(p):
    from .rounds import Bernoulli
    from .samplers import MDLM, RuleSampler

    if (p.get("rate") is None) == (p.get("n_steps") is None):
        raise ValueError("mdlm needs exactly one of rate (one round) and n_steps (a whole run)")
    if p.get("rate") is not None:
        return RuleSampler(Bernoulli(rate=p["rate"], token_transform=_tokens(p["temperature"])))
    return MDLM(n_steps=p["n_steps"], token_transform=_tokens(p["temperature"]))


_SCORED = {"temperature": Param(1.0), "noise": Param(0.0), "ties": Param("uniform")}
_TRUNC = {"temperature": Param(1.0), "top_k": Param(ABSENT), "top_p": Param(ABSENT), "ties": Param("uniform")}

#: name → entry; the order is the order of the documentation and the command line
REGISTRY: dict[str, Entry] = {
    "maskgit": Entry({"alpha": Param(REQUIRED), "ties": Param("uniform"), "anneal": Param(False, loop_only=True)},
                     _maskgit, "candidates x̃_i ~ p_i, the top k of log p_i(x̃_i) + α·Gumbel"),
    "moment": Entry({"alpha": Param(REQUIRED), "anneal": Param(False, loop_only=True)}, _moment("Moment"),
                    "positions by Plackett–Luce on m_i = Σ_s p_i(s)^β, tokens ∝ p^β (β = 1 + 1/α)"),
    "umoment": Entry({"alpha": Param(REQUIRED), "anneal": Param(False, loop_only=True)}, _moment("UMoment"),
                     "uniform positions, tokens ∝ p^β (β = 1 + 1/α)"),
    "uniform": Entry({"temperature": Param(1.0)}, _uniform, "a uniform k-set, tokens ∝ p^{1/T}"),
    "confidence": Entry(dict(_SCORED), _scored("ConfidenceRule"),
                        "the top k of log max p_i (with Gumbel noise of scale noise), tokens ∝ p^{1/T}"),
    "margin": Entry(dict(_SCORED), _scored("MarginRule"),
                    "the top k of p_i(1) − p_i(2) (with Gumbel noise of scale noise), tokens ∝ p^{1/T}"),
    "entropy": Entry(dict(_SCORED), _scored("EntropyRule"),
                     "the top k of −H(p_i) (with Gumbel noise of scale noise), tokens ∝ p^{1/T}"),
    "halton": Entry({"order": Param(REQUIRED), "temperature": Param(1.0)}, _fixed,
                    "a fixed order (a Halton or van der Corput sequence), tokens ∝ p^{1/T}"),
    "raster": Entry({"order": Param(REQUIRED), "temperature": Param(1.0)}, _fixed,
                    "a fixed left-to-right order, tokens ∝ p^{1/T}"),
    "hybrid": Entry({"alpha": Param(REQUIRED), "share": Param(0.5), "order": Param(ABSENT)}, _hybrid,
                    "⌈share·k⌉ positions by the moment rule, the rest uniform (or by order); tokens ∝ p^β"),
    "low_confidence": Entry({"temperature": Param(1.0), "confidence": Param("untempered"), "top_k": Param(ABSENT),
                             "top_p": Param(ABSENT), "ties": Param("uniform")}, _low_confidence,
                            "LLaDA / Fast-dLLM: candidates from the tempered, truncated law q, the top k of p_i(x̃_i) "
                            "(or q_i(x̃_i) with confidence=tempered)"),
    "dream": Entry({"alg_temp": Param(REQUIRED), **_TRUNC}, _dream,
                   "Dream: candidates from q, positions by Plackett–Luce on exp(q_i(x̃_i)/alg_temp)"),
    "eb": Entry({"gamma": Param(REQUIRED), "temperature": Param(1.0)}, _eb,
                "the entropy-sorted prefix with Σ H − max H ≤ γ, tokens ∝ p^{1/T}"),
    "entropy_sum": Entry({"threshold": Param(REQUIRED)}, _entropy_sum,
                         "the entropy-sorted prefix with Σ H ≤ threshold (nats), tokens from p",
                         check=lambda n, v: _number(n, v, low=0.0)),
    "threshold": Entry({"m": Param(REQUIRED), "threshold": Param(REQUIRED), "temperature": Param(1.0),
                        "confidence": Param("tempered"), "ties": Param("uniform")}, _threshold,
                       "every candidate with q_i(x̃_i) > θ (or p_i(x̃_i) with confidence=untempered) if at least m, "
                       "else the top m"),
    "mdlm": Entry({"rate": Param(ABSENT), "n_steps": Param(ABSENT, loop_only=True), "temperature": Param(1.0)},
                  _mdlm, "each position revealed independently with probability rate (MDLM ancestral)"),
}

SAMPLER_NAMES = tuple(REGISTRY)
#: the names a round can be audited against (every sampler; ``mdlm`` with its ``rate``)
RULE_NAMES = SAMPLER_NAMES


def check_params(name: str, params: dict, *, round_only: bool = False) -> dict:
    """The parameters of entry ``name``, checked and completed with their defaults (``ABSENT`` ones left out).

    Raises ``ValueError`` naming the entry and the parameter for an unknown name, an unknown or missing parameter
    or a value out of range. With ``round_only`` the loop options (``anneal``, ``n_steps``) are refused.

    Examples
    --------
    >>> check_params("maskgit", {"alpha": 0.5}, round_only=True)
    {'alpha': 0.5, 'ties': 'uniform'}
    """
    if name not in REGISTRY:
        raise ValueError(f"rule must be one of {', '.join(SAMPLER_NAMES)}; got rule={name!r}")
    entry = REGISTRY[name]
    spec = {k: v for k, v in entry.params.items() if not (round_only and v.loop_only)}
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ValueError(f"rule {name!r} takes {', '.join(spec)}; got unknown parameter(s) {', '.join(unknown)}")
    out = {}
    for key, par in spec.items():
        if key in params and params[key] is not None:
            out[key] = entry.check_value(key, params[key])
        elif par.default is REQUIRED:
            raise ValueError(f"rule {name!r} needs {key}")
        elif par.default is not ABSENT:
            out[key] = par.default
    return out


def describe(name: str, params: dict) -> str:
    """``name(key=value, …)`` with floats in ``%g``.

    Examples
    --------
    >>> describe("maskgit", {"alpha": 0.5, "ties": "uniform"})
    'maskgit(alpha=0.5, ties=uniform)'
    """
    return f"{name}({', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in params.items())})"


def make_sampler(name: str, **params):
    """Build a sampler by name from the one table of names (module doc for the parameters).

    Spec: §2.1–§2.5, §8.

    Parameters
    ----------
    name : str
        One of :data:`SAMPLER_NAMES`.
    **params
        Its parameters (``alpha`` of the α-samplers, ``share`` and ``order`` of ``hybrid``, ``gamma`` of ``eb``,
        ``threshold`` of ``entropy_sum``, …).

    Returns
    -------
    Sampler

    Raises
    ------
    ValueError
        If ``name`` is unknown, a parameter is unknown or missing, or a value is out of range.

    Examples
    --------
    >>> make_sampler("maskgit", alpha=0.5)
    MaskGIT(alpha=0.5, anneal=False)
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown sampler {name!r}; allowed values are {', '.join(map(repr, SAMPLER_NAMES))}")
    return REGISTRY[name].build(check_params(name, params))


#: valid, non-trivial parameters of every entry (the registry of examples the generic tests run over); ``order``
#: is filled in for the number of positions
_EXAMPLES = {
    "maskgit": {"alpha": 0.7}, "moment": {"alpha": 0.7}, "umoment": {"alpha": 0.7}, "uniform": {"temperature": 0.8},
    "confidence": {"temperature": 0.8}, "margin": {"temperature": 0.8}, "entropy": {"temperature": 0.8},
    "halton": {"order": "van_der_corput"}, "raster": {"order": "raster"}, "hybrid": {"alpha": 0.7, "share": 0.5},
    "low_confidence": {"temperature": 0.8}, "dream": {"alg_temp": 0.3, "temperature": 0.8},
    "eb": {"gamma": 0.5}, "entropy_sum": {"threshold": 0.8}, "threshold": {"m": 1, "threshold": 0.6},
    "mdlm": {"rate": 0.5},
}


def example_params(name: str, n_positions: int, *, loop: bool = False) -> dict:
    """Valid, non-trivial parameters of entry ``name`` for N = ``n_positions`` (a fixed order is built for N).

    With ``loop``, ``mdlm`` gets ``n_steps`` (a whole run) instead of its one-round ``rate``.

    Examples
    --------
    >>> example_params("halton", 4)
    {'order': (0, 2, 1, 3)}
    """
    from .orders import raster_order, van_der_corput_order

    out = dict(_EXAMPLES[name])
    if out.get("order") == "van_der_corput":
        out["order"] = tuple(int(i) for i in van_der_corput_order(n_positions))
    elif out.get("order") == "raster":
        out["order"] = tuple(int(i) for i in raster_order(n_positions))
    if loop and name == "mdlm":
        out = {"n_steps": 4}
    return out
