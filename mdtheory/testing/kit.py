"""The exact-law audit of any round function: the engine of :func:`assert_round_law` (§9).

A round function is driven many times on fixed tables of predictions (the *cases*: peaked, flat, with
zero-probability tokens, with tied rows, and a large vocabulary), its (positions, tokens) cells are counted,
and the counts are tested against the exact law of the rule it states (:mod:`mdtheory.testing.rules`):

* Pearson χ² at a stated false-alarm rate (cells with expected count < 5 pooled);
* the plug-in TV with its upper confidence bound (:func:`mdtheory.montecarlo.statistics.tv_estimate`);
* the cells with the largest standardised residuals (obs − exp)/√exp, named in the failure message;
* invariants checked on every batch before anything is counted: k distinct positions in range per row
  (for a fixed-size rule), tokens in the vocabulary, and, for the ``sequence`` convention, revealed tokens
  never re-drawn and the mask token never emitted.

The cases are in :mod:`.cases`, the statistics in :mod:`.audit`, the calling conventions and invariants in
:mod:`.conventions`; their names still import from here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .audit import (AUDIT_TV_RESOLUTION, MAX_AUDIT_DRAWS, AuditResult, _audit_dict, _describe_failure,
                    _variable_counts, audit_round, audit_variable_round, min_audit_samples)
from .cases import AuditCase, audit_cases, round_cases
from .conventions import (CONVENTIONS, RoundAuditError, _driver, _revealed_count, _scheduler_mask_id,
                          _scheduler_step)

__all__ = ["AuditCase", "AuditResult", "AUDIT_TV_RESOLUTION", "audit_cases", "round_cases", "min_audit_samples",
           "audit_round", "audit_variable_round", "RoundAuditError", "assert_round_law", "check_round_law",
           "RuleAudit", "CONVENTIONS", "MAX_AUDIT_DRAWS"]


def _step_name(step) -> str | None:
    """``module:qualname`` when the step can be imported back by name, else None."""
    mod, qual = getattr(step, "__module__", None), getattr(step, "__qualname__", None)
    if not mod or not qual or "<" in qual or mod == "__main__":
        return None
    return f"{mod}:{qual}"


def _reproduction(step, rule, case: str, n_samples: int, seed: int, convention: str, forward,
                  name: str | None = None) -> str:
    name = name or _step_name(step)
    source = getattr(rule, "source", "") if hasattr(rule, "law_fn") else ""
    if name is None or source is None:  # a step or a stated law that cannot be imported back by name
        if hasattr(rule, "law_fn"):
            return (f"assert_round_law(<the step>, stated_rule({rule.name!r}, <its law>, variable={rule.variable}, "
                    f"{', '.join(f'{k}={v!r}' for k, v in rule.params)}), cases=[{case!r}], "
                    f"n_samples={n_samples}, seed={seed}, convention={convention!r})")
        return (f"assert_round_law(<the step>, round_rule({rule.name!r}, "
                f"{', '.join(f'{k}={v!r}' for k, v in rule.params)}), cases=[{case!r}], n_samples={n_samples}, "
                f"seed={seed}, convention={convention!r})")
    params = " ".join(f"--param {k}={v}" for k, v in rule.params)
    extra = "" if convention == "round" else f" --convention {convention}"
    extra += "" if tuple(forward) == ("alpha",) else f" --forward {','.join(forward) or 'none'}"
    stated = f"--law {source}" + (" --variable" if rule.variable else "") if source else f"--rule {rule.name}"
    return (f"mdtheory audit --round {name} {stated} {params} --case {case} --n-samples {n_samples} "
            f"--seed {seed}{extra}")


@dataclass(frozen=True)
class RuleAudit:
    """The outcome of :func:`check_round_law`: one :class:`AuditResult` per case, the failure reports (worst
    cells, χ², TV bound and a reproduction line each), the first broken invariant, if any, and the default
    cases skipped because the rule's law there needs more than ``MAX_AUDIT_DRAWS`` draws (with the estimate)."""

    rule: object
    results: list
    failures: list
    invariant: str | None = None
    skipped: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.invariant is None and not self.failures and bool(self.results)


#: rounds per call in the seed-contract check of :func:`check_round_law`
SEED_CHECK_ROUNDS = 256
#: the largest chance with which the check may flag a step that does use its generator ("ignores it")
SEED_CHECK_FALSE_ALARM = 1e-12


