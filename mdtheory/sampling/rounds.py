"""One-round samplers in torch (§2.1–§2.3).

All rounds are pure functions of a batch of log-probabilities ``log_probs`` of shape (B, N, V) (any
device, float32 or float64), a boolean ``masked`` (B, N) marking the still-masked positions, the number
``k`` to reveal, and an explicit ``torch.Generator``. They return a :class:`RoundOutput` with the
revealed positions and tokens, on the input's device.

Noise (Gumbel and the categorical uniforms) is drawn in ``noise_dtype`` (float64 by default, §9: float32 noise lowers the effective temperature). Categorical draws use the inverse CDF in
``noise_dtype``; zero-probability tokens are never drawn.

**Tie convention:** deterministic position rules (α = 0, confidence, margin, entropy without noise)
break ties (equal on the 2^-36 grid, :func:`mdtheory.sampling.orders.tie_keys`) uniformly at random, which is
the limit of their noisy versions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from .._validation import check_alpha, check_unit_interval
from .orders import tie_keys

__all__ = [
    "RoundOutput",
    "to_log_probs",
    "as_generator",
    "check_device",
    "gumbel_noise",
    "gumbel_noise_range",
    "sample_categorical",
    "topk_positions",
    "maskgit_round",
    "moment_round",
    "cts_round",
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
    "moment_token_transform",
    "eb_selection",
    "eb_round",
    "entropy_sum_selection",
    "entropy_sum_round",
    "position_scores",
    "token_log_law",
    "eb_set",
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


def gumbel_noise_range(dtype: str = "float32", *, clamp: float = 1e-20) -> tuple[float, float]:
    """The range of Gumbel noise −log(−log U) as implementations commonly draw it, for U from ``torch.rand``.

    Spec: §9. U's largest draw is 1 − 2^-24 in float32 and 1 − 2^-53 in float64, its smallest 0, and both logs
    are clamped at ``clamp``; float32 noise therefore lives in about [−3.83, 16.64], which lowers the effective
    temperature (:func:`mdtheory.effective_temperature`).

    Parameters
    ----------
    dtype : {"float32", "float64"}
        The dtype of the uniforms.
    clamp : float
        The clamp applied inside both logarithms (1e-20 in most code bases).

    Returns
    -------
    tuple of float
        (g_min, g_max).

    Raises
    ------
    ValueError
        If ``dtype`` is not one of the two.

    Examples
    --------
    >>> lo, hi = gumbel_noise_range("float32")
    >>> round(lo, 2), round(hi, 2)
    (-3.83, 16.64)
    """
    dt = {"float32": torch.float32, "float64": torch.float64}.get(dtype)
    if dt is None:
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    bits = 24 if dtype == "float32" else 53
    u = torch.tensor([0.0, 1.0 - 2.0 ** -bits], dtype=dt)
    g = -torch.log((-torch.log(u.clamp(clamp))).clamp(clamp))
    return float(g[0]), float(g[1])


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
                   random_ties: bool = False) -> torch.Tensor:
    """Indices of the k largest scores per row (−inf = unavailable); with ``random_ties`` the scores are
    compared on the 2^-36 grid (:func:`tie_keys`) and ties are split uniformly at random."""
    if not random_ties:
        return torch.topk(scores, k, dim=-1).indices
    B, N = scores.shape
    perm = torch.argsort(torch.rand(B, N, generator=generator, device=scores.device), dim=-1)
    shuffled = tie_keys(scores).gather(1, perm)
    order = torch.sort(shuffled, dim=-1, descending=True, stable=True).indices[:, :k]
    return perm.gather(1, order)


# ---------------------------------------------------------------------------------------------
# MaskGIT (sample-then-choose)
def maskgit_round(log_probs: torch.Tensor, *, k: int, alpha: float, masked: torch.Tensor | None = None,
                  generator: torch.Generator | None = None, noise_dtype=torch.float64) -> RoundOutput:
    """One MaskGIT round: sample a candidate everywhere, keep the k most confident (sample-then-choose).

    Spec: §2.1 (re-derived form of [H] Algorithm 1). Every masked position i draws x̃_i ~ p_i and gets the
    confidence c_i = log p_i(x̃_i) + α·g_i with Gumbel noise g_i; the top k of c keep their candidates.
    α = ∞ gives uniform positions, α = 0 the top k of p_i(x̃_i) with ties split uniformly (a convention).
    Rows of ``log_probs`` may be unnormalised logits: each row is normalised from the cumulative sum that
    draws its candidate.

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
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> out = maskgit_round(lp, k=2, alpha=1.0, generator=torch.Generator().manual_seed(0))
    >>> tuple(out.positions.shape), tuple(out.tokens.shape)
    ((1, 2), (1, 2))
    """
    masked = _check_round_inputs(log_probs, masked, k)
    alpha = check_alpha(alpha)
    B, N, V = log_probs.shape
    cand, log_norm = _sample_categorical_with_norm(log_probs, generator=generator, dtype=noise_dtype)  # (B, N)
    conf = log_probs.gather(-1, cand.unsqueeze(-1)).squeeze(-1).to(noise_dtype) - log_norm  # log p_i(x̃_i)
    if alpha == math.inf:
        scores = gumbel_noise((B, N), generator=generator, device=log_probs.device, dtype=noise_dtype)
    elif alpha == 0.0:
        scores = conf
    else:
        scores = conf + alpha * gumbel_noise((B, N), generator=generator, device=log_probs.device, dtype=noise_dtype)
    scores = scores.masked_fill(~masked, -math.inf)
    pos = topk_positions(scores, k, generator=generator, random_ties=alpha == 0.0)
    return RoundOutput(positions=pos, tokens=cand.gather(1, pos))


# ---------------------------------------------------------------------------------------------
# position rules and token transforms (choose-then-sample, [H] Algorithm 3)
@dataclass(frozen=True)
class PositionRule:
    """Base class: a rule scores positions from the predictions; ``select`` keeps the top-k masked ones.

    A rule never looks at token draws that are later discarded (§2.3).
    """

    def base_scores(self, log_probs: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """Noise-free scores (B, N); the rule keeps the top-k of base + noise_scale·Gumbel."""
        raise NotImplementedError

    @property
    def noise_scale(self) -> float:
        """Scale of the Gumbel noise added to ``base_scores`` (0: deterministic top-k, ties uniform)."""
        return 0.0

    @property
    def deterministic(self) -> bool:
        return self.noise_scale == 0.0

    def scores(self, log_probs: torch.Tensor, *, generator, noise_dtype) -> torch.Tensor:
        return _noisy(self.base_scores(log_probs), self.noise_scale, generator, noise_dtype)

    def select(self, log_probs: torch.Tensor, *, k: int, masked: torch.Tensor, generator=None,
               noise_dtype=torch.float64) -> torch.Tensor:
        s = self.scores(log_probs, generator=generator, noise_dtype=noise_dtype).masked_fill(~masked, -math.inf)
        return topk_positions(s, k, generator=generator, random_ties=self.deterministic)


def _noisy(score: torch.Tensor, noise: float, generator, noise_dtype) -> torch.Tensor:
    score = score.to(noise_dtype)
    if noise == 0.0:
        return score
    return score + noise * gumbel_noise(score.shape, generator=generator, device=score.device, dtype=noise_dtype)


@dataclass(frozen=True)
class UniformRule(PositionRule):
    """Uniformly random positions: MDLM's ancestral order.

    Spec: §2.3. Every k-subset of the masked positions is equally likely.

    Examples
    --------
    >>> import torch
    >>> lp = torch.zeros(1, 4, 2, dtype=torch.float64)
    >>> UniformRule().select(lp, k=2, masked=torch.ones(1, 4, dtype=torch.bool),
    ...                      generator=torch.Generator().manual_seed(0)).shape
    torch.Size([1, 2])
    """

    def base_scores(self, log_probs):
        return torch.zeros(log_probs.shape[:2], dtype=torch.float64, device=log_probs.device)

    @property
    def noise_scale(self) -> float:
        return 1.0


@dataclass(frozen=True)
class MomentRule(PositionRule):
    """Plackett–Luce on the moments m_i = Σ_s p_i(s)^β, β = 1 + 1/α: the moment sampler's positions.

    Spec: §2.2, §2.3 (re-derived form of [H] Algorithm 2).

    Parameters
    ----------
    alpha : float
        α in [0, ∞]; α = 0 ranks by max_s p_i(s) (deterministic, ties uniform), α = ∞ is uniform.
    deterministic_order : bool
        Take the top k of m without noise (the noiseless limit).

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.99, 0.01]]], dtype=torch.float64))
    >>> MomentRule(alpha=1.0, deterministic_order=True).select(lp, k=1, masked=torch.ones(1, 2, dtype=torch.bool)).tolist()
    [[1]]
    """

    alpha: float = 1.0
    deterministic_order: bool = False

    def __post_init__(self):
        check_alpha(self.alpha, name="alpha")

    @property
    def noise_scale(self) -> float:
        return 0.0 if (self.deterministic_order or self.alpha == 0.0) and self.alpha != math.inf else 1.0

    def base_scores(self, log_probs):
        if self.alpha == math.inf:
            return torch.zeros(log_probs.shape[:2], dtype=torch.float64, device=log_probs.device)
        log_z = torch.logsumexp(log_probs, dim=-1)  # 0 for normalised rows; lets logits in directly
        if self.alpha == 0.0:
            return log_probs.amax(dim=-1) - log_z
        beta = 1.0 + 1.0 / self.alpha
        return torch.logsumexp(beta * log_probs, dim=-1) - beta * log_z  # log m_i


@dataclass(frozen=True)
class _NoisyRule(PositionRule):
    """A score-based rule with optional Gumbel noise of scale ``noise``; deterministic when noise = 0."""

    noise: float = 0.0

    @property
    def noise_scale(self) -> float:
        return float(self.noise)


@dataclass(frozen=True)
class ConfidenceRule(_NoisyRule):
    """Most confident first: the score is max_s p_i(s), optionally with Gumbel noise on its log.

    Spec: §2.3. Without noise the rule is deterministic and ties are split uniformly (a convention).

    Parameters
    ----------
    noise : float
        Scale of the Gumbel noise added to log max_s p_i(s) (0: deterministic).

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1]]], dtype=torch.float64))
    >>> ConfidenceRule().select(lp, k=1, masked=torch.ones(1, 2, dtype=torch.bool)).tolist()
    [[1]]
    """

    def base_scores(self, log_probs):
        return log_probs.amax(dim=-1)


@dataclass(frozen=True)
class MarginRule(_NoisyRule):
    """Largest margin first: the top-1 minus the top-2 probability, optionally with Gumbel noise.

    Spec: §2.3.

    Parameters
    ----------
    noise : float
        Scale of the Gumbel noise added to the margin (0: deterministic, ties uniform).

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.7, 0.3]]], dtype=torch.float64))
    >>> MarginRule().select(lp, k=1, masked=torch.ones(1, 2, dtype=torch.bool)).tolist()
    [[1]]
    """

    def base_scores(self, log_probs):
        top2 = torch.topk(log_probs, 2, dim=-1).values.exp()
        return top2[..., 0] - top2[..., 1]


@dataclass(frozen=True)
class EntropyRule(_NoisyRule):
    """Lowest entropy first: Shannon (order 1) or Rényi of another order, optionally with Gumbel noise.

    Spec: §2.3.

    Parameters
    ----------
    noise : float
        Scale of the Gumbel noise added to −H (0: deterministic, ties uniform).
    order : float
        Rényi order > 0; 1 is Shannon's entropy.

    Raises
    ------
    ValueError
        If ``order`` is not > 0.

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1]]], dtype=torch.float64))
    >>> EntropyRule().select(lp, k=1, masked=torch.ones(1, 2, dtype=torch.bool)).tolist()
    [[1]]
    """

    order: float = 1.0

    def __post_init__(self):
        if not self.order > 0:
            raise ValueError(f"order must be > 0 (Rényi order); got order={self.order!r}")

    def base_scores(self, log_probs):
        lp = log_probs.to(torch.float64)
        if self.order == 1.0:
            p = lp.exp()
            h = -(p * lp.masked_fill(p == 0, 0.0)).sum(dim=-1)
        else:
            h = torch.logsumexp(self.order * lp, dim=-1) / (1.0 - self.order)
        return -h


@dataclass(frozen=True)
class FixedOrderRule(PositionRule):
    """A fixed reveal order (raster, Halton, van der Corput, …): the earliest still-masked positions first.

    Spec: §2.3. Use :func:`mdtheory.sampling.orders.halton_order` and its siblings to build ``order``.

    Parameters
    ----------
    order : tuple of int
        A permutation of range(N).

    Raises
    ------
    ValueError
        If ``order`` is not a permutation, or its length differs from N when used.

    Examples
    --------
    >>> import torch
    >>> rule = FixedOrderRule((2, 0, 1))
    >>> rule.select(torch.zeros(1, 3, 2), k=2, masked=torch.ones(1, 3, dtype=torch.bool)).tolist()
    [[2, 0]]
    """

    order: tuple[int, ...] = field(default=())

    def __post_init__(self):
        arr = np.asarray(self.order, dtype=np.int64)
        if arr.ndim != 1 or not np.array_equal(np.sort(arr), np.arange(arr.size)):
            raise ValueError("order must be a permutation of range(n_positions)")
        object.__setattr__(self, "order", tuple(int(x) for x in arr))

    def base_scores(self, log_probs):
        N = log_probs.shape[1]
        if len(self.order) != N:
            raise ValueError(f"order has length {len(self.order)} but log_probs has n_positions={N}")
        rank = torch.empty(N, dtype=torch.float64, device=log_probs.device)
        rank[torch.tensor(self.order, device=log_probs.device)] = torch.arange(N, dtype=torch.float64,
                                                                              device=log_probs.device)
        return (-rank).expand(log_probs.shape[0], N)


@dataclass(frozen=True)
class HybridRule(PositionRule):
    """Exploration/exploitation merge: ⌈γk⌉ positions from one rule, the rest from another.

    Spec: §2.3, §4.5 ([H] §4.2). Take the first ⌈γk⌉ positions of ``exploit``, then fill up to k from
    ``explore`` among the positions left. **Convention:** the merge is asymmetric, as in [H].

    Parameters
    ----------
    exploit : PositionRule
        The exploitation rule (confidence by default).
    explore : PositionRule
        The exploration rule (uniform by default; a Halton ``FixedOrderRule`` in [H]).
    gamma : float
        γ in [0, 1]; 1 is pure exploitation, 0 pure exploration.

    Raises
    ------
    ValueError
        If ``gamma`` is outside [0, 1].

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]]], dtype=torch.float64))
    >>> rule = HybridRule(ConfidenceRule(), FixedOrderRule((0, 1, 2)), gamma=0.5)
    >>> sorted(rule.select(lp, k=2, masked=torch.ones(1, 3, dtype=torch.bool))[0].tolist())
    [0, 1]
    """

    exploit: PositionRule = field(default_factory=ConfidenceRule)
    explore: PositionRule = field(default_factory=UniformRule)
    gamma: float = 0.5

    def __post_init__(self):
        check_unit_interval(self.gamma, name="gamma")

    def select(self, log_probs, *, k, masked, generator=None, noise_dtype=torch.float64):
        m = int(math.ceil(self.gamma * k - 1e-12))
        chosen = []
        avail = masked
        if m > 0:
            first = self.exploit.select(log_probs, k=m, masked=masked, generator=generator, noise_dtype=noise_dtype)
            chosen.append(first)
            avail = masked.clone()
            avail.scatter_(1, first, False)
        if k - m > 0:
            chosen.append(self.explore.select(log_probs, k=k - m, masked=avail, generator=generator,
                                              noise_dtype=noise_dtype))
        return torch.cat(chosen, dim=1)


@dataclass(frozen=True)
class TokenTransform:
    """Map the predictions at chosen positions to the log-weights tokens are drawn from."""

    def __call__(self, log_probs: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Identity(TokenTransform):
    """Tokens from p itself: temperature 1.

    Spec: §2.3 (the untempered token transform).

    Examples
    --------
    >>> import torch
    >>> Identity()(torch.tensor([0.0, -1.0])).tolist()
    [0.0, -1.0]
    """

    def __call__(self, log_probs):
        return log_probs


@dataclass(frozen=True)
class Temperature(TokenTransform):
    """Tokens from p^{1/τ}/Σ; τ = 0 gives the argmax with ties split uniformly.

    Spec: §2.3 (tempered tokens; the moment sampler uses τ = α/(1 + α)).

    Parameters
    ----------
    tau : float
        Temperature τ ≥ 0, finite.

    Raises
    ------
    ValueError
        If ``tau`` is negative, infinite or NaN.

    Examples
    --------
    >>> import torch
    >>> Temperature(0.5)(torch.tensor([0.0, -1.0])).tolist()
    [0.0, -2.0]
    """

    tau: float = 1.0

    def __post_init__(self):
        if not (self.tau >= 0 and math.isfinite(self.tau)):
            raise ValueError(f"tau must be finite and >= 0; got tau={self.tau!r}")

    def __call__(self, log_probs):
        if self.tau == 0.0:
            top = log_probs == log_probs.amax(dim=-1, keepdim=True)
            return torch.where(top, 0.0, -math.inf).to(log_probs.dtype)
        return log_probs / self.tau


def cts_round(log_probs: torch.Tensor, *, k: int, position_rule: PositionRule,
              token_transform: TokenTransform = Identity(), masked: torch.Tensor | None = None,
              generator: torch.Generator | None = None, noise_dtype=torch.float64) -> RoundOutput:
    """One choose-then-sample round: a position rule picks the set, a token transform gives the token law.

    Spec: §2.3 (re-derived form of [H] Algorithm 3). The rule never sees token draws, so the round's law is
    the rule's set law times the transformed token laws. Only the k chosen rows are transformed and sampled.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (or logits).
    k : int
        Positions to reveal.
    position_rule : PositionRule
        How the set is chosen (``UniformRule``, ``MomentRule``, ``ConfidenceRule``, …).
    token_transform : TokenTransform, optional
        ``Identity()`` (default) or ``Temperature(tau)``.
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
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> out = cts_round(lp, k=1, position_rule=ConfidenceRule(), generator=torch.Generator().manual_seed(0))
    >>> out.positions.tolist()  # the most confident position
    [[1]]
    """
    masked = _check_round_inputs(log_probs, masked, k)
    pos = position_rule.select(log_probs, k=k, masked=masked, generator=generator, noise_dtype=noise_dtype)
    rows = log_probs.gather(1, pos.unsqueeze(-1).expand(-1, -1, log_probs.shape[-1]))  # (B, k, V)
    tokens = sample_categorical(token_transform(rows), generator=generator, dtype=noise_dtype)
    return RoundOutput(positions=pos, tokens=tokens)


def moment_token_transform(alpha: float) -> TokenTransform:
    """Tokens p^β/m with β = 1 + 1/α, i.e. temperature τ = α/(1+α) (α = 0: argmax; α = ∞: identity)."""
    alpha = check_alpha(alpha)
    if alpha == math.inf:
        return Identity()
    return Temperature(tau=alpha / (1.0 + alpha))


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
    >>> import torch
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    >>> out = moment_round(lp, k=1, alpha=1.0, generator=torch.Generator().manual_seed(0))
    >>> out.positions.shape[1]
    1
    """
    alpha = check_alpha(alpha)
    return cts_round(log_probs, k=k, position_rule=MomentRule(alpha=alpha),
                     token_transform=moment_token_transform(alpha), masked=masked, generator=generator,
                     noise_dtype=noise_dtype)


