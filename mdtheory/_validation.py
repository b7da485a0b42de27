"""Shared validation at the public boundary (STYLE.md "Validation and errors").

Every helper returns a canonical value (float64 array or int) or raises ``ValueError``/``TypeError``
whose message names the argument, the rule and the offending value. Private functions trust their
inputs; validate once, here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Tolerance on |sum(row) - 1| for a row to count as a probability vector.
NORMALISATION_ATOL = 1e-9

#: The smallest positive Gumbel scale α (and noise scale) any route accepts. Every route divides log-probabilities
#: by α, and |log p| ≤ 745 for every positive float64 p, so log p/α and 1/α stay finite for α ≥ 1e-305; below
#: it (subnormal α included) they overflow. α = 0 is the greedy limit, exact and implemented everywhere.
ALPHA_MIN = 1e-305


def _real_array(values: Any, *, name: str) -> np.ndarray:
    """A float64 copy of a real numeric array; complex, object and non-numeric inputs are refused (a complex
    value would otherwise lose its imaginary part without a word)."""
    raw = np.asarray(values)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers; got dtype {raw.dtype}")
    return np.array(raw, dtype=np.float64, copy=True)


def check_probs(probs: Any, *, name: str = "probs", min_vocab: int = 2) -> np.ndarray:
    """Validate an (n_masked, vocab_size) table whose rows are probability vectors.

    Returns a C-contiguous float64 copy. Rows must be finite, non-negative and sum to 1 within
    ``NORMALISATION_ATOL``; they are then renormalised exactly (so laws sum to 1 to rounding).
    """
    arr = _real_array(probs, name=name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_masked, vocab_size); got ndim={arr.ndim}, shape={arr.shape}")
    n_masked, vocab_size = arr.shape
    if n_masked < 1:
        raise ValueError(f"{name} must have at least one row (n_masked >= 1); got shape={arr.shape}")
    if vocab_size < min_vocab:
        raise ValueError(f"{name} must have vocab_size >= {min_vocab}; got vocab_size={vocab_size}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} must be finite (no NaN/inf); got {arr[tuple(bad)]} at index {tuple(int(b) for b in bad)}")
    if np.any(arr < 0):
        bad = np.argwhere(arr < 0)[0]
        raise ValueError(f"{name} must be non-negative; got {arr[tuple(bad)]:.6g} at index {tuple(int(b) for b in bad)}")
    sums = arr.sum(axis=1)
    dev = np.abs(sums - 1.0)
    if np.any(dev > NORMALISATION_ATOL):
        row = int(np.argmax(dev))
        raise ValueError(
            f"each row of {name} must sum to 1 (atol={NORMALISATION_ATOL:g}); row {row} sums to {sums[row]!r}"
        )
    arr /= sums[:, None]
    return np.ascontiguousarray(arr)


def check_k(k: Any, *, n_masked: int, name: str = "k") -> int:
    """Validate the number of positions revealed in one round: 1 <= k <= n_masked."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {k!r} of type {type(k).__name__}")
    k = int(k)
    if not 1 <= k <= n_masked:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= n_masked={n_masked}; got {name}={k}")
    return k


def check_alpha(alpha: Any, *, name: str = "alpha") -> float:
    """Validate a Gumbel scale alpha: 0 (the greedy limit), inf (the uniform limit) or in [ALPHA_MIN, inf) (§2.1).

    The one place that decides the α range, for every exact route and every torch sampler: below
    :data:`ALPHA_MIN` the arithmetic of log p/α overflows, and the answer would not be the α → 0 limit
    either (nearly tied rows keep differences of order 1 at any α), so such an α is refused.

    Examples
    --------
    >>> check_alpha(0.0), check_alpha(1e-300), check_alpha(float("inf"))
    (0.0, 1e-300, inf)
    >>> try:
    ...     check_alpha(5e-324)
    ... except ValueError as e:
    ...     print(str(e).split(";")[0])
    alpha must be 0 (the greedy limit) or at least 1e-305, where log p/alpha stays finite for every float64 p
    """
    if isinstance(alpha, bool):
        raise TypeError(f"{name} must be a real number; got {alpha!r}")
    try:
        a = float(alpha)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number; got {alpha!r}") from exc
    if math.isnan(a):
        raise ValueError(f"{name} must not be NaN")
    if a < 0:
        raise ValueError(f"{name} must satisfy {name} >= 0 (0 and inf are the limits); got {name}={a!r}")
    if 0 < a < ALPHA_MIN:
        raise ValueError(f"{name} must be 0 (the greedy limit) or at least {ALPHA_MIN:g}, where log p/{name} stays "
                         f"finite for every float64 p; got {name}={a!r}")
    return a


