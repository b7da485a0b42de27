"""Partial caching for choose-then-sample samplers on a real transformer ([H] §4.1, §4.6).

A CTS step fixes its set K (size k) before sampling, so it can be split into r sub-steps
K = K¹ ∪ … ∪ K^r (in the order the position rule ranked them). Sub-step 1 samples x_{K¹} from the full
pass that chose K; that pass also caches every layer's keys and values. Each later sub-step runs the
network only on the k query rows of K (:meth:`mdtheory.models.denoiser.MaskedDenoiser.rows_pass`): fresh K/V
inside K — whose tokens have just been revealed — and the cached, stale K/V elsewhere. Tokens of K^s
are drawn from those rows.

Free parameters (**convention**, exposed in :class:`PartialCaching`): the split of k into r sizes
(``"equal"``: as equal as possible, larger first; or explicit fractions), and the refresh policy
``refresh_every`` = j: a full pass (fresh everything) every j sub-steps; ``None`` refreshes only at each
coarse step. j = 1 is the uncached baseline at the same trajectory length (r full passes per coarse
step). With r = 1 the sampler equals the uncached loop :func:`mdtheory.sampling.loop.sample` draw for draw.

**NFE** is counted in full-pass equivalents: a full pass costs 1, a rows pass on q of N rows costs q/N
(attention and MLP work both scale with the query rows). Wall-clock is measured too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..rules.rounds import ChooseThenSample
from ..rules.samplers import Sampler
from ..rules.schedules import as_schedule
from .rounds import (
    _check_round_inputs,
    as_generator,
    sample_categorical,
    select_positions,
    to_log_probs,
    torch_token_log_weights,
)

__all__ = ["PartialCaching", "CachedSampleResult", "split_sizes", "sample_partial_caching", "cache_consistency_error"]


@dataclass(frozen=True)
class PartialCaching:
    """How a coarse CTS step is split into r sub-steps, and when the network is refreshed.

    Spec: §4.6. **Convention:** the split and the refresh policy are free parameters ([H] App. D.2). With
    r = 1 the cached sampler equals the uncached loop draw for draw.

    Parameters
    ----------
    r : int
        Sub-steps per coarse step (≥ 1).
    split : "equal" or tuple of float
        ``"equal"`` (as equal as possible, larger first) or r positive fractions summing to 1.
    refresh_every : int, optional
        A full pass every that many sub-steps; None refreshes only at each coarse step.

    Raises
    ------
    ValueError
        If r, the split or the refresh period is invalid.

    Examples
    --------
    >>> PartialCaching(r=4).split
    'equal'
    """

    r: int = 1
    split: str | tuple[float, ...] = "equal"
    refresh_every: int | None = None

    def __post_init__(self):
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise ValueError(f"r must be an integer >= 1; got {self.r!r}")
        if self.split != "equal":
            fr = np.asarray(self.split, dtype=np.float64)
            if fr.shape != (self.r,) or np.any(~np.isfinite(fr)) or np.any(fr <= 0):
                raise ValueError(f"split must be 'equal' or r={self.r} positive fractions; got {self.split!r}")
            if abs(fr.sum() - 1.0) > 1e-9:
                raise ValueError(f"split fractions must sum to 1; got sum {fr.sum()!r}")
            object.__setattr__(self, "split", tuple(float(f) for f in fr))
        if self.refresh_every is not None and (isinstance(self.refresh_every, bool) or self.refresh_every < 1):
            raise ValueError(f"refresh_every must be None or an integer >= 1; got {self.refresh_every!r}")


def split_sizes(k: int, caching: PartialCaching) -> list[int]:
    """Sizes of the sub-steps of a coarse step of size k (positive; fewer than r when k < r)."""
    r = min(caching.r, k)
    if caching.split == "equal" or r < caching.r:
        base, extra = divmod(k, r)
        return [base + (i < extra) for i in range(r)]
    raw = np.asarray(caching.split) * k
    sizes = np.maximum(1, np.floor(raw).astype(int))
    while sizes.sum() < k:  # hand out the remainder by largest fractional part
        sizes[int(np.argmax(raw - sizes))] += 1
    while sizes.sum() > k:
        sizes[int(np.argmax(sizes))] -= 1
    return [int(s) for s in sizes if s > 0]


@dataclass(frozen=True)
class CachedSampleResult:
    """The output of :func:`sample_partial_caching`.

    Spec: §4.6.

    Parameters
    ----------
    tokens : torch.Tensor, shape (B, N)
        The samples.
    reveal_step : torch.Tensor, shape (B, N)
        The sub-step at which each position was revealed.
    nfe : float
        Network evaluations in full-pass equivalents (a rows pass on q of N rows counts q/N).
    full_passes, rows_passes : int
        How many passes of each kind ran.
    seconds : float
        Wall-clock time.

    Examples
    --------
    >>> CachedSampleResult.__dataclass_fields__.keys() >= {"nfe", "full_passes"}
    True
    """

    tokens: torch.Tensor
    reveal_step: torch.Tensor
    nfe: float
    full_passes: int
    rows_passes: int
    seconds: float


def _cts_round_rule(sampler, step: int, n_steps: int) -> ChooseThenSample:
    """The choose-then-sample rule of step ``step`` (final-step convention applied), or a clear refusal."""
    rule = sampler.round_rule(step, n_steps, final=step == n_steps - 1) if isinstance(sampler, Sampler) else None
    if not isinstance(rule, ChooseThenSample):
        raise ValueError(f"partial caching needs a choose-then-sample sampler (CTS, Moment, UMoment); "
                         f"got {type(sampler).__name__}")
    return rule


def sample_partial_caching(model, *, sampler, caching: PartialCaching, schedule="cosine", n_steps: int | None = None,
                           batch_size: int = 1, generator: torch.Generator | int | None = None, device="cpu",
                           init_tokens: torch.Tensor | None = None, init_masked: torch.Tensor | None = None,
                           noise_dtype=torch.float64) -> CachedSampleResult:
    """Run a CTS sampler with partial caching on a transformer with a key/value cache.

    Spec: §4.6 ([H] §4.1). Each coarse step's set is chosen by a full pass that also caches every layer's keys
    and values; its r sub-steps then run the network only on the chosen rows.

    Parameters
    ----------
    model : MaskedDenoiser
        A model with ``full_pass(tokens) -> (logits, cache)`` and ``rows_pass(tokens, rows, cache)``.
    sampler : CTS, Moment or UMoment
        A choose-then-sample sampler.
    caching : PartialCaching
        The split and the refresh policy.
    schedule : str or sequence of int
        The coarse steps (a name with ``n_steps``, or sizes).
    n_steps : int, optional
        K, for a named schedule.
    batch_size : int
        B.
    generator : torch.Generator or int, optional
        Source of randomness.
    device : str
        Where the run happens.
    init_tokens, init_masked : torch.Tensor, optional
        A prompt, as in :func:`sample`.
    noise_dtype : torch.dtype
        Dtype of the sampling noise.

    Returns
    -------
    CachedSampleResult

    Raises
    ------
    TypeError
        If ``caching`` is not a PartialCaching or ``sampler`` is not choose-then-sample.

    Examples
    --------
    >>> from mdtheory import Moment
    >>> from mdtheory.models import SHIPPED_CHECKPOINTS, load_trained
    >>> model, _ = load_trained(SHIPPED_CHECKPOINTS / "text")
    >>> res = sample_partial_caching(model, sampler=Moment(1.0), caching=PartialCaching(r=2), schedule=[32, 32],
    ...                              batch_size=2, generator=0)
    >>> res.full_passes, res.rows_passes
    (2, 2)
    """
    if not isinstance(caching, PartialCaching):
        raise TypeError(f"caching must be a PartialCaching; got {type(caching).__name__}")
    N, mask_id = model.config.seq_len, model.config.mask_id
    from .loop import initial_state

    device = torch.device(device)
    generator = as_generator(generator, device)
    tokens, masked, n_masked = initial_state(batch_size=batch_size, seq_len=N, mask_id=mask_id,
                                             init_tokens=init_tokens, init_masked=init_masked, device=device)
    sizes = as_schedule(schedule, seq_len=n_masked, n_steps=n_steps)
    K = len(sizes)
    reveal = torch.full(tokens.shape, -1, dtype=torch.long, device=device)
    nfe, n_full, n_rows, sub_index = 0.0, 0, 0, 0
    model.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for t, k in enumerate(sizes):
            cts = _cts_round_rule(sampler, t, K)
            logits, cache = model.full_pass(tokens)
            nfe, n_full = nfe + 1.0, n_full + 1
            lp = to_log_probs(logits, kind="logits")
            _check_round_inputs(lp, masked, int(k))
            pos = select_positions(cts.position_rule, lp, k=int(k), masked=masked, generator=generator,
                                   noise_dtype=noise_dtype, ties=cts.ties)
            rows_lp = lp.gather(1, pos.unsqueeze(-1).expand(-1, -1, lp.shape[-1]))
            offset = 0
            for s, size in enumerate(split_sizes(int(k), caching)):
                if s > 0:
                    if caching.refresh_every is not None and s % caching.refresh_every == 0:
                        logits, cache = model.full_pass(tokens)
                        nfe, n_full = nfe + 1.0, n_full + 1
                        rows_lp = to_log_probs(logits, kind="logits").gather(
                            1, pos.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
                    else:
                        rows_lp = to_log_probs(model.rows_pass(tokens, pos, cache), kind="logits")
                        nfe, n_rows = nfe + pos.shape[1] / N, n_rows + 1
                sub = pos[:, offset:offset + size]
                new = sample_categorical(torch_token_log_weights(cts.token_transform, rows_lp[:, offset:offset + size]),
                                         generator=generator, dtype=noise_dtype)
                tokens.scatter_(1, sub, new)
                masked.scatter_(1, sub, False)
                reveal.scatter_(1, sub, sub_index)
                offset += size
                sub_index += 1
    return CachedSampleResult(tokens=tokens, reveal_step=reveal, nfe=nfe, full_passes=n_full, rows_passes=n_rows,
                              seconds=time.perf_counter() - t0)



def cache_consistency_error(model, tokens: torch.Tensor, *, stride: int = 5) -> float:
    """max |rows pass − full pass| over the logits of every ``stride``-th position, the rows pass reading a
    cache the full pass has just written (0 up to float rounding when the K/V cache is right)."""
    with torch.no_grad():
        logits, cache = model.full_pass(tokens)
        rows = torch.arange(0, tokens.shape[1], stride, device=tokens.device).expand(tokens.shape[0], -1)
        fresh = logits.gather(1, rows[..., None].expand(-1, -1, logits.shape[-1]))
        return float((model.rows_pass(tokens, rows, cache) - fresh).abs().max())
