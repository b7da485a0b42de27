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

import math

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from .._validation import check_alpha
from .rounds import (
    ConfidenceRule,
    EntropyRule,
    FixedOrderRule,
    HybridRule,
    Identity,
    MomentRule,
    PositionRule,
    RoundOutput,
    TokenTransform,
    UniformRule,
    as_generator,
    cts_round,
    eb_round,
    maskgit_round,
    moment_token_transform,
    to_log_probs,
)
from .schedules import as_schedule

__all__ = ["annealed_alpha", "Sampler", "AdaptiveSampler", "MaskGIT", "Moment", "UMoment", "CTS", "EB", "SampleResult", "sample",
           "make_sampler", "SAMPLER_NAMES"]


def annealed_alpha(alpha0: float, step: int, n_steps: int) -> float:
    """α_t = α_0 (1 − t/K) for step t = 0..K−1."""
    return alpha0 * (1.0 - step / n_steps)


@dataclass(frozen=True)
class Sampler:
    """Base class: ``round`` reveals k positions given the current predictions."""

    def round(self, log_probs: torch.Tensor, *, k: int, masked: torch.Tensor, step: int, n_steps: int,
              final: bool, generator: torch.Generator | None, noise_dtype) -> RoundOutput:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class _AlphaSampler(Sampler):
    """A sampler with Gumbel scale α, optionally annealed (module doc); subclasses define ``_round_at``."""

    alpha: float = 1.0
    anneal: bool = False

    def __post_init__(self):
        check_alpha(self.alpha)

    def round(self, log_probs, *, k, masked, step, n_steps, final, generator, noise_dtype):
        a = annealed_alpha(self.alpha, step, n_steps) if self.anneal else self.alpha
        return self._round_at(a).round(log_probs, k=k, masked=masked, step=step, n_steps=n_steps, final=final,
                                       generator=generator, noise_dtype=noise_dtype)

    def _round_at(self, alpha: float) -> Sampler:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class CTS(Sampler):
    """Generic choose-then-sample sampler: a position rule and a token transform (§2.3)."""

    position_rule: PositionRule = field(default_factory=UniformRule)
    token_transform: TokenTransform = field(default_factory=Identity)

    def round(self, log_probs, *, k, masked, step, n_steps, final, generator, noise_dtype):
        transform = Identity() if final else self.token_transform
        return cts_round(log_probs, k=k, position_rule=self.position_rule, token_transform=transform,
                         masked=masked, generator=generator, noise_dtype=noise_dtype)


@dataclass(frozen=True)
class _MaskGITRound(Sampler):
    alpha: float

    def round(self, log_probs, *, k, masked, step, n_steps, final, generator, noise_dtype):
        return maskgit_round(log_probs, k=k, alpha=self.alpha, masked=masked, generator=generator,
                             noise_dtype=noise_dtype)


@dataclass(frozen=True)
class MaskGIT(_AlphaSampler):
    """MaskGIT (sample-then-choose, §2.1) with Gumbel scale α (annealed if asked)."""

    def _round_at(self, alpha):
        return _MaskGITRound(alpha)


@dataclass(frozen=True)
class Moment(_AlphaSampler):
    """Moment sampler (§2.2): PL on m_i, tokens p^β/m; α annealed if asked; final step untempered."""

    def _round_at(self, alpha):
        return CTS(MomentRule(alpha=alpha), moment_token_transform(alpha))


@dataclass(frozen=True)
class UMoment(_AlphaSampler):
    """**Convention** (§2.3): uniform positions with moment tokens p^β/m — isolates the temperature effect."""

    def _round_at(self, alpha):
        return CTS(UniformRule(), moment_token_transform(alpha))


