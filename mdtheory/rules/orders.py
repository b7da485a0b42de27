"""Fixed reveal orders (§2.3): raster, 2-D Halton, 1-D van der Corput, and the hybrid merge.

Every order is a permutation of range(seq_len) (numpy int64): position ``order[0]`` is revealed first.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int, check_unit_interval
from .positions import TIE_SCALE, HybridRule, tie_keys

__all__ = ["radical_inverse", "raster_order", "halton_order", "van_der_corput_order", "hybrid_select", "TIE_SCALE",
           "tie_keys"]


def radical_inverse(index: np.ndarray, base: int) -> np.ndarray:
    """Van der Corput radical inverse of non-negative integers in the given base (exact in float64)."""
    index = np.asarray(index, dtype=np.int64).copy()
    out = np.zeros(index.shape)
    f = 1.0 / base
    while np.any(index > 0):
        out += f * (index % base)
        index //= base
        f /= base
    return out


def raster_order(seq_len: int) -> np.ndarray:
    """Left-to-right order 0, 1, …, seq_len − 1.

    Spec: §2.3.

    Parameters
    ----------
    seq_len : int
        D.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``seq_len`` is not a positive integer.

    Examples
    --------
    >>> raster_order(4).tolist()
    [0, 1, 2, 3]
    """
    return np.arange(check_positive_int(seq_len, name="seq_len"), dtype=np.int64)


def _dedupe_fill(cells: np.ndarray, n: int) -> np.ndarray:
    _, first = np.unique(cells, return_index=True)
    return cells[np.sort(first)]


def halton_order(height: int, width: int, *, shift: tuple[float, float] | None = None) -> np.ndarray:
    """2-D Halton order on a height × width grid (bases 2 and 3), as row-major cell ids.

    Spec: §2.3 (Besnier et al.). Points (φ_2(n), φ_3(n)) are scaled to the grid (row = ⌊u·height⌋,
    col = ⌊v·width⌋) and de-duplicated keeping the first occurrence until every cell appears.
    **Convention:** the optional shift is a Cranley–Patterson rotation u ↦ (u + shift) mod 1 of both coordinates.

    Parameters
    ----------
    height, width : int
        The grid.
    shift : tuple of float, optional
        The rotation, in [0, 1)².

    Returns
    -------
    numpy.ndarray
        A permutation of range(height·width).

    Raises
    ------
    ValueError
        If a size is not a positive integer or a shift is outside [0, 1).

    Examples
    --------
    >>> halton_order(2, 2).tolist()
    [0, 2, 1, 3]
    """
    h = check_positive_int(height, name="height")
    w = check_positive_int(width, name="width")
    n_cells = h * w
    cells = np.empty(0, dtype=np.int64)
    count = max(4 * n_cells, 16)
    while True:
        idx = np.arange(count)
        u, v = radical_inverse(idx, 2), radical_inverse(idx, 3)
        if shift is not None:
            u, v = (u + shift[0]) % 1.0, (v + shift[1]) % 1.0
        rows = np.minimum((u * h).astype(np.int64), h - 1)
        cols = np.minimum((v * w).astype(np.int64), w - 1)
        cells = _dedupe_fill(rows * w + cols, n_cells)
        if cells.size == n_cells:
            return cells
        count *= 2


def van_der_corput_order(seq_len: int, *, shift: float | None = None) -> np.ndarray:
    """1-D van der Corput order in base 2, scaled to seq_len positions and de-duplicated.

    Spec: §2.3.

    Parameters
    ----------
    seq_len : int
        D.
    shift : float, optional
        A rotation in [0, 1).

    Returns
    -------
    numpy.ndarray
        A permutation of range(seq_len).

    Raises
    ------
    ValueError
        If ``seq_len`` is not a positive integer or ``shift`` is outside [0, 1).

    Examples
    --------
    >>> van_der_corput_order(4).tolist()
    [0, 2, 1, 3]
    """
    n = check_positive_int(seq_len, name="seq_len")
    count = max(4 * n, 16)
    while True:
        u = radical_inverse(np.arange(count), 2)
        if shift is not None:
            u = (u + shift) % 1.0
        cells = _dedupe_fill(np.minimum((u * n).astype(np.int64), n - 1), n)
        if cells.size == n:
            return cells
        count *= 2


def hybrid_select(exploit: np.ndarray, explore: np.ndarray, *, k: int, gamma: float) -> np.ndarray:
    """Merge two orders for one step of size k: ⌈γk⌉ from ``exploit``, then fill from ``explore``.

    Spec: §2.3 ([H] §4.2). **Convention:** asymmetric (swapping the orders changes the result), as in [H].

    Parameters
    ----------
    exploit, explore : numpy.ndarray
        Orders over the still-masked positions.
    k : int
        Step size.
    gamma : float
        γ in [0, 1].

    Returns
    -------
    numpy.ndarray
        The k chosen positions.

    Raises
    ------
    ValueError
        If k or gamma is out of range.

    Examples
    --------
    >>> hybrid_select([3, 1, 0, 2], [0, 1, 2, 3], k=3, gamma=0.5).tolist()
    [3, 1, 0]
    """
    m = HybridRule(gamma=check_unit_interval(gamma, name="gamma")).exploit_count(k)
    chosen = list(exploit[:m])
    taken = set(chosen)
    for pos in explore:
        if len(chosen) == k:
            break
        if pos not in taken:
            chosen.append(pos)
            taken.add(pos)
    return np.array(chosen, dtype=np.int64)
