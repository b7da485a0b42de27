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

Calling conventions (``convention=``):

* ``"round"`` (default, mdtheory's own rounds): ``step(log_probs, k=k, generator=g, **forwarded)`` with
  ``log_probs`` a (B, N, V) float64 tensor over the masked positions; it returns ``(positions, tokens)``,
  each (B, k), or an object with those two attributes. ``forwarded`` holds the rule's parameters named in
  ``forward`` (``alpha`` by default, when the rule has one).
* ``"logits"``: the same with unnormalised logits (each row shifted by a random constant).
* ``"sequence"``: ``step(tokens, logits, k=k, mask_id=mask_id, generator=g, **forwarded)`` on whole
  sequences (B, L) in which some positions are already revealed; it returns the new tokens (B, L).
* ``"diffusers"``: ``step`` is a discrete scheduler with ``set_timesteps`` and ``step`` (diffusers'
  ``SchedulerMixin`` convention). Before every batch the kit calls ``set_timesteps(num_inference_steps)``,
  then ``step(logits, timesteps[0], tokens, generator=g, **forwarded)`` on the sequences of the
  ``sequence`` convention, and reads ``prev_sample`` (or the first element of a tuple). The mask id is the
  scheduler's ``mask_token_id`` (attribute or config entry) unless ``mask_id`` is given. A fixed-size rule is
  audited at the number of positions the scheduler reveals in that step, which must be the same in every row.

Rules of variable size (``eb``, ``threshold``, ``mdlm``) take no ``k``; in the ``round`` and ``logits``
conventions they return ``(selected, tokens)``, each (B, N) (a bool mask and the tokens), or an object with
those attributes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["AuditCase", "AuditResult", "AUDIT_TV_RESOLUTION", "audit_cases", "round_cases", "min_audit_samples",
           "audit_round", "audit_variable_round", "RoundAuditError", "assert_round_law", "check_round_law",
           "RuleAudit", "CONVENTIONS", "MAX_AUDIT_DRAWS"]

@dataclass(frozen=True)
class AuditCase:
    """One fixed probability table (N, V) and the number k of positions a round reveals."""

    name: str
    probs: np.ndarray
    k: int


def audit_cases(*, seed: int = 0, n: int = 4, vocab_size: int = 3) -> list[AuditCase]:
    """The seeded tables every audit runs on: peaked, flat, with zero-probability tokens, and with tied rows.

    Spec: §9.

    Parameters
    ----------
    seed : int
        Seed.
    n : int
        N.
    vocab_size : int
        V.

    Returns
    -------
    list of AuditCase
        Each with ``name``, ``probs`` (N, V) and ``k``.

    Examples
    --------
    >>> [c.name for c in audit_cases()]
    ['peaked', 'flat', 'zeros', 'ties']
    """
    rng = np.random.default_rng(seed)
    peaked = rng.dirichlet(np.full(vocab_size, 0.3), size=n)
    flat = rng.dirichlet(np.full(vocab_size, 30.0), size=n)
    zeros = rng.dirichlet(np.ones(vocab_size), size=n)
    zeros[0, 0] = 0.0
    zeros[-1, -1] = 0.0
    zeros /= zeros.sum(axis=1, keepdims=True)
    tied = np.tile(rng.dirichlet(np.ones(vocab_size)), (n, 1))
    return [AuditCase("peaked", peaked, 1), AuditCase("flat", flat, 2), AuditCase("zeros", zeros, 2),
            AuditCase("ties", tied, 1)]


@dataclass(frozen=True)
class AuditResult:
    """Outcome of one audit: χ² test, TV estimate with its upper confidence bound, worst cells."""

    peer: str
    case: str
    k: int
    n_samples: int
    chi2: object
    tv: float
    tv_upper: float
    worst_cells: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.chi2.passed)

    def to_dict(self) -> dict:
        return {"peer": self.peer, "case": self.case, "k": self.k, "n_samples": self.n_samples,
                "chi2": self.chi2.statistic, "critical": self.chi2.critical_value, "p_value": self.chi2.p_value,
                "tv": self.tv, "tv_upper": self.tv_upper, "passed": self.passed, "worst_cells": self.worst_cells}


