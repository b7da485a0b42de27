"""Token laws: how a round turns a position's predictions into the law its token is drawn from (§2.3, §2.5).

A token transform is a frozen dataclass whose one hook, :meth:`TokenTransform.log_weights`, maps the
log-predictions of some rows to unnormalised log-weights; :meth:`TokenTransform.log_law` normalises them in
log-space (so the coldest temperature never underflows). This is the only place the token laws are written:
the exact laws read :meth:`~TokenTransform.log_law`, and the torch rounds (:mod:`mdtheory.sampling.kernels`)
are tested against it.

* :class:`Identity`: tokens from p (temperature 1).
* :class:`Temperature`: p^{1/τ}/Σ; τ = 0 is the argmax, ties split uniformly.
* :class:`Truncated`: temperature first, then top-k (tokens tied with the k-th largest are kept), then top-p
  (the shortest prefix, by decreasing probability and then increasing token id, whose mass reaches p), then
  renormalisation — the order of LLaDA, Fast-dLLM and Hugging Face's generation utilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["TokenTransform", "Identity", "Temperature", "Truncated", "moment_token_transform", "log_normalise",
           "logsumexp_rows", "temperature_transform", "tempered", "truncated", "TOP_P_TOLERANCE"]

#: top-p keeps a token while the mass strictly before it is below p − TOP_P_TOLERANCE (rounding of the cumsum)
TOP_P_TOLERANCE = 1e-12


def logsumexp_rows(log_weights) -> np.ndarray:
    """log Σ exp over the last axis (…,), shift-invariant; −inf for a row of −inf only."""
    lw = np.asarray(log_weights, dtype=np.float64)
    top = lw.max(axis=-1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (safe + np.log(np.exp(lw - safe).sum(axis=-1, keepdims=True)))[..., 0]


def log_normalise(log_weights) -> np.ndarray:
    """Rows of log-weights (…, V) normalised in log-space: log w − log Σ w, −inf kept where w = 0.

    Spec: §2.3. Shift-invariant in floating point too: the row maximum is subtracted first and the result is
    (lw − max) − log Σ exp(lw − max), never lw − (max + log Σ …), which loses log Σ … entirely when |max| is
    so large (log p/τ at τ → 0) that its ulp exceeds it.

    Examples
    --------
    >>> log_normalise([[0.0, 0.0]]).round(4).tolist()
    [[-0.6931, -0.6931]]
    >>> log_normalise([[-6.9e17, -6.9e17]]).round(4).tolist()  # the same law, whatever the shift
    [[-0.6931, -0.6931]]
    """
    lw = np.asarray(log_weights, dtype=np.float64)
    top = lw.max(axis=-1, keepdims=True) if lw.shape[-1] else np.zeros(lw.shape[:-1] + (1,))
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted = lw - safe
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _log(probs) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(probs, dtype=np.float64))


@dataclass(frozen=True)
class TokenTransform:
    """Base class: a map from log-predictions (…, V) to the log-weights tokens are drawn from.

    Spec: §2.3. Subclasses define :meth:`log_weights`; everything else derives from it.
    """

    def log_weights(self, log_probs: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Unnormalised log-weights (…, V) of the token law, from normalised log-predictions (…, V)."""
        raise NotImplementedError

    @property
    def untempered(self) -> bool:
        """True when the law is p itself (the final-step convention needs no change)."""
        return False

    def log_law(self, probs) -> np.ndarray:
        """The normalised log token law (…, V) of the rows ``probs`` (probabilities, rows summing to 1).

        Examples
        --------
        >>> np.exp(Temperature(0.5).log_law([[0.8, 0.2]])).round(4).tolist()
        [[0.9412, 0.0588]]
        """
        return log_normalise(self.log_weights(_log(probs)))

    def law(self, probs) -> np.ndarray:
        """The token law (…, V) of the rows ``probs`` (:meth:`log_law` exponentiated)."""
        return np.exp(self.log_law(probs))


