"""The full multi-round sampling loop (§2).

``sample(predict, seq_len=D, schedule=..., sampler=...)`` starts from an all-masked (or partially
revealed) batch and, for each step t of the schedule, calls the prediction function on the current
batch and reveals k_t positions with the chosen sampler.

A prediction function is any callable ``predict(tokens, masked) -> Tensor`` with tokens (B, D) int64
(``mask_id`` at masked positions), masked (B, D) bool, returning (B, D, V) logits, probabilities or
log-probabilities (``output=``). Trained models, exact target conditionals and peers all plug in here.

Conventions (also in the README):

* **Annealing:** with ``anneal=True`` step t (0-based) of K uses α_t = α_0 · (1 − t/K) (MaskGIT/MAGE).
* **Final step (§2.2, [H] App. D):** on the step that reveals every remaining position, choose-then-sample
  samplers draw tokens at temperature 1 (α_N → ∞); MaskGIT does so automatically (k = N keeps every
  candidate).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import torch

from ..rules.registry import SAMPLER_NAMES, make_sampler
from ..rules.samplers import CTS, EB, MDLM, EntropySum, MaskGIT, Moment, RuleSampler, Sampler, UMoment, annealed_alpha
from ..rules.schedules import as_schedule
from .rounds import RoundOutput, _check_round_inputs, as_generator, run_round, run_select, to_log_probs

__all__ = ["annealed_alpha", "Sampler", "CustomSampler", "AdaptiveSampler", "MaskGIT", "Moment", "UMoment", "CTS",
           "EB", "EntropySum", "MDLM", "RuleSampler", "SampleResult", "sample", "step_round", "make_sampler", "SAMPLER_NAMES"]


@dataclass(frozen=True)
class CustomSampler(Sampler):
    """Base class of samplers that execute their own torch round (peers, user code) instead of a stated rule.

    Spec: §2. Subclasses implement ``round(log_probs, *, k, masked, step, n_steps, final, generator,
    noise_dtype) -> RoundOutput``; they have no rule, so no exact law.

    Examples
    --------
    >>> issubclass(AdaptiveSampler, CustomSampler)
    True
    """

    def round(self, log_probs: torch.Tensor, *, k: int, masked: torch.Tensor, step: int, n_steps: int,
              final: bool, generator: torch.Generator | None, noise_dtype) -> RoundOutput:  # pragma: no cover
        raise NotImplementedError

    def rule_at(self, step, n_steps):
        raise TypeError(f"{type(self).__name__} executes its own round: it states no rule of mdtheory.rules")


@dataclass(frozen=True)
class AdaptiveSampler(CustomSampler):
    """Base class of custom samplers that choose their own step sizes (threshold rules, adaptive peers).

    Spec: §8. Subclasses implement ``select(log_probs, *, masked, step, generator, noise_dtype)`` returning
    (revealed (B, D) bool, tokens (B, D)); each row must reveal at least one masked position.

    Examples
    --------
    >>> AdaptiveSampler.adaptive
    True
    """

    adaptive: ClassVar[bool] = True

    def select(self, log_probs: torch.Tensor, *, masked: torch.Tensor, step: int, generator: torch.Generator | None,
               noise_dtype) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError


def step_round(sampler: Sampler, log_probs: torch.Tensor, *, k: int, masked: torch.Tensor, step: int, n_steps: int,
               generator: torch.Generator | None, noise_dtype=torch.float64) -> RoundOutput:
    """Execute step ``step`` of ``n_steps`` of a fixed-size sampler: its stated rule (final-step convention
    applied) or, for a :class:`CustomSampler`, its own round.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1]]], dtype=torch.float64))
    >>> step_round(MaskGIT(1.0), lp, k=2, masked=torch.ones(1, 2, dtype=torch.bool), step=0, n_steps=1,
    ...            generator=torch.Generator().manual_seed(0)).positions.shape
    torch.Size([1, 2])
    """
    final = step == n_steps - 1
    if isinstance(sampler, CustomSampler):
        return sampler.round(log_probs, k=k, masked=masked, step=step, n_steps=n_steps, final=final,
                             generator=generator, noise_dtype=noise_dtype)
    return run_round(sampler.round_rule(step, n_steps, final=final), log_probs, k=k, masked=masked,
                     generator=generator, noise_dtype=noise_dtype)


@dataclass(frozen=True)
class SampleResult:
    """The output of :func:`sample`.

    Spec: §2.

    Parameters
    ----------
    tokens : torch.Tensor, shape (B, D)
        The sampled sequences.
    reveal_step : torch.Tensor, shape (B, D)
        The step at which each position was revealed (−1 for positions given in the prompt).
    schedule : numpy.ndarray or None
        The step sizes used (None for adaptive samplers such as EB).

    Examples
    --------
    >>> import torch
    >>> r = sample(lambda t, m: torch.zeros(t.shape[0], 4, 2), seq_len=4, schedule=[2, 2], sampler=MaskGIT(1.0), generator=0)
    >>> r.schedule.tolist(), sorted(r.reveal_step[0].tolist())
    ([2, 2], [0, 0, 1, 1])
    """

    tokens: torch.Tensor
    reveal_step: torch.Tensor
    schedule: np.ndarray | None


def initial_state(*, batch_size: int, seq_len: int, mask_id: int, init_tokens=None, init_masked=None, device="cpu"):
    """(tokens, masked, number of masked positions per row) at the start of a run: all masked, or the
    prompt ``init_tokens`` with ``init_masked`` (every row must mask the same number of positions)."""
    device = torch.device(device)
    if init_masked is None:
        masked = torch.ones(batch_size, seq_len, dtype=torch.bool, device=device)
        tokens = torch.full((batch_size, seq_len), mask_id, dtype=torch.long, device=device)
    else:
        masked = init_masked.to(device=device, dtype=torch.bool).clone()
        if init_tokens is None or init_tokens.shape != masked.shape or masked.shape[1] != seq_len:
            raise ValueError(f"init_tokens and init_masked must both have shape (batch, seq_len={seq_len})")
        tokens = torch.where(masked, torch.as_tensor(mask_id, device=device), init_tokens.to(device).long())
    counts = masked.sum(dim=1)
    if not bool(torch.all(counts == counts[0])):
        raise ValueError(f"every row must have the same number of masked positions; got {counts.tolist()}")
    return tokens, masked, int(counts[0])


def sample(predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, seq_len: int,
           schedule: str | Sequence[int] | np.ndarray | None = None, sampler: Sampler, n_steps: int | None = None,
           batch_size: int = 1, output: Literal["logits", "probs", "log_probs"] = "logits",
           mask_id: int | None = None, init_tokens: torch.Tensor | None = None, init_masked: torch.Tensor | None = None,
           generator: torch.Generator | int | None = None, device: str | torch.device = "cpu",
           noise_dtype=torch.float64) -> SampleResult:
    """Run a sampler for a whole schedule, from an all-masked (or partly revealed) batch.

    Spec: §2. Each step calls ``predict`` on the current batch and reveals k_t positions with ``sampler``.

    Parameters
    ----------
    predict : callable
        ``predict(tokens, masked) -> Tensor``: tokens (B, D) int64 with ``mask_id`` at masked positions,
        masked (B, D) bool; returns (B, D, V) logits, probabilities or log-probabilities (see ``output``).
    seq_len : int
        D, the sequence length.
    schedule : str or sequence of int, optional
        A name of :data:`mdtheory.rules.SCHEDULE_NAMES` (with ``n_steps``) or explicit sizes summing to the number of
        masked positions; ignored by adaptive samplers.
    sampler : Sampler
        ``MaskGIT``, ``Moment``, ``UMoment``, ``CTS``, ``EB`` or an adaptive peer.
    n_steps : int, optional
        K, for a named schedule.
    batch_size : int
        B.
    output : {"logits", "probs", "log_probs"}
        What ``predict`` returns.
    mask_id : int, optional
        The token written at masked positions. If it lies inside the predictions' vocabulary, its probability is
        set to 0 and the other tokens renormalised: the mask token is never drawn. None (default): the
        predictions are over real tokens only; masked positions hold 0 as a placeholder, and every token of the
        vocabulary can be drawn.
    init_tokens, init_masked : torch.Tensor, optional
        A (B, D) prompt and its masked pattern; every row must mask the same number of positions.
    generator : torch.Generator or int, optional
        Source of randomness; an int seeds a new generator on ``device``.
    device : str or torch.device
        Where the run happens (the same code on CPU and CUDA).
    noise_dtype : torch.dtype
        Dtype of the sampling noise (float64 by default).

    Returns
    -------
    SampleResult
        Tokens, reveal steps and the schedule.

    Raises
    ------
    ValueError
        If the schedule, the prompt or ``predict``'s output shape or device is invalid.
    TypeError
        If ``sampler`` is not a Sampler, ``noise_dtype`` is not a floating dtype, ``init_masked`` is not bool,
        ``init_tokens`` is not integer, or ``predict`` returns anything but a real floating tensor (checked
        before torch uses it).

    Examples
    --------
    >>> import torch
    >>> predict = lambda tokens, masked: torch.zeros(tokens.shape[0], 6, 3)  # uniform logits over V = 3
    >>> res = sample(predict, seq_len=6, schedule="cosine", n_steps=3, sampler=Moment(1.0), batch_size=2, generator=0)
    >>> res.tokens.shape, bool((res.reveal_step >= 0).all())
    (torch.Size([2, 6]), True)
    """
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be an mdtheory sampler (mdtheory.rules.samplers, or a CustomSampler); got "
                        f"{type(sampler).__name__}")
    for name, value in (("seq_len", seq_len), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {name}={value!r}")
    if mask_id is not None and (isinstance(mask_id, bool) or not isinstance(mask_id, (int, np.integer))):
        raise ValueError(f"mask_id must be an integer or None; got mask_id={mask_id!r}")
    device = torch.device(device)
    if not (isinstance(noise_dtype, torch.dtype) and noise_dtype.is_floating_point):
        raise TypeError(f"noise_dtype must be a floating torch dtype (torch.float64 or torch.float32); got "
                        f"noise_dtype={noise_dtype!r}")
    for name, value, ok, rule in (("init_masked", init_masked, lambda t: t.dtype == torch.bool, "a bool tensor"),
                                  ("init_tokens", init_tokens,
                                   lambda t: not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool,
                                   "an integer tensor")):
        # a 0/1 float or integer mask would be read as True wherever it is non-zero: refuse it, never guess
        if value is not None and not (isinstance(value, torch.Tensor) and ok(value)):
            got = f"dtype {value.dtype}" if isinstance(value, torch.Tensor) else type(value).__name__
            raise TypeError(f"{name} must be {rule}; got {got}")
    generator = as_generator(generator, device)
    tokens, masked, n_masked = initial_state(batch_size=batch_size, seq_len=seq_len,
                                             mask_id=0 if mask_id is None else mask_id, init_tokens=init_tokens,
                                             init_masked=init_masked, device=device)
    reveal_step = torch.full(tokens.shape, -1, dtype=torch.long, device=device)

    def predict_log_probs():
        out = predict(tokens, masked)
        # checked before torch touches it: an integer or complex tensor, a NumPy array or a tensor on another
        # device would otherwise fail deep inside log_softmax or scatter with torch's message, not ours
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"predict must return a torch.Tensor of shape (batch, seq_len, V); got {type(out).__name__}")
        if out.is_complex() or not out.is_floating_point():
            raise TypeError(f"predict must return a real floating tensor of {output}; got dtype {out.dtype}")
        if out.device.type != device.type or (device.index is not None and out.device.index != device.index):
            raise ValueError(f"predict returned a tensor on {out.device}, but sample runs on device={device}")
        if out.ndim != 3 or out.shape[:2] != tokens.shape:
            raise ValueError(f"predict must return (batch, seq_len, vocab_size)=({tokens.shape[0]}, {seq_len}, V); "
                             f"got {tuple(out.shape)}")
        lp = to_log_probs(out, kind=output)
        if mask_id is not None and 0 <= mask_id < lp.shape[-1]:  # never drawn: condition on the other tokens
            before = torch.isfinite(lp.amax(-1))
            lp = torch.log_softmax(lp.index_fill(-1, torch.tensor([mask_id], device=lp.device), -torch.inf), -1)
            if bool((before & ~torch.isfinite(lp.amax(-1)))[masked].any()):
                raise ValueError(f"predict gives the mask token (id {mask_id}) all the probability at a masked "
                                 f"position; the mask token is never drawn")
        if isinstance(sampler, CustomSampler):  # mdtheory's own rounds check their input
            _check_round_inputs(lp, masked, None)
        return lp

    custom = isinstance(sampler, CustomSampler)
    if sampler.adaptive:
        t = 0
        while bool(masked.any()):
            if custom:
                sel, tok = sampler.select(predict_log_probs(), masked=masked, step=t, generator=generator,
                                          noise_dtype=noise_dtype)
            else:
                sel, tok = run_select(sampler.rule_at(t, None), predict_log_probs(), masked=masked,
                                      generator=generator, noise_dtype=noise_dtype)
            sel = sel & masked
            if custom and not bool(sel.any(dim=1)[masked.any(dim=1)].all()):
                raise RuntimeError(f"{type(sampler).__name__}.select revealed no position in some row at step {t}")
            tokens = torch.where(sel, tok, tokens)
            reveal_step = torch.where(sel, torch.as_tensor(t, device=device), reveal_step)
            masked = masked & ~sel
            t += 1
        return SampleResult(tokens=tokens, reveal_step=reveal_step, schedule=None)
    sizes = as_schedule(schedule, seq_len=n_masked, n_steps=n_steps)
    K = len(sizes)
    for t, k in enumerate(sizes):
        lp = predict_log_probs()
        r = step_round(sampler, lp, k=int(k), masked=masked, step=t, n_steps=K, generator=generator,
                       noise_dtype=noise_dtype)
        tokens.scatter_(1, r.positions, r.tokens)
        masked.scatter_(1, r.positions, False)
        reveal_step.scatter_(1, r.positions, t)
    return SampleResult(tokens=tokens, reveal_step=reveal_step, schedule=sizes)
