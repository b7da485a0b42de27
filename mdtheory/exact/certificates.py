"""Confidence certificates: when may confident positions be committed in parallel? (§10.5)

For a joint law π of the n positions of a set S, with marginals p_j, marginal argmax x*_j and confidence
c_j = p_j(x*_j), the deficits δ_j = 1 − c_j give three statements, each checked here by exact enumeration:

* **argmax certificate**: if every δ_j < ε and (n + 1)·ε ≤ 1, the most probable joint value is x*;
* **Fréchet lower bound**: π(X_S = x*_S) ≥ 1 − Σ_j δ_j (a union bound on {X_j ≠ x*_j});
* **TV bound**: TV(π, ⊗_j p_j) ≤ Σ_j δ_j (both laws put at least 1 − Σδ on x*).

Each is sharp, with a witness built here: :func:`frechet_witness` (deviations that never coincide: equality),
:func:`tv_witness` (deviations that always coincide: TV/Σδ → 1 as δ → 0) and :func:`argmax_witness` (n
deviations of weight just above 1/(n + 1): the joint argmax moves once (n + 1)ε > 1).

Joints are plain arrays of shape (q,)*n (the ``table`` of a :class:`mdtheory.multiround.targets.JointTable`).
"""

from __future__ import annotations

from .._validation import renamed_keywords

from dataclasses import dataclass

import numpy as np

__all__ = ["Certificate", "certificate", "frechet_witness", "tv_witness", "argmax_witness", "confident_joint"]


@dataclass(frozen=True)
class Certificate:
    """The three certificate quantities of one joint, each with its bound (§10.5)."""

    n: int
    argmax_product: tuple
    argmax_joint: tuple
    epsilon: float
    argmax_condition: bool
    p_argmax: float
    frechet_bound: float
    tv_product: float
    tv_bound: float

    @property
    def holds(self) -> bool:
        """All three statements hold (the argmax one only claims anything when its condition does)."""
        tol = 1e-12
        ok_argmax = (not self.argmax_condition) or self.argmax_joint == self.argmax_product
        return ok_argmax and self.p_argmax >= self.frechet_bound - tol and self.tv_product <= self.tv_bound + tol

    def to_dict(self) -> dict:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["holds"] = self.holds
        return out


def _check_joint(joint) -> np.ndarray:
    raw = np.asarray(joint)
    if raw.dtype.kind not in "fiu":
        raise TypeError(f"joint must be an array of real numbers; got dtype {raw.dtype}")
    p = raw.astype(np.float64)
    if p.ndim < 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-9:
        raise ValueError("joint must be a finite, non-negative array of shape (q,)*n summing to 1")
    if len(set(p.shape)) != 1:
        raise ValueError(f"joint must have shape (q,)*n; got {p.shape}")
    return p


def certificate(joint) -> Certificate:
    """The argmax certificate, the Fréchet bound and the TV bound of one joint, by exact enumeration.

    Spec: §10.5. ε is taken as the largest deficit max_j δ_j (the tightest ε the condition allows; the strict
    inequality δ_j < ε is read as ≤, the limit of ε ↓ max δ).

    Parameters
    ----------
    joint : array_like, shape (q,)*n
        π on the positions of S.

    Returns
    -------
    Certificate
        The argmaxes, ε and whether (n + 1)ε ≤ 1, π(x*), 1 − Σδ, TV(π, ⊗p) and Σδ.

    Raises
    ------
    ValueError
        If the joint is not a probability table.

    Examples
    --------
    >>> c = certificate(frechet_witness([0.1, 0.2]))
    >>> round(c.p_argmax, 12), round(c.frechet_bound, 12), c.holds
    (0.7, 0.7, True)
    """
    p = _check_joint(joint)
    n = p.ndim
    marg = [p.sum(axis=tuple(a for a in range(n) if a != j)) for j in range(n)]
    star = tuple(int(np.argmax(m)) for m in marg)
    deficits = np.array([1.0 - m[s] for m, s in zip(marg, star)])
    product = marg[0]
    for m in marg[1:]:
        product = np.multiply.outer(product, m)
    eps = float(deficits.max())
    return Certificate(n=n, argmax_product=star, argmax_joint=tuple(int(i) for i in np.unravel_index(np.argmax(p), p.shape)),
                       epsilon=eps, argmax_condition=bool((n + 1) * eps <= 1), p_argmax=float(p[star]),
                       frechet_bound=float(1.0 - deficits.sum()), tv_product=float(0.5 * np.abs(p - product).sum()),
                       tv_bound=float(deficits.sum()))


