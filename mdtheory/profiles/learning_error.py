"""Learning error and the loss-curve identity for set-keyed learned conditionals (§5.1, §5.3).

A *set-keyed model* gives p_θ(x_j; x_S) for a masked position j from the revealed values on the set S,
whatever order revealed them: any object with ``conditionals(values, revealed) -> (N, q)`` (the target
interface of :mod:`mdtheory.multiround.targets`). Under the random-order planner the step revealing z_t after
s_{t−1} tokens sees a uniform s_{t−1}-subset, so with

  CE_θ(m) = E_{|S|=m} E_{j∉S} E_π[−log p_θ(x_j; x_S)],  L(m) = CE_θ(m) − g(m) = E KL(π(x_j|x_S) ‖ p_θ(x_j; x_S)),

E_learn = Σ_t k_t·L(s_{t−1}) and E_learn + E_fact = Σ_t k_t·CE_θ(s_{t−1}) − H(π) (the loss-curve identity).
:func:`cross_entropy_curve` computes CE_θ, g and L by enumeration; :func:`path_kl_bruteforce` computes
the path KL E_σ Σ_t KL(π(x_{z_t}|x_{z<t}) ‖ Π_{i∈z_t} p_θ(x_i; x_{z<t})) over all N! orders literally, an
independent route to E_learn + E_fact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb, factorial

import numpy as np
from scipy.special import xlogy

from .._validation import check_schedule
from ..exact.round_laws import _token_product
from ..rules.schedules import block_starts
from ..targets import JointTable

__all__ = ["TemperedConditionals", "LearningCurves", "cross_entropy_curve", "learning_error",
           "path_kl_bruteforce"]


@dataclass(frozen=True)
class TemperedConditionals:
    """A set-keyed model p_θ(x_j; x_S) ∝ π(x_j | x_S)^β, optionally mixed with the uniform law.

    Spec: §5.1, §5.3 (a model with a known learning error, to test E_learn and the loss-curve identity).

    Parameters
    ----------
    target : JointTable
        π.
    beta : float
        The exponent β > 0 (1: exact conditionals).
    mix : float
        λ in [0, 1]: (1 − λ)·tempered + λ/q.

    Raises
    ------
    ValueError
        If β ≤ 0 or λ is outside [0, 1].

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> bool(np.allclose(TemperedConditionals(t).conditionals([0, 0, 0], [True, False, False]),
    ...                  t.conditionals([0, 0, 0], [True, False, False])))
    True
    """

    target: object
    beta: float = 1.0
    mix: float = 0.0

    def __post_init__(self):
        if not (np.isfinite(self.beta) and self.beta > 0):
            raise ValueError(f"beta must be finite and > 0; got beta={self.beta!r}")
        if not 0.0 <= self.mix <= 1.0:
            raise ValueError(f"mix must satisfy 0 <= mix <= 1; got mix={self.mix!r}")

    @property
    def n(self) -> int:
        return self.target.n

    @property
    def q(self) -> int:
        return self.target.q

    def conditionals(self, values, revealed) -> np.ndarray:
        p = self.target.conditionals(values, revealed) ** self.beta
        p /= p.sum(axis=1, keepdims=True)
        return (1.0 - self.mix) * p + self.mix / self.q


@dataclass(frozen=True)
class LearningCurves:
    """The loss curves of a set-keyed model on a target, by enumeration.

    Spec: §5.3.

    Parameters
    ----------
    ce : numpy.ndarray, shape (N,)
        CE_θ(m), the model's average cross-entropy with m tokens revealed.
    g : numpy.ndarray, shape (N,)
        g(m), the target's.
    kl : numpy.ndarray, shape (N,)
        L(m) = CE_θ(m) − g(m) ≥ 0.
    entropy : float
        H(π).

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> bool(np.abs(cross_entropy_curve(t, t).kl).max() < 1e-12)
    True
    """

    ce: np.ndarray
    g: np.ndarray
    kl: np.ndarray
    entropy: float


def cross_entropy_curve(target: JointTable, model) -> LearningCurves:
    """CE_θ(m), g(m) and L(m) of a set-keyed model on a small target, by enumeration.

    Spec: §5.3.

    Parameters
    ----------
    target : JointTable
        π.
    model : object
        Anything with ``conditionals(values, revealed)`` keyed by the revealed set.

    Returns
    -------
    LearningCurves

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> bool(np.all(cross_entropy_curve(t, TemperedConditionals(t, beta=2.0)).kl >= 0))
    True
    """
    n, q = target.n, target.q
    if q ** n > 2 ** 16:
        raise ValueError(f"cross_entropy_curve enumerates q**N = {q ** n} > 65536 configurations")
    ce, g = np.zeros(n), np.zeros(n)
    for m in range(n):
        for S in itertools.combinations(range(n), m):
            revealed = np.zeros(n, dtype=bool)
            revealed[list(S)] = True
            marg = target.marginal(S)
            for xs in itertools.product(range(q), repeat=m):
                w = float(marg[xs]) if m else 1.0
                if w <= 0:
                    continue
                values = np.zeros(n, dtype=np.int64)
                values[list(S)] = xs
                pi = target.conditionals(values, revealed)[~revealed]
                p = model.conditionals(values, revealed)[~revealed]
                ce[m] -= w * xlogy(pi, p).sum() / (n - m)
                g[m] -= w * xlogy(pi, pi).sum() / (n - m)
        ce[m] /= comb(n, m)
        g[m] /= comb(n, m)
    return LearningCurves(ce=ce, g=g, kl=ce - g, entropy=float(g.sum()))


def learning_error(curves: LearningCurves, schedule) -> float:
    """E_learn = Σ_t k_t·L(s_{t−1}) under the random-order planner.

    Spec: §5.1, §5.3.

    Parameters
    ----------
    curves : LearningCurves
        From :func:`cross_entropy_curve`.
    schedule : sequence of int
        Step sizes.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the schedule is invalid.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> learning_error(cross_entropy_curve(t, t), [1, 1, 1])
    0.0
    """
    sizes = check_schedule(schedule, total=curves.ce.size)
    return float(sizes @ curves.kl[block_starts(sizes)])


def path_kl_bruteforce(target: JointTable, model, schedule, *, conditioning=None) -> float:
    """E_σ Σ_t E KL(π(x_{z_t} | x_{z<t}) ‖ Π_{i∈z_t} p_θ(x_i; x_{z<t})) over all N! orders. Reference.

    Spec: §5.1, §4.6. With ``conditioning`` (c_1, …, c_K), c_t ≤ s_{t−1}, block t's predictions see only the first
    c_t revealed tokens (stale conditionals).

    Parameters
    ----------
    target : JointTable
        π (N ≤ 6).
    model : object
        Set-keyed predictions.
    schedule : sequence of int
        Step sizes.
    conditioning : sequence of int, optional
        c_t; default c_t = s_{t−1}.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If N is too large or an input is invalid.

    Examples
    --------
    >>> from mdtheory.profiles import information_profile, efact
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> bool(abs(path_kl_bruteforce(t, t, [2, 1]) - efact(information_profile(t), [2, 1])) < 1e-12)
    True
    """
    n, q = target.n, target.q
    if n > 6:
        raise ValueError(f"path_kl_bruteforce enumerates N! orders; N must be <= 6, got N={n}")
    sizes = check_schedule(schedule, total=n)
    starts = block_starts(sizes)
    seen = starts if conditioning is None else np.asarray(conditioning, dtype=np.int64)
    if seen.shape != starts.shape or np.any(seen < 0) or np.any(seen > starts):
        raise ValueError(f"conditioning must have one entry per step with 0 <= c_t <= s_(t-1)={starts.tolist()}")
    total = 0.0
    for order in itertools.permutations(range(n)):
        pos = 0
        for k, c in zip(sizes, seen):
            R, B = list(order[:pos]), list(order[pos:pos + k])
            pos += k
            joint = target.marginal(R + B)  # axes in sorted position order
            axes = sorted(R + B)
            joint = np.moveaxis(joint, [axes.index(i) for i in R + B], list(range(len(R) + len(B))))
            revealed = np.zeros(n, dtype=bool)
            revealed[list(order[: int(c)])] = True  # what the predictions see
            for xr in itertools.product(range(q), repeat=len(R)):
                block = joint[xr] if R else joint
                w = block.sum()
                if w <= 0:
                    continue
                values = np.zeros(n, dtype=np.int64)
                values[R] = xr
                p = model.conditionals(values, revealed)[B]
                prod = _token_product(p[None])[0].reshape((q,) * len(B))
                cond = block / w
                total += w * float(xlogy(cond, cond).sum() - xlogy(cond, prod).sum())
    return total / factorial(n)
