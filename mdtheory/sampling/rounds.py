"""One-round samplers in torch: the rules of :mod:`mdtheory.rules` executed on a device (§2.1–§2.3, §8).

The mathematics of every round lives in :mod:`mdtheory.rules` (numpy, torch-free). This module runs those rule
objects on batches: :func:`run_round` for the fixed-size rules (choose-then-sample, sample-then-choose) and
:func:`run_select` for the variable-size ones (entropy prefix, threshold, Bernoulli). Their position scores
and token laws are the torch transcriptions of the rules' numpy hooks (:func:`torch_scores`,
:func:`torch_token_log_weights`); a test checks them against the numpy hooks on tables where the rules rank
positions differently. The named rounds (:func:`maskgit_round`, :func:`moment_round`, :func:`cts_round`,
:func:`eb_round`, …) build a rule and run it.

All rounds are pure functions of a batch of log-probabilities ``log_probs`` of shape (B, N, V) (any
device, float32 or float64; rows may be unnormalised logits), a boolean ``masked`` (B, N) marking the
still-masked positions, the number ``k`` to reveal, and an explicit ``torch.Generator``. Noise (Gumbel and the
categorical uniforms) is drawn in ``noise_dtype`` (float64 by default, §9: float32 noise lowers the effective
temperature). Categorical draws use the inverse CDF in ``noise_dtype``; zero-probability tokens are never drawn.

**Tie convention:** deterministic choices break ties (equal on the 2^-36 grid, :func:`tie_keys`) uniformly at
random (the limit of their noisy versions), or by the lower index with ``ties="first"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .._validation import check_alpha
from ..exact.finite_precision_noise import gumbel_noise_range
from ..rules.positions import (
    ConfidenceRule,
    EntropyRule,
    FixedOrderRule,
    HybridRule,
    MarginRule,
    MomentRule,
    PositionRule,
    UniformRule,
    tie_keys,
)
from ..rules.rounds import (
    ENTROPY_TOLERANCE,
    Bernoulli,
    ChooseThenSample,
    EntropyPrefix,
    Rule,
    SampleThenChoose,
    Threshold,
)
from ..rules.tokens import TOP_P_TOLERANCE, Identity, Temperature, TokenTransform, Truncated, moment_token_transform

__all__ = [
    "RoundOutput",
    "to_log_probs",
    "as_generator",
    "check_device",
    "gumbel_noise",
    "gumbel_noise_range",
    "sample_categorical",
    "topk_positions",
    "torch_scores",
    "torch_token_log_weights",
    "select_positions",
    "run_round",
    "run_select",
    "maskgit_round",
    "moment_round",
    "cts_round",
    "eb_selection",
    "eb_round",
    "entropy_sum_selection",
    "entropy_sum_round",
    # the rules, re-exported from mdtheory.rules (their home)
    "PositionRule",
    "UniformRule",
    "MomentRule",
    "ConfidenceRule",
    "MarginRule",
    "EntropyRule",
    "FixedOrderRule",
    "HybridRule",
    "TokenTransform",
    "Identity",
    "Temperature",
    "Truncated",
    "moment_token_transform",
]


@dataclass(frozen=True)
class RoundOutput:
    """What one round reveals: positions and tokens, each (B, k) int64 on the input's device.

    Spec: §2 (the output of every round function).

    Parameters
    ----------
    positions : torch.Tensor, shape (B, k)
        The revealed positions, in the order the round chose them.
    tokens : torch.Tensor, shape (B, k)
        The token revealed at each of those positions.

    Examples
    --------
    >>> import torch
    >>> out = RoundOutput(positions=torch.tensor([[2, 0]]), tokens=torch.tensor([[1, 1]]))
    >>> out.positions.tolist()
    [[2, 0]]
    """

    positions: torch.Tensor
    tokens: torch.Tensor


def to_log_probs(x: torch.Tensor, *, kind: Literal["logits", "probs", "log_probs"] = "logits") -> torch.Tensor:
    """Normalise model output to log-probabilities over the last axis."""
    if kind == "logits":
        return torch.log_softmax(x, dim=-1)
    if kind == "probs":
        return torch.log(x)
    if kind == "log_probs":
        return x
    raise ValueError(f"unknown kind={kind!r}; allowed values are 'logits', 'probs', 'log_probs'")


def _check_round_inputs(log_probs: torch.Tensor, masked: torch.Tensor | None, k: int | None) -> torch.Tensor:
    """Validate a round's inputs (shapes, k, and the predictions at masked positions); returns ``masked``.

    The prediction check (no NaN, no +inf, at least one finite logit per masked row) costs one elementwise
    pass and one reduction over (B, N, V), and shares the round's single device synchronisation with the
    check of k (benchmark ``round_throughput``)."""
    if not isinstance(log_probs, torch.Tensor) or log_probs.ndim != 3:
        shape = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else type(log_probs).__name__
        raise ValueError(f"log_probs must be a tensor of shape (batch, n_positions, vocab_size); got {shape}")
    B, N, V = log_probs.shape
    if B < 1 or N < 1:
        raise ValueError(f"log_probs must hold at least one row; got shape {(B, N, V)}")
    if V < 2:
        raise ValueError(f"log_probs must have vocab_size >= 2; got vocab_size={V}")
    if log_probs.is_complex() or not log_probs.is_floating_point():
        raise TypeError(f"log_probs must be a real floating tensor; got dtype {log_probs.dtype}")
    if masked is None:
        masked = torch.ones(B, N, dtype=torch.bool, device=log_probs.device)
    elif masked.shape != (B, N):
        raise ValueError(f"masked must have shape (batch, n_positions)=({B}, {N}); got {tuple(masked.shape)}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer))):
        raise TypeError(f"k must be an integer; got {k!r}")
    # NaN < inf is False, so one comparison catches NaN and +inf; amax > -inf needs one finite entry
    usable = (log_probs < math.inf).all(dim=-1) & (log_probs.amax(dim=-1) > -math.inf)
    bad = masked & ~usable
    n_min, n_bad = (int(v) for v in torch.stack([masked.sum(dim=1).min(), bad.sum()]).tolist())
    if n_bad:
        b, i = (int(v) for v in torch.nonzero(bad)[0].tolist())
        raise ValueError(f"log_probs must be finite probabilities or logits with at least one finite logit per masked "
                         f"position; {n_bad} masked row(s) hold NaN, +inf or only -inf (first: batch {b}, "
                         f"position {i})")
    if k is not None and not 1 <= k <= n_min:
        raise ValueError(f"k must satisfy 1 <= k <= n_masked={n_min} (fewest masked positions in the batch); got k={k}")
    return masked


def check_device(device, *, name: str = "device") -> str:
    """A validated device string: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``, available on this machine.

    Raises ``ValueError`` naming the argument for any other value, or for a device this machine lacks.
    """
    text = str(device)
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(f"{name} must be one of cpu, cuda, cuda:N, mps; got {text!r}")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={text!r} but no CUDA device is available on this machine")
        if index and int(index) >= torch.cuda.device_count():
            raise ValueError(f"{name}={text!r} but this machine has {torch.cuda.device_count()} CUDA device(s)")
    if kind == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"{name}={text!r} but MPS is not available on this machine")
    return text


def as_generator(generator: torch.Generator | int | None, device="cpu") -> torch.Generator | None:
    """A torch generator: ``None`` stays ``None`` (torch's global generator), an int seeds a new generator
    on ``device``, a generator is returned as it is."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, bool) or not isinstance(generator, (int, np.integer)):
        raise TypeError(f"generator must be a torch.Generator, an int seed or None; got {type(generator).__name__}")
    return torch.Generator(device=torch.device(device)).manual_seed(int(generator))


def gumbel_noise(shape, *, generator: torch.Generator | None, device, dtype=torch.float64) -> torch.Tensor:
    """Standard Gumbel noise −log(−log U), U ~ U[0, 1) clamped at the smallest normal (finite always)."""
    u = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return -torch.log(-torch.log(u.clamp_min(torch.finfo(dtype).tiny)))


def sample_categorical(log_weights: torch.Tensor, *, generator: torch.Generator | None,
                       dtype=torch.float64) -> torch.Tensor:
    """One draw per row from the categorical ∝ exp(log_weights) (unnormalised), by inverse CDF in ``dtype``."""
    return _sample_categorical_with_norm(log_weights, generator=generator, dtype=dtype)[0]


def _sample_categorical_with_norm(log_weights: torch.Tensor, *, generator, dtype):
    """(draws, log Σ_s exp(log_weights)) with one max pass, one exp pass and one cumulative sum.

    The exponentials are taken in the input dtype and accumulated in ``dtype``; the uniform is drawn in
    ``dtype``. The log-normaliser comes free from the last cumulative sum, so callers never need a
    separate softmax/log_softmax pass over the logits.
    """
    mx = log_weights.amax(dim=-1, keepdim=True)
    w = torch.exp(log_weights - mx)
    cdf = torch.cumsum(w, dim=-1, dtype=dtype)
    total = cdf[..., -1:]
    u = torch.rand(total.shape, generator=generator, device=cdf.device, dtype=dtype) * total
    idx = torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_max(cdf.shape[-1] - 1)
    return idx, (mx.to(dtype) + torch.log(total)).squeeze(-1)


def topk_positions(scores: torch.Tensor, k: int, *, generator: torch.Generator | None = None,
                   random_ties: bool = False, ties: str | None = None) -> torch.Tensor:
    """Indices of the k largest scores per row (−inf = unavailable).

    With ``ties="uniform"`` (or ``random_ties``) the scores are compared on the 2^-36 grid (:func:`tie_keys`) and
    ties are split uniformly at random; with ``ties="first"`` the lower index wins them (a stable sort); otherwise
    ``torch.topk`` decides (noisy scores, where ties have probability 0)."""
    if ties == "first":
        return torch.sort(tie_keys(scores), dim=-1, descending=True, stable=True).indices[:, :k]
    if not (random_ties or ties == "uniform"):
        return torch.topk(scores, k, dim=-1).indices
    B, N = scores.shape
    perm = torch.argsort(torch.rand(B, N, generator=generator, device=scores.device), dim=-1)
    shuffled = tie_keys(scores).gather(1, perm)
    order = torch.sort(shuffled, dim=-1, descending=True, stable=True).indices[:, :k]
    return perm.gather(1, order)


# ---------------------------------------------------------------------------------------------
# the rules' hooks in torch (checked against their numpy hooks in the tests)
def _normalised(log_probs: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(log_probs.to(torch.float64), dim=-1)


def _moment_scores(rule, lp):
    if rule.alpha == math.inf:
        return torch.zeros(lp.shape[:-1], dtype=torch.float64, device=lp.device)
    if rule.alpha == 0.0:
        return lp.amax(dim=-1)
    return torch.logsumexp((1.0 + 1.0 / rule.alpha) * lp, dim=-1)


def _margin_scores(rule, lp):
    top2 = torch.topk(lp, 2, dim=-1).values.exp()
    return top2[..., 0] - top2[..., 1]


def _entropy_scores(rule, lp):
    if rule.order == 1.0:
        p = lp.exp()
        return (p * lp.masked_fill(p == 0, 0.0)).sum(dim=-1)
    return -torch.logsumexp(rule.order * lp, dim=-1) / (1.0 - rule.order)


def _fixed_scores(rule, lp):
    rank = torch.as_tensor(rule.rank(lp.shape[-2]), dtype=torch.float64, device=lp.device)
    return (-rank).expand(lp.shape[:-1])


_SCORES = {
    UniformRule: lambda rule, lp: torch.zeros(lp.shape[:-1], dtype=torch.float64, device=lp.device),
    MomentRule: _moment_scores,
    ConfidenceRule: lambda rule, lp: lp.amax(dim=-1),
    MarginRule: _margin_scores,
    EntropyRule: _entropy_scores,
    FixedOrderRule: _fixed_scores,
}


def torch_scores(rule: PositionRule, log_probs: torch.Tensor) -> torch.Tensor:
    """A position rule's noise-free scores (B, N) in float64: the torch transcription of ``rule.scores``.

    Spec: §2.3. Rows of ``log_probs`` may be unnormalised logits.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.45, 0.05], [0.45, 0.3, 0.25]]], dtype=torch.float64))
    >>> torch_scores(MarginRule(), lp).round(decimals=4).tolist()
    [[0.05, 0.15]]
    """
    kernel = _SCORES.get(type(rule))
    if kernel is None:
        raise TypeError(f"no torch scores for position rule {type(rule).__name__}")
    return kernel(rule, _normalised(log_probs))


def torch_token_log_weights(transform: TokenTransform, log_probs: torch.Tensor) -> torch.Tensor:
    """The log-weights a token law draws from (…, V): the torch transcription of ``transform.log_weights``.

    Spec: §2.3, §2.5. Identity keeps the rows as they are (logits or log-probabilities).

    Examples
    --------
    >>> torch_token_log_weights(Temperature(0.5), torch.tensor([0.0, -1.0])).tolist()
    [0.0, -2.0]
    """
    if type(transform) is Identity:
        return log_probs
    if type(transform) is Temperature:
        if transform.tau == 0.0:
            top = log_probs == log_probs.amax(dim=-1, keepdim=True)
            return torch.where(top, 0.0, -math.inf).to(log_probs.dtype)
        return log_probs / transform.tau
    if type(transform) is Truncated:
        lp = torch.log_softmax(log_probs.to(torch.float64) / transform.temperature, dim=-1)
        V = lp.shape[-1]
        if transform.top_k is not None and transform.top_k < V:
            kth = torch.topk(lp, transform.top_k, dim=-1).values[..., -1:]
            lp = torch.log_softmax(lp.masked_fill(lp < kth, -math.inf), dim=-1)
        if transform.top_p is not None:
            q = lp.exp()
            sorted_q, order = torch.sort(q, dim=-1, descending=True, stable=True)  # ties: lower id first
            before = torch.cumsum(sorted_q, dim=-1) - sorted_q
            keep = torch.zeros_like(q, dtype=torch.bool).scatter(-1, order, before < transform.top_p - TOP_P_TOLERANCE)
            lp = torch.log_softmax(lp.masked_fill(~keep, -math.inf), dim=-1)
        return lp
    raise TypeError(f"no torch token law for {type(transform).__name__}")


def _noisy(score: torch.Tensor, noise: float, generator, noise_dtype) -> torch.Tensor:
    score = score.to(noise_dtype)
    if noise == 0.0:
        return score
    return score + noise * gumbel_noise(score.shape, generator=generator, device=score.device, dtype=noise_dtype)


def select_positions(rule: PositionRule, log_probs: torch.Tensor, *, k: int, masked: torch.Tensor,
                     generator: torch.Generator | None = None, noise_dtype=torch.float64,
                     ties: Literal["uniform", "first"] = "uniform") -> torch.Tensor:
    """The k positions (B, k) a position rule selects among the masked ones: top k of score + σ·Gumbel.

    Spec: §2.3. A hybrid takes ⌈γk⌉ from its exploitation rule, then the rest from its exploration rule.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1]]], dtype=torch.float64))
    >>> select_positions(ConfidenceRule(), lp, k=1, masked=torch.ones(1, 2, dtype=torch.bool)).tolist()
    [[1]]
    """
    if isinstance(rule, HybridRule):
        m = rule.exploit_count(k)
        chosen, avail = [], masked
        if m > 0:
            first = select_positions(rule.exploit, log_probs, k=m, masked=masked, generator=generator,
                                     noise_dtype=noise_dtype, ties=ties)
            chosen.append(first)
            avail = masked.clone()
            avail.scatter_(1, first, False)
        if k - m > 0:
            chosen.append(select_positions(rule.explore, log_probs, k=k - m, masked=avail, generator=generator,
                                           noise_dtype=noise_dtype, ties=ties))
        return torch.cat(chosen, dim=1)
    s = _noisy(torch_scores(rule, log_probs), rule.noise_scale, generator, noise_dtype).masked_fill(~masked, -math.inf)
    return topk_positions(s, k, generator=generator, ties=ties if rule.deterministic else None)


def _candidates(token_transform, confidence: str, log_probs, generator, noise_dtype):
    """(candidates (B, N), their confidences (B, N) in noise_dtype): x̃_i ~ q_i everywhere, scored by
    log p_i(x̃_i) (``"log_p"``), log q_i(x̃_i) (``"log_q"``), q_i(x̃_i) (``"q"``) or p_i(x̃_i) (``"p"``)."""
    weights = torch_token_log_weights(token_transform, log_probs)
    cand, log_norm = _sample_categorical_with_norm(weights, generator=generator, dtype=noise_dtype)
    log_c = weights.gather(-1, cand.unsqueeze(-1)).squeeze(-1).to(noise_dtype) - log_norm  # log q_i(x̃_i)
    if confidence in ("log_p", "p") and type(token_transform) is not Identity:  # else p is q
        log_c = _normalised(log_probs).gather(-1, cand.unsqueeze(-1)).squeeze(-1).to(noise_dtype)
    return cand, (log_c if confidence.startswith("log_") else log_c.exp())


def run_round(rule: Rule, log_probs: torch.Tensor, *, k: int, masked: torch.Tensor | None = None,
              generator: torch.Generator | None = None, noise_dtype=torch.float64) -> RoundOutput:
    """Execute one fixed-size round of ``rule`` (choose-then-sample or sample-then-choose) on a batch.

    Spec: §2.1–§2.3. The law of the draw is :func:`mdtheory.exact.rule_laws.rule_law` of the same rule.

    Parameters
    ----------
    rule : ChooseThenSample or SampleThenChoose
        The rule.
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (or logits).
    k : int
        Positions to reveal, 1 ≤ k ≤ the number masked in every row.
    masked : torch.Tensor, shape (B, N), bool, optional
        Still-masked positions (default: all).
    generator : torch.Generator, optional
        Source of randomness.
    noise_dtype : torch.dtype
        Dtype of the noise.

    Returns
    -------
    RoundOutput

    Raises
    ------
    ValueError
        If the inputs are invalid.
    TypeError
        If ``rule`` is not a fixed-size rule.

    Examples
    --------
    >>> from mdtheory.rules import ChooseThenSample
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> run_round(ChooseThenSample(ConfidenceRule()), lp, k=1, generator=torch.Generator().manual_seed(0)).positions.tolist()
    [[1]]
    """
    masked = _check_round_inputs(log_probs, masked, k)
    if isinstance(rule, ChooseThenSample):
        pos = select_positions(rule.position_rule, log_probs, k=k, masked=masked, generator=generator,
                               noise_dtype=noise_dtype, ties=rule.ties)
        rows = log_probs.gather(1, pos.unsqueeze(-1).expand(-1, -1, log_probs.shape[-1]))  # (B, k, V)
        tokens = sample_categorical(torch_token_log_weights(rule.token_transform, rows), generator=generator,
                                    dtype=noise_dtype)
        return RoundOutput(positions=pos, tokens=tokens)
    if isinstance(rule, SampleThenChoose):
        B, N, _ = log_probs.shape
        cand, conf = _candidates(rule.token_transform, rule.confidence, log_probs, generator, noise_dtype)
        if rule.noise == math.inf:
            scores = gumbel_noise((B, N), generator=generator, device=log_probs.device, dtype=noise_dtype)
        elif rule.noise == 0.0:
            scores = conf
        else:
            scores = conf + rule.noise * gumbel_noise((B, N), generator=generator, device=log_probs.device,
                                                      dtype=noise_dtype)
        scores = scores.masked_fill(~masked, -math.inf)
        pos = topk_positions(scores, k, generator=generator, ties=rule.ties if rule.noise == 0.0 else None)
        return RoundOutput(positions=pos, tokens=cand.gather(1, pos))
    raise TypeError(f"run_round executes fixed-size rules (ChooseThenSample, SampleThenChoose); got "
                    f"{type(rule).__name__} (use run_select)")


def _entropy_prefix(rule: EntropyPrefix, lp: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    B, N, V = lp.shape
    log_q = torch.log_softmax(torch_token_log_weights(rule.token_transform, lp).to(torch.float64), dim=-1)
    h = (-_entropy_scores(EntropyRule(), log_q)).masked_fill(~masked, math.inf)  # Shannon entropy of q
    hs, order = torch.sort(h, dim=1, stable=True)
    spent = torch.cumsum(hs.masked_fill(~torch.isfinite(hs), 0.0), dim=1) - (hs if rule.subtract_max else 0.0)
    ok = (spent <= rule.budget + ENTROPY_TOLERANCE) & torch.isfinite(hs)
    count = ok.sum(dim=1).clamp_min(1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(N, device=order.device).expand(B, N))
    return (rank < count[:, None]) & masked


def _threshold_select(rule: Threshold, lp, masked, generator, noise_dtype):
    cand, c = _candidates(rule.token_transform, rule.confidence, lp, generator, noise_dtype)
    c = c.masked_fill(~masked, -math.inf)
    above = (c > rule.threshold) & masked
    m = torch.clamp(masked.sum(dim=1), max=rule.m)  # fewer than m masked: all of them
    N = lp.shape[1]
    pos = topk_positions(c, N, generator=generator, ties=rule.ties)  # positions by decreasing confidence
    rank = torch.empty_like(pos)
    rank.scatter_(1, pos, torch.arange(N, device=pos.device).expand_as(pos))
    top = (rank < m[:, None]) & masked
    enough = above.sum(dim=1) >= m
    return torch.where(enough[:, None], above, top), cand


def run_select(rule: Rule, log_probs: torch.Tensor, *, masked: torch.Tensor | None = None,
               generator: torch.Generator | None = None, noise_dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Execute one variable-size round of ``rule`` (entropy prefix, threshold, Bernoulli) on a batch.

    Spec: §2.5, §8, §9. Returns (selected (B, N) bool, tokens (B, N) int64 — meaningful where selected); the law is
    :func:`mdtheory.exact.rule_laws.rule_law` of the same rule.

    Parameters
    ----------
    rule : EntropyPrefix, Threshold or Bernoulli
        The rule.
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (or logits).
    masked : torch.Tensor, shape (B, N), bool, optional
        Still-masked positions (default: all).
    generator : torch.Generator, optional
        Source of randomness.
    noise_dtype : torch.dtype
        Dtype of the noise.

    Returns
    -------
    tuple of torch.Tensor
        (selected, tokens).

    Raises
    ------
    TypeError
        If ``rule`` is not a variable-size rule.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.9, 0.1], [0.5, 0.5], [0.99, 0.01]]], dtype=torch.float64))
    >>> sel, _ = run_select(EntropyPrefix(0.3, subtract_max=True), lp, generator=torch.Generator().manual_seed(0))
    >>> sel.tolist()
    [[True, False, True]]
    """
    masked = _check_round_inputs(log_probs, masked, None)
    if isinstance(rule, EntropyPrefix):
        sel = _entropy_prefix(rule, log_probs, masked)
        weights = torch_token_log_weights(rule.token_transform, log_probs)
        return sel, sample_categorical(weights, generator=generator, dtype=noise_dtype)
    if isinstance(rule, Threshold):
        return _threshold_select(rule, log_probs, masked, generator, noise_dtype)
    if isinstance(rule, Bernoulli):
        u = torch.rand(masked.shape, generator=generator, device=log_probs.device, dtype=noise_dtype)
        weights = torch_token_log_weights(rule.token_transform, log_probs)
        return (u < rule.rate) & masked, sample_categorical(weights, generator=generator, dtype=noise_dtype)
    raise TypeError(f"run_select executes variable-size rules (EntropyPrefix, Threshold, Bernoulli); got "
                    f"{type(rule).__name__} (use run_round)")


# ---------------------------------------------------------------------------------------------
# the named rounds: a rule, run
def maskgit_round(log_probs: torch.Tensor, *, k: int, alpha: float, masked: torch.Tensor | None = None,
                  generator: torch.Generator | None = None, noise_dtype=torch.float64) -> RoundOutput:
    """One MaskGIT round: sample a candidate everywhere, keep the k most confident (sample-then-choose).

    Spec: §2.1 (re-derived form of [H] Algorithm 1). Every masked position i draws x̃_i ~ p_i and gets the
    confidence c_i = log p_i(x̃_i) + α·g_i with Gumbel noise g_i; the top k of c keep their candidates.
    α = ∞ gives uniform positions, α = 0 the top k of p_i(x̃_i) with ties split uniformly (a convention).
    The rule is ``SampleThenChoose(Identity(), "log_p", noise=alpha)``.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (or logits) of the N positions, any device, float32 or float64.
    k : int
        Positions to reveal, 1 ≤ k ≤ the number of masked positions in every row.
    alpha : float
        Gumbel scale α in [0, ∞].
    masked : torch.Tensor, shape (B, N), bool, optional
        Still-masked positions (default: all).
    generator : torch.Generator, optional
        Source of randomness (on the device of ``log_probs``).
    noise_dtype : torch.dtype, optional
        Dtype of the Gumbel noise and categorical uniforms (float64 by default, §9).

    Returns
    -------
    RoundOutput
        Positions and tokens, (B, k) each.

    Raises
    ------
    ValueError
        If ``log_probs`` is not (B, N, V) with V ≥ 2, ``masked`` has another shape, k is out of range or
        ``alpha`` is negative or NaN.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> out = maskgit_round(lp, k=2, alpha=1.0, generator=torch.Generator().manual_seed(0))
    >>> tuple(out.positions.shape), tuple(out.tokens.shape)
    ((1, 2), (1, 2))
    """
    return run_round(SampleThenChoose(Identity(), "log_p", check_alpha(alpha)), log_probs, k=k, masked=masked,
                     generator=generator, noise_dtype=noise_dtype)


def cts_round(log_probs: torch.Tensor, *, k: int, position_rule: PositionRule,
              token_transform: TokenTransform = Identity(), masked: torch.Tensor | None = None,
              generator: torch.Generator | None = None, noise_dtype=torch.float64) -> RoundOutput:
    """One choose-then-sample round: a position rule picks the set, a token transform gives the token law.

    Spec: §2.3 (re-derived form of [H] Algorithm 3). The rule is ``ChooseThenSample(position_rule,
    token_transform)``; only the k chosen rows are transformed and sampled.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (or logits).
    k : int
        Positions to reveal.
    position_rule : PositionRule
        How the set is chosen (``UniformRule``, ``MomentRule``, ``ConfidenceRule``, …).
    token_transform : TokenTransform, optional
        ``Identity()`` (default), ``Temperature(tau)`` or ``Truncated(...)``.
    masked : torch.Tensor, shape (B, N), bool, optional
        Still-masked positions (default: all).
    generator : torch.Generator, optional
        Source of randomness.
    noise_dtype : torch.dtype, optional
        Dtype of the noise (float64 by default).

    Returns
    -------
    RoundOutput
        Positions and tokens, (B, k) each.

    Raises
    ------
    ValueError
        If the shapes or k are invalid.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> out = cts_round(lp, k=1, position_rule=ConfidenceRule(), generator=torch.Generator().manual_seed(0))
    >>> out.positions.tolist()  # the most confident position
    [[1]]
    """
    return run_round(ChooseThenSample(position_rule, token_transform), log_probs, k=k, masked=masked,
                     generator=generator, noise_dtype=noise_dtype)


def moment_round(log_probs: torch.Tensor, *, k: int, alpha: float, masked: torch.Tensor | None = None,
                 generator: torch.Generator | None = None, noise_dtype=torch.float64) -> RoundOutput:
    """One moment-sampler round: choose the set by the moments, then sample tempered tokens (choose-then-sample).

    Spec: §2.2 (re-derived form of [H] Algorithm 2). K is the top k of log m_i + g_i, a Plackett–Luce draw
    with weights m_i = Σ_s p_i(s)^β (β = 1 + 1/α); each chosen position then draws x_i ~ p_i^β/m_i.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (or logits) of the N positions.
    k : int
        Positions to reveal.
    alpha : float
        Gumbel scale α in [0, ∞]; α = 0 ranks by max_s p_i(s) and takes argmax tokens, α = ∞ is uniform
        positions with untempered tokens.
    masked : torch.Tensor, shape (B, N), bool, optional
        Still-masked positions (default: all).
    generator : torch.Generator, optional
        Source of randomness.
    noise_dtype : torch.dtype, optional
        Dtype of the noise (float64 by default).

    Returns
    -------
    RoundOutput
        Positions and tokens, (B, k) each.

    Raises
    ------
    ValueError
        If the shapes, k or alpha are invalid.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> out = moment_round(lp, k=1, alpha=1.0, generator=torch.Generator().manual_seed(0))
    >>> out.positions.shape[1]
    1
    """
    alpha = check_alpha(alpha)
    return cts_round(log_probs, k=k, position_rule=MomentRule(alpha=alpha),
                     token_transform=moment_token_transform(alpha), masked=masked, generator=generator,
                     noise_dtype=noise_dtype)


def eb_selection(log_probs: torch.Tensor, *, gamma: float, masked: torch.Tensor | None = None) -> torch.Tensor:
    """The EB set (§8): masked positions sorted by Shannon entropy (ties by position index), the
    largest prefix with Σ H − max H ≤ γ (at least one). Returns a (B, N) bool mask."""
    return _entropy_prefix(EntropyPrefix(gamma, True), log_probs, _check_round_inputs(log_probs, masked, None))


def entropy_sum_selection(log_probs: torch.Tensor, *, threshold: float,
                          masked: torch.Tensor | None = None) -> torch.Tensor:
    """The entropy-sum set (§10.6): masked positions by increasing Shannon entropy (ties by position index),
    unmasked while the cumulative entropy stays at most the threshold; the position that would cross it is not
    taken, except that every step takes at least one. Returns a (B, N) bool mask."""
    return _entropy_prefix(EntropyPrefix(threshold, False), log_probs, _check_round_inputs(log_probs, masked, None))


def eb_round(log_probs: torch.Tensor, *, gamma: float, masked: torch.Tensor | None = None,
             generator: torch.Generator | None = None, noise_dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """One EB-sampler round (Ben-Hamu et al.; §8): the :func:`eb_selection` set, tokens from p.

    Returns (selected (B, N) bool, tokens (B, N) int64 — meaningful where selected).
    """
    return run_select(EntropyPrefix(gamma, True), log_probs, masked=masked, generator=generator,
                      noise_dtype=noise_dtype)


def entropy_sum_round(log_probs: torch.Tensor, *, threshold: float, masked: torch.Tensor | None = None,
                      generator: torch.Generator | None = None,
                      noise_dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """One entropy-sum round (Cai & Li; §10.6): the :func:`entropy_sum_selection` set, tokens from p.

    Returns (selected (B, N) bool, tokens (B, N) int64 — meaningful where selected).
    """
    return run_select(EntropyPrefix(threshold, False), log_probs, masked=masked, generator=generator,
                      noise_dtype=noise_dtype)
