"""One-round samplers in torch: the rules of :mod:`mdtheory.rules` executed on a device (§2.1–§2.3, §8).

The mathematics of every round lives in :mod:`mdtheory.rules` (numpy, torch-free). :mod:`mdtheory.sampling.execute`
runs those rule objects on batches: :func:`run_round` for the fixed-size rules (choose-then-sample,
sample-then-choose) and :func:`run_select` for the variable-size ones (entropy prefix, threshold, Bernoulli),
with the rules' position scores and token laws transcribed from their numpy hooks (:func:`torch_scores`,
:func:`torch_token_log_weights`; a test checks them against the hooks on tables where the rules rank positions
differently). :mod:`mdtheory.sampling.primitives` holds what every round shares (devices, generators, noise,
categorical draws, top-k). This module holds the named rounds (:func:`maskgit_round`, :func:`moment_round`,
:func:`cts_round`, :func:`eb_round`, …), each of which builds a rule and runs it, and re-exports the names of
the other two, its earlier contents.

All rounds are pure functions of a batch of log-probabilities ``log_probs`` of shape (B, N, V) (any
device, float32 or float64; rows may be unnormalised logits), a boolean ``masked`` (B, N) marking the
still-masked positions, the number ``k`` to reveal, and an explicit ``torch.Generator``. Noise (Gumbel and the
categorical uniforms) is drawn in ``noise_dtype`` (float64 by default, §9: float32 noise lowers the effective
temperature). Categorical draws use the inverse CDF in ``noise_dtype``; zero-probability tokens are never drawn.

**Tie convention:** deterministic choices break ties (equal on the 2^-36 grid, :func:`tie_keys`) uniformly at
random (the limit of their noisy versions), or by the lower index with ``ties="first"``.
"""

from __future__ import annotations


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
)
from ..rules.rounds import (
    ChooseThenSample,
    EntropyPrefix,
    SampleThenChoose,
)
from ..rules.tokens import Identity, Temperature, TokenTransform, Truncated, moment_token_transform
from .execute import (_entropy_prefix, run_round, run_select,
                      select_positions, torch_scores, torch_token_log_weights)
from .primitives import (RoundOutput, _check_round_inputs, as_generator, check_device, gumbel_noise,
                         sample_categorical, to_log_probs, topk_positions)

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
