"""Unmasking schedules: how many tokens each step reveals (§2.4).

A schedule is a composition (k_1, …, k_K) of the sequence length D: positive integers summing to D.
Named schedules give the fraction γ(r) of positions still masked after a fraction r of the steps:

* ``cosine``  γ(r) = cos(π r / 2)           (MaskGIT/MAGE)
* ``arccos``  γ(r) = arccos(r) / (π / 2)     (MaskGIT-pytorch, Halton-MaskGIT)
* ``linear``  γ(r) = 1 − r
* ``constant`` balanced sizes ⌊D/K⌋ or ⌈D/K⌉ (the larger sizes first).

(The Fisher–Rao constant-speed schedule sin²(πt/2) is a different curve; it is not offered under the
name "cosine".)

**Rounding convention:** the number still masked after step t is ⌊D·γ(t/K)⌋ (t = 1..K−1; 0 after the
last step), as in MaskGIT. Steps that would then reveal nothing are raised to 1 and the excess is taken
from the largest steps (latest first), so every step reveals ≥ 1 token and the sizes sum to D.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from .._validation import check_method, check_positive_int, check_schedule

__all__ = ["SCHEDULE_NAMES", "masked_fraction", "schedule_sizes", "as_schedule", "block_starts"]

SCHEDULE_NAMES = ("cosine", "arccos", "linear", "constant")


def masked_fraction(name: str, r: np.ndarray) -> np.ndarray:
    """γ(r): fraction still masked after a fraction r ∈ [0, 1] of the steps."""
    check_method(name, allowed=SCHEDULE_NAMES[:3], name="schedule")
    r = np.asarray(r, dtype=np.float64)
    if name == "cosine":
        return np.cos(0.5 * np.pi * r)
    if name == "arccos":
        return np.arccos(np.clip(r, 0.0, 1.0)) / (0.5 * np.pi)
    return 1.0 - r


def _repair(sizes: np.ndarray, total: int) -> np.ndarray:
    sizes = np.maximum(sizes, 1)
    excess = int(sizes.sum()) - total
    while excess > 0:
        j = len(sizes) - 1 - int(np.argmax(sizes[::-1]))  # largest, latest first
        sizes[j] -= 1
        excess -= 1
    return sizes


def schedule_sizes(name: Literal["cosine", "arccos", "linear", "constant"], *, seq_len: int, n_steps: int) -> np.ndarray:
    """Step sizes (k_1, …, k_K) of a named schedule, summing to ``seq_len``.

    Spec: §2.4. The masked count after step t is ⌊D·γ(t/K)⌋ (MaskGIT's rounding); zero-size steps are raised
    to 1 and the excess is taken from the largest steps (a convention).

    Parameters
    ----------
    name : {"cosine", "arccos", "linear", "constant"}
        The masked-fraction curve.
    seq_len : int
        D, the number of positions to reveal.
    n_steps : int
        K, 1 ≤ K ≤ D.

    Returns
    -------
    numpy.ndarray
        int64 sizes, each ≥ 1.

    Raises
    ------
    ValueError
        If the name is unknown or K is out of range.

    Examples
    --------
    >>> schedule_sizes("constant", seq_len=10, n_steps=3).tolist()
    [4, 3, 3]
    >>> int(schedule_sizes("cosine", seq_len=64, n_steps=8).sum())
    64
    """
    check_method(name, allowed=SCHEDULE_NAMES, name="name")
    D = check_positive_int(seq_len, name="seq_len")
    K = check_positive_int(n_steps, name="n_steps")
    if K > D:
        raise ValueError(f"n_steps must satisfy n_steps <= seq_len={D}; got n_steps={K}")
    if name == "constant":
        sizes = np.full(K, D // K, dtype=np.int64)
        sizes[: D % K] += 1
        return sizes
    t = np.arange(K + 1) / K
    masked = np.floor(D * masked_fraction(name, t) + 1e-9).astype(np.int64)
    masked[0], masked[-1] = D, 0
    return _repair(-np.diff(masked), D)


def as_schedule(schedule: str | Sequence[int] | np.ndarray, *, seq_len: int, n_steps: int | None = None) -> np.ndarray:
    """Normalise a schedule given by name (needs ``n_steps``) or as an explicit list of sizes."""
    if isinstance(schedule, str):
        if n_steps is None:
            raise ValueError(f"n_steps is required with a named schedule ({schedule!r})")
        return schedule_sizes(schedule, seq_len=seq_len, n_steps=n_steps)
    return check_schedule(schedule, total=seq_len)


def block_starts(sizes) -> np.ndarray:
    """The number of tokens revealed before each step: s_{t−1} = k_1 + … + k_{t−1}.

    Spec: §2.4, §5.3 (the left endpoints of a schedule's blocks).

    Parameters
    ----------
    sizes : sequence of int
        A validated schedule.

    Returns
    -------
    numpy.ndarray
        (0, k_1, k_1 + k_2, …), one entry per step.

    Examples
    --------
    >>> block_starts([2, 3, 1]).tolist()
    [0, 2, 5]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
