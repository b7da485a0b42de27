"""The rules of :mod:`mdtheory.rules` executed in torch (§2.1–§2.3, §8): the rules' position scores and token laws
transcribed from their numpy hooks (:func:`torch_scores`, :func:`torch_token_log_weights`; a test checks them
against the hooks on tables where the rules rank positions differently), the choice of positions, and the two
executors: :func:`run_round` for fixed-size rules and :func:`run_select` for variable-size ones.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from ..rules.positions import (
    ConfidenceRule,
    EntropyRule,
    FixedOrderRule,
    HybridRule,
    MarginRule,
    MomentRule,
    PositionRule,
    UniformRule,
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
from ..rules.tokens import TOP_P_TOLERANCE, Identity, Temperature, TokenTransform, Truncated
from .primitives import (RoundOutput, _check_round_inputs, _sample_categorical_with_norm, gumbel_noise, sample_categorical,
                         topk_positions)


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
            if transform.ties == "first":  # torch.argmax returns the first maximal index
                first = torch.argmax(log_probs, dim=-1, keepdim=True)
                top = torch.zeros_like(log_probs, dtype=torch.bool).scatter(-1, first, True)
                return torch.where(top, 0.0, -math.inf).to(log_probs.dtype)
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
