"""Markov-chain targets (§6): stationary chains with exact conditionals at any N (:class:`MarkovChain`, by the
forward–backward recursion) and as tables (binary, q-ary, bigram chains with forbidden transitions, Potts chains)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int, renamed_keywords
from .tables import JointTable, _configurations, _finite, _from_log_weights, _size, joint_table

__all__ = ["stationary_law", "MarkovChain", "markov_chain", "forbidden_bigram_transition", "bigram_chain", "binary_markov_chain", "potts_chain"]


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
    :func:`mdtheory.profiles.markov_transition_profile` gives its exact profile.

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

    @renamed_keywords(rng="seed")
    def sample(self, n_samples: int, *, seed) -> np.ndarray:
        seed = np.random.default_rng(seed)
        cdf = np.cumsum(self.transition, axis=1)
        x = np.empty((n_samples, self.n), dtype=np.int64)
        x[:, 0] = np.minimum(np.searchsorted(np.cumsum(self.mu), seed.random(n_samples), side="right"), self.q - 1)
        for t in range(1, self.n):
            u = seed.random(n_samples)
            x[:, t] = np.minimum((u[:, None] >= cdf[x[:, t - 1]]).sum(axis=1), self.q - 1)
        return x

@renamed_keywords(n="seq_len")
def markov_chain(seq_len: int, transition, *, initial=None) -> JointTable:
    """A Markov chain table: x_1 ~ ``initial`` (the stationary law by default), x_{t+1} | x_t ~ ``transition``.

    Spec: §6.

    Parameters
    ----------
    seq_len : int
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
    seq_len = _size("n", seq_len)
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
    for _ in range(seq_len - 1):
        t = t[..., :, None] * P.reshape((1,) * (t.ndim - 1) + P.shape)
    return joint_table(t, vocab_size=q)

@renamed_keywords(q="vocab_size", rng="seed")
def forbidden_bigram_transition(vocab_size: int = 3, *, allowed: int = 2, seed=0) -> np.ndarray:
    """A sparse bigram transition matrix: each token has ``allowed`` successors, the others are forbidden.

    Spec: §10.3. **Convention:** the successors of a are a itself and a + 1 (mod q), so the chain is
    irreducible and aperiodic, plus ``allowed`` − 2 others drawn at random; the weights on the allowed successors
    are Dirichlet(1), seeded by ``seed``. With q = 3 and 2 allowed successors, a third of all transitions are
    forbidden.

    Parameters
    ----------
    vocab_size : int
        Alphabet size ≥ 2.
    allowed : int
        Successors per token, 2 ≤ allowed ≤ q (q allows everything).
    seed : int or numpy.random.Generator
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
    vocab_size = _size("vocab_size", vocab_size, 2)
    allowed = _size("allowed", allowed, 2)
    if allowed > vocab_size:
        raise ValueError(f"allowed must satisfy 2 <= allowed <= vocab_size={vocab_size}; got allowed={allowed}")
    gen = np.random.default_rng(seed)
    P = np.zeros((vocab_size, vocab_size))
    for a in range(vocab_size):
        succ = {a, (a + 1) % vocab_size}
        others = [b for b in range(vocab_size) if b not in succ]
        succ |= set(gen.permutation(others)[: allowed - len(succ)].tolist()) if allowed > len(succ) else set()
        cols = sorted(succ)
        P[a, cols] = gen.dirichlet(np.ones(len(cols)))
    return P

@renamed_keywords(q="vocab_size", rng="seed")
@renamed_keywords(n="seq_len")
def bigram_chain(seq_len: int, *, vocab_size: int = 3, allowed: int = 2, seed=0) -> JointTable:
    """A stationary bigram chain with forbidden transitions, as a table (exact sampling and log-probabilities).

    Spec: §10.3. The transition matrix is :func:`forbidden_bigram_transition`; x_1 follows the stationary law.
    For N beyond a table, :class:`MarkovChain` gives the same chain's conditionals and
    :func:`mdtheory.profiles.markov_transition_profile` its exact information curve.

    Parameters
    ----------
    seq_len : int
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
    return markov_chain(seq_len, forbidden_bigram_transition(vocab_size, allowed=allowed, seed=seed))

@renamed_keywords(n="seq_len")
def binary_markov_chain(seq_len: int, eps: float) -> JointTable:
    """The stationary binary Markov chain with flip probability ε (uniform start).

    Spec: §6 (its H_m has a closed form that scales to N ≈ 10⁴: :func:`mdtheory.markov_profile`).

    Parameters
    ----------
    seq_len : int
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
    return markov_chain(seq_len, [[1 - eps, eps], [eps, 1 - eps]], initial=[0.5, 0.5])

@renamed_keywords(q="vocab_size")
@renamed_keywords(n="seq_len")
def potts_chain(seq_len: int, vocab_size: int, *, coupling: float, field: float = 0.0) -> JointTable:
    """The Potts chain π(x) ∝ exp(J Σ_t 1[x_t = x_{t+1}] + h Σ_t 1[x_t = 0]); q = 2 is the Ising chain.

    Spec: §6.

    Parameters
    ----------
    seq_len : int
        N.
    vocab_size : int
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
    seq_len, vocab_size = _size("n", seq_len), _size("vocab_size", vocab_size, 2)
    coupling, field = _finite("coupling", coupling), _finite("field", field)
    x = _configurations(seq_len, vocab_size)
    log_w = coupling * (x[:, 1:] == x[:, :-1]).sum(axis=1) + field * (x == 0).sum(axis=1)
    return JointTable(_from_log_weights(log_w.astype(float)).table.reshape((vocab_size,) * seq_len))
