"""Coherence of set-keyed conditionals: circulations of adjacent swaps and the order-gap identity (§10.7).

A set-keyed model gives p_θ(x_i; x_U) for every masked position i and revealed set U. Conditionals read off a
joint π are *coherent*: revealing two positions i, j in either order gives the same pair law, because both
orders factor the same π(x_i, x_j | x_U). A learned masked LM has no such joint in general, and the law its
sampler draws from depends on the order of reveals. The *circulation* of the swap (i, j) at a state (U, x_U),

  C_ij(a, b; x_U) = log[p_i(a; x_U)·p_j(b; x_U, x_i = a)] − log[p_j(b; x_U)·p_i(a; x_U, x_j = b)],

is exactly zero for every joint-derived model. The *order pseudo-joint* of an order σ is the law of revealing
one position at a time in that order, P_σ(x) = Π_t p_{σ_t}(x_{σ_t}; x_{σ<t}); random-order one-by-one CTS
with the model draws from the mixture E_σ P_σ. Two orders that differ by the adjacent swap of σ_t and σ_{t+1}
share every factor but those two, so log P_σ(x) − log P_σ'(x) = C at the state x_{σ<t}, and bubble-sorting σ
into τ gives the *order-gap identity*

  log P_σ(x) − log P_τ(x) = Σ over the adjacent swaps of the sort of C(swap),

exact, term by term. The swap law: under x ~ P_σ, E[C_t] = KL(P_σ ‖ P_σ∘(t t+1)) ≥ 0, which is the
Monte-Carlo estimand of :mod:`mdtheory.montecarlo.coherence`.

**Conventions.** A cell where both orders give probability 0 has circulation 0; a cell where exactly one
does is *one-sided* (circulation ±inf) and is counted, never folded into a finite summary. The exact
enumeration visits the *reachable* states: those that revealing positions one at a time under the model
reaches with positive probability (for a joint, those with π(x_U) > 0).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import factorial

import numpy as np

from .._validation import check_positive_int, check_unit_interval, check_work
from ..targets import JointTable
from ..targets.tables import batch_conditionals

__all__ = ["SwapCirculation", "swap_circulation", "order_log_prob", "sample_in_order", "OrderGap", "order_gap",
           "order_pseudo_joint", "CoherenceReport", "coherence_exact", "mean_swap_kl_exact",
           "PlantedIncoherence"]

#: the reachable states the exact enumeration visits at most unless told otherwise
MAX_STATES = 200_000


def _size(model, vocab_size):
    n = getattr(model, "n", None)
    q = vocab_size if vocab_size is not None else getattr(model, "q", None)
    if n is None or q is None:
        raise ValueError("the model must have attributes n and q (or pass vocab_size=) for its positions and "
                         "vocabulary")
    return check_positive_int(n, name="n", minimum=2), check_positive_int(q, name="vocab_size", minimum=2)


def _conditionals(model, values, revealed, q):
    p = np.asarray(batch_conditionals(model, values, revealed), dtype=np.float64)
    if p.shape != np.shape(values) + (q,):
        raise ValueError(f"the model's conditionals have shape {p.shape}; expected {np.shape(values) + (q,)}")
    masked = ~np.asarray(revealed, dtype=bool)
    rows = p[masked]
    if not np.all(np.isfinite(rows)) or np.any(rows < 0) or \
            not np.allclose(rows.sum(axis=-1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("the model's conditionals at masked positions must be finite probability rows summing "
                         "to 1")
    return p


def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(p)


def _circulation_cells(forward, backward):
    """log F − log B, with 0 where both are 0 and ±inf where exactly one is."""
    out = np.zeros(np.broadcast(forward, backward).shape)
    both = (forward > 0) & (backward > 0)
    out[both] = np.log(forward[both]) - np.log(backward[both])
    out[(forward > 0) & ~(backward > 0)] = np.inf
    out[~(forward > 0) & (backward > 0)] = -np.inf
    return out


@dataclass(frozen=True)
class SwapCirculation:
    """The two pair laws of revealing i then j, or j then i, at one state, and their circulation.

    Spec: §10.7.

    Parameters
    ----------
    i, j : int
        The two positions.
    forward : numpy.ndarray, shape (q, q)
        F(a, b) = p_i(a; x_U)·p_j(b; x_U, x_i = a).
    backward : numpy.ndarray, shape (q, q)
        B(a, b) = p_j(b; x_U)·p_i(a; x_U, x_j = b).
    circulation : numpy.ndarray, shape (q, q)
        log F − log B (0 where both are 0, ±inf where one is).
    tv : float
        TV(F, B).
    kl : float
        KL(F ‖ B) = E_F[C] ≥ 0 (inf when F charges a cell that B does not).

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> s = swap_circulation(dirichlet_joint(3, 2, seed=0), [0, 0, 0], [False] * 3, 0, 2)
    >>> s.one_sided, round(s.tv, 12), s.forward.shape
    (0, 0.0, (2, 2))
    """

    i: int
    j: int
    forward: np.ndarray
    backward: np.ndarray
    circulation: np.ndarray
    tv: float
    kl: float

    @property
    def max_abs(self) -> float:
        """max |C| over the cells where both orders are positive (0 when there are none)."""
        finite = self.circulation[np.isfinite(self.circulation)]
        return float(np.abs(finite).max()) if finite.size else 0.0

    @property
    def one_sided(self) -> int:
        """The number of cells that exactly one order reaches."""
        return int(np.isinf(self.circulation).sum())


def _pair(F, B, i, j):
    C = _circulation_cells(F, B)
    pos = F > 0
    kl = float(np.inf) if np.any(pos & ~(B > 0)) else float(np.sum(F[pos] * C[pos]))
    return SwapCirculation(i=i, j=j, forward=F, backward=B, circulation=C, tv=float(0.5 * np.abs(F - B).sum()),
                           kl=max(kl, 0.0))


def swap_circulation(model, values, revealed, i: int, j: int, *, vocab_size: int | None = None) -> SwapCirculation:
    """The circulation of the adjacent swap (i, j) at the state (U, x_U), for every pair of values.

    Spec: §10.7. Three batches of conditionals: at U, at U ∪ {i = a} for each a, at U ∪ {j = b} for each b.

    Parameters
    ----------
    model : object
        A set-keyed model: ``conditionals(values, revealed) -> (N, q)`` (a :class:`JointTable`,
        :class:`TemperedConditionals`, :class:`mdtheory.models.PredictorModel`, ...).
    values, revealed : array_like, shape (N,)
        The state: the revealed set U as a boolean mask and its values (ignored elsewhere).
    i, j : int
        Two distinct masked positions.
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.

    Returns
    -------
    SwapCirculation

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> from mdtheory.profiles import TemperedConditionals
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> swap_circulation(t, [0, 0, 0], [False] * 3, 0, 1).max_abs < 1e-12
    True
    >>> swap_circulation(TemperedConditionals(t, beta=2.0), [0, 0, 0], [False] * 3, 0, 1).max_abs > 0.01
    True
    """
    n, q = _size(model, vocab_size)
    values = np.asarray(values, dtype=np.int64)
    revealed = np.asarray(revealed, dtype=bool)
    if values.shape != (n,) or revealed.shape != (n,):
        raise ValueError(f"values and revealed must have shape ({n},); got {values.shape}, {revealed.shape}")
    for name, p in (("i", i), ("j", j)):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p < n or revealed[p]:
            raise ValueError(f"{name} must be a masked position in [0, {n}); got {name}={p!r}")
    if i == j:
        raise ValueError(f"i and j must be distinct positions; got i = j = {i}")
    vals = np.where(revealed, values, 0)
    p0 = _conditionals(model, vals[None], revealed[None], q)[0]
    F, B = np.zeros((q, q)), np.zeros((q, q))
    for pos, other, out, transpose in ((i, j, F, False), (j, i, B, True)):
        reached = np.nonzero(p0[pos] > 0)[0]
        if reached.size:
            v = np.repeat(vals[None], reached.size, axis=0)
            v[:, pos] = reached
            r = np.repeat(revealed[None], reached.size, axis=0)
            r[:, pos] = True
            second = _conditionals(model, v, r, q)[:, other]  # (len(reached), q)
            block = p0[pos][reached, None] * second
            if transpose:
                out[:, reached] = block.T
            else:
                out[reached] = block
    return _pair(F, B, int(i), int(j))


def _check_orders(orders, n_rows, n):
    orders = np.asarray(orders, dtype=np.int64)
    if orders.ndim == 1:
        orders = np.repeat(orders[None], n_rows, axis=0)
    if orders.shape != (n_rows, n) or not np.array_equal(np.sort(orders, axis=1),
                                                         np.broadcast_to(np.arange(n), orders.shape)):
        raise ValueError(f"orders must be permutations of range({n}), one per row (shape ({n_rows}, {n})) or one "
                         f"for all rows; got shape {orders.shape}")
    return orders


def order_log_prob(model, x, orders, *, vocab_size: int | None = None) -> np.ndarray:
    """log P_σ(x) = Σ_t log p_{σ_t}(x_{σ_t}; x_{σ<t}) for each row: the order pseudo-joint, one reveal at a time.

    Spec: §10.7. N batched calls of the model.

    Parameters
    ----------
    model : object
        A set-keyed model.
    x : array_like, shape (B, N)
        Sequences.
    orders : array_like, shape (B, N) or (N,)
        One permutation per row, or one for every row.
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.

    Returns
    -------
    numpy.ndarray, shape (B,)
        −inf where the order gives the row probability 0.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> x = [[0, 1, 1]]
    >>> bool(np.isclose(order_log_prob(t, x, [2, 0, 1])[0], t.log_prob(x)[0], rtol=0, atol=1e-13))
    True
    """
    n, q = _size(model, vocab_size)
    x = np.atleast_2d(np.asarray(x, dtype=np.int64))
    if x.ndim != 2 or x.shape[1] != n or np.any((x < 0) | (x >= q)):
        raise ValueError(f"x must have shape (batch, {n}) with values in [0, {q}); got shape {x.shape}")
    orders = _check_orders(orders, x.shape[0], n)
    rows = np.arange(x.shape[0])
    revealed = np.zeros(x.shape, dtype=bool)
    total = np.zeros(x.shape[0])
    for t in range(n):
        pos = orders[:, t]
        p = _conditionals(model, x, revealed, q)
        total += _log(p[rows, pos, x[rows, pos]])
        revealed[rows, pos] = True
    return total


def sample_in_order(model, orders, *, seed=0, vocab_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draws x ~ P_σ, revealing one position at a time in each row's order; returns (x, log P_σ(x)).

    Spec: §10.7. N batched calls of the model.

    Parameters
    ----------
    model : object
        A set-keyed model.
    orders : array_like, shape (B, N)
        One permutation per draw.
    seed : int or numpy.random.Generator
        Randomness.
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.

    Returns
    -------
    x : numpy.ndarray, shape (B, N)
    log_prob : numpy.ndarray, shape (B,)

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> x, lp = sample_in_order(repeated_bit(3), [[1, 0, 2]] * 4, seed=0)
    >>> bool(np.all(x == x[:, :1])), np.round(lp, 12).tolist()
    (True, [-0.69314718056, -0.69314718056, -0.69314718056, -0.69314718056])
    """
    n, q = _size(model, vocab_size)
    orders = np.asarray(orders, dtype=np.int64)
    orders = _check_orders(orders, orders.shape[0] if orders.ndim == 2 else 1, n)
    rng = np.random.default_rng(seed)
    B = orders.shape[0]
    rows = np.arange(B)
    x = np.zeros((B, n), dtype=np.int64)
    revealed = np.zeros((B, n), dtype=bool)
    total = np.zeros(B)
    for t in range(n):
        pos = orders[:, t]
        p = _conditionals(model, x, revealed, q)[rows, pos]  # (B, q)
        cdf = np.cumsum(p, axis=1)
        draw = np.minimum((rng.random(B)[:, None] * cdf[:, -1:] >= cdf).sum(axis=1), q - 1)
        x[rows, pos] = draw
        total += _log(p[rows, draw])
        revealed[rows, pos] = True
    return x, total


