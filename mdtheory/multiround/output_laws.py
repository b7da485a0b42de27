"""Exact output laws of whole samplers run with a target's conditionals (§2, §3, §4.3–§4.5, §5.1, §8).

The sampler objects are the ones the sampling loop runs (:mod:`mdtheory.rules.samplers`): MaskGIT, Moment,
UMoment and ``CTS(position_rule, token_transform)`` with any rule of :mod:`mdtheory.rules.positions` (uniform,
moment, confidence, margin, entropy, fixed orders such as Halton or raster, hybrid(γ)), plus the
EB-sampler (:class:`EB`). Their exact laws are propagated over partial states (U, x_U):

* predictions p_i = model(x_i; x_U) (``model`` defaults to the target: the "ideal model");
* one round: MaskGIT by the exact §3.2 law; a CTS rule by its exact set law — Plackett–Luce on
  exp(base score / noise) for noisy rules (:func:`mdtheory.exact.plackett_luce.pl_set_log_prob`), top-k with
  uniformly split exact ties for deterministic rules — times the product of the transformed token rows;
* states that coincide are merged, so the cost is the number of reachable partial states.

Reported quantities, for output law p and target π:

* ``kl`` = KL(π ‖ p) (the *mixture* KL: what a user's samples follow; +inf when p misses support of π)
  and ``tv``;
* ``path_kl`` = KL(ideal path ‖ algorithm path). The ideal process draws K from the *algorithm's*
  position law at each state and then x_K ~ π(x_K | x_U) jointly; it outputs π exactly (``ideal_error``
  checks it), and path_kl = E_ideal Σ_r E_K KL(π(x_K | x_U) ‖ p_alg(x_K | K, state)) ≥ kl by data
  processing. For CTS samplers this is the §4.4 bound E Σ_r [TC(X_K | x_U) + Σ_{i∈K} KL(π_i ‖ p_i)], an
  equality when the selected set is a deterministic function of the revealed values (§8).

**Conventions.** The step that reveals every remaining position draws untempered tokens (the
sampling loop's final-step convention). Deterministic rules rank by scores rounded to the 2^-36 grid
(:func:`mdtheory.rules.positions.tie_keys`), exactly as the samplers do, so symmetric positions whose scores
differ by float rounding tie and are split uniformly. The EB rule sorts masked positions by entropy, ties by
position index, and takes the largest prefix with Σ H − max H ≤ γ (at least one position).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.special import entr

from .._postconditions import check_distance, check_kl, check_law

from ..exact.round_laws import _token_product
from ..exact.rule_laws import rule_log_cells
from ..exact.set_laws import position_set_law
from ..rules.positions import HybridRule
from ..rules.rounds import Bernoulli, ChooseThenSample, Rule, SampleThenChoose
from ..rules.samplers import CTS, MDLM, RuleSampler, Sampler
from ..rules.schedules import as_schedule

__all__ = ["OutputLaw", "output_law", "position_set_law", "round_log_cells",
           "hybrid_decomposition_bound", "sampler_comparison"]

#: the most live partial states :func:`output_law` carries from one round to the next (its docstring says so)
MAX_STATES = 2_000_000


def round_log_cells(rule, probs: np.ndarray, masked: np.ndarray, k: int | None, *, final: bool = False):
    """Exact law of one round at a state, in log-space: [(positions, log-probability vector over (V,)*|K|), ...]
    with the position probability folded in (the exponentials sum to 1 over all cells).

    ``rule`` is a round rule of :mod:`mdtheory.rules`; with ``final`` the final-step convention applies
    (:meth:`~mdtheory.rules.Rule.at_final`). A thin layer over :func:`mdtheory.exact.rule_laws.rule_log_cells`.
    """
    if not isinstance(rule, Rule):
        raise TypeError(f"no exact law for sampler {type(rule).__name__}")
    return rule_log_cells(rule.at_final() if final else rule, probs, masked, k)


def _group_logsumexp(inv: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """log Σ exp(values) within each group ``inv`` (−inf for a group of −inf values only)."""
    top = np.full(n_groups, -np.inf)
    np.maximum.at(top, inv, values)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.bincount(inv, weights=np.exp(values - safe[inv]), minlength=n_groups))


def _check_target(target) -> None:
    if not all(hasattr(target, a) for a in ("table", "n", "q", "conditionals")):
        raise TypeError(f"target must be a JointTable (build one from an array with mdtheory.targets.joint_table); "
                        f"got {type(target).__name__}")


def _check_sampler(sampler) -> None:
    if not isinstance(sampler, Sampler):
        raise TypeError(f"no exact law for sampler {type(sampler).__name__}: output_law reads the samplers of "
                        f"mdtheory.rules (MaskGIT, Moment, UMoment, CTS, EB, EntropySum, MDLM, RuleSampler)")


def _check_blocks(blocks, n: int):
    """A block number per position as an int array, or None."""
    if blocks is None:
        return None
    b = np.asarray(blocks)
    if b.shape != (n,) or b.dtype.kind not in "iu" or (b.size and b.min() < 0):
        raise ValueError(f"blocks must give a block number >= 0 for each of the {n} positions; got {blocks!r}")
    return b.astype(np.int64)


def _horizon(sampler, n: int) -> int:
    """The most steps an adaptive sampler takes: N (each step reveals one at least), or MDLM's K."""
    if isinstance(sampler, MDLM):
        return sampler.n_steps
    if isinstance(sampler, RuleSampler) and isinstance(sampler.rule, Bernoulli):
        raise ValueError("a constant-rate Bernoulli sampler has no finite horizon; use MDLM(n_steps) for an exact law")
    return n


