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
    _check_round_inputs,
    as_generator,
    cts_round,
    eb_round,
    eb_set,
    entropy_prefix_set,
    entropy_sum_round,
    maskgit_round,
    moment_token_transform,
    to_log_probs,
)
from .schedules import as_schedule

__all__ = ["annealed_alpha", "Sampler", "AdaptiveSampler", "MaskGIT", "Moment", "UMoment", "CTS", "EB", "EntropySum",
           "SampleResult", "sample", "make_sampler", "SAMPLER_NAMES"]


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
    """A choose-then-sample sampler: any position rule with any token transform.

    Spec: §2.3. The last step of a run draws untempered tokens (§2.2).

    Parameters
    ----------
    position_rule : PositionRule
        How each step's set is chosen (uniform by default).
    token_transform : TokenTransform
        ``Identity()`` (default) or ``Temperature(tau)``.

    Examples
    --------
    >>> CTS(ConfidenceRule(noise=0.5)).position_rule
    ConfidenceRule(noise=0.5)
    """

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
    """The MaskGIT sampler for the whole loop: one :func:`maskgit_round` per step.

    Spec: §2.1, and §2 for the loop. With ``anneal=True`` step t of K uses α_t = α_0 (1 − t/K) (a convention).

    Parameters
    ----------
    alpha : float
        Gumbel scale α in [0, ∞].
    anneal : bool
        Anneal α linearly over the steps.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> MaskGIT(1.0)
    MaskGIT(alpha=1.0, anneal=False)
    """

    def _round_at(self, alpha):
        return _MaskGITRound(alpha)


@dataclass(frozen=True)
class Moment(_AlphaSampler):
    """The moment sampler for the whole loop; its last step is untempered.

    Spec: §2.2 (final-step convention: the step that reveals every remaining position samples at temperature 1).

    Parameters
    ----------
    alpha : float
        Gumbel scale α in [0, ∞].
    anneal : bool
        Anneal α linearly over the steps.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> Moment(0.5).alpha
    0.5
    """

    def _round_at(self, alpha):
        return CTS(MomentRule(alpha=alpha), moment_token_transform(alpha))


@dataclass(frozen=True)
class UMoment(_AlphaSampler):
    """U-moment: uniform positions with the moment sampler's tempered tokens p^β/m.

    Spec: §2.3. **Convention:** read from [H]'s experiment names; it isolates the temperature from the order.

    Parameters
    ----------
    alpha : float
        Gumbel scale α; tokens are tempered at τ = α/(1 + α).
    anneal : bool
        Anneal α linearly over the steps.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> UMoment(1.0).anneal
    False
    """

    def _round_at(self, alpha):
        return CTS(UniformRule(), moment_token_transform(alpha))