@dataclass(frozen=True)
class Identity(TokenTransform):
    """Tokens from p itself: temperature 1.

    Spec: §2.3 (the untempered token transform).

    Examples
    --------
    >>> Identity().log_weights(np.array([0.0, -1.0])).tolist()
    [0.0, -1.0]
    """

    def log_weights(self, log_probs):
        return log_probs

    def law(self, probs) -> np.ndarray:
        p = np.asarray(probs, dtype=np.float64)  # p itself: no round trip through log and exp
        return p / p.sum(axis=-1, keepdims=True)

    @property
    def untempered(self) -> bool:
        return True


@dataclass(frozen=True)
class Temperature(TokenTransform):
    """Tokens from p^{1/τ}/Σ; τ = 0 gives the argmax, ties split uniformly or to the first index.

    Spec: §2.3 (tempered tokens; the moment sampler uses τ = α/(1 + α)). **Convention:** at τ = 0 with
    ``ties="first"`` the token is the lowest index among the maxima, as ``torch.argmax`` and ``numpy.argmax``
    return it (the temperature-0 setting of LLaDA, Fast-dLLM and Dream); ``ties="uniform"`` splits the mass.

    Parameters
    ----------
    tau : float
        Temperature τ ≥ 0, finite.
    ties : {"uniform", "first"}
        How τ = 0 breaks ties between maximal tokens (ignored for τ > 0).

    Raises
    ------
    ValueError
        If ``tau`` is negative, infinite or NaN, or ``ties`` is neither.

    Examples
    --------
    >>> Temperature(0.5).log_weights(np.array([0.0, -1.0])).tolist()
    [0.0, -2.0]
    """

    tau: float = 1.0
    ties: str = "uniform"

    def __post_init__(self):
        if isinstance(self.tau, bool) or not (isinstance(self.tau, (int, float, np.floating)) and self.tau >= 0
                                              and math.isfinite(self.tau)):
            raise ValueError(f"tau must be finite and >= 0; got tau={self.tau!r}")
        if self.ties not in ("uniform", "first"):
            raise ValueError(f"ties must be 'uniform' or 'first'; got ties={self.ties!r}")

    def __repr__(self) -> str:  # the tie rule matters at τ = 0 only
        return f"Temperature(tau={self.tau!r}, ties={self.ties!r})" if self.tau == 0.0 else f"Temperature(tau={self.tau!r})"

    def log_weights(self, log_probs):
        lp = np.asarray(log_probs, dtype=np.float64)
        if self.tau == 0.0:
            if self.ties == "first":
                first = np.argmax(lp, axis=-1)[..., None]  # the lowest index among the maxima
                return np.where(np.arange(lp.shape[-1]) == first, 0.0, -np.inf)
            return np.where(lp == lp.max(axis=-1, keepdims=True), 0.0, -np.inf)
        # shifted by the row maximum before the division, so that the differences that define the law survive
        # a tiny τ (the law is invariant under the shift)
        top = lp.max(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore"):
            return (lp - np.where(np.isfinite(top), top, 0.0)) / self.tau

    @property
    def untempered(self) -> bool:
        return self.tau == 1.0


@dataclass(frozen=True)
class Truncated(TokenTransform):
    """Tempered, then top-k, then top-p truncated tokens, renormalised (module doc).

    Spec: §2.5.

    Parameters
    ----------
    temperature : float
        T > 0 (T = 1: untempered).
    top_k : int, optional
        Keep the tokens at least as probable as the k-th largest.
    top_p : float, optional
        Keep the shortest prefix (decreasing probability, then increasing id) whose mass reaches p ∈ (0, 1].

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> Truncated(top_k=2).law([[0.5, 0.3, 0.2]]).round(3).tolist()
    [[0.625, 0.375, 0.0]]
    """

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self):
        t = self.temperature
        if isinstance(t, bool) or not (isinstance(t, (int, float, np.floating)) and 0 < t < math.inf):
            raise ValueError(f"temperature must be a finite number > 0; got temperature={t!r}")
        if self.top_k is not None and (isinstance(self.top_k, bool) or not isinstance(self.top_k, (int, np.integer))
                                       or self.top_k < 1):
            raise ValueError(f"top_k must be an integer >= 1; got top_k={self.top_k!r}")
        if self.top_p is not None and not (isinstance(self.top_p, (int, float, np.floating))
                                           and not isinstance(self.top_p, bool) and 0 < self.top_p <= 1):
            raise ValueError(f"top_p must be > 0 and <= 1; got top_p={self.top_p!r}")

    def log_weights(self, log_probs):
        lp = log_normalise(np.asarray(log_probs, dtype=np.float64) / self.temperature)
        V = lp.shape[-1]
        if self.top_k is not None and self.top_k < V:
            kth = -np.sort(-lp, axis=-1)[..., self.top_k - 1:self.top_k]
            lp = log_normalise(np.where(lp >= kth, lp, -np.inf))
        if self.top_p is not None:
            q = np.exp(lp)
            ids = np.broadcast_to(np.arange(V), q.shape)
            order = np.lexsort((ids, -q), axis=-1)
            sorted_q = np.take_along_axis(q, order, -1)
            before = np.cumsum(sorted_q, axis=-1) - sorted_q  # mass strictly before each token
            keep = np.zeros(q.shape, dtype=bool)
            np.put_along_axis(keep, order, before < self.top_p - TOP_P_TOLERANCE, -1)
            lp = log_normalise(np.where(keep, lp, -np.inf))
        return lp

    @property
    def untempered(self) -> bool:
        return self.temperature == 1.0 and self.top_k is None and self.top_p is None