def check_positive_int(value: Any, *, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {name}={int(value)}")
    return int(value)


def check_unit_interval(value: Any, *, name: str) -> float:
    """Validate a real number in [0, 1] (e.g. the hybrid mixing gamma)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number; got {value!r}") from exc
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must satisfy 0 <= {name} <= 1; got {name}={value!r}")
    return v


def check_schedule(sizes: Sequence[int] | np.ndarray, *, total: int, name: str = "schedule") -> np.ndarray:
    """Validate a composition (k_1, ..., k_K) of ``total``: positive integers summing to ``total``."""
    try:
        arr = np.asarray(sizes)
    except Exception as exc:  # pragma: no cover - numpy rarely fails here
        raise TypeError(f"{name} must be a sequence of integers; got {sizes!r}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of step sizes; got shape={arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must contain integers; got {arr.tolist()!r}")
    arr = arr.astype(np.int64)
    if np.any(arr < 1):
        bad = int(np.argmax(arr < 1))
        raise ValueError(f"every step size in {name} must be >= 1; got {name}[{bad}]={int(arr[bad])}")
    if int(arr.sum()) != total:
        raise ValueError(f"{name} must sum to {total}; got sum={int(arr.sum())} for {arr.tolist()}")
    return arr


class WorkTooLarge(ValueError):
    """Work refused before it starts: the message gives the estimate, the limit and the option that raises it."""


#: The default limit of every time guard (seconds on one core): beyond it work is refused unless raised.
DEFAULT_MAX_SECONDS = 60.0


def check_limit(value: Any, *, name: str) -> float:
    """A work limit: a number > 0 (``math.inf`` turns the guard off)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or math.isnan(value) or value <= 0:
        raise ValueError(f"{name} must be a number > 0 (inf turns the guard off); got {name}={value!r}")
    return float(value)


def check_work(estimate: float, *, limit: float, what: str, option: str, unit: str = "s") -> None:
    """Refuse ``what`` when its ``estimate`` exceeds ``limit`` (both in ``unit``: seconds on one core, or GiB).

    The one work guard of the package: every route that can explode estimates its cost from its inputs before
    any work and calls this, so the message always has the same form.

    Examples
    --------
    >>> try:
    ...     check_work(1e5, limit=60, what="the plain DP at N = 10^6, K = 10 (K·N² = 1e13 cells)",
    ...                option="max_seconds")
    ... except WorkTooLarge as e:
    ...     print(str(e)[:60])
    the plain DP at N = 10^6, K = 10 (K·N² = 1e13 cells) would t
    """
    limit = check_limit(limit, name=option)
    if not estimate <= limit:  # NaN estimates are refused too
        amount = f"{estimate:.3g} s on one core" if unit == "s" else f"{estimate:.3g} {unit}"
        verb = "would take" if unit == "s" else "would need"
        raise WorkTooLarge(f"{what} {verb} about {amount}, more than {option}={limit:.3g}; raise {option} to run "
                           "it anyway")


def check_method(method: str, *, allowed: Sequence[str], name: str = "method") -> str:
    if method not in allowed:
        raise ValueError(f"unknown {name}={method!r}; allowed values are {', '.join(map(repr, allowed))}")
    return method


def renamed_keywords(**old_to_new: str):
    """Accept a keyword's earlier spelling, with a ``DeprecationWarning`` that names the current one.

    Decorates a function (or a class, whose ``__init__`` it wraps): ``old=value`` becomes ``new=value``;
    passing both is a ``TypeError``. The signature shown by ``inspect`` is the current one.

    Examples
    --------
    >>> import warnings
    >>> @renamed_keywords(q="vocab_size")
    ... def f(*, vocab_size):
    ...     return vocab_size
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(q=3), str(w[0].message)
    (3, "f: the keyword 'q' is now 'vocab_size'")
    """
    import functools
    import warnings

    def decorate(obj):
        target = obj.__init__ if isinstance(obj, type) else obj
        label = obj.__name__

        @functools.wraps(target)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{label}: give {new!r} only ({old!r} is its earlier spelling)")
                    warnings.warn(f"{label}: the keyword {old!r} is now {new!r}", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return target(*args, **kwargs)

        # the earlier spellings a callable accepts, stacked decorators included (the glossary's test reads them)
        wrapper.__renamed_keywords__ = {**getattr(target, "__renamed_keywords__", {}), **old_to_new}
        if isinstance(obj, type):
            obj.__init__ = wrapper
            return obj
        return wrapper

    return decorate
