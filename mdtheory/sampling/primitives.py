"""Torch primitives shared by every round and loop: the output of a round, normalising model outputs, the
checks of a round's inputs, the device and the generator, Gumbel noise, categorical draws in a chosen noise
dtype, and the top k of scores with the tie convention of :mod:`mdtheory.sampling.rounds` (§2, §9).

Every device check of the package is :func:`check_device` (the CLI's ``--device``, the drivers, the loops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from ..rules.positions import (
    tie_keys,
)


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
