"""Audit a whole generation loop against the exact output law of the sampler it states (§4.4, §8, §9).

A real sampler is a loop that owns its model: schedules, semi-autoregressive blocks, a prompt, remasking,
termination. The kit gives the loop a model it knows exactly — ``predict``, the exact conditionals of a small
target given the unmasked tokens — runs it many times, and holds what comes out against
:func:`mdtheory.multiround.output_law` of the stated sampler and schedule:

* **the law of the final sequences**, by Pearson χ² at a stated false-alarm rate and the plug-in TV with its
  upper confidence bound, the sequences of largest standardised residual named;
* **the path**, read from the calls the loop makes to ``predict`` (each call sees the current tokens): a
  committed token never changes and is never masked again; step t reveals exactly the schedule's k_t new
  positions; with blocks, only positions of the open block; the prompt is never edited; the output holds no
  mask; the number of calls is the number of steps;
* **the seed contract**: two runs with generators seeded alike give the same sequences.

The calling convention: ``generate(predict, *, seq_len, batch_size, generator[, prompt])`` returns a (B, L)
integer tensor of final token ids; ``predict(tokens)`` takes (B, L) int64 token ids (``mask_id`` at masked
positions) and returns (B, L, V') float64 logits, the log of the target's exact conditionals (−inf for
impossible tokens). The mask id is V by default, outside the target's V tokens (V' = V); a mask id inside
``0..V`` makes V' = V + 1, with that id's logit −inf (its mass removed) and the target's tokens on the other
ids in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LoopAudit", "LoopAuditError", "exact_predict", "check_sampler_law", "assert_sampler_law"]


class LoopAuditError(AssertionError):
    """A generation loop does not draw the output law of the sampler it states, or breaks an invariant of a loop.

    Spec: §9. The first line is the verdict (which check failed and by how much); the rest names the worst
    sequences or the first broken step, and a reproduction line. ``audit`` is the :class:`LoopAudit`.

    Parameters
    ----------
    message : str
        The report.
    audit : LoopAudit
        The full outcome.

    Examples
    --------
    >>> issubclass(LoopAuditError, AssertionError)
    True
    """

    def __init__(self, message: str, audit=None):
        super().__init__(message)
        self.audit = audit


class _Violation(Exception):
    """A broken invariant of a loop, found while it ran (stops the run)."""


@dataclass(frozen=True)
class LoopAudit:
    """The outcome of :func:`check_sampler_law`.

    Spec: §9.

    Parameters
    ----------
    name, stated : str
        The loop and the sampler, schedule, blocks and prompt it states.
    n_samples : int
        Sequences counted.
    chi2 : ChiSquareResult or None
        The χ² test of the final sequences (None when an invariant broke first).
    tv, tv_upper : float
        The plug-in TV and its upper confidence bound.
    worst : list of dict
        The sequences of largest standardised residual.
    invariant : str or None
        The first broken path invariant, if any.
    reproduction : str
        A line that reruns the audit.
    n_calls : int
        Calls made to ``predict``.

    Examples
    --------
    >>> from mdtheory.testing.loops import LoopAudit
    >>> LoopAudit(name="g", stated="s", n_samples=0, chi2=None, tv=float("nan"), tv_upper=float("nan"),
    ...           invariant="step 0 revealed 2 positions; the schedule says 1").passed
    False
    """

    name: str
    stated: str
    n_samples: int
    chi2: object
    tv: float
    tv_upper: float
    worst: list = field(default_factory=list)
    invariant: str | None = None
    reproduction: str = ""
    n_calls: int = 0

    @property
    def passed(self) -> bool:
        return self.invariant is None and self.chi2 is not None and bool(self.chi2.passed)

    def to_dict(self) -> dict:
        """A JSON-ready summary (strict: NaN becomes None)."""
        def num(x):
            return None if x is None or not np.isfinite(x) else float(x)

        return {"loop": self.name, "stated": self.stated, "n_samples": self.n_samples, "passed": self.passed,
                "invariant": self.invariant, "tv": num(self.tv), "tv_upper": num(self.tv_upper),
                "chi2": None if self.chi2 is None else num(self.chi2.statistic),
                "critical": None if self.chi2 is None else num(self.chi2.critical_value),
                "worst": self.worst, "reproduction": self.reproduction}

    def __str__(self) -> str:
        return self.report()

    def report(self) -> str:
        """The verdict in its first line, then the evidence (at most ~10 lines)."""
        if self.invariant is not None:
            head = f"FAIL {self.name} against {self.stated}: {self.invariant}"
            return "\n".join([head, f"reproduce: {self.reproduction}"])
        chi = self.chi2
        verdict = "PASS" if self.passed else "FAIL"
        head = (f"{verdict} {self.name} against {self.stated}: χ² = {chi.statistic:.1f} "
                f"{'≤' if chi.passed else '>'} {chi.critical_value:.1f} (dof {chi.dof}, p = {chi.p_value:.2g}); "
                f"TV ≈ {self.tv:.4f} (upper bound {self.tv_upper:.4f}); {self.n_samples} sequences")
        lines = [head]
        if not self.passed:
            lines += [f"  sequence {w['sequence']}: observed {w['observed']}, expected {w['expected']:.1f} "
                      f"(z = {w['z']:+.1f})" for w in self.worst]
            lines.append(f"reproduce: {self.reproduction}")
        return "\n".join(lines)


def _id_maps(V: int, mask_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(the id of each of the target's V tokens, id → target token with −1 for the mask and unused ids)."""
    ids = np.arange(V) if mask_id >= V else np.array([i for i in range(V + 1) if i != mask_id])
    to_target = np.full(max(int(ids.max()) + 1, mask_id + 1), -1, dtype=np.int64)
    to_target[ids] = np.arange(V)
    return ids, to_target


