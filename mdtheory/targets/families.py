"""The other §6 families as joint tables: random Dirichlet joints, product laws, the repeated bit, global and
hidden-subset parity, Ising/Potts grids, Beta–Bernoulli and the noisy repeated bit. Closed-form profiles at
large N live in :mod:`mdtheory.profiles.closed_forms`."""

from __future__ import annotations

from .._validation import renamed_keywords


import numpy as np

from .tables import MAX_TABLE_SIZE, JointTable, _configurations, _finite, _from_log_weights, _size, joint_table

__all__ = ["dirichlet_joint", "product_target", "repeated_bit", "hidden_subset_parity", "global_parity", "potts_grid", "ising_grid", "beta_bernoulli", "noisy_repeated_bit"]


@renamed_keywords(q="vocab_size", rng="seed")
@renamed_keywords(n="seq_len")
def dirichlet_joint(seq_len: int, vocab_size: int, *, concentration: float = 1.0, seed=0) -> JointTable:
    """A random joint law over the q^N configurations, drawn from Dirichlet(concentration).

    Spec: §6.

    Parameters
    ----------
    seq_len : int
        N.
    vocab_size : int
        Alphabet size.
    concentration : float
        Dirichlet parameter (> 0); small values give peaked, dependent laws.
    seed : int or numpy.random.Generator
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
    >>> dirichlet_joint(3, 2, seed=0).table.shape
    (2, 2, 2)
    """
    seq_len, vocab_size = _size("n", seq_len), _size("vocab_size", vocab_size, 2)
    if not _finite("concentration", concentration) > 0:
        raise ValueError(f"concentration must be > 0; got concentration={concentration!r}")
    if vocab_size ** seq_len > MAX_TABLE_SIZE:
        raise ValueError(f"vocab_size**N = {vocab_size}**{seq_len} exceeds MAX_TABLE_SIZE={MAX_TABLE_SIZE}")
    w = np.random.default_rng(seed).dirichlet(np.full(vocab_size ** seq_len, concentration))
    return JointTable(w.reshape((vocab_size,) * seq_len))

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

@renamed_keywords(n="seq_len")
def repeated_bit(seq_len: int) -> JointTable:
    """All N coordinates equal to one fair bit: f(1) = log 2, TC = (N − 1) log 2, DTC = log 2.

    Spec: §5.4 (the tight case of the dimension-free bound), §6.

    Parameters
    ----------
    seq_len : int
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
    seq_len = _size("n", seq_len)
    t = np.zeros((2,) * seq_len)
    t[(0,) * seq_len] = t[(1,) * seq_len] = 0.5
    return JointTable(t)

@renamed_keywords(n="seq_len")
def hidden_subset_parity(seq_len: int, subset) -> JointTable:
    """Uniform over the binary strings whose bits in ``subset`` have even parity; the others are free fair bits.

    Spec: §6. Z_j = (m/N)·C(N − m, j − m)/C(N − 1, j − 1)·log 2 for j ≥ m, with m = |subset|.

    Parameters
    ----------
    seq_len : int
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
    seq_len = _size("n", seq_len)
    subset = sorted({int(i) for i in subset})
    if not subset or subset[0] < 0 or subset[-1] >= seq_len:
        raise ValueError(f"subset must be a non-empty set of positions in range({seq_len}); got {subset}")
    x = _configurations(seq_len, 2)
    ok = (x[:, list(subset)].sum(axis=1) % 2) == 0
    return JointTable((ok / ok.sum()).reshape((2,) * seq_len))

@renamed_keywords(n="seq_len")
def global_parity(seq_len: int) -> JointTable:
    """Uniform over the binary strings of even parity: f(N − 1) = log 2, TC = log 2, DTC = (N − 1) log 2.

    Spec: §5.4 (the uneven-schedule counterexample), §6.

    Parameters
    ----------
    seq_len : int
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
    seq_len = _size("n", seq_len, 2)
    return hidden_subset_parity(seq_len, range(seq_len))

@renamed_keywords(q="vocab_size")
def potts_grid(height: int, width: int, vocab_size: int, *, coupling: float, field: float = 0.0) -> JointTable:
    """The Potts model on a height × width grid (4 neighbours, free boundary), positions in row-major order.

    Spec: §6 (small grids, where spatial orders can be compared).

    Parameters
    ----------
    height, width : int
        The grid.
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
        If a size is invalid, J or h is not finite, or q^N is too large.

    Examples
    --------
    >>> potts_grid(2, 2, 3, coupling=0.5).table.shape
    (3, 3, 3, 3)
    """
    height, width, vocab_size = _size("height", height), _size("width", width), _size("vocab_size", vocab_size, 2)
    coupling, field = _finite("coupling", coupling), _finite("field", field)
    n = height * width
    x = _configurations(n, vocab_size).reshape(-1, height, width)
    same = (x[:, 1:, :] == x[:, :-1, :]).sum(axis=(1, 2)) + (x[:, :, 1:] == x[:, :, :-1]).sum(axis=(1, 2))
    log_w = coupling * same + field * (x == 0).sum(axis=(1, 2))
    return JointTable(_from_log_weights(log_w.astype(float)).table.reshape((vocab_size,) * n))

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

@renamed_keywords(n="seq_len")
def beta_bernoulli(seq_len: int, a: float, b: float) -> JointTable:
    """Exchangeable bits: θ ~ Beta(a, b), then x_i | θ iid Bernoulli(θ).

    Spec: §6 (its H_m depends on counts only).

    Parameters
    ----------
    seq_len : int
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
    seq_len = _size("n", seq_len)
    if not (_finite("a", a) > 0 and _finite("b", b) > 0):
        raise ValueError(f"a and b must be > 0; got a={a!r}, b={b!r}")
    from scipy.special import betaln

    x = _configurations(seq_len, 2)
    j = x.sum(axis=1)
    return JointTable(np.exp(betaln(a + j, b + seq_len - j) - betaln(a, b)).reshape((2,) * seq_len))

@renamed_keywords(n="seq_len")
def noisy_repeated_bit(seq_len: int, eta: float) -> JointTable:
    """The noisy repeated bit: U ~ Bern(½), x_i = U ⊕ W_i with W_i iid Bern(η).

    Spec: §6.

    Parameters
    ----------
    seq_len : int
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
    seq_len, eta = _size("n", seq_len), _finite("eta", eta)
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must satisfy 0 <= eta <= 1; got eta={eta!r}")
    x = _configurations(seq_len, 2)
    j = x.sum(axis=1)
    p = 0.5 * (eta ** j * (1 - eta) ** (seq_len - j) + (1 - eta) ** j * eta ** (seq_len - j))
    return JointTable(p.reshape((2,) * seq_len))