def moment_token_transform(alpha: float) -> TokenTransform:
    """The moment sampler's tokens p^β/m, β = 1 + 1/α: temperature τ = α/(1 + α) (α = 0: argmax; α = ∞: p).

    Spec: §2.2.

    Examples
    --------
    >>> moment_token_transform(1.0)
    Temperature(tau=0.5)
    """
    from .._validation import check_alpha

    alpha = check_alpha(alpha)
    if alpha == math.inf:
        return Identity()
    return Temperature(tau=alpha / (1.0 + alpha))


def temperature_transform(temperature: float) -> TokenTransform:
    """The token law p^{1/T}: ``Identity()`` at T = 1, the argmax with first-index ties at T = 0 (as
    ``torch.argmax``), else ``Temperature(T)`` (T a finite number ≥ 0).

    Examples
    --------
    >>> temperature_transform(1.0), temperature_transform(0.5), temperature_transform(0)
    (Identity(), Temperature(tau=0.5), Temperature(tau=0.0, ties='first'))
    """
    if not isinstance(temperature, bool) and isinstance(temperature, (int, float, np.floating)) and temperature == 0:
        return Temperature(tau=0.0, ties="first")
    t = Truncated(temperature=temperature).temperature  # validates: finite and > 0
    return Identity() if t == 1.0 else Temperature(tau=float(t))


def tempered(probs, temperature: float) -> np.ndarray:
    """Rows p^{1/T} renormalised (T > 0; T = 1 returns the rows).

    Spec: §2.3.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        Distributions.
    temperature : float
        T > 0.

    Returns
    -------
    numpy.ndarray, shape (N, V)

    Examples
    --------
    >>> tempered([[0.8, 0.2]], 0.5).round(4).tolist()
    [[0.9412, 0.0588]]
    """
    from .._validation import check_probs

    p = check_probs(np.atleast_2d(np.asarray(probs, dtype=np.float64)))
    return Truncated(temperature=temperature).law(p)


def truncated(probs, *, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Rows restricted to their top-k tokens and then to their top-p nucleus, renormalised (:class:`Truncated`).

    Spec: §2.5.

    Parameters
    ----------
    probs : array_like, shape (N, V)
        Distributions.
    top_k : int, optional
        Keep the tokens at least as probable as the k-th largest.
    top_p : float, optional
        Keep the shortest prefix (decreasing probability, then increasing id) whose mass reaches p.

    Returns
    -------
    numpy.ndarray, shape (N, V)

    Examples
    --------
    >>> truncated([[0.5, 0.3, 0.2]], top_k=2).round(3).tolist()
    [[0.625, 0.375, 0.0]]
    >>> truncated([[0.5, 0.3, 0.2]], top_p=0.6).round(3).tolist()
    [[0.625, 0.375, 0.0]]
    """
    return Truncated(top_k=top_k, top_p=top_p).law(np.array(probs, dtype=np.float64, ndmin=2))
