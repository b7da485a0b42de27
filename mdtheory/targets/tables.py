"""Joint tables: a target π on X^N held as its explicit table, with exact conditionals π(x_i | x_A) for any
revealed set A, exact joint probabilities and exact sampling (§6); the constructor from any table and the
helpers the families share.

**Convention (zero-probability conditioning):** conditioning on revealed values of probability 0
raises ``ValueError`` (the conditional is undefined; no sampler started from π can reach it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int, renamed_keywords

__all__ = ["JointTable", "batch_conditionals", "joint_table"]

MAX_TABLE_SIZE = 2 ** 22


@dataclass(frozen=True)
class JointTable:
    """An explicit joint law π on X^N, with its exact conditionals, sampling and log-probabilities.

    Spec: §6 (explicit tables: everything by enumeration).

    Parameters
    ----------
    table : numpy.ndarray, shape (q,)*N
        Non-negative, summing to 1, float64. Build it with :func:`joint_table` to have it validated.

    Notes
    -----
    ``conditionals(values, revealed)`` returns π(x_i | x_U) for every position (N, q); conditioning on
    revealed values of probability 0 raises ``ValueError`` (a convention).

    Examples
    --------
    >>> from mdtheory.targets.families import repeated_bit
    >>> t = repeated_bit(3)
    >>> t.n, t.q, t.conditionals([1, 0, 0], [True, False, False])[1].tolist()
    (3, 2, [0.0, 1.0])
    """

    table: np.ndarray

    @property
    def n(self) -> int:
        return self.table.ndim

    @property
    def q(self) -> int:
        return self.table.shape[0]

    def marginal(self, positions) -> np.ndarray:
        """Joint law of x_S for the sorted positions S, shape (q,)*|S|."""
        keep = sorted(int(i) for i in positions)
        drop = tuple(i for i in range(self.n) if i not in keep)
        return self.table.sum(axis=drop) if drop else self.table

    def conditionals(self, values, revealed) -> np.ndarray:
        """π(x_i = s | x_A = values_A) for every position i; shape (N, q).

        ``revealed`` is a boolean mask of A (length N); ``values`` holds the revealed values (ignored
        elsewhere). Revealed rows are one-hot on their value.
        """
        revealed = np.asarray(revealed, dtype=bool)
        values = np.asarray(values, dtype=np.int64)
        if revealed.shape != (self.n,) or values.shape != (self.n,):
            raise ValueError(f"values and revealed must have shape ({self.n},); got {values.shape}, {revealed.shape}")
        index = tuple(int(values[i]) if revealed[i] else slice(None) for i in range(self.n))
        sub = self.table[index]  # axes: the unrevealed positions in order
        mass = sub.sum()
        if mass <= 0:
            raise ValueError("the revealed values have probability 0 under the target; their conditional is "
                             "undefined (zero-probability conditioning sets are rejected)")
        out = np.zeros((self.n, self.q))
        free = [i for i in range(self.n) if not revealed[i]]
        for ax, i in enumerate(free):
            other = tuple(a for a in range(len(free)) if a != ax)
            out[i] = sub.sum(axis=other) / mass if other else sub / mass
        for i in np.nonzero(revealed)[0]:
            out[i, values[i]] = 1.0
        return out

    def free_block_law(self, values, revealed) -> np.ndarray:
        """π(x_F | x_U) for a batch sharing one revealed set U: values (G, N), revealed (N,) bool →
        (G, q^|F|) over the free positions F in increasing order (C order)."""
        revealed = np.asarray(revealed, dtype=bool)
        U, F = np.nonzero(revealed)[0], np.nonzero(~revealed)[0]
        T = np.moveaxis(self.table, U, np.arange(U.size)).reshape(self.q ** U.size, self.q ** F.size)
        xu = (np.asarray(values, dtype=np.int64)[:, U] * (self.q ** np.arange(U.size - 1, -1, -1))).sum(axis=1)
        block = T[xu]
        mass = block.sum(axis=1, keepdims=True)
        if np.any(mass <= 0):
            raise ValueError("the revealed values have probability 0 under the target; their conditional is "
                             "undefined (zero-probability conditioning sets are rejected)")
        return block / mass

    def free_marginals(self, block_law: np.ndarray) -> np.ndarray:
        """Single-site marginals of a batch of free-block laws: (G, q^|F|) → (G, |F|, q)."""
        G = block_law.shape[0]
        f = round(np.log(block_law.shape[1]) / np.log(self.q)) if block_law.shape[1] > 1 else 0
        cube = block_law.reshape((G,) + (self.q,) * f)
        return np.stack([cube.sum(axis=tuple(b + 1 for b in range(f) if b != a)) for a in range(f)], axis=1) \
            if f else np.zeros((G, 0, self.q))

    def conditionals_batch(self, values, revealed) -> np.ndarray:
        """π(x_i | x_A) for a batch, (B, N) → (B, N, q); rows are grouped by revealed set."""
        values = np.asarray(values, dtype=np.int64)
        revealed = np.asarray(revealed, dtype=bool)
        if values.shape != revealed.shape or values.ndim != 2 or values.shape[1] != self.n:
            raise ValueError(f"values and revealed must have shape (batch, {self.n}); got {values.shape}, {revealed.shape}")
        out = np.zeros(values.shape + (self.q,))
        patterns, inverse = np.unique(revealed, axis=0, return_inverse=True)
        for g, pattern in enumerate(patterns):
            rows = np.nonzero(inverse.ravel() == g)[0]
            F = np.nonzero(~pattern)[0]
            out[rows[:, None], F[None, :]] = self.free_marginals(self.free_block_law(values[rows], pattern))
            for i in np.nonzero(pattern)[0]:
                out[rows, i, values[rows, i]] = 1.0
        return out

    def log_prob(self, x) -> np.ndarray:
        """log π(x) for samples x of shape (n_samples, N)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.int64))
        with np.errstate(divide="ignore"):
            return np.log(self.table[tuple(x.T)])

    @renamed_keywords(rng="seed")
    def sample(self, n_samples: int, *, seed) -> np.ndarray:
        """Exact samples, shape (n_samples, N)."""
        seed = np.random.default_rng(seed)
        flat = seed.choice(self.table.size, size=n_samples, p=self.table.ravel())
        return np.array(np.unravel_index(flat, self.table.shape)).T