def exact_predict(target, *, mask_id: int | None = None, prompt=None, record: list | None = None):
    """``predict(tokens) -> logits``: the exact conditionals of ``target`` given the unmasked tokens.

    Spec: §9 (the calling convention in the module doc).

    Parameters
    ----------
    target : JointTable
        A small known target (its ``conditionals_batch``).
    mask_id : int, optional
        The mask token (V by default). Inside 0..V the logits gain a column for it, at −inf.
    prompt : sequence of int, optional
        Target tokens the loop must have written at positions 0..P−1 whenever it calls ``predict``.
    record : list, optional
        Every call's tokens, as a (B, L) numpy array, is appended here.

    Returns
    -------
    callable
        ``predict(tokens: LongTensor (B, L)) -> Tensor (B, L, V')`` float64 logits on the tokens' device.

    Examples
    --------
    >>> import torch
    >>> from mdtheory.targets import repeated_bit
    >>> predict = exact_predict(repeated_bit(3))
    >>> predict(torch.tensor([[1, 2, 2]])).exp()[0, 2].tolist()  # x_0 = 1 fixes every bit
    [0.0, 1.0]
    """
    import torch

    V, L = target.q, target.n
    mask_id = V if mask_id is None else int(mask_id)
    if mask_id < 0:
        raise ValueError(f"mask_id must be >= 0; got mask_id={mask_id}")
    ids, to_target = _id_maps(V, mask_id)
    width = V if mask_id >= V else V + 1
    prompt = None if prompt is None else np.asarray(prompt, dtype=np.int64)

    def predict(tokens):
        t = torch.as_tensor(tokens)
        if t.ndim != 2 or t.shape[1] != L or t.dtype not in (torch.int64, torch.int32):
            raise _Violation(f"predict was called with {tuple(t.shape)} {t.dtype} tokens; it takes (B, {L}) int64 "
                             "token ids")
        x = t.detach().cpu().numpy().astype(np.int64)
        if record is not None:
            record.append(x.copy())
        masked = x == mask_id
        if np.any((x < 0) | (x >= to_target.size)) or np.any(~masked & (to_target[np.clip(x, 0, to_target.size - 1)]
                                                                        < 0)):
            raise _Violation(f"predict was called with token ids outside the vocabulary (0..{width - 1}, mask "
                             f"{mask_id}): {sorted(set(x[~masked].ravel().tolist()) - set(ids.tolist()))[:5]}")
        values = np.where(masked, 0, to_target[np.where(masked, ids[0], x)])
        if prompt is not None and not np.array_equal(np.where(masked[:, :prompt.size], -1, values[:, :prompt.size]),
                                                     np.broadcast_to(prompt, (x.shape[0], prompt.size))):
            raise _Violation(f"the prompt was changed or masked before a call to predict (prompt {prompt.tolist()})")
        try:
            cond = target.conditionals_batch(values, ~masked)
        except ValueError as exc:
            raise _Violation("the loop reached a partial sequence of probability 0 under the target (a token it "
                             f"revealed could not have been drawn from the conditionals it was given): {exc}") from None
        with np.errstate(divide="ignore"):
            logp = np.log(cond)
        out = np.full(x.shape + (width,), -np.inf)
        out[..., ids] = logp
        return torch.as_tensor(out, dtype=torch.float64, device=t.device)

    return predict