def _untempered_final(rule) -> bool:
    """True when the final step draws the product of the untempered predictions at every remaining position."""
    rule = rule.at_final()
    return isinstance(rule, (ChooseThenSample, SampleThenChoose)) and rule.token_transform.untempered


def _free_cube(target, values: np.ndarray, revealed: np.ndarray) -> np.ndarray:
    """π(x_F | x_U) as an array of shape (q,)*|F| over the free positions F (increasing order)."""
    F = int((~revealed).sum())
    return target.free_block_law(values[None], revealed)[0].reshape((target.q,) * F)


def _block_from_cube(cube: np.ndarray, revealed: np.ndarray, block: tuple[int, ...]) -> np.ndarray:
    """π(x_B | x_U) over (q,)*|B| (flattened, C order over B = sorted positions) from the free cube."""
    F = np.nonzero(~revealed)[0]
    drop = tuple(a for a, i in enumerate(F) if i not in block)
    return (cube.sum(axis=drop) if drop else cube).ravel()


def _block_conditional(target, values: np.ndarray, revealed: np.ndarray, block: tuple[int, ...]) -> np.ndarray:
    """π(x_B | x_U) over (q,)*|B| (flattened, C order in the order of B = sorted positions)."""
    return _block_from_cube(_free_cube(target, values, revealed), revealed, block)


def _cube_conditionals(target, cube: np.ndarray, values: np.ndarray, revealed: np.ndarray) -> np.ndarray:
    """Single-site conditionals (N, q) from the free cube (revealed rows one-hot)."""
    out = np.zeros((values.size, target.q))
    out[~revealed] = target.free_marginals(cube.reshape(1, -1))[0]
    out[np.nonzero(revealed)[0], values[revealed]] = 1.0
    return out