@dataclass(frozen=True)
class OrderGap:
    """log P_σ(x) − log P_τ(x) and its decomposition into adjacent-swap circulations.

    Spec: §10.7.

    Parameters
    ----------
    gap : float
        log P_σ(x) − log P_τ(x), each side by :func:`order_log_prob`.
    swaps : tuple of (int, int, int)
        The adjacent swaps (t, i, j) of a bubble sort of σ into τ: at step t, i (revealed first) and j trade
        places.
    circulations : numpy.ndarray
        C of each swap at its state, for the values of x.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> g = order_gap(dirichlet_joint(3, 2, seed=0), [0, 1, 0], [0, 1, 2], [1, 0, 2])
    >>> g.swaps, abs(g.gap) < 1e-12
    (((0, 0, 1),), True)
    """

    gap: float
    swaps: tuple
    circulations: np.ndarray

    @property
    def total(self) -> float:
        """Σ circulations: equals ``gap`` (the order-gap identity)."""
        return float(np.sum(self.circulations))

    @property
    def residual(self) -> float:
        """|gap − Σ circulations|: rounding only."""
        return abs(self.gap - self.total)


def _bubble_swaps(sigma, tau):
    rank = np.empty(len(tau), dtype=np.int64)
    rank[np.asarray(tau)] = np.arange(len(tau))
    cur = list(sigma)
    swaps = []
    changed = True
    while changed:
        changed = False
        for t in range(len(cur) - 1):
            if rank[cur[t]] > rank[cur[t + 1]]:
                swaps.append((t, tuple(cur)))
                cur[t], cur[t + 1] = cur[t + 1], cur[t]
                changed = True
    return swaps