def _path_invariants(calls: list, final: np.ndarray, *, mask_id: int, sizes, block_of, prompt_len: int,
                     adaptive: bool) -> str | None:
    """The first broken path invariant of one batch, or None (module doc)."""
    states = calls + [final]
    B = final.shape[0]
    if not adaptive and len(calls) != len(sizes):
        return (f"the loop called predict {len(calls)} times for one batch; the schedule {list(map(int, sizes))} "
                f"has {len(sizes)} steps")
    # committed tokens first, over the whole path: a re-drawn token that happens to come out the same looks like
    # a step that revealed too few, and the re-draw is the finding
    for t in range(len(states) - 1):
        a, b = states[t], states[t + 1]
        if a.shape != b.shape:
            return f"the batch changed shape between calls {t} and {t + 1}: {a.shape} → {b.shape}"
        was, now = a != mask_id, b != mask_id
        remasked = was & ~now
        changed = was & now & (a != b)
        if remasked.any() or changed.any():
            r, i = np.argwhere(remasked | changed)[0]
            what = "masked again" if remasked[r, i] else f"re-drawn ({a[r, i]} → {b[r, i]})"
            if i < prompt_len:
                return f"step {t}: the prompt was edited: its token at position {i} was {what} (row {r})"
            return (f"step {t}: a committed token was {what} at position {i} (row {r}); the stated sampler never "
                    "changes a revealed token")
    for t in range(len(states) - 1):
        was, now = states[t] != mask_id, states[t + 1] != mask_id
        new = now & ~was
        counts = new.sum(axis=1)
        if not adaptive and np.any(counts != sizes[t]):
            r = int(np.argmax(counts != sizes[t]))
            why = (" (too few: a count off by one, or a step that chose committed positions again)"
                   if counts[r] < sizes[t] else " (too many: a count off by one)")
            return (f"step {t} revealed {int(counts[r])} positions (row {r}); the schedule says {int(sizes[t])}"
                    + why)
        if block_of is not None:
            for r in range(B):
                open_block = block_of[prompt_len:][~was[r, prompt_len:]].min() if (~was[r, prompt_len:]).any() else None
                outside = np.nonzero(new[r, prompt_len:] & (block_of[prompt_len:] != open_block))[0]
                if outside.size:
                    return (f"step {t} revealed position {int(outside[0]) + prompt_len} (row {r}) outside the open "
                            f"block {int(open_block)}: blocks are filled in order")
    if np.any(final == mask_id):
        return f"the output still holds the mask id {mask_id} at {int((final == mask_id).sum())} positions"
    return None