@renamed_keywords(q="vocab_size")
def frechet_witness(deficits, vocab_size: int = 2) -> np.ndarray:
    """A joint on n = len(deficits) positions whose deviations never coincide: π(x*) = 1 − Σδ exactly.

    Spec: §10.5. x* = 0; with probability δ_j only position j deviates (to 1).

    Parameters
    ----------
    deficits : sequence of float
        δ_j ≥ 0 with Σδ ≤ 1.
    vocab_size : int
        Alphabet size ≥ 2.

    Returns
    -------
    numpy.ndarray, shape (q,)*n

    Examples
    --------
    >>> round(float(frechet_witness([0.1, 0.3])[0, 0]), 12)
    0.6
    """
    d = np.asarray(deficits, dtype=np.float64)
    if d.ndim != 1 or d.size == 0 or np.any(d < 0) or d.sum() > 1 or vocab_size < 2:
        raise ValueError("deficits must be a non-empty list of numbers >= 0 summing to at most 1, and q >= 2")
    n = d.size
    p = np.zeros((vocab_size,) * n)
    p[(0,) * n] = 1.0 - d.sum()
    for j, dj in enumerate(d):
        idx = [0] * n
        idx[j] = 1
        p[tuple(idx)] += dj
    return p


@renamed_keywords(n="seq_len")
def tv_witness(seq_len: int, delta: float) -> np.ndarray:
    """A binary joint whose n deviations always coincide: TV(π, ⊗p) = 1 − (1 − δ)^n − δ^n, so TV/(nδ) → 1 as
    δ → 0 (the TV bound is sharp in the limit).

    Spec: §10.5.

    Parameters
    ----------
    seq_len : int
        Positions.
    delta : float
        0 ≤ δ ≤ ½, the common deficit.

    Returns
    -------
    numpy.ndarray, shape (2,)*n

    Examples
    --------
    >>> round(certificate(tv_witness(3, 0.01)).tv_product, 6)  # 1 − 0.99³ − 0.01³
    0.0297
    """
    if not 0 <= delta <= 0.5 or seq_len < 1:
        raise ValueError(f"tv_witness needs n >= 1 and 0 <= delta <= 1/2; got seq_len={seq_len}, delta={delta}")
    p = np.zeros((2,) * seq_len)
    p[(0,) * seq_len] = 1.0 - delta
    p[(1,) * seq_len] += delta
    return p


@renamed_keywords(n="seq_len")
def argmax_witness(seq_len: int, weight: float) -> np.ndarray:
    """A joint on n positions (q = 2) with mass 1 − n·w on x* = 0 and w on each single deviation: every
    deficit is w, and the joint argmax leaves x* once w > 1/(n + 1), i.e. just past (n + 1)ε = 1.

    Spec: §10.5.

    Parameters
    ----------
    seq_len : int
        Positions.
    weight : float
        0 ≤ w ≤ 1/n.

    Returns
    -------
    numpy.ndarray, shape (2,)*n

    Examples
    --------
    >>> c = certificate(argmax_witness(3, 0.26))
    >>> c.argmax_condition, c.argmax_joint == c.argmax_product
    (False, False)
    """
    if seq_len < 1 or not 0 <= weight <= 1 / seq_len:
        raise ValueError(f"argmax_witness needs n >= 1 and 0 <= weight <= 1/n; got seq_len={seq_len}, weight={weight}")
    return frechet_witness([weight] * seq_len)


def confident_joint(rng, n: int, q: int) -> np.ndarray:
    """A random joint on n positions whose marginals are confident: a random mode carrying most of the mass, the
    rest Dirichlet(0.3) spread with a random total in [0.02, 0.6] (the test joints of §10.5).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    n, q : int
        Positions and alphabet size.

    Returns
    -------
    numpy.ndarray, shape (q,)*n

    Examples
    --------
    >>> p = confident_joint(np.random.default_rng(0), 3, 2)
    >>> p.shape, round(float(p.sum()), 12)
    ((2, 2, 2), 1.0)
    """
    p = rng.dirichlet(np.full(q ** n, 0.3)).reshape((q,) * n) * rng.uniform(0.02, 0.6)
    p[tuple(rng.integers(0, q, n))] += 1.0 - p.sum()
    return p