def order_gap(model, x, sigma, tau, *, vocab_size: int | None = None) -> OrderGap:
    """The gap between two orders' pseudo-joints at x, and the circulations of the swaps that join them.

    Spec: §10.7. The decomposition is computed swap by swap from the model's conditionals at each swap's state
    (three calls each), independently of the two sides of the gap, so ``residual`` checks the identity.

    Parameters
    ----------
    model : object
        A set-keyed model.
    x : array_like, shape (N,)
        A sequence with positive probability under both orders.
    sigma, tau : array_like, shape (N,)
        Two orders.
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.

    Returns
    -------
    OrderGap

    Raises
    ------
    ValueError
        If x has probability 0 under either order (the gap is then undefined or infinite).

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> from mdtheory.profiles import TemperedConditionals
    >>> m = TemperedConditionals(dirichlet_joint(4, 2, seed=1), beta=0.5)
    >>> g = order_gap(m, [0, 1, 1, 0], [0, 1, 2, 3], [3, 2, 1, 0])
    >>> len(g.swaps), g.residual < 1e-12, abs(g.gap) > 1e-3
    (6, True, True)
    """
    n, q = _size(model, vocab_size)
    x = np.asarray(x, dtype=np.int64)
    if x.shape != (n,):
        raise ValueError(f"x must have shape ({n},); got {x.shape}")
    sides = order_log_prob(model, np.stack([x, x]), np.stack([_check_orders(sigma, 1, n)[0],
                                                              _check_orders(tau, 1, n)[0]]), vocab_size=q)
    if not np.all(np.isfinite(sides)):
        raise ValueError("x has probability 0 under sigma or tau; its order gap is undefined")
    swaps, circ = [], []
    for t, cur in _bubble_swaps(np.asarray(sigma), np.asarray(tau)):
        i, j = cur[t], cur[t + 1]
        revealed = np.zeros(n, dtype=bool)
        revealed[list(cur[:t])] = True
        s = swap_circulation(model, x, revealed, int(i), int(j), vocab_size=q)
        swaps.append((t, int(i), int(j)))
        circ.append(s.circulation[x[i], x[j]])
    return OrderGap(gap=float(sides[0] - sides[1]), swaps=tuple(swaps), circulations=np.array(circ, dtype=float))