def batch_conditionals(model, values, revealed) -> np.ndarray:
    """Conditionals of a target or set-keyed model for a batch: (B, N) → (B, N, q).

    Uses ``model.conditionals_batch`` when it exists, else ``model.conditionals`` row by row.
    """
    if hasattr(model, "conditionals_batch"):
        return model.conditionals_batch(values, revealed)
    return np.stack([model.conditionals(v, r) for v, r in zip(np.asarray(values), np.asarray(revealed))])

@renamed_keywords(q="vocab_size")
def joint_table(table, *, vocab_size: int | None = None, name: str = "joint") -> JointTable:
    """Validate a joint law and return it as a :class:`JointTable`.

    Spec: §6. The input must be finite, non-negative and sum to 1 within max(1e-9, 16·eps·√size) for its float
    type (float32 tables are accepted); it is then renormalised exactly in float64.

    Parameters
    ----------
    table : array_like
        Shape (q,)*N, or a flat C-order vector of length q^N.
    vocab_size : int, optional
        The alphabet size; required for a flat vector.
    name : str
        The argument's name in error messages.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If the shape, the values or the normalisation are invalid.

    Examples
    --------
    >>> joint_table([0.25, 0.25, 0.25, 0.25], vocab_size=2).table.shape
    (2, 2)
    """
    src = np.asarray(table)
    arr = np.array(src, dtype=np.float64)
    src_eps = np.finfo(src.dtype).eps if np.issubdtype(src.dtype, np.floating) else np.finfo(np.float64).eps
    if arr.ndim == 1:
        if vocab_size is None:
            raise ValueError(f"a flat {name} needs q (the alphabet size)")
        n = int(round(np.log(arr.size) / np.log(vocab_size))) if arr.size > 1 else 0
        if n < 1 or vocab_size ** n != arr.size:
            raise ValueError(f"a flat {name} must have length vocab_size**N; got length {arr.size} for vocab_size={vocab_size}")
        arr = arr.reshape((vocab_size,) * n)
    if arr.ndim < 1 or len(set(arr.shape)) != 1 or arr.shape[0] < 2:
        raise ValueError(f"{name} must have shape (q,)*N with q >= 2; got shape {arr.shape}")
    if arr.size > MAX_TABLE_SIZE:
        raise ValueError(f"{name} has {arr.size} entries, more than MAX_TABLE_SIZE={MAX_TABLE_SIZE}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    total = arr.sum()
    tol = max(1e-9, 16 * src_eps * np.sqrt(arr.size))  # float32 tables carry float32 rounding
    if abs(total - 1.0) > tol:
        raise ValueError(f"{name} must sum to 1 (atol={tol:.1e}); got {float(total)!r}")
    return JointTable(arr / total)

def _from_log_weights(log_w: np.ndarray) -> JointTable:
    w = np.exp(log_w - log_w.max())
    return JointTable(w / w.sum())

def _finite(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {name}={value!r}")
    return float(value)

def _size(name: str, value, minimum: int = 1) -> int:
    return check_positive_int(value, name=name, minimum=minimum)

def _configurations(n: int, q: int) -> np.ndarray:
    if q ** n > MAX_TABLE_SIZE:
        raise ValueError(f"V**N = {q}**{n} exceeds MAX_TABLE_SIZE={MAX_TABLE_SIZE}; use the closed forms")
    return np.array(list(itertools.product(range(q), repeat=n)), dtype=np.int64)
