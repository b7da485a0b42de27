"""The coherence of a model's conditionals by Monte Carlo, with intervals (§10.7, §9).

For a model too large to enumerate, the swap KL

  S = E_{σ, t} KL(P_σ ‖ P_σ∘(t t+1)) = E_{σ, t} E_{x ~ P_σ}[C_t(x)],

(σ a uniform order, t uniform in [0, N−2], P_σ the one-by-one order pseudo-joint of §10.7, C_t the circulation
of swapping σ_t and σ_{t+1} at the state x_{σ<t}) is estimated by the mean over i.i.d. draws of the state of
E[C_t | x_{σ<t}] = KL(F ‖ B), the KL between the state's two pair laws (Rao–Blackwellised: each term ≥ 0), and the
order KL O = E_{σ, τ} KL(P_σ ‖ P_τ) (two independent uniform orders) by the mean of log P_σ(x) − log P_τ(x).
Both are 0 for conditionals read off a joint and > 0 otherwise; each comes with a Student-t interval at the
stated confidence. The law that samples follow is P_σ given σ: random-order one-by-one CTS with the model's
conditionals; a sampler that draws σ at random follows the mixture E_σ P_σ.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt

import numpy as np
from scipy import stats

from .._validation import check_positive_int
from ..profiles.coherence import _conditionals, _size, order_log_prob, sample_in_order

__all__ = ["CoherenceEstimate", "coherence_montecarlo", "model_coherence", "COHERENCE_MODELS"]

#: the real models whose coherence :func:`model_coherence` measures (AntiBERTy needs the ``hf`` extra)
COHERENCE_MODELS = ("markov", "ising", "text", "digits", "antiberty")


@dataclass(frozen=True)
class CoherenceEstimate:
    """Monte-Carlo estimates of the swap KL and the order KL, with Student-t intervals.

    Spec: §10.7, §9.

    Parameters
    ----------
    swap_kl, swap_kl_ci : float, (float, float)
        S and its interval.
    swap_tv, swap_tv_ci : float, (float, float)
        E_{σ, t, x} TV(F, B) between the two pair laws of the swap at its state, and its interval.
    order_kl, order_kl_ci : float or None, (float, float) or None
        O and its interval (None when not requested).
    n_samples, seed : int
    confidence : float
    law : str
        What the draws follow.

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> e = coherence_montecarlo(dirichlet_joint(3, 2, seed=0), n_samples=100, orders=False)
    >>> e.incoherent, e.order_kl is None
    (False, True)
    """

    swap_kl: float
    swap_kl_ci: tuple
    swap_tv: float
    swap_tv_ci: tuple
    order_kl: float | None
    order_kl_ci: tuple | None
    n_samples: int
    seed: int
    confidence: float
    law: str = "x ~ P_σ, σ uniform: random-order one-by-one CTS with the model's conditionals, given its order"

    @property
    def incoherent(self) -> bool:
        """Whether the swap-KL interval lies above 1e-12: the conditionals have no common joint, at this confidence.

        The floor is rounding: every term of the estimator is a KL ≥ 0 computed in float64, so a joint's terms
        are ~1e-17 and their interval excludes 0 exactly."""
        return self.swap_kl_ci[0] > 1e-12

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def _interval(values: np.ndarray, confidence: float) -> tuple[float, tuple]:
    m = float(values.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / sqrt(len(values)))
    return m, (m - half, m + half)


def _swap_pair_laws(model, x, orders, t, q):
    """KL(F ‖ B) and TV(F, B) of each row's swap at its own state x_{σ<t}, the two pair laws in full.

    E[C_t | x_{σ<t}] = KL(F ‖ B) exactly, so the mean of these is the Rao–Blackwellised estimator of the swap KL:
    every term is ≥ 0 and the variance is that of the state alone. Calls: one at U, one batch of B·q rows at
    U ∪ {i = a} and one at U ∪ {j = b}.
    """
    B, n = x.shape
    rows = np.arange(B)
    rank = np.argsort(orders, axis=1)
    U = rank < t[:, None]
    i, j = orders[rows, t], orders[rows, t + 1]
    p0 = _conditionals(model, x, U, q)
    second = []
    for first, other in ((i, j), (j, i)):
        xs = np.repeat(x, q, axis=0)
        xs[np.arange(B * q), np.repeat(first, q)] = np.tile(np.arange(q), B)
        rs = np.repeat(U, q, axis=0)
        rs[np.arange(B * q), np.repeat(first, q)] = True
        p = _conditionals(model, xs, rs, q)[np.arange(B * q), np.repeat(other, q)]  # (B·q, q)
        second.append(p.reshape(B, q, q))
    F = p0[rows, i][:, :, None] * second[0]  # F[r, a, b]
    Bk = (p0[rows, j][:, :, None] * second[1]).transpose(0, 2, 1)  # B[r, a, b]
    if np.any((F > 0) & ~(Bk > 0)):
        raise ValueError("the forward order reaches a pair of values that the swapped order gives probability 0: "
                         "the swap KL is infinite (one-sided conditionals)")
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(F > 0, F * (np.log(F) - np.log(Bk)), 0.0).sum(axis=(1, 2))
    return np.maximum(kl, 0.0), 0.5 * np.abs(F - Bk).sum(axis=(1, 2))


def coherence_montecarlo(model, *, n_samples: int = 2000, seed: int = 0, confidence: float = 0.99,
                         vocab_size: int | None = None, orders: bool = True,
                         batch_size: int = 1024) -> CoherenceEstimate:
    """Estimate the swap KL (and the order KL) of a set-keyed model by Monte Carlo.

    Spec: §10.7, §9. Each batch of draws costs N calls of the model (the sample), 3 for the swap (two of them on
    q rows per draw) and, with ``orders``, N more (the second order's likelihood).

    Parameters
    ----------
    model : object
        A set-keyed model (``conditionals`` or ``conditionals_batch``); a torch prediction function becomes one
        through :class:`mdtheory.models.PredictorModel`.
    n_samples : int
        Draws (≥ 2).
    seed : int
        Randomness: orders, swap steps and tokens.
    confidence : float
        Level of the intervals, in (0, 1).
    vocab_size : int, optional
        q, for a model without a ``q`` attribute.
    orders : bool
        Also estimate the order KL.
    batch_size : int
        Draws per batch of model calls.

    Returns
    -------
    CoherenceEstimate

    Examples
    --------
    >>> from mdtheory.targets import dirichlet_joint
    >>> from mdtheory.profiles import TemperedConditionals
    >>> t = dirichlet_joint(4, 3, seed=0)
    >>> coherence_montecarlo(t, n_samples=500).swap_kl < 1e-12
    True
    >>> coherence_montecarlo(TemperedConditionals(t, beta=3.0), n_samples=500).incoherent
    True
    """
    n, q = _size(model, vocab_size)
    n_samples = check_positive_int(n_samples, name="n_samples", minimum=2)
    batch_size = check_positive_int(batch_size, name="batch_size")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got confidence={confidence!r}")
    rng = np.random.default_rng(seed)
    swaps, tvs, gaps = [], [], []
    for start in range(0, n_samples, batch_size):
        B = min(batch_size, n_samples - start)
        sigma = np.argsort(rng.random((B, n)), axis=1)
        x, lp = sample_in_order(model, sigma, seed=rng, vocab_size=q)
        kl, tv = _swap_pair_laws(model, x, sigma, rng.integers(0, n - 1, size=B), q)
        swaps.append(kl)
        tvs.append(tv)
        if orders:
            tau = np.argsort(rng.random((B, n)), axis=1)
            lt = order_log_prob(model, x, tau, vocab_size=q)
            if np.any(~np.isfinite(lt)):
                raise ValueError("a draw of one order has probability 0 under another: the order KL is infinite")
            gaps.append(lp - lt)
    s, s_ci = _interval(np.concatenate(swaps), confidence)
    tv, tv_ci = _interval(np.concatenate(tvs), confidence)
    o, o_ci = _interval(np.concatenate(gaps), confidence) if orders else (None, None)
    return CoherenceEstimate(swap_kl=s, swap_kl_ci=s_ci, swap_tv=tv, swap_tv_ci=tv_ci, order_kl=o,
                             order_kl_ci=o_ci, n_samples=n_samples, seed=int(seed), confidence=float(confidence))


def _real_model(name: str, device: str):
    from ..models.predictors import PredictorModel

    if name in ("markov", "ising"):
        from .real_predictions import _shipped_denoiser

        m = _shipped_denoiser(name, device)
        return PredictorModel(m.predictor(), n=m.config.seq_len, output="logits", mask_id=m.config.mask_id), \
            m.config.vocab_size
    if name not in COHERENCE_MODELS:
        raise ValueError(f"model must be one of {', '.join(COHERENCE_MODELS)}; got model={name!r}")
    from .real_predictions import load_prediction_model

    m = load_prediction_model(name, device)
    return PredictorModel(m.predict, n=m.seq_len, output="logits", mask_id=m.mask_id), m.vocab_size


def model_coherence(name: str, *, n_samples: int = 2000, seed: int = 0, confidence: float = 0.99,
                    orders: bool = True, device: str = "cpu", batch_size: int = 256) -> dict:
    """The swap KL and order KL of a shipped or pretrained model, by :func:`coherence_montecarlo`.

    Spec: §10.7. The model runs on ``device``; the estimates are float64 on the CPU.

    Parameters
    ----------
    name : {"markov", "ising", "text", "digits", "antiberty"}
        The model.
    n_samples, seed, confidence, orders, batch_size
        As in :func:`coherence_montecarlo`.
    device : str
        Where the network runs.

    Returns
    -------
    dict
        ``model``, ``seq_len``, ``vocab_size`` and the estimate's fields.

    Examples
    --------
    >>> r = model_coherence("markov", n_samples=64, orders=False)
    >>> r["model"], r["swap_kl_ci"][1] > 0
    ('markov', True)
    """
    model, q = _real_model(name, device)
    est = coherence_montecarlo(model, n_samples=n_samples, seed=seed, confidence=confidence, vocab_size=q,
                               orders=orders, batch_size=batch_size)
    return {"model": name, "seq_len": model.n, "vocab_size": q, **est.to_dict()}