def order_pseudo_joint(model, order, *, vocab_size: int | None = None, max_cells: int = 2 ** 20) -> np.ndarray:
    """P_σ as a full table of shape (q,)*N, by enumeration of the reveal tree.

    Spec: §10.7. A joint-derived model gives π for every order.

    Parameters
    ----------
    model : object
        A set-keyed model.
    order : array_like, shape (N,)
        σ.
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.
    max_cells : int
        Refuse tables with more than this many cells (q^N).

    Returns
    -------
    numpy.ndarray, shape (q,)*N

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 3, seed=0)
    >>> float(np.abs(order_pseudo_joint(t, [1, 2, 0]) - t.table).max()) < 1e-15
    True
    """
    n, q = _size(model, vocab_size)
    order = _check_orders(order, 1, n)[0]
    check_work(float(q) ** n, limit=max_cells, what=f"the pseudo-joint over q^N = {q}^{n} cells", option="max_cells",
               unit="cells")
    # level t: every reachable assignment of x_{σ<t}, as full rows with zeros elsewhere, and its probability
    x = np.zeros((1, n), dtype=np.int64)
    prob = np.ones(1)
    revealed = np.zeros(n, dtype=bool)
    for t in range(n):
        pos = order[t]
        p = _conditionals(model, x, np.repeat(revealed[None], len(x), axis=0), q)[:, pos]  # (rows, q)
        x = np.repeat(x, q, axis=0)
        x[:, pos] = np.tile(np.arange(q), len(prob))
        prob = (prob[:, None] * p).ravel()
        keep = prob > 0  # the model is asked only at states it reaches (a joint's conditionals stop at zeros)
        x, prob = x[keep], prob[keep]
        revealed[pos] = True
    table = np.zeros((q,) * n)
    table[tuple(x.T)] = prob
    return table


