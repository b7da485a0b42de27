"""Implicit temperature of MaskGIT (§4.1; re-derived form of [H] Theorem 1, Eq. 2).

For large N − k, P_MG(i, x) ≈ p_i(x)^β / Σ_j m_j: positions are chosen ∝ m_i and the token at a chosen
position follows p_i^β / m_i (temperature τ = α/(1+α)). This module gives the prediction and its exact
error for k = 1, computed from the exact law of §3.2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_alpha, check_probs
from .round_laws import _moment_position_and_token_logs, maskgit_round_law

__all__ = ["implicit_temperature_prediction", "ImplicitTemperatureErrors", "implicit_temperature_errors",
           "implicit_temperature_task",
           "implicit_temperature_tau"]


def implicit_temperature_tau(alpha: float) -> float:
    """The token temperature MaskGIT implies: τ = α/(1 + α) = 1/β.

    Spec: §1, §4.1.

    Parameters
    ----------
    alpha : float
        α in [0, ∞].

    Returns
    -------
    float
        τ in [0, 1].

    Raises
    ------
    ValueError
        If ``alpha`` is negative or NaN.

    Examples
    --------
    >>> implicit_temperature_tau(1.0)
    0.5
    """
    alpha = check_alpha(alpha)
    return 1.0 if alpha == np.inf else alpha / (1.0 + alpha)


def implicit_temperature_prediction(probs, *, alpha: float):
    """The implicit-temperature approximation of a MaskGIT round: positions ∝ m_i, tokens p_i^β/m_i.

    Spec: §4.1 (re-derived form of [H] Eq. 2).

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i.
    alpha : float
        0 < α < ∞.

    Returns
    -------
    tuple of numpy.ndarray
        (position law m_i/Σm, shape (N,); token law p_i^β/m_i, shape (N, V)).

    Raises
    ------
    ValueError
        If an input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> pos, tok = implicit_temperature_prediction(np.array([[0.5, 0.5], [1.0, 0.0]]), alpha=1.0)
    >>> pos.round(4).tolist()
    [0.3333, 0.6667]
    """
    p = check_probs(probs)
    alpha = check_alpha(alpha)
    if not 0 < alpha < np.inf:
        raise ValueError(f"alpha must satisfy 0 < alpha < inf; got alpha={alpha!r}")
    log_m, log_q = _moment_position_and_token_logs(p, alpha)
    return np.exp(log_m - np.logaddexp.reduce(log_m)), np.exp(log_q)


@dataclass(frozen=True)
class ImplicitTemperatureErrors:
    """Exact errors of the Eq. 2 prediction for one k = 1 round.

    position_tv : TV between MaskGIT's position law P(i) and m_i/Σm.
    token_tv : (N,) TV between P(x | i) and p_i^β/m_i for each position.
    token_tv_weighted : Σ_i P(i) · token_tv[i].
    quad_error : the quadrature error estimate of the law used.
    """

    position_tv: float
    token_tv: np.ndarray
    token_tv_weighted: float
    quad_error: float


def implicit_temperature_errors(probs, *, alpha: float, prediction_alpha: float | None = None) -> ImplicitTemperatureErrors:
    """The exact errors of the implicit-temperature approximation at k = 1: position law and token laws.

    Spec: §4.1. Both errors fall like 1/N as the number of masked positions grows.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        The rows p_i.
    alpha : float
        0 < α < ∞.
    prediction_alpha : float, optional
        The α of the prediction (default: ``alpha``). Another value is a wrong prediction, whose errors stay
        bounded away from 0 as N grows.

    Returns
    -------
    ImplicitTemperatureErrors
        ``position_tv`` (TV between MaskGIT's position law and m_i/Σm), ``token_tv_max`` and
        ``token_tv_weighted`` (token-law TVs against p_i^β/m_i), with ``quad_error``.

    Raises
    ------
    ValueError
        If an input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> e = implicit_temperature_errors(np.random.default_rng(0).dirichlet(np.ones(3), size=20), alpha=1.0)
    >>> e.position_tv < 0.05
    True
    """
    pos_pred, tok_pred = implicit_temperature_prediction(probs, alpha=alpha if prediction_alpha is None else prediction_alpha)
    law = maskgit_round_law(probs, k=1, alpha=alpha)
    cells = law.probs  # (N, V) since sets are the single positions in order
    pos = cells.sum(axis=1)
    tok = cells / pos[:, None]
    token_tv = 0.5 * np.abs(tok - tok_pred).sum(axis=1)
    return ImplicitTemperatureErrors(position_tv=0.5 * float(np.abs(pos - pos_pred).sum()), token_tv=token_tv,
                                     token_tv_weighted=float(pos @ token_tv), quad_error=law.quad_error)


def implicit_temperature_task(task: dict) -> dict:
    """Sweep task (see :func:`mdtheory.sweeps.runner.run_sweep`): errors for Dirichlet(1) rows seeded by
    (seed, n_masked); keys ``alpha``, ``n_masked``, ``vocab_size``, ``seed``."""
    P = np.random.default_rng([task["seed"], task["n_masked"]]).dirichlet(np.ones(task["vocab_size"]),
                                                                          size=task["n_masked"])
    e = implicit_temperature_errors(P, alpha=task["alpha"], prediction_alpha=task.get("prediction_alpha"))
    return {"position_tv": e.position_tv, "token_tv": e.token_tv_weighted, "quad_error": e.quad_error}