def _final_step(target, codes, log_p_alg, p_ideal, place, out) -> tuple[float, float]:
    """The last step for every remaining state at once, grouped by revealed set: with the target's own
    conditionals it draws the product of the exact marginals π(x_i | x_U) (untempered final step; MaskGIT
    at k = N). Appends the new states to ``out``; returns the path-KL contribution and the largest block KL."""
    q = target.q
    digits = (codes[:, None] // place) % (q + 1)
    masks = digits > 0
    total = worst = 0.0
    groups = defaultdict(list)
    for row, m in enumerate(masks):
        groups[m.tobytes()].append(row)
    for rows in groups.values():
        rows = np.array(rows)
        free = np.nonzero(~masks[rows[0]])[0]
        ideal = target.free_block_law(np.maximum(digits[rows] - 1, 0), masks[rows[0]])
        alg = _token_product(target.free_marginals(ideal))  # product of the exact single-site marginals
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(ideal > 0, ideal * (np.log(ideal) - np.log(alg)), 0.0)
        kls = terms.sum(axis=1)
        total += float(p_ideal[rows] @ kls)
        worst = max(worst, float(kls[p_ideal[rows] > 0].max(initial=0.0)))
        tup = np.array(np.unravel_index(np.arange(q ** free.size), (q,) * free.size)).T + 1
        out[0].append((codes[rows][:, None] + (tup @ place[free])[None, :]).ravel())
        with np.errstate(divide="ignore"):
            out[1].append((log_p_alg[rows][:, None] + np.log(alg)).ravel())
        out[2].append((p_ideal[rows][:, None] * ideal).ravel())
    return total, worst


@dataclass(frozen=True)
class OutputLaw:
    """The exact output law of a sampler on a target, with its distances to π.

    Spec: §4.4, §5.1, §8.

    Parameters
    ----------
    table : numpy.ndarray, shape (q,)*N
        The law of the sampler's output. Paths that reach a partial state of probability 0 under π, where the
        target's conditionals are undefined, are not completed: ``table`` then sums to 1 − their mass.
    kl : float
        KL(π ‖ output) in nats (the data law first; finite for factorized samplers).
    tv : float
        TV(π, output).
    path_kl : float
        KL(ideal path ‖ algorithm path), the §4.4 bound.
    ideal_error : float
        max |ideal process's output − π| (0 up to rounding: a self-check).
    n_states : int
        Partial states visited.
    schedule : tuple of int or None
        The step sizes (None for adaptive samplers).
    mean_steps : float
        E[number of steps].
    max_block_kl : float
        The largest expected per-step KL.
    off_support : float
        ν(x ∉ supp π), the mass the sampler puts outside the support of π (never completed paths included).
    extra : dict
        Details.
    rounding_error : float
        Stated total variation by which float64 rounding of the predictions' last digits can move ``table``: the
        sum over rounds of the largest stated rounding error of a round's law
        (:mod:`mdtheory.exact.conditioning`); 0 up to ~1e-12 except at a tiny α or temperature.

    Examples
    --------
    >>> from mdtheory import CTS
    >>> from mdtheory.targets import repeated_bit
    >>> law = output_law(repeated_bit(3), CTS(), [1, 1, 1])
    >>> abs(round(float(law.kl), 12)), abs(round(float(law.path_kl), 12))
    (0.0, 0.0)
    """

    table: np.ndarray
    kl: float
    tv: float
    path_kl: float
    ideal_error: float
    n_states: int
    schedule: tuple[int, ...] | None = None
    mean_steps: float = 0.0  # E[#steps] under the ideal process (K for fixed schedules)
    max_block_kl: float = 0.0  # max over reachable states of one round's KL (with exact conditionals: its TC)
    off_support: float = 0.0  # the output's mass outside the support of π (the sequence error rate)
    extra: dict = field(default_factory=dict, repr=False, compare=False)
    rounding_error: float = 0.0


def output_law(target, sampler, schedule=None, *, n_steps: int | None = None, model=None,
               blocks=None) -> OutputLaw:
    """The exact output law of a whole sampler on a known target, with KL, TV and path KL.

    Spec: §4.3–§4.5, §8 (and §3.2 for MaskGIT's rounds). Partial states (U, x_U) are propagated step by step
    and merged, so 3×3 grids and N ≈ 12 binary targets are exact.

    Parameters
    ----------
    target : JointTable
        π.
    sampler : Sampler
        ``MaskGIT``, ``Moment``, ``UMoment``, ``CTS``, ``EB`` or ``EntropySum``.
    schedule : str or sequence of int, optional
        A name (with ``n_steps``) or sizes; ignored by EB and EntropySum.
    n_steps : int, optional
        K, for a named schedule.
    model : object, optional
        The predictions p_i(·; x_U), anything with ``conditionals``; the target's exact conditionals by default.
    blocks : sequence of int, optional
        Semi-autoregressive blocks: a block number per position. Each round chooses only among the masked
        positions of the lowest-numbered block that still has one (LLaDA's ``x0_p[:, end:] = -inf``); a step
        must not reveal more positions than that block has masked. **Convention:** the schedule runs over the
        whole sequence, so a block of L positions taking S steps contributes S sizes summing to L.

    Returns
    -------
    OutputLaw

    Raises
    ------
    ValueError
        If the schedule is invalid or the state space is too large: more than 2,000,000 live partial
        states after a round (``MAX_STATES``).
    TypeError
        If the sampler has no exact law here.

    Examples
    --------
    >>> from mdtheory import MaskGIT, ising_grid
    >>> law = output_law(ising_grid(2, 2, coupling=0.5), MaskGIT(1.0), "cosine", n_steps=2)
    >>> bool(law.kl > 0), bool(law.path_kl >= law.kl)
    (True, True)
    """
    _check_target(target)
    _check_sampler(sampler)
    n, q = target.n, target.q
    if (q + 1) ** n >= 2 ** 62:
        raise ValueError(f"(q+1)**N = {q + 1}**{n} partial states cannot be coded in int64")
    model = target if model is None else model
    adaptive = sampler.adaptive
    sizes = None if adaptive else as_schedule(schedule, seq_len=n, n_steps=n_steps)
    block_of = _check_blocks(blocks, n)
    K = _horizon(sampler, n) if adaptive else len(sizes)
    place = (q + 1) ** np.arange(n, dtype=np.int64)
    tuples = {}
    # the algorithm's path mass is kept in log-space (cold tempered tokens underflow float64 otherwise)
    codes, log_p_alg, p_ideal = np.zeros(1, np.int64), np.zeros(1), np.ones(1)
    done = ([], [], [])
    path_kl = mean_steps = max_block_kl = 0.0
    n_states = 0
    dropped = 0.0  # mass of paths stopped at partial states of probability 0 under π (model = target only)
    rounding_total = 0.0  # Σ over rounds of the largest stated rounding error of a round's law
    for t in range(K):
        if codes.size == 0:
            break
        out = ([], [], [])
        round_rounding = 0.0  # the largest stated rounding error of this round's law over its states
        rs = sampler.round_rule(t, K, final=not adaptive and t == K - 1)
        if (block_of is None and not adaptive and t == K - 1 and model is target and hasattr(target, "table")
                and _untempered_final(rs)):
            contribution, worst = _final_step(target, codes, log_p_alg, p_ideal, place, out)
            path_kl += contribution
            max_block_kl = max(max_block_kl, worst)
            mean_steps += float(p_ideal.sum())
            n_states += codes.size
            codes = codes[:0]
        for code, log_pa, pi in zip(codes, log_p_alg, p_ideal):
            n_states += 1
            mean_steps += pi  # E_ideal[#steps] = Σ over processed states of their ideal probability
            values = (code // place) % (q + 1) - 1
            revealed = values >= 0
            x = np.maximum(values, 0)
            # π(x_F | x_U) is undefined where π(x_U) = 0; the ideal process never goes there (pi = 0)
            cube = _free_cube(target, x, revealed) if pi > 0 else None
            probs = _cube_conditionals(target, cube, x, revealed) if model is target else model.conditionals(x, revealed)
            k = None if adaptive else int(sizes[t])
            active = ~revealed
            if block_of is not None:  # only the first block that still has a masked position is open
                active &= block_of == block_of[active].min()
                if k is not None and k > active.sum():
                    raise ValueError(f"step {t} of the schedule reveals {k} positions, but block "
                                     f"{int(block_of[active][0])} has only {int(active.sum())} masked: a step must "
                                     "not cross a block boundary")
            cells, rounding = rule_log_cells(rs, probs, active, k, with_rounding=True)
            round_rounding = max(round_rounding, rounding)
            for block, log_cell in cells:
                top = float(log_cell.max())
                if top == -np.inf:
                    continue
                log_pK = top + float(np.log(np.exp(log_cell - top).sum()))
                pK = float(np.exp(log_pK))
                ideal = _block_from_cube(cube, revealed, block) if cube is not None else np.zeros(log_cell.size)
                if pi > 0:
                    on = ideal > 0  # KL(ideal ‖ algorithm) from the algorithm's log-probabilities
                    block_kl = float(np.sum(ideal[on] * (np.log(ideal[on]) - (log_cell[on] - log_pK))))
                    path_kl += pi * pK * block_kl
                    max_block_kl = max(max_block_kl, block_kl)
                kb = len(block)
                if kb not in tuples:
                    tuples[kb] = (np.array(np.unravel_index(np.arange(q ** kb), (q,) * kb)).T + 1).reshape(-1, kb)
                out[0].append(code + tuples[kb] @ place[list(block)])
                out[1].append(log_pa + log_cell)
                out[2].append(pi * pK * ideal)
        # a round whose kernel is within ε_t of exact at every state moves the output by at most ε_t (coupling)
        rounding_total += round_rounding
        if not out[0]:
            break
        allc, inv = np.unique(np.concatenate(out[0]), return_inverse=True)
        log_pa_new = _group_logsumexp(inv, np.concatenate(out[1]), allc.size)
        pi_new = np.bincount(inv, weights=np.concatenate(out[2]), minlength=allc.size)
        complete = np.all((allc[:, None] // place) % (q + 1) > 0, axis=1)
        for lst, arr in zip(done, (allc, log_pa_new, pi_new)):
            lst.append(arr[complete])
        live = ~complete & ((log_pa_new > -np.inf) | (pi_new > 0))  # states neither process reaches carry no mass
        if model is target:  # the target's conditionals are undefined off its support: stop those paths there
            stuck = live & (pi_new == 0)
            dropped += float(np.exp(log_pa_new[stuck]).sum())
            live &= pi_new > 0
        codes, log_p_alg, p_ideal = allc[live], log_pa_new[live], pi_new[live]
        if codes.size > MAX_STATES:
            raise ValueError(f"more than MAX_STATES={MAX_STATES} partial states")
    fin = [np.concatenate(lst) for lst in done]
    flat = (((fin[0][:, None] // place) % (q + 1) - 1) * (q ** np.arange(n - 1, -1, -1))).sum(axis=1)
    log_table = _group_logsumexp(flat, fin[1], q ** n)
    table = np.exp(log_table).reshape((q,) * n)
    ideal_table = np.bincount(flat, weights=fin[2], minlength=q ** n).reshape((q,) * n)
    pi_flat, p_flat = target.table.ravel(), table.ravel()
    off_support = dropped + float(p_flat[pi_flat == 0].sum())
    on = pi_flat > 0  # KL(π ‖ ν) from log ν, so that cells too small for float64 still count exactly
    # KLs are ≥ 0; sums of terms of both signs can land at −1e-16, which is rounding, so they are clipped at 0
    kl = float(np.sum(pi_flat[on] * (np.log(pi_flat[on]) - log_table[on])))
    # the postconditions of the answer: a law (short of the mass of the paths not completed), a TV in [0, 1],
    # a KL ≥ 0 that Pinsker's inequality reconciles with that TV; a violation is refused, never returned
    regime = f"{type(sampler).__name__} on {getattr(target, 'name', 'a target')} (N={n}, V={q})"
    route = "exact output law"
    table = check_law(table, route=route, regime=regime, total=1.0 - dropped, error=2 * rounding_total)
    tv = check_distance(0.5 * (float(np.abs(pi_flat - p_flat).sum()) + dropped), route=route, regime=regime,
                        error=rounding_total)
    kl = check_kl(kl, tv=tv, route=route, regime=regime)
    return OutputLaw(table=table, kl=kl, tv=tv,
                     path_kl=max(0.0, path_kl), ideal_error=float(np.abs(ideal_table - target.table).max()),
                     n_states=n_states, schedule=None if adaptive else tuple(int(v) for v in sizes),
                     mean_steps=mean_steps, max_block_kl=max_block_kl, off_support=off_support,
                     rounding_error=rounding_total)


def hybrid_decomposition_bound(target, sampler, schedule=None, *, n_steps: int | None = None) -> float:
    """The Proposition 4 bound E Σ_r [Σ_{i∈A_r} H(X_i | ctx) + TC(X_{B_r} | ctx)] of a hybrid CTS sampler.

    Spec: §4.5. A_r comes from the exploitation rule and B_r from the exploration rule; with §4.4 it bounds the
    sampler's KL(π ‖ p), under the target's exact conditionals.

    Parameters
    ----------
    target : JointTable
        π.
    sampler : CTS
        A CTS sampler whose position rule is a :class:`HybridRule`.
    schedule : str or sequence of int, optional
        A name (with ``n_steps``) or sizes.
    n_steps : int, optional
        K, for a named schedule.

    Returns
    -------
    float
        The bound, in nats.

    Raises
    ------
    TypeError
        If the sampler is not CTS(HybridRule(...)).

    Examples
    --------
    >>> from mdtheory import CTS
    >>> from mdtheory.rules import ConfidenceRule, HybridRule, UniformRule
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=1)
    >>> s = CTS(HybridRule(ConfidenceRule(), UniformRule(), 0.5))
    >>> bool(hybrid_decomposition_bound(t, s, [2, 1]) >= output_law(t, s, [2, 1]).kl)
    True
    """
    if not (isinstance(sampler, CTS) and isinstance(sampler.position_rule, HybridRule)):
        raise TypeError("hybrid_decomposition_bound needs CTS(HybridRule(...))")
    rule = sampler.position_rule
    n, q = target.n, target.q
    sizes = as_schedule(schedule, seq_len=n, n_steps=n_steps)
    states = {tuple([-1] * n): 1.0}
    total = 0.0
    for k in sizes:
        k = int(k)
        nxt: dict = defaultdict(float)
        m = rule.exploit_count(k)
        for key, pi in states.items():
            values = np.array(key)
            revealed = values >= 0
            x = np.maximum(values, 0)
            probs = target.conditionals(x, revealed)
            h = entr(probs).sum(axis=1)
            firsts = position_set_law(rule.exploit, probs, ~revealed, m) if m > 0 else [((), 1.0)]
            for A, pa in firsts:
                avail = ~revealed
                avail[list(A)] = False
                rest = position_set_law(rule.explore, probs, avail, k - m) if k > m else [((), 1.0)]
                for B, pb in rest:
                    if B:
                        jb = _block_conditional(target, x, revealed, tuple(sorted(B)))
                        tc_b = float(h[list(B)].sum() + (jb[jb > 0] * np.log(jb[jb > 0])).sum())
                    else:
                        tc_b = 0.0
                    total += pi * pa * pb * (float(h[list(A)].sum()) + tc_b)
                    K = tuple(sorted(A + B))
                    joint = _block_conditional(target, x, revealed, K)
                    tuples = np.array(np.unravel_index(np.arange(q ** len(K)), (q,) * len(K))).T
                    for j in np.nonzero(joint > 0)[0]:
                        v = values.copy()
                        v[list(K)] = tuples[j]
                        nxt[tuple(v)] += pi * pa * pb * joint[j]
        states = nxt
    return total


def sampler_comparison(target, samplers: dict, schedules: dict, *, model=None) -> list[dict]:
    """Exact output laws of every sampler × schedule pair, as table rows.

    Spec: §4.4, §8. EB ignores the schedules and is run once, under the schedule name ``"adaptive"``.

    Parameters
    ----------
    target : JointTable
        π.
    samplers : dict
        Name → sampler.
    schedules : dict
        Name → schedule (sizes or a name usable by :func:`output_law` with its ``n_steps`` folded in).
    model : object, optional
        Set-keyed predictions.

    Returns
    -------
    list of dict
        Rows with ``sampler``, ``schedule``, ``kl``, ``path_kl``, ``tv`` and ``mean_steps``.

    Examples
    --------
    >>> from mdtheory import CTS, EB
    >>> from mdtheory.targets import repeated_bit
    >>> rows = sampler_comparison(repeated_bit(3), {"uniform": CTS(), "eb": EB(0.0)}, {"two": [2, 1]})
    >>> [(r["sampler"], r["schedule"]) for r in rows]
    [('uniform', 'two'), ('eb', 'adaptive')]
    """
    rows = []
    for name, s in samplers.items():
        for sched_name, sched in ({"adaptive": None} if s.adaptive else schedules).items():
            law = output_law(target, s, sched, model=model)
            rows.append({"sampler": name, "schedule": sched_name, "kl": law.kl, "path_kl": law.path_kl,
                         "tv": law.tv, "mean_steps": law.mean_steps})
    return rows
