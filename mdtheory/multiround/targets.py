"""Target distributions π on X^N with exact conditionals (§6).

Every target here is an explicit joint table (enumeration), which gives exact single-site
conditionals π(x_i | x_A) for any revealed set A, exact joint probabilities and exact sampling.
Constructors cover the §6 families at enumerable sizes: random Dirichlet joints, product laws, the
repeated bit, global and hidden-subset parity, stationary Markov chains (binary and q-ary), Ising/Potts
chains and grids, Beta–Bernoulli and the noisy repeated bit. Closed forms at large N live in
:mod:`mdtheory.profiles.enumeration`.

**Convention (zero-probability conditioning):** conditioning on revealed values of probability 0
raises ``ValueError`` (the conditional is undefined; no sampler started from π can reach it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int

__all__ = [
    "JointTable", "MarkovChain", "batch_conditionals", "joint_table", "dirichlet_joint", "product_target", "repeated_bit", "global_parity",
    "hidden_subset_parity", "markov_chain", "binary_markov_chain", "potts_chain", "ising_grid", "potts_grid",
    "beta_bernoulli", "noisy_repeated_bit", "stationary_law", "forbidden_bigram_transition", "bigram_chain",
]

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

    def sample(self, n_samples: int, *, rng) -> np.ndarray:
        """Exact samples, shape (n_samples, N)."""
        rng = np.random.default_rng(rng)
        flat = rng.choice(self.table.size, size=n_samples, p=self.table.ravel())
        return np.array(np.unravel_index(flat, self.table.shape)).T


def stationary_law(transition) -> np.ndarray:
    """The unique stationary law μ of a row-stochastic matrix (raises if it is not unique)."""
    P = np.asarray(transition, dtype=np.float64)
    q = P.shape[0] if P.ndim == 2 else 0
    if P.shape != (q, q) or q < 2 or not np.all(np.isfinite(P)) or np.any(P < 0) \
            or np.any(np.abs(P.sum(axis=1) - 1) > 1e-12):
        raise ValueError("transition must be a (q, q) row-stochastic matrix with q >= 2 (rows sum to 1, atol 1e-12)")
    A = np.vstack([P.T - np.eye(q), np.ones(q)])
    mu, *_ = np.linalg.lstsq(A, np.concatenate([np.zeros(q), [1.0]]), rcond=None)
    if np.linalg.matrix_rank(P.T - np.eye(q)) != q - 1 or np.any(mu < -1e-12):
        raise ValueError("transition must have a unique stationary law")
    mu = np.maximum(mu, 0.0)
    return mu / mu.sum()


@dataclass(frozen=True)
class MarkovChain:
    """A stationary Markov chain on X^N with closed-form conditionals at any N (no table).

    Spec: §6, §7. π(x_i = s | x_A) ∝ P^{d_l}(x_l, s)·P^{d_r}(s, x_r), with x_l and x_r the nearest revealed
    neighbours at distances d_l and d_r (the stationary μ_s replaces the left factor when there is none).
    :func:`mdtheory.markov_transition_profile` gives its exact profile.

    Parameters
    ----------
    transition : array_like, shape (q, q)
        A row-stochastic matrix with a unique stationary law.
    n : int
        N.
    on_impossible : {"raise", "nearest"}
        What a conditional given revealed values of probability 0 is (a sampler that leaves the support, §10.4).
        ``"raise"`` (default): refused. ``"nearest"`` (a **convention**): every position still uses the formula
        above with its nearest revealed neighbours, and where these two cannot be joined through it, the left
        neighbour alone (P^{d_l}(x_l, ·)).

    Raises
    ------
    ValueError
        If ``transition`` is not row-stochastic with a unique stationary law, N < 1, or ``on_impossible`` is
        unknown.

    Examples
    --------
    >>> import numpy as np
    >>> c = MarkovChain(np.array([[0.9, 0.1], [0.1, 0.9]]), 1000)
    >>> c.conditionals(np.zeros(1000, int), np.arange(1000) != 5)[5].round(4).tolist()
    [0.9878, 0.0122]
    """

    transition: np.ndarray
    n: int
    on_impossible: str = "raise"

    def __post_init__(self):
        if self.on_impossible not in ("raise", "nearest"):
            raise ValueError(f"on_impossible must be 'raise' or 'nearest'; got {self.on_impossible!r}")

        P = np.asarray(self.transition, dtype=np.float64)
        object.__setattr__(self, "transition", P)
        object.__setattr__(self, "mu", stationary_law(P))
        check_positive_int(self.n, name="n")
        powers = [np.eye(P.shape[0])]
        for _ in range(self.n):
            powers.append(powers[-1] @ P)
        object.__setattr__(self, "powers", np.array(powers))

    @property
    def q(self) -> int:
        return self.transition.shape[0]

    def conditionals_batch(self, values, revealed) -> np.ndarray:
        """π(x_i | x_A) for every row and position: values/revealed (B, N) → (B, N, q)."""
        values = np.asarray(values, dtype=np.int64)
        revealed = np.asarray(revealed, dtype=bool)
        B, n = revealed.shape
        if n != self.n or values.shape != revealed.shape:
            raise ValueError(f"values and revealed must have shape (batch, {self.n}); got {values.shape}, {revealed.shape}")
        idx = np.broadcast_to(np.arange(n), (B, n))
        left = np.maximum.accumulate(np.where(revealed, idx, -1), axis=1)  # nearest revealed at or before i
        right = np.minimum.accumulate(np.where(revealed, idx, n)[:, ::-1], axis=1)[:, ::-1]
        rows = np.arange(B)[:, None]
        has_l, has_r = left >= 0, right < n
        dl = np.where(has_l, idx - left, 0)
        dr = np.where(has_r, right - idx, 0)
        xl = values[rows, np.clip(left, 0, n - 1)]
        xr = values[rows, np.clip(right, 0, n - 1)]
        # the revealed values must have positive probability: μ(first)·Π P^{gap}(previous, next) > 0
        prev = np.concatenate([np.full((B, 1), -1), left[:, :-1]], axis=1)
        xp = values[rows, np.clip(prev, 0, n - 1)]
        factor = np.where(prev >= 0, self.powers[np.where(prev >= 0, idx - prev, 0), xp, values], self.mu[values])
        if self.on_impossible == "raise" and np.any(revealed & (factor <= 0)):
            raise ValueError("the revealed values have probability 0 under the target; their conditional is "
                             "undefined (zero-probability conditioning sets are rejected)")
        lf = np.where(has_l[..., None], self.powers[dl, xl, :], self.mu)
        rf = np.where(has_r[..., None], self.powers[dr, :, xr], 1.0)
        w = lf * rf
        mass = w.sum(axis=-1, keepdims=True)
        if self.on_impossible == "nearest":
            w = np.where(mass > 0, w, lf)
            mass = w.sum(axis=-1, keepdims=True)
        if np.any(mass <= 0):
            raise ValueError("the revealed values have probability 0 under the target; their conditional is "
                             "undefined (zero-probability conditioning sets are rejected)")
        return w / mass

    def conditionals(self, values, revealed) -> np.ndarray:
        """π(x_i = s | x_A) for every position i, shape (N, q) (revealed rows are one-hot)."""
        return self.conditionals_batch(np.asarray(values)[None], np.asarray(revealed)[None])[0]

    def log_prob(self, x) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.int64))
        with np.errstate(divide="ignore"):
            return np.log(self.mu[x[:, 0]]) + np.log(self.transition[x[:, :-1], x[:, 1:]]).sum(axis=1)

    def sample(self, n_samples: int, *, rng) -> np.ndarray:
        rng = np.random.default_rng(rng)
        cdf = np.cumsum(self.transition, axis=1)
        x = np.empty((n_samples, self.n), dtype=np.int64)
        x[:, 0] = np.minimum(np.searchsorted(np.cumsum(self.mu), rng.random(n_samples), side="right"), self.q - 1)
        for t in range(1, self.n):
            u = rng.random(n_samples)
            x[:, t] = np.minimum((u[:, None] >= cdf[x[:, t - 1]]).sum(axis=1), self.q - 1)
        return x


def batch_conditionals(model, values, revealed) -> np.ndarray:
    """Conditionals of a target or set-keyed model for a batch: (B, N) → (B, N, q).

    Uses ``model.conditionals_batch`` when it exists, else ``model.conditionals`` row by row.
    """
    if hasattr(model, "conditionals_batch"):
        return model.conditionals_batch(values, revealed)
    return np.stack([model.conditionals(v, r) for v, r in zip(np.asarray(values), np.asarray(revealed))])


def joint_table(table, *, q: int | None = None, name: str = "joint") -> JointTable:
    """Validate a joint law and return it as a :class:`JointTable`.

    Spec: §6. The input must be finite, non-negative and sum to 1 within max(1e-9, 16·eps·√size) for its float
    type (float32 tables are accepted); it is then renormalised exactly in float64.

    Parameters
    ----------
    table : array_like
        Shape (q,)*N, or a flat C-order vector of length q^N.
    q : int, optional
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
    >>> joint_table([0.25, 0.25, 0.25, 0.25], q=2).table.shape
    (2, 2)
    """
    src = np.asarray(table)
    arr = np.array(src, dtype=np.float64)
    src_eps = np.finfo(src.dtype).eps if np.issubdtype(src.dtype, np.floating) else np.finfo(np.float64).eps
    if arr.ndim == 1:
        if q is None:
            raise ValueError(f"a flat {name} needs q (the alphabet size)")
        n = int(round(np.log(arr.size) / np.log(q))) if arr.size > 1 else 0
        if n < 1 or q ** n != arr.size:
            raise ValueError(f"a flat {name} must have length q**N; got length {arr.size} for q={q}")
        arr = arr.reshape((q,) * n)
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
        raise ValueError(f"q**N = {q}**{n} exceeds MAX_TABLE_SIZE={MAX_TABLE_SIZE}; use the closed forms")
    return np.array(list(itertools.product(range(q), repeat=n)), dtype=np.int64)


def dirichlet_joint(n: int, q: int, *, concentration: float = 1.0, rng=0) -> JointTable:
    """A random joint law over the q^N configurations, drawn from Dirichlet(concentration).

    Spec: §6.

    Parameters
    ----------
    n : int
        N.
    q : int
        Alphabet size.
    concentration : float
        Dirichlet parameter (> 0); small values give peaked, dependent laws.
    rng : int or numpy.random.Generator
        Seed.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If a size is invalid, the concentration is not positive and finite, or q^N is too large.

    Examples
    --------
    >>> dirichlet_joint(3, 2, rng=0).table.shape
    (2, 2, 2)
    """
    n, q = _size("n", n), _size("q", q, 2)
    if not _finite("concentration", concentration) > 0:
        raise ValueError(f"concentration must be > 0; got concentration={concentration!r}")
    if q ** n > MAX_TABLE_SIZE:
        raise ValueError(f"q**N = {q}**{n} exceeds MAX_TABLE_SIZE={MAX_TABLE_SIZE}")
    w = np.random.default_rng(rng).dirichlet(np.full(q ** n, concentration))
    return JointTable(w.reshape((q,) * n))


def product_target(marginals) -> JointTable:
    """Independent coordinates with the given marginals: TC = DTC = 0, so every sampler is exact.

    Spec: §6.

    Parameters
    ----------
    marginals : array_like, shape (N, q)
        One distribution per coordinate.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If ``marginals`` is not (N, q) with distributions as rows.

    Examples
    --------
    >>> product_target([[0.5, 0.5], [0.9, 0.1]]).table.round(2).tolist()
    [[0.45, 0.05], [0.45, 0.05]]
    """
    from ..exact.round_laws import _token_product

    m = np.asarray(marginals, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 2:
        raise ValueError(f"marginals must have shape (N, q) with N >= 1, q >= 2; got shape {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m < 0) or np.any(np.abs(m.sum(axis=1) - 1) > 1e-9):
        raise ValueError("marginals must be finite, non-negative rows summing to 1 (within 1e-9)")
    return joint_table(_token_product(m[None])[0].reshape((m.shape[1],) * m.shape[0]))


def repeated_bit(n: int) -> JointTable:
    """All N coordinates equal to one fair bit: f(1) = log 2, TC = (N − 1) log 2, DTC = log 2.

    Spec: §5.4 (the tight case of the dimension-free bound), §6.

    Parameters
    ----------
    n : int
        N ≥ 1.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If N is not a positive integer.

    Examples
    --------
    >>> repeated_bit(2).table.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    n = _size("n", n)
    t = np.zeros((2,) * n)
    t[(0,) * n] = t[(1,) * n] = 0.5
    return JointTable(t)