def mean_swap_kl_exact(model, *, vocab_size: int | None = None, max_orders: int = 720) -> float:
    """E_{σ, t} KL(P_σ ‖ P_σ∘(t t+1)) over uniform orders σ and uniform t in [0, N−2], by enumeration.

    Spec: §10.7. The estimand of :func:`mdtheory.montecarlo.coherence_montecarlo`; 0 for a joint. It is
    computed from the full pseudo-joint tables of every order (N! of them), sharing no code with the
    circulation routes.

    Parameters
    ----------
    model : object
        A set-keyed model.
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.
    max_orders : int
        Refuse N with more than this many orders (N!).

    Returns
    -------
    float
        ≥ 0; inf when some order reaches a sequence that its swap does not.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> from mdtheory.profiles import TemperedConditionals
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> mean_swap_kl_exact(t) < 1e-14, mean_swap_kl_exact(TemperedConditionals(t, beta=2.0)) > 1e-4
    (True, True)
    """
    n, q = _size(model, vocab_size)
    check_work(float(factorial(n)), limit=max_orders, what=f"the {n}! orders of N = {n}", option="max_orders",
               unit="orders")
    tables = {o: order_pseudo_joint(model, o, vocab_size=q) for o in itertools.permutations(range(n))}
    total = 0.0
    for o, P in tables.items():
        for t in range(n - 1):
            s = list(o)
            s[t], s[t + 1] = s[t + 1], s[t]
            Q = tables[tuple(s)]
            pos = P > 0
            if np.any(pos & ~(Q > 0)):
                return float("inf")
            total += float(np.sum(P[pos] * (np.log(P[pos]) - np.log(Q[pos]))))
    return max(total / (len(tables) * (n - 1)), 0.0)