def _draws(out) -> list:
    import torch

    if isinstance(out, tuple):
        return [torch.as_tensor(t).detach().cpu() for t in out]
    return [torch.as_tensor(out.positions).detach().cpu(), torch.as_tensor(out.tokens).detach().cpu()]


def _seed_contract(driver, case, law, variable: bool, seed: int, *,
                   check_same: bool) -> tuple[str | None, str | None, bool]:
    """``(kind, message, tested)`` of the seed contract on ``case``: kind ``"same"`` (two calls with generators
    seeded alike drew differently), ``"ignores"`` (two seeds drew the same batch) or None, and whether the
    second half could be tested here.

    Same seed, same draws: two calls on fresh drivers with generators seeded alike must agree exactly. Another
    seed, other draws: where the case's law makes identical batches improbable (Σ p_c² to the power
    ``SEED_CHECK_ROUNDS`` below ``SEED_CHECK_FALSE_ALARM``), two seeds must not draw the same batch.
    """
    import torch

    with np.errstate(divide="ignore"):
        lp = torch.tensor(np.log(case.probs)).expand(SEED_CHECK_ROUNDS, -1, -1)

    def draw(s: int) -> list:
        call = driver(variable)  # a fresh driver each time: the same scaffolding around every call
        gen = torch.Generator().manual_seed(s)
        return _draws(call(lp.clone(), generator=gen) if variable else call(lp.clone(), k=case.k, generator=gen))

    first = draw(seed)
    if check_same and not all(torch.equal(x, y) for x, y in zip(first, draw(seed))):
        return "same", ("the step is not a function of its generator: two calls with generators seeded alike drew "
                        "different results (does it draw from a global RNG?); wrap its body in "
                        "mdtheory.testing.seeded_global_rngs(generator) so that its draws, and its audit, "
                        "reproduce"), False
    probs = np.fromiter(law.values(), dtype=np.float64) if variable else np.asarray(law.probs).ravel()
    collide = float(np.sum(probs ** 2)) ** SEED_CHECK_ROUNDS
    if collide >= SEED_CHECK_FALSE_ALARM:
        return None, None, False
    if all(torch.equal(x, y) for x, y in zip(first, draw(seed + 1))):
        return "ignores", (f"the step ignores its generator: generators seeded {seed} and {seed + 1} drew the same "
                           f"{SEED_CHECK_ROUNDS} rounds, which a step that uses its generator does with probability "
                           f"{collide:.1e}; draw from the generator it is given (or wrap a step that uses the global "
                           "RNGs in mdtheory.testing.seeded_global_rngs(generator))"), True
    return None, None, True