def check_sampler_law(generate, target, sampler, schedule=None, *, n_steps: int | None = None,
                      n_samples: int = 20_000, batch_size: int = 500, seed: int = 0, mask_id: int | None = None,
                      block_length: int | None = None, prompt=None, false_alarm: float = 1e-6,
                      confidence: float = 0.99, n_worst: int = 3, name: str | None = None) -> LoopAudit:
    """Audit a whole generation loop on a known target (module doc); never raises on a failed audit.

    Spec: §4.4, §8, §9.

    Parameters
    ----------
    generate : callable
        ``generate(predict, *, seq_len, batch_size, generator[, prompt]) -> (B, L)`` token ids.
    target : JointTable
        The known target (N ≤ ~8 positions, so that its output law is exact).
    sampler : Sampler
        The sampler the loop states (:func:`mdtheory.make_sampler`).
    schedule : str or sequence of int, optional
        The schedule it states (over the generated positions), with ``n_steps`` for a name.
    n_steps : int, optional
        K, for a named schedule.
    n_samples : int
        Sequences drawn (≥ 1).
    batch_size : int
        B of each call to ``generate``.
    seed : int
        The generator's seed.
    mask_id : int, optional
        The mask token id (module doc).
    block_length : int, optional
        Semi-autoregressive blocks of this many generated positions (LLaDA's ``block_length``).
    prompt : sequence of int, optional
        Target tokens the loop is given for positions 0..P−1 (passed as ``prompt=``, a LongTensor of ids); the
        law is then the target's conditional law given them, and an edit of the prompt fails.
    false_alarm, confidence : float
        The χ² test's false-alarm rate and the TV bound's confidence.
    n_worst : int
        Sequences named in a failure.
    name : str, optional
        The loop's name in the report.

    Returns
    -------
    LoopAudit

    Raises
    ------
    ValueError
        If an argument is invalid or the stated schedule does not fit the blocks.
    UserCodeError
        If ``generate`` raises (the user's code, with the call that was made).

    Examples
    --------
    >>> import torch
    >>> from mdtheory import make_sampler, sample
    >>> from mdtheory.targets import repeated_bit
    >>> def generate(predict, *, seq_len, batch_size, generator):
    ...     return sample(lambda x, m: predict(x), seq_len=seq_len, schedule=[1, 1, 1], batch_size=batch_size,
    ...                   sampler=make_sampler("uniform"), mask_id=2, generator=generator).tokens
    >>> check_sampler_law(generate, repeated_bit(3), make_sampler("uniform"), [1, 1, 1], n_samples=2000).passed
    True
    """
    import torch

    from .._validation import check_positive_int
    from ..montecarlo.statistics import chisquare_test, tv_estimate
    from ..multiround.output_laws import output_law
    from ..rules.schedules import as_schedule
    from ..targets.tables import JointTable
    from .conventions import UserCodeError, call_user_code

    n_samples = check_positive_int(n_samples, name="n_samples")
    batch_size = check_positive_int(batch_size, name="batch_size")
    L, V = target.n, target.q
    mask_id = V if mask_id is None else int(mask_id)
    P = 0 if prompt is None else len(prompt)
    if prompt is not None:
        pr = np.asarray(prompt, dtype=np.int64)
        if pr.ndim != 1 or P >= L or np.any((pr < 0) | (pr >= V)):
            raise ValueError(f"prompt must be 1 to {L - 1} target tokens in 0..{V - 1}; got {list(prompt)!r}")
        sub = target.table[tuple(int(v) for v in pr)]
        if sub.sum() <= 0:
            raise ValueError(f"the prompt {pr.tolist()} has probability 0 under the target")
        law_target = JointTable(sub / sub.sum())
    else:
        law_target = target
    n_gen = L - P
    block_of = None
    if block_length is not None:
        block_length = check_positive_int(block_length, name="block_length")
        block_of = np.concatenate([np.full(P, -1), np.arange(n_gen) // block_length])
    adaptive = sampler.adaptive
    sizes = None if adaptive else as_schedule(schedule, seq_len=n_gen, n_steps=n_steps)
    law = output_law(law_target, sampler, None if adaptive else list(sizes),
                     blocks=None if block_of is None else block_of[P:])
    expected = law.table.ravel()
    name = name or f"{getattr(generate, '__module__', '?')}:{getattr(generate, '__qualname__', 'generate')}"
    stated = (f"{sampler!r}" + ("" if adaptive else f", schedule {list(map(int, sizes))}")
              + (f", blocks of {block_length}" if block_length else "") + (f", prompt {list(prompt)}" if P else ""))
    repro = (f"check_sampler_law({name}, <target>, {sampler!r}, "
             f"{None if adaptive else list(map(int, sizes))}, n_samples={n_samples}, batch_size={batch_size}, "
             f"seed={seed}" + (f", block_length={block_length}" if block_length else "")
             + (f", prompt={list(prompt)}" if P else "") + (f", mask_id={mask_id}" if mask_id != V else "") + ")")
    ids, to_target = _id_maps(V, mask_id)

    def run(gen, B, calls):
        predict = exact_predict(target, mask_id=mask_id, prompt=None if prompt is None else list(prompt),
                                record=calls)
        kwargs = dict(seq_len=L, batch_size=B, generator=gen)
        if P:
            kwargs["prompt"] = torch.as_tensor(ids[np.asarray(prompt)], dtype=torch.int64)
        try:
            out = call_user_code(generate, predict, what="the audited loop", **kwargs)
        except UserCodeError as exc:
            if isinstance(exc.__cause__, _Violation):
                raise exc.__cause__ from None
            raise
        x = torch.as_tensor(out).detach().cpu()
        if x.shape != (B, L) or x.dtype.is_floating_point or x.dtype == torch.bool:
            raise _Violation(f"generate returned {tuple(x.shape)} {x.dtype}; it must return ({B}, {L}) integer "
                             "token ids")
        return x.numpy().astype(np.int64)

    def fail(message):
        return LoopAudit(name=name, stated=stated, n_samples=0, chi2=None, tv=float("nan"), tv_upper=float("nan"),
                         invariant=message, reproduction=repro)

    gen = torch.Generator().manual_seed(int(seed))
    counts = np.zeros(expected.size, dtype=np.int64)
    done = n_calls = 0
    try:
        while done < n_samples:
            B = min(batch_size, n_samples - done)
            calls: list = []
            final = run(gen, B, calls)
            n_calls += len(calls)
            broken = _path_invariants(calls, final, mask_id=mask_id, sizes=sizes, block_of=block_of, prompt_len=P,
                                      adaptive=adaptive)
            if broken is None and P and not np.array_equal(final[:, :P], np.broadcast_to(ids[np.asarray(prompt)],
                                                                                          (B, P))):
                broken = f"the prompt was edited: the output's first {P} tokens differ from {list(prompt)}"
            if broken is not None:
                return fail(broken)
            tok = to_target[np.clip(final[:, P:], 0, to_target.size - 1)]
            if np.any(tok < 0):
                return fail("the output holds ids that are not target tokens")
            counts += np.bincount(np.ravel_multi_index(tok.T, (V,) * n_gen), minlength=expected.size)
            done += B
        # the seed contract: the same seed draws the same sequences
        small = min(batch_size, 64)
        a = run(torch.Generator().manual_seed(int(seed) + 7), small, [])
        b = run(torch.Generator().manual_seed(int(seed) + 7), small, [])
        if not np.array_equal(a, b):
            return fail("the loop is not a function of its generator: two runs with generators seeded alike gave "
                        "different sequences (does it draw from a global RNG?); wrap it in "
                        "mdtheory.testing.seeded_global_rngs(generator)")
    except _Violation as v:
        return fail(str(v))
    chi = chisquare_test(counts, expected, false_alarm=false_alarm)
    tv, upper = tv_estimate(counts, expected, confidence=confidence)
    e = expected * n_samples
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(e > 0, (counts - e) / np.sqrt(e), np.where(counts > 0, np.inf, 0.0))
    worst = [{"sequence": ([int(v) for v in prompt] if P else [])
              + [int(v) for v in np.unravel_index(int(i), (V,) * n_gen)],
              "observed": int(counts[i]), "expected": float(e[i]), "z": float(z[i])}
             for i in np.argsort(-np.abs(z))[:n_worst]]
    return LoopAudit(name=name, stated=stated, n_samples=n_samples, chi2=chi, tv=tv, tv_upper=upper, worst=worst,
                     reproduction=repro, n_calls=n_calls)


def assert_sampler_law(generate, target, sampler, schedule=None, **kwargs) -> LoopAudit:
    """:func:`check_sampler_law`, raising :class:`LoopAuditError` with the report when the loop fails.

    Spec: §9. Arguments as :func:`check_sampler_law`.

    Parameters
    ----------
    generate, target, sampler, schedule
        As :func:`check_sampler_law`.
    **kwargs
        As :func:`check_sampler_law`.

    Returns
    -------
    LoopAudit
        When the loop passes.

    Raises
    ------
    LoopAuditError
        When it fails; the first line of the message is the verdict.

    Examples
    --------
    >>> import torch
    >>> from mdtheory import make_sampler
    >>> from mdtheory.targets import repeated_bit
    >>> def greedy_left_to_right(predict, *, seq_len, batch_size, generator):
    ...     x = torch.full((batch_size, seq_len), 2)
    ...     for i in range(seq_len):  # reveals position i, but draws it from the wrong law: always token 0
    ...         predict(x)
    ...         x[:, i] = 0
    ...     return x
    >>> try:
    ...     assert_sampler_law(greedy_left_to_right, repeated_bit(3), make_sampler("uniform"), [1, 1, 1],
    ...                        n_samples=1000)
    ... except LoopAuditError as e:
    ...     print(str(e).split()[0], "χ²" in str(e))
    FAIL True
    """
    audit = check_sampler_law(generate, target, sampler, schedule, **kwargs)
    if not audit.passed:
        raise LoopAuditError(audit.report(), audit)
    return audit