@dataclass(frozen=True)
class CoherenceReport:
    """How far a set-keyed model is from having one joint, over every reachable state (exact).

    Spec: §10.7.

    Parameters
    ----------
    n_states : int
        Reachable states with at least two masked positions.
    n_swaps : int
        (state, i < j) pairs examined.
    max_abs_circulation : float
        max |C| over every cell that both orders reach (0 for a joint, to rounding).
    one_sided : int
        Cells that exactly one order reaches (infinite circulation).
    max_swap_tv, mean_swap_tv : float
        max and mean over swaps of TV(F, B) between the two pair laws.
    worst : dict
        The swap of largest TV: ``revealed``, ``values`` (−1 where masked), ``i``, ``j``, ``tv``.
    order_tv : float or None
        max over pairs of orders of TV(P_σ, P_τ) (N ≤ ``max_order_n``; else None).

    Examples
    --------
    >>> from mdtheory.targets import global_parity
    >>> r = coherence_exact(global_parity(3))
    >>> r.n_states, r.coherent
    (7, True)
    """

    n_states: int
    n_swaps: int
    max_abs_circulation: float
    one_sided: int
    max_swap_tv: float
    mean_swap_tv: float
    worst: dict
    order_tv: float | None

    @property
    def coherent(self) -> bool:
        """Whether every circulation is zero to 1e-12 and no cell is one-sided."""
        return self.one_sided == 0 and self.max_abs_circulation <= 1e-12

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def _reachable_levels(model, n, q):
    """Per level m: the reachable states (rows of values with −1 where masked) and their conditionals."""
    states = np.full((1, n), -1, dtype=np.int64)
    levels = []
    for m in range(n - 1):
        revealed = states >= 0
        p = _conditionals(model, np.where(revealed, states, 0), revealed, q)
        levels.append((states, p))
        s, i, a = np.nonzero((p > 0) & ~revealed[:, :, None])
        child = states[s].copy()
        child[np.arange(s.size), i] = a
        states = np.unique(child, axis=0)
    return levels


def _child_index(children, keys):
    """Row index of each key in ``children`` (sorted unique rows), or −1."""
    if len(children) == 0:
        return np.full(len(keys), -1)
    base = np.int64(children.max() + 2)
    code = lambda a: ((a + 1) * base ** np.arange(a.shape[1])).sum(axis=1)  # noqa: E731
    cc, kc = code(children), code(keys)
    order = np.argsort(cc)
    at = np.clip(np.searchsorted(cc[order], kc), 0, len(cc) - 1)
    return np.where(cc[order][at] == kc, order[at], -1)