@dataclass(frozen=True)
class AdaptiveSampler(Sampler):
    """Base class of samplers that choose their own block sizes (EB, threshold rules, adaptive peers):
    ``select`` returns (revealed (B, D) bool, tokens (B, D)); each row reveals at least one masked position."""

    def select(self, log_probs: torch.Tensor, *, masked: torch.Tensor, step: int, generator: torch.Generator | None,
               noise_dtype) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class EB(AdaptiveSampler):
    """The EB-sampler (§8): adaptive block sizes — masked positions by increasing entropy, the largest
    prefix with Σ H − max H ≤ γ — tokens from p. Its steps are not set by a schedule."""

    gamma: float = 0.1

    def __post_init__(self):
        if not (math.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma must be finite and >= 0; got gamma={self.gamma!r}")

    def select(self, log_probs, *, masked, step, generator, noise_dtype):
        return eb_round(log_probs, gamma=self.gamma, masked=masked, generator=generator, noise_dtype=noise_dtype)


@dataclass(frozen=True)
class SampleResult:
    """Output of :func:`sample`: tokens (B, D), the step at which each position was revealed (B, D; −1
    for positions given in the prompt), and the schedule used (None for adaptive samplers such as EB)."""

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
           batch_size: int = 1, output: Literal["logits", "probs", "log_probs"] = "logits", mask_id: int = 0,
           init_tokens: torch.Tensor | None = None, init_masked: torch.Tensor | None = None,
           generator: torch.Generator | int | None = None, device: str | torch.device = "cpu",
           noise_dtype=torch.float64) -> SampleResult:
    """Run a sampler for a whole schedule (§2).

    Parameters
    ----------
    predict : callable (tokens (B, D) int64, masked (B, D) bool) → (B, D, V) tensor.
    seq_len : D.  schedule : a name from :data:`mdtheory.sampling.schedules.SCHEDULE_NAMES` (with ``n_steps``) or
        an explicit list of sizes summing to the number of masked positions (not used by ``EB``).
    sampler : a :class:`Sampler` (``MaskGIT``, ``Moment``, ``UMoment``, ``CTS``, ``EB``).
    init_tokens, init_masked : optional (B, D) prompt: revealed tokens and the masked pattern; every row
        must have the same number of masked positions.

    Returns
    -------
    SampleResult
    """
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be an mdtheory.sampling.loop.Sampler; got {type(sampler).__name__}")
    device = torch.device(device)
    generator = as_generator(generator, device)
    tokens, masked, n_masked = initial_state(batch_size=batch_size, seq_len=seq_len, mask_id=mask_id,
                                             init_tokens=init_tokens, init_masked=init_masked, device=device)
    reveal_step = torch.full(tokens.shape, -1, dtype=torch.long, device=device)

    def predict_log_probs():
        out = predict(tokens, masked)
        if out.ndim != 3 or out.shape[:2] != tokens.shape:
            raise ValueError(f"predict must return (batch, seq_len, vocab_size)=({tokens.shape[0]}, {seq_len}, V); "
                             f"got {tuple(out.shape)}")
        return to_log_probs(out, kind=output)

    if isinstance(sampler, AdaptiveSampler):
        t = 0
        while bool(masked.any()):
            sel, tok = sampler.select(predict_log_probs(), masked=masked, step=t, generator=generator,
                                      noise_dtype=noise_dtype)
            sel = sel & masked
            if not bool(sel.any(dim=1)[masked.any(dim=1)].all()):
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
        r = sampler.round(lp, k=int(k), masked=masked, step=t, n_steps=K, final=t == K - 1,
                          generator=generator, noise_dtype=noise_dtype)
        tokens.scatter_(1, r.positions, r.tokens)
        masked.scatter_(1, r.positions, False)
        reveal_step.scatter_(1, r.positions, t)
    return SampleResult(tokens=tokens, reveal_step=reveal_step, schedule=sizes)


SAMPLER_NAMES = ("maskgit", "moment", "umoment", "uniform", "confidence", "entropy", "halton", "raster",
                 "hybrid", "eb")


def make_sampler(name: str, *, alpha: float = 1.0, anneal: bool = False, gamma: float = 0.5,
                 order: Sequence[int] | None = None) -> Sampler:
    """Build a sampler by name (CLI/simulation convenience). ``order`` is required for fixed orders
    (``halton``, ``raster``) and for the exploration side of ``hybrid`` (a Halton order, say)."""
    if name == "maskgit":
        return MaskGIT(alpha=alpha, anneal=anneal)
    if name == "moment":
        return Moment(alpha=alpha, anneal=anneal)
    if name == "umoment":
        return UMoment(alpha=alpha, anneal=anneal)
    if name == "uniform":
        return CTS(UniformRule())
    if name == "confidence":
        return CTS(ConfidenceRule())
    if name == "entropy":
        return CTS(EntropyRule())
    if name in ("halton", "raster"):
        if order is None:
            raise ValueError(f"sampler {name!r} needs an explicit order")
        return CTS(FixedOrderRule(tuple(order)))
    if name == "eb":
        return EB(gamma=gamma)
    if name == "hybrid":
        explore = FixedOrderRule(tuple(order)) if order is not None else UniformRule()
        return CTS(HybridRule(exploit=MomentRule(alpha=alpha), explore=explore, gamma=gamma),
                   moment_token_transform(alpha))
    raise ValueError(f"unknown sampler {name!r}; allowed values are {', '.join(map(repr, SAMPLER_NAMES))}")