@dataclass(frozen=True)
class AdaptiveSampler(Sampler):
    """Base class of samplers that choose their own step sizes (EB, threshold rules, adaptive peers).

    Spec: §8. Subclasses implement ``select(log_probs, *, masked, step, generator, noise_dtype)`` returning
    (revealed (B, D) bool, tokens (B, D)); each row must reveal at least one masked position.

    Examples
    --------
    >>> issubclass(EB, AdaptiveSampler)
    True
    """

    def select(self, log_probs: torch.Tensor, *, masked: torch.Tensor, step: int, generator: torch.Generator | None,
               noise_dtype) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class EB(AdaptiveSampler):
    """The EB-sampler: each step reveals the largest entropy-sorted prefix with Σ H − max H ≤ γ.

    Spec: §8 (Ben-Hamu et al.). Positions by increasing Shannon entropy, ties by index, at least one per step;
    tokens from p. Its steps are not set by a schedule.

    Parameters
    ----------
    gamma : float
        The entropy budget γ ≥ 0 of a step (each step has TC ≤ γ).

    Raises
    ------
    ValueError
        If ``gamma`` is negative, infinite or NaN.

    Examples
    --------
    >>> EB(0.3).gamma
    0.3
    """

    gamma: float = 0.1

    def __post_init__(self):
        if not (math.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma must be finite and >= 0; got gamma={self.gamma!r}")

    def select(self, log_probs, *, masked, step, generator, noise_dtype):
        return eb_round(log_probs, gamma=self.gamma, masked=masked, generator=generator, noise_dtype=noise_dtype)

    def state_set(self, probs, masked) -> tuple[int, ...]:
        """The positions this rule reveals at one state (numpy predictions (N, V)); the exact laws use it."""
        return eb_set(probs, masked, self.gamma)


@dataclass(frozen=True)
class EntropySum(AdaptiveSampler):
    """Entropy-sum decoding: each step unmasks positions by increasing entropy until the cumulative entropy
    would exceed a threshold.

    Spec: §10.6 (Cai & Li). **Conventions:** positions by increasing Shannon entropy, ties by index; the
    position that would take the sum past the threshold is not taken (the largest prefix with Σ H ≤ τ), except
    that every step takes at least one; tokens from p.

    Parameters
    ----------
    threshold : float
        τ ≥ 0, the entropy (nats) one step may spend.

    Raises
    ------
    ValueError
        If ``threshold`` is negative, infinite or NaN.

    Examples
    --------
    >>> EntropySum(0.5).threshold
    0.5
    """

    threshold: float = 0.5

    def __post_init__(self):
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"threshold must be finite and >= 0; got threshold={self.threshold!r}")

    def select(self, log_probs, *, masked, step, generator, noise_dtype):
        return entropy_sum_round(log_probs, threshold=self.threshold, masked=masked, generator=generator,
                                 noise_dtype=noise_dtype)

    def state_set(self, probs, masked) -> tuple[int, ...]:
        """The positions this rule reveals at one state (numpy predictions (N, V)); the exact laws use it."""
        return entropy_prefix_set(probs, masked, self.threshold, minus_max=False)


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
        A name of :data:`mdtheory.SCHEDULE_NAMES` (with ``n_steps``) or explicit sizes summing to the number of
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
        If the schedule, the prompt or ``predict``'s output shape is invalid.
    TypeError
        If ``sampler`` is not a Sampler.

    Examples
    --------
    >>> import torch
    >>> predict = lambda tokens, masked: torch.zeros(tokens.shape[0], 6, 3)  # uniform logits over V = 3
    >>> res = sample(predict, seq_len=6, schedule="cosine", n_steps=3, sampler=Moment(1.0), batch_size=2, generator=0)
    >>> res.tokens.shape, bool((res.reveal_step >= 0).all())
    (torch.Size([2, 6]), True)
    """
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be an mdtheory.sampling.loop.Sampler; got {type(sampler).__name__}")
    for name, value in (("seq_len", seq_len), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {name}={value!r}")
    if mask_id is not None and (isinstance(mask_id, bool) or not isinstance(mask_id, (int, np.integer))):
        raise ValueError(f"mask_id must be an integer or None; got mask_id={mask_id!r}")
    device = torch.device(device)
    generator = as_generator(generator, device)
    tokens, masked, n_masked = initial_state(batch_size=batch_size, seq_len=seq_len,
                                             mask_id=0 if mask_id is None else mask_id, init_tokens=init_tokens,
                                             init_masked=init_masked, device=device)
    reveal_step = torch.full(tokens.shape, -1, dtype=torch.long, device=device)

    def predict_log_probs():
        out = predict(tokens, masked)
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
        if not isinstance(sampler, (MaskGIT, Moment, UMoment, CTS, EB)):  # mdtheory's own rounds check their input
            _check_round_inputs(lp, masked, None)
        return lp

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
                 "hybrid", "eb", "entropy_sum")


def make_sampler(name: str, *, alpha: float = 1.0, anneal: bool = False, gamma: float = 0.5,
                 order: Sequence[int] | None = None) -> Sampler:
    """Build a sampler by name (a convenience of the command line and the drivers).

    Spec: §2.1–§2.3, §8.

    Parameters
    ----------
    name : str
        One of ``maskgit``, ``moment``, ``umoment``, ``uniform``, ``confidence``, ``entropy``, ``halton``,
        ``raster``, ``hybrid``, ``eb``, ``entropy_sum``.
    alpha : float
        α of the α-samplers.
    anneal : bool
        Anneal α.
    gamma : float
        γ of ``hybrid`` (the exploitation share), of ``eb`` (the entropy budget) or of ``entropy_sum`` (its
        threshold τ).
    order : sequence of int, optional
        The fixed order of ``halton``/``raster``, and the exploration side of ``hybrid``.

    Returns
    -------
    Sampler

    Raises
    ------
    ValueError
        If ``name`` is unknown or a fixed order is missing.

    Examples
    --------
    >>> make_sampler("maskgit", alpha=0.5)
    MaskGIT(alpha=0.5, anneal=False)
    """
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
    if name == "entropy_sum":
        return EntropySum(threshold=gamma)
    if name == "hybrid":
        explore = FixedOrderRule(tuple(order)) if order is not None else UniformRule()
        return CTS(HybridRule(exploit=MomentRule(alpha=alpha), explore=explore, gamma=gamma),
                   moment_token_transform(alpha))
    raise ValueError(f"unknown sampler {name!r}; allowed values are {', '.join(map(repr, SAMPLER_NAMES))}")