#: an audit needs enough draws that its TV upper bound is within this of the estimate (it never passes on
#: no evidence): n ≥ 2(c·log 2 + log(1/δ))/(2·resolution)² for c support cells at confidence 1 − δ
AUDIT_TV_RESOLUTION = 0.05

#: a case whose law needs more draws than this to resolve ``AUDIT_TV_RESOLUTION`` is refused up front (named
#: explicitly) or skipped with a warning (in the default set): e.g. an MDLM step on the V = 64 case
MAX_AUDIT_DRAWS = 5_000_000


def min_audit_samples(n_cells: int, *, confidence: float = 0.99) -> int:
    """The fewest draws for which the TV bound of :func:`mdtheory.tv_estimate` on ``n_cells`` cells is within
    ``AUDIT_TV_RESOLUTION`` of the estimate, at ``confidence``."""
    return int(np.ceil(2 * (n_cells * np.log(2) + np.log(1 / (1 - confidence))) / (2 * AUDIT_TV_RESOLUTION) ** 2))


def audit_round(round_fn, case: AuditCase, exact_law, *, peer: str = "peer", n_samples: int = 200_000,
                seed: int = 0, false_alarm: float = 1e-6, confidence: float = 0.99, batch: int = 50_000,
                n_worst: int = 3) -> AuditResult:
    """Run a round function many times on one case and test its empirical law against an exact law.

    Spec: §9: Pearson χ² at ``false_alarm`` and a TV estimate with its upper confidence bound; the worst cells
    are named in the result.

    Parameters
    ----------
    round_fn : callable
        ``round_fn(log_probs, *, k, generator) -> RoundOutput`` (bind α and other options beforehand).
    case : AuditCase
        The table and k.
    exact_law : RoundLaw
        The law the round states it draws.
    peer : str
        A label.
    n_samples : int
        Rounds.
    seed : int
        Seed.
    false_alarm : float
        The χ² test's level.
    confidence : float
        Of the TV bound.
    batch : int
        Rounds per call.
    n_worst : int
        Cells listed in the result.

    Returns
    -------
    AuditResult
        ``passed``, χ², TV and its bound, and the worst cells.

    Examples
    --------
    >>> import functools
    >>> from mdtheory import maskgit_round, maskgit_round_law
    >>> case = audit_cases()[0]
    >>> r = audit_round(functools.partial(maskgit_round, alpha=1.0), case, maskgit_round_law(case.probs, k=case.k, alpha=1.0),
    ...                 n_samples=20000)
    >>> r.passed
    True
    """
    from ..montecarlo.statistics import chisquare_test, empirical_round_counts, tv_estimate

    for name, value in (("false_alarm", false_alarm), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must lie in (0, 1); got {name}={value!r}")
    n_min = min_audit_samples(int(np.count_nonzero(exact_law.probs)), confidence=confidence)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < n_min:
        raise ValueError(f"n_samples must be an integer >= {n_min} (the draws that resolve a TV of {AUDIT_TV_RESOLUTION} "
                         f"at confidence {confidence} on this case's {np.count_nonzero(exact_law.probs)} cells); "
                         f"got n_samples={n_samples!r}")
    counts = empirical_round_counts(round_fn, case.probs, k=case.k, n_samples=n_samples, seed=seed, batch=batch)
    chi = chisquare_test(counts, exact_law, false_alarm=false_alarm)
    tv, upper = tv_estimate(counts, exact_law, confidence=confidence)
    expected = exact_law.probs * n_samples
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(expected > 0, (counts - expected) / np.sqrt(expected), np.where(counts > 0, np.inf, 0.0))
    tuples = exact_law.token_tuples()
    worst = []
    for flat in np.argsort(-np.abs(z), axis=None)[:n_worst]:
        c, j = np.unravel_index(flat, z.shape)
        worst.append({"positions": exact_law.sets[c].tolist(), "tokens": tuples[j].tolist(),
                      "observed": int(counts[c, j]), "expected": float(expected[c, j]), "z": float(z[c, j])})
    return AuditResult(peer=peer, case=case.name, k=case.k, n_samples=n_samples, chi2=chi, tv=tv, tv_upper=upper,
                       worst_cells=worst)




def audit_variable_round(round_fn, probs, law: dict, *, peer: str = "peer", n_samples: int = 100_000, seed: int = 0,
                         false_alarm: float = 1e-6, batch: int = 20_000):
    """χ² of a peer whose rounds reveal a variable number of positions, against a {(K, x_K): prob} law.
    ``round_fn(log_probs, generator) -> (selected (B, N) bool, tokens (B, N))``. Returns the ChiSquareResult
    and the counts dict."""
    from ..montecarlo.statistics import chisquare_test

    counts = _variable_counts(round_fn, np.asarray(probs, dtype=np.float64), n_samples, seed, batch)
    keys = sorted(set(law) | set(counts))
    expected = np.array([law.get(k, 0.0) for k in keys])
    observed = np.array([counts.get(k, 0) for k in keys])
    return chisquare_test(observed, expected, false_alarm=false_alarm), counts


CONVENTIONS = ("round", "logits", "sequence", "diffusers")


def round_cases(*, seed: int = 0) -> list[AuditCase]:
    """The cases of :func:`assert_round_law`: :func:`audit_cases` (N = 4, V = 3) and a large vocabulary.

    Spec: §9. The fifth case, ``large_vocab``, has N = 3 Zipf-like rows over V = 64 tokens and k = 1, so that
    a token law that is only right on tiny vocabularies fails.

    Parameters
    ----------
    seed : int
        Seed.

    Returns
    -------
    list of AuditCase

    Examples
    --------
    >>> [(c.name, c.probs.shape, c.k) for c in round_cases()][-1]
    ('large_vocab', (3, 64), 1)
    """
    rng = np.random.default_rng([seed, 64])
    ranks = np.arange(1, 65, dtype=np.float64)
    rows = np.stack([rng.permutation(ranks ** -s) for s in (0.8, 1.1, 1.5)])
    return audit_cases(seed=seed) + [AuditCase("large_vocab", rows / rows.sum(axis=1, keepdims=True), 1)]


class RoundAuditError(AssertionError):
    """A round function does not draw the law of the rule it states, or breaks an invariant of a round.

    Spec: §9. The message names the failing cases, their worst cells, χ², the TV with its upper bound, and a
    one-line reproduction; ``results`` holds the :class:`AuditResult` of every case.

    Parameters
    ----------
    message : str
        The report.
    results : list of AuditResult
        Every case's result (empty when an invariant broke).

    Examples
    --------
    >>> issubclass(RoundAuditError, AssertionError)
    True
    """

    def __init__(self, message: str, results=()):
        super().__init__(message)
        self.results = list(results)


@dataclass
class _Outputs:
    positions: object
    tokens: object


def _field(out, names: tuple[str, str], what: str):
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out[0], out[1]
    if all(hasattr(out, n) for n in names):
        return getattr(out, names[0]), getattr(out, names[1])
    raise RoundAuditError(f"the step must return ({names[0]}, {names[1]}) or an object with those attributes "
                          f"({what}); it returned {type(out).__name__}")


def _as_tensor(x, name: str, shape: tuple, *, dtype_kind: str):
    import torch

    t = torch.as_tensor(x)
    if tuple(t.shape) != shape:
        raise RoundAuditError(f"the step's {name} must have shape {shape}; got {tuple(t.shape)}")
    if dtype_kind == "int" and (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool):
        raise RoundAuditError(f"the step's {name} must be integers; got dtype {t.dtype}")
    return t.cpu()


def _check_fixed(pos, tok, B: int, N: int, V: int, k: int):
    import torch

    pos = _as_tensor(pos, "positions", (B, k), dtype_kind="int")
    tok = _as_tensor(tok, "tokens", (B, k), dtype_kind="int")
    bad = (pos < 0) | (pos >= N)
    if bool(bad.any()):
        r = int(torch.nonzero(bad)[0, 0])
        raise RoundAuditError(f"a position out of range 0..{N - 1}: row {r} chose {pos[r].tolist()}")
    srt = pos.sort(dim=1).values
    dup = (srt[:, 1:] == srt[:, :-1]).any(dim=1) if k > 1 else torch.zeros(B, dtype=torch.bool)
    if bool(dup.any()):
        r = int(torch.nonzero(dup)[0, 0])
        raise RoundAuditError(f"a position chosen twice in one round: row {r} chose {pos[r].tolist()}")
    badt = (tok < 0) | (tok >= V)
    if bool(badt.any()):
        r = int(torch.nonzero(badt)[0, 0])
        raise RoundAuditError(f"a token outside the vocabulary 0..{V - 1} (the mask token, or garbage): row {r} "
                              f"emitted {tok[r].tolist()} at positions {pos[r].tolist()}")
    return pos, tok


def _sequence_layout(N: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the masked positions sit in the sequence of the ``sequence`` convention: N masked positions
    interleaved with ⌈N/2⌉ revealed ones (a revealed one first)."""
    L = N + (N + 1) // 2
    revealed = np.arange(0, 2 * ((N + 1) // 2), 2)
    masked = np.setdiff1d(np.arange(L), revealed)
    return masked, revealed


def _driver(step, *, convention: str, forwarded: dict, mask_id: int, variable: bool, seed: int):
    """The step in mdtheory's round convention, every batch checked before it is counted."""
    import torch

    shift_gen = np.random.default_rng([seed, 7])

    def call(lp, k=None, generator=None):
        B, N, V = lp.shape
        kw = dict(forwarded) if variable else dict(forwarded, k=k)
        if convention in ("round", "logits"):
            x = lp.clone()
            if convention == "logits":
                x = x + torch.as_tensor(shift_gen.normal(0, 3, size=(B, 1, 1)), dtype=x.dtype)
            out = step(x, generator=generator, **kw)
            if variable:
                sel, tok = _field(out, ("selected", "tokens"), "a variable-size rule")
                sel = _as_tensor(sel, "selected", (B, N), dtype_kind="bool").bool()
                tok = _as_tensor(tok, "tokens", (B, N), dtype_kind="int")
                badt = sel & ((tok < 0) | (tok >= V))
                if bool(badt.any()):
                    r = int(torch.nonzero(badt)[0, 0])
                    raise RoundAuditError(f"a token outside the vocabulary 0..{V - 1}: row {r} emitted "
                                          f"{tok[r][sel[r]].tolist()}")
                return sel, tok
            return _Outputs(*_check_fixed(*_field(out, ("positions", "tokens"), "a fixed-size rule"), B, N, V, k))
        masked_at, revealed_at = _sequence_layout(N)
        L = N + revealed_at.size
        g = torch.Generator().manual_seed(int(shift_gen.integers(2 ** 31)))
        tokens = torch.full((B, L), mask_id, dtype=torch.long)
        tokens[:, revealed_at] = torch.randint(0, V, (B, revealed_at.size), generator=g)
        logits = torch.randn(B, L, V, generator=g, dtype=lp.dtype)
        logits[:, masked_at] = lp
        before = tokens.clone()
        new = step(tokens, logits, mask_id=mask_id, generator=generator, **kw)
        new = _as_tensor(new, "tokens", (B, L), dtype_kind="int")
        moved = new[:, revealed_at] != before[:, revealed_at]
        if bool(moved.any()):
            r, c = (int(v) for v in torch.nonzero(moved)[0])
            raise RoundAuditError(f"a revealed token was re-drawn: row {r}, position {int(revealed_at[c])} held "
                                  f"{int(before[r, revealed_at[c]])} and now holds {int(new[r, revealed_at[c]])}")
        sub = new[:, masked_at]
        sel = sub != mask_id
        if bool(((sub < 0) | ((sub >= V) & sel)).any()):
            r = int(torch.nonzero((sub < 0) | ((sub >= V) & sel))[0, 0])
            raise RoundAuditError(f"a token outside the vocabulary 0..{V - 1} (mask id {mask_id}): row {r} emitted "
                                  f"{sub[r].tolist()} at the masked positions")
        if variable:
            return sel, sub
        counts = sel.sum(dim=1)
        if bool((counts != k).any()):
            r = int(torch.nonzero(counts != k)[0, 0])
            raise RoundAuditError(f"a round must reveal exactly k={k} positions: row {r} revealed {int(counts[r])}")
        pos = torch.nonzero(sel)[:, 1].view(B, k)
        return _Outputs(pos, sub.gather(1, pos))

    return call


def _variable_counts(call, probs, n_samples: int, seed: int, batch: int) -> dict:
    import torch

    with np.errstate(divide="ignore"):
        lp = torch.as_tensor(np.log(probs))
    gen = torch.Generator().manual_seed(seed)
    counts: dict = {}
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        sel, tok = call(lp.expand(b, -1, -1), generator=gen)
        sel, tok = sel.cpu().numpy(), tok.cpu().numpy()
        for r in range(b):
            K = tuple(int(i) for i in np.nonzero(sel[r])[0])
            key = (K, tuple(int(t) for t in tok[r, list(K)]))
            counts[key] = counts.get(key, 0) + 1
        done += b
    return counts


def _audit_dict(counts: dict, law: dict, *, peer: str, case: str, n_samples: int, false_alarm: float,
                confidence: float, n_worst: int = 3) -> AuditResult:
    from ..montecarlo.statistics import chisquare_test, tv_estimate

    keys = sorted(set(law) | set(counts))
    expected = np.array([law.get(c, 0.0) for c in keys])
    observed = np.array([counts.get(c, 0) for c in keys])
    chi = chisquare_test(observed, expected, false_alarm=false_alarm)
    tv, upper = tv_estimate(observed, expected, confidence=confidence)
    e = expected * n_samples
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(e > 0, (observed - e) / np.sqrt(e), np.where(observed > 0, np.inf, 0.0))
    worst = [{"positions": list(keys[i][0]), "tokens": list(keys[i][1]), "observed": int(observed[i]),
              "expected": float(e[i]), "z": float(z[i])} for i in np.argsort(-np.abs(z))[:n_worst]]
    sizes = {len(c[0]) for c in keys}
    return AuditResult(peer=peer, case=case, k=max(sizes) if sizes else 0, n_samples=n_samples, chi2=chi, tv=tv,
                       tv_upper=upper, worst_cells=worst)


def _step_name(step) -> str | None:
    """``module:qualname`` when the step can be imported back by name, else None."""
    mod, qual = getattr(step, "__module__", None), getattr(step, "__qualname__", None)
    if not mod or not qual or "<" in qual or mod == "__main__":
        return None
    return f"{mod}:{qual}"


def _reproduction(step, rule, case: str, n_samples: int, seed: int, convention: str, forward,
                  name: str | None = None) -> str:
    name = name or _step_name(step)
    if name is None:
        return (f"assert_round_law(<the step>, round_rule({rule.name!r}, "
                f"{', '.join(f'{k}={v!r}' for k, v in rule.params)}), cases=[{case!r}], n_samples={n_samples}, "
                f"seed={seed}, convention={convention!r})")
    params = " ".join(f"--param {k}={v}" for k, v in rule.params)
    extra = "" if convention == "round" else f" --convention {convention}"
    extra += "" if tuple(forward) == ("alpha",) else f" --forward {','.join(forward) or 'none'}"
    return (f"mdtheory audit --round {name} --rule {rule.name} {params} --case {case} --n-samples {n_samples} "
            f"--seed {seed}{extra}")


def _describe_failure(r: AuditResult, probs_shape) -> str:
    cells = "; ".join(f"positions {c['positions']} tokens {c['tokens']}: observed {c['observed']}, expected "
                      f"{c['expected']:.1f} (z = {c['z']:+.1f})" for c in r.worst_cells)
    chi = r.chi2
    return (f"case {r.case} (N={probs_shape[0]}, V={probs_shape[1]}, k={r.k}): χ² = {chi.statistic:.1f} > "
            f"{chi.critical_value:.1f} (dof {chi.dof}, p = {chi.p_value:.2g}); TV ≈ {r.tv:.4f} (upper bound "
            f"{r.tv_upper:.4f}); worst cells: {cells}")


def _scheduler_step(scheduler, num_inference_steps: int):
    """A diffusers-style scheduler as a step of the ``sequence`` convention."""
    for attr in ("set_timesteps", "step"):
        if not callable(getattr(scheduler, attr, None)):
            raise TypeError(f"the diffusers convention needs a scheduler object with set_timesteps and step; "
                            f"{scheduler!r} has no {attr}")

    def seq_step(tokens, logits, *, mask_id, generator=None, **kw):
        kw.pop("k", None)
        scheduler.set_timesteps(num_inference_steps)
        out = scheduler.step(logits, scheduler.timesteps[0], tokens, generator=generator, **kw)
        return out.prev_sample if hasattr(out, "prev_sample") else out[0]

    return seq_step


def _scheduler_mask_id(scheduler):
    for holder in (scheduler, getattr(scheduler, "config", None)):
        value = getattr(holder, "mask_token_id", None) if holder is not None else None
        if value is None and isinstance(holder, dict):
            value = holder.get("mask_token_id")
        if value is not None:
            return int(value)
    return None


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


def check_round_law(step, rule, *, cases=None, n_samples: int | None = None, seed: int = 0,
                    false_alarm: float = 1e-6, confidence: float = 0.99, convention: str = "round",
                    mask_id: int | None = None, forward=("alpha",), batch: int = 20_000,
                    num_inference_steps: int = 2, step_name: str | None = None) -> RuleAudit:
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
    >>> from mdtheory import maskgit_round
    >>> from mdtheory.testing import check_round_law, round_rule
    >>> audit = check_round_law(maskgit_round, round_rule("maskgit", alpha=0.5), cases=["flat"], n_samples=20_000)
    >>> audit.passed, audit.invariant
    (True, None)
    """
    import dataclasses

    from .rules import RoundRule, round_rule

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
    available = {c.name: c for c in round_cases(seed=seed)}
    chosen = []
    for c in (list(available) if cases is None else cases):
        if isinstance(c, AuditCase):
            chosen.append(c)
        elif c in available:
            chosen.append(available[c])
        else:
            raise ValueError(f"cases must name cases among {', '.join(available)} or be AuditCase objects; got {c!r}")
    results, failures, skipped = [], [], []
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
            n = n_samples or max(100_000, need)
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


def _revealed_count(call, probs, seed: int) -> int:
    """The number of positions a scheduler reveals in its step on this case (the same in every row)."""
    import torch

    with np.errstate(divide="ignore"):
        lp = torch.as_tensor(np.log(probs))
    sel, _ = call(lp.expand(256, -1, -1), generator=torch.Generator().manual_seed(seed + 1))
    sizes = sorted({int(v) for v in sel.sum(dim=1)})
    if len(sizes) != 1 or sizes[0] == 0:
        raise RoundAuditError(f"a fixed-size rule needs the same positive number of reveals in every row; the "
                              f"scheduler revealed {sizes} positions in one step")
    return sizes[0]


def assert_round_law(step, rule, *, cases=None, n_samples: int | None = None, seed: int = 0,
                     false_alarm: float = 1e-6, confidence: float = 0.99, convention: str = "round",
                     mask_id: int | None = None, forward=("alpha",), batch: int = 20_000,
                     num_inference_steps: int = 2) -> list[AuditResult]:
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
    >>> from mdtheory import maskgit_round
    >>> from mdtheory.testing import assert_round_law, round_rule
    >>> results = assert_round_law(maskgit_round, round_rule("maskgit", alpha=1.0), cases=["peaked"], n_samples=20_000)
    >>> results[0].passed
    True
    """
    audit = check_round_law(step, rule, cases=cases, n_samples=n_samples, seed=seed, false_alarm=false_alarm,
                            confidence=confidence, convention=convention, mask_id=mask_id, forward=forward,
                            batch=batch, num_inference_steps=num_inference_steps)
    if audit.invariant is not None:
        raise RoundAuditError(audit.invariant, audit.results)
    if audit.failures:
        who = _step_name(step) or getattr(step, "__name__", "the step")
        raise RoundAuditError(f"{who} does not draw {audit.rule.describe()} on {len(audit.failures)} of "
                              f"{len(audit.results)} cases (χ² at false alarm {false_alarm:g} per case):\n  "
                              + "\n  ".join(audit.failures), audit.results)
    return audit.results
