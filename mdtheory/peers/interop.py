"""Interoperability with diffusers-style pipelines, both ways (§2).

* :class:`MdtheoryScheduler` exposes any mdtheory sampler (MaskGIT, moment, the CTS family) with a
  schedule as a discrete scheduler with ``set_timesteps`` / ``step`` in the diffusers discrete-scheduler
  conventions (float32 timesteps (n − i)/n, ``step_index``, ``begin_index``, ``index_for_timestep``, the output
  fields ``prev_sample``, ``pred_original_sample``, ``sampled_probs``, ``pred_logits``, ``committed_mask``,
  ``edited_mask``), so it drops into a denoising loop written for diffusers.
* :class:`PeerSampler` wraps a peer's one-round function (``round_fn(log_probs, *, k, masked, generator)
  -> RoundOutput``, e.g. :func:`amused_peer_round`) as an mdtheory :class:`~mdtheory.sampling.loop.Sampler`,
  so the sampling loop, the Monte-Carlo checks and the contract tests run the peer unchanged.
* :class:`PeerAdaptiveSampler` does the same for peers that choose their own block sizes
  (``select_fn(log_probs, *, masked, generator) -> (revealed, tokens)``): diffusers'
  ``EntropyBoundScheduler`` (:func:`entropy_bound_peer_select`) and ``BlockRefinementScheduler``
  (:func:`block_refinement_peer_select`). Both peers act on a whole block with no notion of revealed
  positions, so the adapters call them row by row on the still-masked positions only.

Neither copies peer code: adapters call the peer's public API only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..sampling.loop import AdaptiveSampler, CustomSampler, Sampler, step_round
from ..sampling.rounds import RoundOutput, to_log_probs
from ..rules.schedules import as_schedule

__all__ = ["MdtheoryScheduler", "SchedulerOutput", "PeerSampler", "amused_peer_round", "PeerAdaptiveSampler",
           "entropy_bound_peer_select", "block_refinement_peer_select"]


@dataclass
class SchedulerOutput:
    """What :meth:`MdtheoryScheduler.step` returns, in the field order of the diffusers discrete-scheduler
    conventions (``return_dict=False`` gives the same order as a tuple).

    Attributes
    ----------
    prev_sample : torch.Tensor, shape (B, N)
        The sample after the step (the mask id where still masked).
    pred_original_sample : torch.Tensor, shape (B, N)
        The step's estimate of the clean sample: ``prev_sample`` where a token is known, the most probable
        token of the prediction where the position is still masked (no extra randomness is drawn).
    sampled_probs : torch.Tensor, shape (B, N)
        The raw softmax probability of ``pred_original_sample``'s token under ``model_output`` (float32).
    pred_logits : torch.Tensor, shape (B, N, V)
        The model output the step was given.
    committed_mask : torch.Tensor, shape (B, N)
        The positions this step revealed.
    edited_mask : torch.Tensor, shape (B, N)
        Revealed positions whose token this step changed: never any, since mdtheory's samplers do not re-mask.
    """

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor | None = None
    sampled_probs: torch.Tensor | None = None
    pred_logits: torch.Tensor | None = None
    committed_mask: torch.Tensor | None = None
    edited_mask: torch.Tensor | None = None

    def to_tuple(self) -> tuple:
        return (self.prev_sample, self.pred_original_sample, self.sampled_probs, self.pred_logits,
                self.committed_mask, self.edited_mask)


@dataclass
class MdtheoryScheduler:
    """An mdtheory sampler as a discrete scheduler (``set_timesteps`` and ``step``), drawing exactly what
    :func:`mdtheory.sample` draws.

    Spec: §2. It follows the diffusers discrete-scheduler conventions: float32 timesteps (n − i)/n in (0, 1]
    for i = 0 … n − 1; ``step_index`` (None before the first step), ``begin_index`` and ``set_begin_index``,
    ``index_for_timestep``; ``step`` returns a :class:`SchedulerOutput` (or its fields as a tuple, in the same
    order, with ``return_dict=False``); ``set_timesteps(0)`` raises. Step i reveals k_i positions of the
    schedule, which is laid out at the first step over the positions masked then and the steps left.

    Parameters
    ----------
    sampler : Sampler
        Any mdtheory sampler.
    mask_token_id : int
        The id of masked positions in ``sample``. When it lies inside the vocabulary of ``model_output``
        (V > mask_token_id), its logit is set to −∞: the mask token is never drawn, and the other tokens keep
        their law conditional on not being the mask.
    schedule : str or sequence of int
        A named schedule or sizes summing to the masked count of the first step.

    Examples
    --------
    >>> import torch
    >>> from mdtheory import MaskGIT
    >>> s = MdtheoryScheduler(MaskGIT(1.0), mask_token_id=3)
    >>> s.set_timesteps(2)
    >>> s.timesteps.tolist()
    [1.0, 0.5]
    >>> x = torch.full((1, 4), 3)
    >>> for t in s.timesteps:
    ...     x = s.step(torch.zeros(1, 4, 3), t, x, generator=torch.Generator().manual_seed(0)).prev_sample
    >>> bool((x != 3).all()), s.step_index
    (True, 2)
    """

    sampler: Sampler
    mask_token_id: int
    schedule: object = "cosine"
    timesteps: torch.Tensor | None = None
    num_inference_steps: int = 0
    _sizes: np.ndarray | None = field(default=None, repr=False)
    _step_index: int | None = field(default=None, repr=False)
    _begin_index: int | None = field(default=None, repr=False)

    def set_timesteps(self, num_inference_steps: int, device=None) -> None:
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, (int, np.integer)) \
                or int(num_inference_steps) < 1:
            raise ValueError(f"num_inference_steps must be an integer >= 1; got {num_inference_steps!r}")
        n = int(num_inference_steps)
        self.num_inference_steps = n
        self.timesteps = ((n - torch.arange(n, dtype=torch.float64)) / n).to(torch.float32).to(device)
        self._sizes, self._step_index, self._begin_index = None, None, None

    @property
    def step_index(self) -> int | None:
        """The index of the next step (None until the first step)."""
        return self._step_index

    @property
    def begin_index(self) -> int | None:
        """The index the first step starts from (None: found from the first timestep given)."""
        return self._begin_index

    def set_begin_index(self, begin_index: int = 0) -> None:
        if isinstance(begin_index, bool) or not isinstance(begin_index, (int, np.integer)) \
                or not 0 <= begin_index < max(self.num_inference_steps, 1):
            raise ValueError(f"begin_index must be an integer in [0, {self.num_inference_steps}); got {begin_index!r}")
        self._begin_index = int(begin_index)

    def index_for_timestep(self, timestep, schedule_timesteps=None) -> int:
        """The index of ``timestep`` in ``schedule_timesteps`` (default: this scheduler's timesteps)."""
        ts = self.timesteps if schedule_timesteps is None else schedule_timesteps
        if ts is None:
            raise RuntimeError("call set_timesteps before step")
        hits = torch.nonzero(ts == torch.as_tensor(timestep, dtype=ts.dtype, device=ts.device))
        if hits.numel() == 0:
            raise ValueError(f"timestep {float(timestep)!r} is not one of this scheduler's timesteps")
        return int(hits[0, 0])

    def step(self, model_output: torch.Tensor, timestep, sample: torch.Tensor, *, generator=None,
             return_dict: bool = True):
        if self.timesteps is None:
            raise RuntimeError("call set_timesteps before step")
        if self._step_index is None:
            self._step_index = self.index_for_timestep(timestep) if self._begin_index is None else self._begin_index
        t = self._step_index
        if t >= self.num_inference_steps:
            raise RuntimeError(f"all {self.num_inference_steps} steps are done; call set_timesteps to start again")
        masked = sample == self.mask_token_id
        if self._sizes is None:  # laid out at the first step: the positions masked now over the steps left
            counts = masked.sum(dim=1)
            if not bool((counts == counts[0]).all()):
                raise ValueError("every row must have the same number of masked positions")
            left = as_schedule(self.schedule, seq_len=int(counts[0]), n_steps=self.num_inference_steps - t)
            self._sizes = np.concatenate([np.zeros(t, dtype=np.int64), left])
        logits = model_output.to(torch.float64)
        if 0 <= self.mask_token_id < logits.shape[-1]:  # a mask id inside the vocabulary is never drawn
            logits = logits.index_fill(-1, torch.tensor([self.mask_token_id], device=logits.device), -torch.inf)
        lp = to_log_probs(logits, kind="logits")
        r = step_round(self.sampler, lp, k=int(self._sizes[t]), masked=masked, step=t,
                       n_steps=self.num_inference_steps, generator=generator, noise_dtype=torch.float64)
        prev = sample.clone()
        prev.scatter_(1, r.positions, r.tokens)
        committed = torch.zeros_like(masked).scatter_(1, r.positions, True)
        still = prev == self.mask_token_id
        estimate = torch.where(still, lp.argmax(dim=-1), prev)
        probs = torch.softmax(model_output.to(torch.float64), dim=-1)  # the raw softmax, mask logit included
        sampled = probs.gather(-1, estimate[..., None])[..., 0].to(torch.float32)
        self._step_index = t + 1
        out = SchedulerOutput(prev_sample=prev, pred_original_sample=estimate, sampled_probs=sampled,
                              pred_logits=model_output, committed_mask=committed,
                              edited_mask=torch.zeros_like(committed))
        return out if return_dict else out.to_tuple()


@dataclass(frozen=True)
class PeerSampler(CustomSampler):
    """A peer's one-round function as an mdtheory sampler, so the loop and the tests run the peer unchanged.

    Spec: §2.

    Parameters
    ----------
    round_fn : callable
        ``round_fn(log_probs, *, k, masked, generator) -> RoundOutput``.
    name : str
        A label.

    Examples
    --------
    >>> import torch
    >>> from mdtheory import sample
    >>> from mdtheory.sampling import maskgit_round
    >>> peer = PeerSampler(lambda lp, *, k, masked, generator: maskgit_round(lp, k=k, alpha=1.0, masked=masked,
    ...                                                                       generator=generator))
    >>> sample(lambda t, m: torch.zeros(1, 4, 2), seq_len=4, schedule=[2, 2], sampler=peer, generator=0).tokens.shape
    torch.Size([1, 4])
    """

    round_fn: object = None
    name: str = "peer"

    def round(self, log_probs, *, k, masked, step, n_steps, final, generator, noise_dtype) -> RoundOutput:
        return self.round_fn(log_probs, k=k, masked=masked, generator=generator)


def amused_peer_round(alpha: float):
    """diffusers' ``AmusedScheduler`` as a round function on partly masked rows, for :class:`PeerSampler`.

    Spec: §2.1. It reveals k of the M masked positions (``starting_mask_ratio`` = (M − k + ½)/(N cos(π/4)) at the
    first of two steps, constant temperature α); revealed positions keep their tokens.

    Parameters
    ----------
    alpha : float
        The scheduler's temperature.

    Returns
    -------
    callable
        A round function.

    Examples
    --------
    >>> callable(amused_peer_round(1.0))
    True
    """

    def round_fn(log_probs, *, k, masked, generator=None) -> RoundOutput:
        from .adapters import amused_step

        new, prev = amused_step(log_probs, k=k, alpha=alpha, masked=masked, generator=generator)
        positions = torch.nonzero(new)[:, 1].view(log_probs.shape[0], -1)
        if positions.shape[1] != k:
            raise RuntimeError(f"the aMUSEd step revealed {positions.shape[1]} positions, expected {k}")
        return RoundOutput(positions=positions, tokens=prev.gather(1, positions))

    return round_fn


@dataclass(frozen=True)
class PeerAdaptiveSampler(AdaptiveSampler):
    """A peer's adaptive step, which chooses its own block size, as an mdtheory :class:`AdaptiveSampler`.

    Spec: §8.

    Parameters
    ----------
    select_fn : callable
        ``select_fn(log_probs, *, masked, generator) -> (revealed (B, N) bool, tokens (B, N))``.
    name : str
        A label.

    Examples
    --------
    >>> import torch
    >>> from mdtheory import sample
    >>> def one_at_a_time(lp, *, masked, generator):
    ...     first = masked & (masked.cumsum(1) == 1)
    ...     return first, torch.zeros_like(masked, dtype=torch.long)
    >>> sample(lambda t, m: torch.zeros(1, 3, 2), seq_len=3, sampler=PeerAdaptiveSampler(one_at_a_time)).tokens.tolist()
    [[0, 0, 0]]
    """

    select_fn: object = None
    name: str = "peer"

    def select(self, log_probs, *, masked, step, generator, noise_dtype):
        return self.select_fn(log_probs, masked=masked, generator=generator)


def _rowwise(step_row):
    """Run ``step_row(log_probs (1, M, V), generator) -> (accepted (M,) bool, tokens (M,))`` on each row's
    masked positions and scatter the result back to (B, D)."""

    def select_fn(log_probs, *, masked, generator=None):
        B, D, _ = log_probs.shape
        sel = torch.zeros(B, D, dtype=torch.bool, device=log_probs.device)
        tok = torch.zeros(B, D, dtype=torch.long, device=log_probs.device)
        for b in range(B):
            idx = torch.nonzero(masked[b])[:, 0]
            if idx.numel() == 0:
                continue
            acc, t = step_row(log_probs[b, idx][None], generator)
            sel[b, idx] = acc
            tok[b, idx] = t
        return sel, tok

    return select_fn


def entropy_bound_peer_select(gamma: float, temperature: float = 1.0):
    """diffusers' ``EntropyBoundScheduler`` (constant temperature, entropy bound γ) as a ``select_fn``.

    Spec: §8 (the EB rule).

    Parameters
    ----------
    gamma : float
        The entropy bound γ.
    temperature : float
        The scheduler's temperature.

    Returns
    -------
    callable
        A ``select_fn`` for :class:`PeerAdaptiveSampler`.

    Examples
    --------
    >>> callable(entropy_bound_peer_select(0.3))
    True
    """

    def step_row(lp, generator):
        from .adapters import entropy_bound_step

        accepted, tokens = entropy_bound_step(lp, gamma=gamma, temperature=temperature, generator=generator)
        return accepted[0], tokens[0]

    return _rowwise(step_row)


def block_refinement_peer_select(threshold: float, temperature: float = 1.0):
    """diffusers' ``BlockRefinementScheduler`` (mask mode) as a ``select_fn``: commits every masked position whose
    tempered confidence exceeds ``threshold``, and at least one.

    Spec: §8 (threshold rules).

    Parameters
    ----------
    threshold : float
        The confidence threshold.
    temperature : float
        The scheduler's temperature.

    Returns
    -------
    callable
        A ``select_fn`` for :class:`PeerAdaptiveSampler`.

    Examples
    --------
    >>> callable(block_refinement_peer_select(0.6))
    True
    """

    def step_row(lp, generator):
        from .adapters import block_refinement_round

        committed, tokens = block_refinement_round(lp, m=1, threshold=threshold, temperature=temperature,
                                                   generator=generator)
        return committed[0], tokens[0]

    return _rowwise(step_row)