def check_round_law(step, rule, *, cases=None, n_samples: int | None = None, seed: int = 0,
                    false_alarm: float = 1e-6, confidence: float = 0.99, convention: str = "round",
                    mask_id: int | None = None, forward=("alpha",), batch: int = 20_000,
                    num_inference_steps: int = 2, step_name: str | None = None,
                    adversarial: int = 0) -> RuleAudit:
    """Audit a round function against the exact law of the rule it states, without raising on a failure.

    Spec: §9. The engine of :func:`assert_round_law` (which documents the parameters); a broken invariant stops
    the audit and is reported in ``invariant``. The peer audits of :mod:`mdtheory.peers` use it.

    Parameters
    ----------
    step : callable or scheduler
        The round function under test (a scheduler object for ``convention="diffusers"``).
    rule : RoundRule or str
        The stated rule.
    cases, n_samples, seed, false_alarm, confidence, convention, mask_id, forward, batch
        As in :func:`assert_round_law`.
    num_inference_steps : int
        The ``diffusers`` convention's ``set_timesteps`` argument.
    step_name : str, optional
        ``module:name`` of the step for the reproduction line (found from the step itself when it is an importable
        function).
    adversarial : int
        Draws of the seeded adversarial tables (:func:`mdtheory.testing.cases.adversarial_cases`) added to the
        default cases; they can also be named in ``cases`` (``"straddle#0"``).

    Returns
    -------
    RuleAudit
        ``passed``, ``results``, ``failures`` and ``invariant``.

    Raises
    ------
    ValueError, TypeError
        For a bad argument.

    Examples
    --------
    >>> from mdtheory.sampling import maskgit_round
    >>> from mdtheory.testing import check_round_law, round_rule
    >>> audit = check_round_law(maskgit_round, round_rule("maskgit", alpha=0.5), cases=["flat"], n_samples=20_000)
    >>> audit.passed, audit.invariant
    (True, None)
    """
    import dataclasses

    from .._validation import check_positive_int
    from .rules import RoundRule, round_rule

    if n_samples is not None:  # 0 means zero draws, which is refused; only None means the default
        n_samples = check_positive_int(n_samples, name="n_samples")
    if isinstance(rule, str):
        rule = round_rule(rule)
    if not isinstance(rule, RoundRule):
        raise TypeError(f"rule must be a RoundRule (mdtheory.testing.round_rule) or a rule name; got {rule!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}; got convention={convention!r}")
    if convention == "diffusers":
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, (int, np.integer)) \
                or num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be an integer >= 1; got {num_inference_steps!r}")
        if mask_id is None:
            mask_id = _scheduler_mask_id(step)
        call_step, driven = _scheduler_step(step, int(num_inference_steps)), "sequence"
    elif not callable(step):
        raise TypeError(f"step must be callable; got {step!r}")
    else:
        call_step, driven = step, convention
    for name, value in (("false_alarm", false_alarm), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must lie in (0, 1); got {name}={value!r}")
    forward = tuple(forward)
    unknown = [f for f in forward if f not in dict(rule.params) and f != "alpha"]
    if unknown:
        raise ValueError(f"forward names parameters the rule {rule.describe()} does not have: {', '.join(unknown)}")
    forwarded = {f: dict(rule.params)[f] for f in forward if f in dict(rule.params)}
    from .._validation import check_positive_int as _count
    from .cases import adversarial_cases

    adversarial = 0 if adversarial == 0 else _count(adversarial, name="adversarial")
    named = [int(c.rsplit("#", 1)[1]) + 1 for c in (cases or []) if isinstance(c, str) and "#" in c
             and c.rsplit("#", 1)[1].isdigit()]
    extra = adversarial_cases(rule, draws=max([adversarial, *named]), seed=seed) if adversarial or named else []
    available = {c.name: c for c in round_cases(seed=seed)}
    defaults = list(available) + [c.name for c in extra]
    available.update({c.name: c for c in extra})
    chosen = []
    for c in (defaults if cases is None else cases):
        if isinstance(c, AuditCase):
            chosen.append(c)
        elif c in available:
            chosen.append(available[c])
        else:
            raise ValueError(f"cases must name cases among {', '.join(available)} (adversarial ones as "
                             f"straddle#0, many_above#0, crossing#0, near_ties#0, two_left#0) or be AuditCase "
                             f"objects; got {c!r}")
    results, failures, skipped = [], [], []
    same_checked = differ_checked = False
    for case in chosen:
        V = case.probs.shape[1]
        m_id = V if mask_id is None else mask_id

        def driver(variable: bool):
            return _driver(call_step, convention=driven, forwarded=forwarded, mask_id=m_id, variable=variable,
                           seed=seed)

        try:
            if convention == "diffusers" and not rule.variable:
                case = dataclasses.replace(case, k=_revealed_count(driver(True), case.probs, seed))
            law = rule.law(case.probs) if rule.variable else rule.law(case.probs, case.k)
            cells = len(law) if rule.variable else int(np.count_nonzero(law.probs))
            need = min_audit_samples(cells, confidence=confidence)
            if need > MAX_AUDIT_DRAWS:
                why = (f"case {case.name}: the law of {rule.describe()} has {cells:,} cells there; resolving a TV of "
                       f"{AUDIT_TV_RESOLUTION} needs {need:,} draws, above the limit of {MAX_AUDIT_DRAWS:,}")
                if cases is not None:
                    raise ValueError(why)
                warnings.warn(f"skipped {why}", stacklevel=2)
                skipped.append(why)
                continue
            if n_samples is not None and rule.variable and n_samples < need:
                raise ValueError(f"n_samples must be an integer >= {need} (the draws that resolve a TV of "
                                 f"{AUDIT_TV_RESOLUTION} at confidence {confidence} on case {case.name}'s {cells} "
                                 f"cells); got n_samples={n_samples!r}")
            n = max(100_000, need) if n_samples is None else n_samples  # 0 is refused above, never "default"
            if not differ_checked:
                kind, broken, differ_checked = _seed_contract(driver, case, law, rule.variable, seed,
                                                              check_same=not same_checked)
                same_checked = True
                if kind == "same":  # draws that do not reproduce: nothing else about the step can be trusted
                    raise RoundAuditError(broken)
                if kind == "ignores":  # the same draws under every seed: a failure; the counts below say more
                    failures.append(f"case {case.name}: {broken}")
            call = driver(rule.variable)
            if rule.variable:
                counts = _variable_counts(call, case.probs, n, seed, batch)
                r = _audit_dict(counts, law, peer=rule.describe(), case=case.name, n_samples=n,
                                false_alarm=false_alarm, confidence=confidence)
            else:
                r = audit_round(call, case, law, peer=rule.describe(), n_samples=n, seed=seed,
                                false_alarm=false_alarm, confidence=confidence, batch=batch)
        except RoundAuditError as exc:
            return RuleAudit(rule, results, failures, invariant=f"case {case.name}: {exc}", skipped=skipped)
        results.append(r)
        if not r.passed:
            failures.append(_describe_failure(r, case.probs.shape) + "\n    reproduce: "
                            + _reproduction(step, rule, case.name, n, seed, convention, forward, step_name))
    return RuleAudit(rule, results, failures, skipped=skipped)


def assert_round_law(step, rule, *, cases=None, n_samples: int | None = None, seed: int = 0,
                     false_alarm: float = 1e-6, confidence: float = 0.99, convention: str = "round",
                     mask_id: int | None = None, forward=("alpha",), batch: int = 20_000,
                     num_inference_steps: int = 2, adversarial: int = 0) -> list[AuditResult]:
    """Assert that a round function draws the exact law of the rule it states; raise if it does not.

    Spec: §9. The step runs ``n_samples`` times on each case (:func:`round_cases`); every batch is checked
    for the invariants of a round; the (positions, tokens) counts are tested with Pearson χ² at
    ``false_alarm`` against the rule's exact law (:mod:`mdtheory.testing.rules`). Calling conventions are
    described in the module doc; :func:`check_round_law` is the same audit without raising.

    Parameters
    ----------
    step : callable or scheduler
        The round function under test (a scheduler object for ``convention="diffusers"``).
    rule : RoundRule or str
        The stated rule (:func:`mdtheory.testing.round_rule`), or a rule name without parameters.
    cases : sequence of str or AuditCase, optional
        Case names from :func:`round_cases`, or cases of your own (default: all five).
    n_samples : int, optional
        Rounds per case (default: 100,000, or more where the case needs it to resolve a TV of 0.05).
    seed : int
        Seed of the draws.
    false_alarm : float
        The χ² test's level (per case).
    confidence : float
        Of the TV upper bound.
    convention : {"round", "logits", "sequence", "diffusers"}
        How the step is called.
    mask_id : int, optional
        The mask token of the ``sequence`` and ``diffusers`` conventions (default V, just outside the
        vocabulary, or the scheduler's ``mask_token_id``).
    forward : sequence of str
        The rule's parameters passed to the step by name (``alpha`` by default; ``()`` for none).
    batch : int
        Rounds per call of the step.
    num_inference_steps : int
        The ``diffusers`` convention's ``set_timesteps`` argument (default 2).
    adversarial : int
        Draws of seeded adversarial tables per kind added to the cases (thresholds straddled, many candidates
        above θ, crossing scores, near-ties, two positions left; each named in a failure).

    Returns
    -------
    list of AuditResult
        One per case, all passed.

    Raises
    ------
    RoundAuditError
        If an invariant breaks or a case fails; the message names the worst cells, χ², the TV with its upper
        bound, and a one-line reproduction.
    ValueError
        For a bad argument.

    Examples
    --------
    >>> from mdtheory.sampling import maskgit_round
    >>> from mdtheory.testing import assert_round_law, round_rule
    >>> results = assert_round_law(maskgit_round, round_rule("maskgit", alpha=1.0), cases=["peaked"], n_samples=20_000)
    >>> results[0].passed
    True
    """
    audit = check_round_law(step, rule, cases=cases, n_samples=n_samples, seed=seed, false_alarm=false_alarm,
                            confidence=confidence, convention=convention, mask_id=mask_id, forward=forward,
                            batch=batch, num_inference_steps=num_inference_steps, adversarial=adversarial)
    if audit.invariant is not None:
        raise RoundAuditError(audit.invariant, audit.results)
    if audit.failures:
        who = _step_name(step) or getattr(step, "__name__", "the step")
        raise RoundAuditError(f"{who} does not draw {audit.rule.describe()} on {len(audit.failures)} of "
                              f"{len(audit.results)} cases (χ² at false alarm {false_alarm:g} per case):\n  "
                              + "\n  ".join(audit.failures), audit.results)
    return audit.results