def coherence_exact(model, *, vocab_size: int | None = None, max_states: int = MAX_STATES,
                    max_order_n: int = 5) -> CoherenceReport:
    """Every circulation of a set-keyed model over its reachable states, by enumeration.

    Spec: §10.7. The states are enumerated level by level (at most (1 + q)^N of them); each swap's two pair
    laws are read from the conditionals at the state and at its two children.

    Parameters
    ----------
    model : object
        A set-keyed model with ``n`` and ``q`` (or ``vocab_size=``).
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.
    max_states : int
        Refuse models whose bound (1 + q)^N on the reachable states exceeds this.
    max_order_n : int
        Compute ``order_tv`` over every pair of orders only up to this N.

    Returns
    -------
    CoherenceReport

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> from mdtheory.profiles import TemperedConditionals
    >>> t = dirichlet_joint(4, 2, seed=0)
    >>> coherence_exact(t).coherent, coherence_exact(TemperedConditionals(t, beta=0.5)).coherent
    (True, False)
    """
    n, q = _size(model, vocab_size)
    max_states = check_positive_int(max_states, name="max_states")
    check_work(float(1 + q) ** n, limit=max_states, what=f"the reachable states of N = {n}, q = {q} ((1+q)^N)",
               option="max_states", unit="states")
    levels = _reachable_levels(model, n, q)
    n_states = n_swaps = one_sided = 0
    max_abs, tv_sum, worst = 0.0, 0.0, {"tv": 0.0}
    for m, (states, p) in enumerate(levels):
        children = levels[m + 1][0] if m + 1 < len(levels) else None
        masked = states < 0
        n_states += int((masked.sum(axis=1) >= 2).sum())
        for s in range(len(states)):
            free = np.nonzero(masked[s])[0]
            if free.size < 2:
                continue
            # the child reached by revealing position i as value a, for every masked i and value a
            cond_child = np.zeros((n, q, n, q))
            for i in free:
                keys = np.repeat(states[s][None], q, axis=0)
                keys[:, i] = np.arange(q)
                if children is not None:
                    idx = _child_index(children, keys)
                    hit = idx >= 0
                    if np.any(hit):
                        cond_child[i, hit] = levels[m + 1][1][idx[hit]]
            for i, j in itertools.combinations(free, 2):
                F = p[s, i][:, None] * cond_child[i, :, j, :]
                B = (p[s, j][:, None] * cond_child[j, :, i, :]).T
                r = _pair(F, B, int(i), int(j))
                n_swaps += 1
                one_sided += r.one_sided
                max_abs = max(max_abs, r.max_abs)
                tv_sum += r.tv
                if r.tv > worst["tv"] or n_swaps == 1:
                    worst = {"revealed": (~masked[s]).tolist(), "values": states[s].tolist(), "i": int(i),
                             "j": int(j), "tv": r.tv}
    order_tv = None
    if n <= max_order_n:
        tables = [order_pseudo_joint(model, o, vocab_size=q) for o in itertools.permutations(range(n))]
        flat = np.stack([t.ravel() for t in tables])
        order_tv = max(float(0.5 * np.abs(flat[a] - flat[a + 1:]).sum(axis=1).max()) for a in range(len(flat) - 1))
    return CoherenceReport(n_states=n_states, n_swaps=n_swaps, max_abs_circulation=max_abs, one_sided=one_sided,
                           max_swap_tv=float(worst["tv"]), mean_swap_tv=tv_sum / max(n_swaps, 1), worst=worst,
                           order_tv=order_tv)


@dataclass(frozen=True)
class PlantedIncoherence:
    """A joint's conditionals with one conditional changed at one state: a planted incompatibility.

    Spec: §10.7 (the can-fail input of the coherence checks). At the state (``revealed``, ``values``) the row of
    ``position`` becomes (1 − weight)·π(x_position | x_U) + weight·δ_{token}; everywhere else the model is π's.

    Parameters
    ----------
    target : JointTable
        π.
    revealed, values : tuple
        The state (U as a boolean mask, its values).
    position : int
        A masked position of the state whose row changes.
    weight : float
        In [0, 1] (0: no change).
    token : int
        The value that the changed row moves mass to.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> m = PlantedIncoherence(t, revealed=(True, False, False), values=(1, 0, 0), position=2, weight=0.5)
    >>> coherence_exact(t).coherent, coherence_exact(m).coherent
    (True, False)
    """

    target: JointTable
    revealed: tuple
    values: tuple
    position: int
    weight: float = 0.5
    token: int = 0

    def __post_init__(self):
        n = self.target.n
        if len(self.revealed) != n or len(self.values) != n:
            raise ValueError(f"revealed and values must have length {n}")
        if not 0 <= self.position < n or self.revealed[self.position]:
            raise ValueError(f"position must be a masked position of the state; got position={self.position!r}")
        check_unit_interval(self.weight, name="weight")

    @property
    def n(self) -> int:
        return self.target.n

    @property
    def q(self) -> int:
        return self.target.q

    def _here(self, values, revealed):
        r = np.asarray(self.revealed, dtype=bool)
        return np.array_equal(revealed, r) and np.array_equal(np.asarray(values)[r], np.asarray(self.values)[r])

    def conditionals(self, values, revealed) -> np.ndarray:
        p = self.target.conditionals(values, revealed)
        if self._here(values, np.asarray(revealed, dtype=bool)):
            p = p.copy()
            p[self.position] *= 1.0 - self.weight
            p[self.position, self.token] += self.weight
        return p