def hidden_subset_parity(n: int, subset) -> JointTable:
    """Uniform over the binary strings whose bits in ``subset`` have even parity; the others are free fair bits.

    Spec: §6. Z_j = (m/N)·C(N − m, j − m)/C(N − 1, j − 1)·log 2 for j ≥ m, with m = |subset|.

    Parameters
    ----------
    n : int
        N.
    subset : iterable of int
        The constrained positions.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If N is invalid or ``subset`` is empty or leaves range(N).

    Examples
    --------
    >>> float(hidden_subset_parity(3, [0, 2]).table[1, 0, 1])
    0.25
    """
    n = _size("n", n)
    subset = sorted({int(i) for i in subset})
    if not subset or subset[0] < 0 or subset[-1] >= n:
        raise ValueError(f"subset must be a non-empty set of positions in range({n}); got {subset}")
    x = _configurations(n, 2)
    ok = (x[:, list(subset)].sum(axis=1) % 2) == 0
    return JointTable((ok / ok.sum()).reshape((2,) * n))


def global_parity(n: int) -> JointTable:
    """Uniform over the binary strings of even parity: f(N − 1) = log 2, TC = log 2, DTC = (N − 1) log 2.

    Spec: §5.4 (the uneven-schedule counterexample), §6.

    Parameters
    ----------
    n : int
        N ≥ 2.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If N is not an integer ≥ 2.

    Examples
    --------
    >>> global_parity(2).table.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    n = _size("n", n, 2)
    return hidden_subset_parity(n, range(n))


def markov_chain(n: int, transition, *, initial=None) -> JointTable:
    """A Markov chain table: x_1 ~ ``initial`` (the stationary law by default), x_{t+1} | x_t ~ ``transition``.

    Spec: §6.

    Parameters
    ----------
    n : int
        N.
    transition : array_like, shape (q, q)
        A row-stochastic matrix.
    initial : array_like, shape (q,), optional
        The law of x_1.

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If ``transition`` or ``initial`` is invalid.

    Examples
    --------
    >>> markov_chain(2, [[0.9, 0.1], [0.1, 0.9]]).table.round(2).tolist()
    [[0.45, 0.05], [0.05, 0.45]]
    """
    n = _size("n", n)
    P = np.asarray(transition, dtype=np.float64)
    q = P.shape[0]
    if P.ndim != 2 or P.shape != (q, q) or q < 2 or not np.all(np.isfinite(P)) or np.any(P < 0) \
            or np.any(np.abs(P.sum(axis=1) - 1) > 1e-12):
        raise ValueError("transition must be a (q, q) row-stochastic matrix with q >= 2 (finite, rows sum to 1)")
    if initial is None:
        vals, vecs = np.linalg.eig(P.T)
        pi0 = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
        initial = pi0 / pi0.sum()
    t = np.asarray(initial, dtype=np.float64)
    for _ in range(n - 1):
        t = t[..., :, None] * P.reshape((1,) * (t.ndim - 1) + P.shape)
    return joint_table(t, q=q)


def forbidden_bigram_transition(q: int = 3, *, allowed: int = 2, rng=0) -> np.ndarray:
    """A sparse bigram transition matrix: each token has ``allowed`` successors, the others are forbidden.

    Spec: §10.3. **Convention:** the successors of a are a itself and a + 1 (mod q), so the chain is
    irreducible and aperiodic, plus ``allowed`` − 2 others drawn at random; the weights on the allowed successors
    are Dirichlet(1), seeded by ``rng``. With q = 3 and 2 allowed successors, a third of all transitions are
    forbidden.

    Parameters
    ----------
    q : int
        Alphabet size ≥ 2.
    allowed : int
        Successors per token, 2 ≤ allowed ≤ q (q allows everything).
    rng : int or numpy.random.Generator
        Seed.

    Returns
    -------
    numpy.ndarray, shape (q, q)
        Row-stochastic, with exact zeros at the forbidden transitions.

    Raises
    ------
    ValueError
        If q < 2 or allowed is out of range.

    Examples
    --------
    >>> P = forbidden_bigram_transition(3, allowed=2)
    >>> (P > 0).sum(axis=1).tolist(), bool(np.allclose(P.sum(axis=1), 1))
    ([2, 2, 2], True)
    """
    q = _size("q", q, 2)
    allowed = _size("allowed", allowed, 2)
    if allowed > q:
        raise ValueError(f"allowed must satisfy 2 <= allowed <= q={q}; got allowed={allowed}")
    gen = np.random.default_rng(rng)
    P = np.zeros((q, q))
    for a in range(q):
        succ = {a, (a + 1) % q}
        others = [b for b in range(q) if b not in succ]
        succ |= set(gen.permutation(others)[: allowed - len(succ)].tolist()) if allowed > len(succ) else set()
        cols = sorted(succ)
        P[a, cols] = gen.dirichlet(np.ones(len(cols)))
    return P


def bigram_chain(n: int, *, q: int = 3, allowed: int = 2, rng=0) -> JointTable:
    """A stationary bigram chain with forbidden transitions, as a table (exact sampling and log-probabilities).

    Spec: §10.3. The transition matrix is :func:`forbidden_bigram_transition`; x_1 follows the stationary law.
    For N beyond a table, :class:`MarkovChain` gives the same chain's conditionals and
    :func:`mdtheory.markov_transition_profile` its exact information curve.

    Parameters
    ----------
    n : int
        N (a table of q^N entries).
    q, allowed, rng
        As in :func:`forbidden_bigram_transition`.

    Returns
    -------
    JointTable

    Examples
    --------
    >>> t = bigram_chain(4)
    >>> float(t.table.sum()).__round__(12), int((t.table == 0).sum()) > 0  # forbidden paths have probability 0
    (1.0, True)
    """
    return markov_chain(n, forbidden_bigram_transition(q, allowed=allowed, rng=rng))


def binary_markov_chain(n: int, eps: float) -> JointTable:
    """The stationary binary Markov chain with flip probability ε (uniform start).

    Spec: §6 (its H_m has a closed form that scales to N ≈ 10⁴: :func:`mdtheory.markov_profile`).

    Parameters
    ----------
    n : int
        N.
    eps : float
        Flip probability ε in [0, 1].

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If ε is outside [0, 1] or N is invalid.

    Examples
    --------
    >>> binary_markov_chain(2, 0.1).table.round(2).tolist()
    [[0.45, 0.05], [0.05, 0.45]]
    """
    eps = _finite("eps", eps)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must satisfy 0 <= eps <= 1; got eps={eps!r}")
    return markov_chain(n, [[1 - eps, eps], [eps, 1 - eps]], initial=[0.5, 0.5])


def potts_chain(n: int, q: int, *, coupling: float, field: float = 0.0) -> JointTable:
    """The Potts chain π(x) ∝ exp(J Σ_t 1[x_t = x_{t+1}] + h Σ_t 1[x_t = 0]); q = 2 is the Ising chain.

    Spec: §6.

    Parameters
    ----------
    n : int
        N.
    q : int
        Number of states ≥ 2.
    coupling : float
        J (finite).
    field : float
        h (finite).

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If a size is invalid or J or h is not finite.

    Examples
    --------
    >>> round(float(potts_chain(2, 2, coupling=0.0).table[0, 1]), 12)
    0.25
    """
    n, q = _size("n", n), _size("q", q, 2)
    coupling, field = _finite("coupling", coupling), _finite("field", field)
    x = _configurations(n, q)
    log_w = coupling * (x[:, 1:] == x[:, :-1]).sum(axis=1) + field * (x == 0).sum(axis=1)
    return JointTable(_from_log_weights(log_w.astype(float)).table.reshape((q,) * n))


def potts_grid(height: int, width: int, q: int, *, coupling: float, field: float = 0.0) -> JointTable:
    """The Potts model on a height × width grid (4 neighbours, free boundary), positions in row-major order.

    Spec: §6 (small grids, where spatial orders can be compared).

    Parameters
    ----------
    height, width : int
        The grid.
    q : int
        Number of states ≥ 2.
    coupling : float
        J (finite).
    field : float
        h (finite).

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If a size is invalid, J or h is not finite, or q^N is too large.

    Examples
    --------
    >>> potts_grid(2, 2, 3, coupling=0.5).table.shape
    (3, 3, 3, 3)
    """
    height, width, q = _size("height", height), _size("width", width), _size("q", q, 2)
    coupling, field = _finite("coupling", coupling), _finite("field", field)
    n = height * width
    x = _configurations(n, q).reshape(-1, height, width)
    same = (x[:, 1:, :] == x[:, :-1, :]).sum(axis=(1, 2)) + (x[:, :, 1:] == x[:, :, :-1]).sum(axis=(1, 2))
    log_w = coupling * same + field * (x == 0).sum(axis=(1, 2))
    return JointTable(_from_log_weights(log_w.astype(float)).table.reshape((q,) * n))


def ising_grid(height: int, width: int, *, coupling: float, field: float = 0.0) -> JointTable:
    """The Ising model on a grid: the q = 2 Potts model.

    Spec: §6.

    Parameters
    ----------
    height, width : int
        The grid.
    coupling : float
        J on agreement indicators (finite).
    field : float
        h on the state 0 (finite).

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If a size is invalid or J or h is not finite.

    Examples
    --------
    >>> g = ising_grid(3, 3, coupling=0.6, field=0.1)
    >>> g.n, round(float(g.table.sum()), 12)
    (9, 1.0)
    """
    return potts_grid(height, width, 2, coupling=coupling, field=field)


def beta_bernoulli(n: int, a: float, b: float) -> JointTable:
    """Exchangeable bits: θ ~ Beta(a, b), then x_i | θ iid Bernoulli(θ).

    Spec: §6 (its H_m depends on counts only).

    Parameters
    ----------
    n : int
        N.
    a, b : float
        Beta parameters (> 0, finite).

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If N is invalid or a or b is not positive and finite.

    Examples
    --------
    >>> round(float(beta_bernoulli(2, 1.0, 1.0).table[0, 0]), 6)
    0.333333
    """
    n = _size("n", n)
    if not (_finite("a", a) > 0 and _finite("b", b) > 0):
        raise ValueError(f"a and b must be > 0; got a={a!r}, b={b!r}")
    from scipy.special import betaln

    x = _configurations(n, 2)
    j = x.sum(axis=1)
    return JointTable(np.exp(betaln(a + j, b + n - j) - betaln(a, b)).reshape((2,) * n))


def noisy_repeated_bit(n: int, eta: float) -> JointTable:
    """The noisy repeated bit: U ~ Bern(½), x_i = U ⊕ W_i with W_i iid Bern(η).

    Spec: §6.

    Parameters
    ----------
    n : int
        N.
    eta : float
        Noise η in [0, 1].

    Returns
    -------
    JointTable

    Raises
    ------
    ValueError
        If η is outside [0, 1] or N is invalid.

    Examples
    --------
    >>> noisy_repeated_bit(2, 0.0).table.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    n, eta = _size("n", n), _finite("eta", eta)
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must satisfy 0 <= eta <= 1; got eta={eta!r}")
    x = _configurations(n, 2)
    j = x.sum(axis=1)
    p = 0.5 * (eta ** j * (1 - eta) ** (n - j) + (1 - eta) ** j * eta ** (n - j))
    return JointTable(p.reshape((2,) * n))