def _entropy_prefix(log_probs: torch.Tensor, masked, budget: float, *, minus_max: bool) -> torch.Tensor:
    """Masked positions sorted by Shannon entropy (ties by position index); the largest prefix whose entropy
    sum (less its largest term when ``minus_max``) is at most ``budget``, and at least one position."""
    masked = _check_round_inputs(log_probs, masked, None)
    B, N, V = log_probs.shape
    lp = log_probs.to(torch.float64) - torch.logsumexp(log_probs.to(torch.float64), dim=-1, keepdim=True)
    p = lp.exp()
    h = (-(p * lp.masked_fill(p == 0, 0.0)).sum(dim=-1)).masked_fill(~masked, math.inf)
    hs, order = torch.sort(h, dim=1, stable=True)
    spent = torch.cumsum(hs.masked_fill(~torch.isfinite(hs), 0.0), dim=1) - (hs if minus_max else 0.0)
    ok = (spent <= budget + 1e-12) & torch.isfinite(hs)
    count = ok.sum(dim=1).clamp_min(1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(N, device=order.device).expand(B, N))
    return (rank < count[:, None]) & masked


def eb_selection(log_probs: torch.Tensor, *, gamma: float, masked: torch.Tensor | None = None) -> torch.Tensor:
    """The EB set (§8): masked positions sorted by Shannon entropy (ties by position index), the
    largest prefix with Σ H − max H ≤ γ (at least one). Returns a (B, N) bool mask."""
    return _entropy_prefix(log_probs, masked, gamma, minus_max=True)


def entropy_sum_selection(log_probs: torch.Tensor, *, threshold: float,
                          masked: torch.Tensor | None = None) -> torch.Tensor:
    """The entropy-sum set (§10.6): masked positions by increasing Shannon entropy (ties by position index),
    unmasked while the cumulative entropy stays at most the threshold; the position that would cross it is not
    taken, except that every step takes at least one. Returns a (B, N) bool mask."""
    return _entropy_prefix(log_probs, masked, threshold, minus_max=False)


def eb_round(log_probs: torch.Tensor, *, gamma: float, masked: torch.Tensor | None = None,
             generator: torch.Generator | None = None, noise_dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """One EB-sampler round (Ben-Hamu et al.; §8): the :func:`eb_selection` set, tokens from p.

    Returns (selected (B, N) bool, tokens (B, N) int64 — meaningful where selected).
    """
    return _prefix_round(eb_selection(log_probs, gamma=gamma, masked=masked), log_probs, generator, noise_dtype)


def entropy_sum_round(log_probs: torch.Tensor, *, threshold: float, masked: torch.Tensor | None = None,
                      generator: torch.Generator | None = None,
                      noise_dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """One entropy-sum round (Cai & Li; §10.6): the :func:`entropy_sum_selection` set, tokens from p.

    Returns (selected (B, N) bool, tokens (B, N) int64 — meaningful where selected).
    """
    sel = entropy_sum_selection(log_probs, threshold=threshold, masked=masked)
    return _prefix_round(sel, log_probs, generator, noise_dtype)


def _prefix_round(selected, log_probs, generator, noise_dtype):
    lp = log_probs.to(torch.float64) - torch.logsumexp(log_probs.to(torch.float64), dim=-1, keepdim=True)
    return selected, sample_categorical(lp, generator=generator, dtype=noise_dtype)


# ---------------------------------------------------------------------------------------------
# the rules on one state's predictions as numpy arrays (for the exact laws, which never import torch)
def _state_log_probs(probs: np.ndarray) -> torch.Tensor:
    with np.errstate(divide="ignore"):
        return torch.as_tensor(np.log(np.asarray(probs, dtype=np.float64)), dtype=torch.float64)[None]


def position_scores(rule: PositionRule, probs: np.ndarray) -> np.ndarray:
    """A position rule's noise-free scores (N,) on one state's predictions ``probs`` (N, V), in float64."""
    return rule.base_scores(_state_log_probs(probs))[0].detach().cpu().numpy().astype(np.float64)


def token_log_law(transform: TokenTransform, probs: np.ndarray) -> np.ndarray:
    """The log token law (N, V) that ``transform`` makes of the rows ``probs`` (N, V), normalised in log-space
    (no underflow however cold the temperature; −inf where a token is impossible)."""
    rows = transform(_state_log_probs(probs)[0]).detach().cpu().numpy().astype(np.float64)
    top = rows.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return rows - (top + np.log(np.exp(rows - top).sum(axis=1, keepdims=True)))


def entropy_prefix_set(probs: np.ndarray, masked: np.ndarray, budget: float, *, minus_max: bool) -> tuple[int, ...]:
    """The entropy-sorted prefix of one state (sorted positions): :func:`eb_selection` with ``minus_max`` (γ =
    ``budget``), :func:`entropy_sum_selection` without it (τ = ``budget``)."""
    mask = torch.as_tensor(np.asarray(masked, dtype=bool))[None]
    sel = _entropy_prefix(_state_log_probs(probs), mask, budget, minus_max=minus_max)[0]
    return tuple(int(i) for i in torch.nonzero(sel)[:, 0])


def eb_set(probs: np.ndarray, masked: np.ndarray, gamma: float) -> tuple[int, ...]:
    """The EB set of one state (sorted positions), by :func:`eb_selection`."""
    return entropy_prefix_set(probs, masked, gamma, minus_max=True)
