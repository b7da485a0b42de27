"""KL chain-rule bounds with trained models on known laws (§5.1, §5.3, §4.4).

A choose-then-sample sampler with uniformly random order σ, schedule sizes k_1..k_K and a model's
untempered conditionals p_θ has path likelihood

  p(x | σ) = Π_t Π_{i ∈ B_t} p_θ(x_i ; x_{B_<t}),

computed exactly for any x with one model pass per step (:func:`order_log_likelihood`). Against a known π
(exact samples, exact log π):

* the data-driven bound (§5.3) B = Σ_t k_t·CE_θ(s_{t−1}) − H(π) equals E_learn + E_fact for random order;
  CE_θ comes from :func:`mdtheory.profiles.estimation.estimate_loss_curve` on exact samples of π (so B is
  unbiased, with a CLT interval) and H(π) is exact;
* the sampler's KL(π ‖ p_mix), p_mix = E_σ p(·|σ), is estimated from above by
  KL_M = E_x[log π(x) − log((1/M) Σ_m p(x | σ_m))] (M independent orders per x; Jensen gives
  KL(π‖p_mix) ≤ E KL_M ≤ path KL = E KL_1, decreasing in M). Both come with CLT intervals.

:func:`kl_bound_check` returns both and the margin B − KL_M with its combined standard error: the bound
holds within the intervals when the margin is not significantly negative.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import logsumexp

from ..rules.schedules import block_starts

__all__ = ["order_log_likelihood", "exact_entropy", "kl_bound_check"]


def order_log_likelihood(predict, x: np.ndarray, orders: np.ndarray, sizes, *, mask_id: int) -> np.ndarray:
    """log p(x | σ) of each row under random-order CTS with a model's conditionals, for given orders.

    Spec: §4.4, §5.1.

    Parameters
    ----------
    predict : callable
        A prediction function.
    x : numpy.ndarray, shape (n, N)
        Sequences.
    orders : numpy.ndarray, shape (n, N)
        Reveal orders (permutations).
    sizes : sequence of int
        Block sizes.
    mask_id : int
        The mask token.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> from mdtheory.models import target_predictor
    >>> from mdtheory.targets import repeated_bit
    >>> x = np.array([[1, 1, 1]]); orders = np.array([[2, 0, 1]])
    >>> float(order_log_likelihood(target_predictor(repeated_bit(3)), x, orders, [1, 2], mask_id=0)[0]) == float(np.log(0.5))
    True
    """
    x = torch.as_tensor(np.asarray(x), dtype=torch.long)
    orders = torch.as_tensor(np.asarray(orders), dtype=torch.long)
    sizes = [int(s) for s in sizes]
    if sum(sizes) != x.shape[1] or orders.shape != x.shape:
        raise ValueError(f"sizes must sum to N={x.shape[1]} and orders must have shape {tuple(x.shape)}")
    masked = torch.ones_like(x, dtype=torch.bool)
    total = torch.zeros(x.shape[0], dtype=torch.float64)
    start = 0
    for k in sizes:
        # the model answers on its own device; the bookkeeping stays on the CPU
        lp = torch.log_softmax(predict(torch.where(masked, mask_id, x), masked).double(), dim=-1).cpu()
        block = orders[:, start:start + k]
        total += lp.gather(1, block[..., None].expand(-1, -1, lp.shape[-1])).gather(
            2, x.gather(1, block)[..., None])[..., 0].sum(dim=1)
        masked.scatter_(1, block, False)
        start += k
    return total.numpy()


def exact_entropy(target) -> float:
    """H(π) of a joint table, or of a stationary Markov chain (H(π_0) + (N − 1)·H(row)).

    Spec: §5.1.

    Parameters
    ----------
    target : JointTable or MarkovChain
        π.

    Returns
    -------
    float

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> round(exact_entropy(repeated_bit(5)) / float(np.log(2)), 12)
    1.0
    """
    from scipy.special import entr

    if hasattr(target, "table"):
        return float(entr(target.table).sum())
    from ..targets.chains import stationary_law

    P = np.asarray(target.transition, dtype=np.float64)
    pi0 = stationary_law(P)
    return float(entr(pi0).sum() + (target.n - 1) * (pi0 @ entr(P).sum(axis=1)))


def kl_bound_check(target, predict, *, mask_id: int, sizes, n_samples: int = 2000, n_orders: int = 8,
                   n_per_m: int = 1000, seed: int = 0, level: float = 0.99, sampler_predict=None) -> dict:
    """The KL chain rule with a trained model on a known law: KL_M ≤ Σ_t k_t·CE_θ(s_{t−1}) − H(π), path KL = bound.

    Spec: §4.4, §5.1, §5.3, §9. KL(π ‖ p_sampler) of random-order CTS is estimated from above by
    KL_M = E[log π(x) − log((1/M) Σ_m p(x | σ_m))] (a Jensen upper estimate); the bound uses a loss curve from
    exact draws of π. Intervals at ``level``.

    Parameters
    ----------
    target : MarkovChain or JointTable
        π.
    predict : callable
        The model's prediction function.
    mask_id : int
        The mask token.
    sizes : sequence of int
        The schedule.
    n_samples : int
        Exact draws for KL_M.
    n_orders : int
        M.
    n_per_m : int
        Loss-curve draws per m.
    seed : int
        Seed.
    level : float
        Confidence level of the intervals.
    sampler_predict : callable, optional
        The prediction function the sampler runs (default: ``predict``, whose loss curve forms the bound).
        Another one breaks the bound's premise; tests use it to show the check can fail.

    Returns
    -------
    dict
        ``bound``, ``path_kl``, ``kl_M`` with standard errors, ``holds`` and ``path_matches_bound``.

    Examples
    --------
    >>> from mdtheory.models import target_predictor
    >>> from mdtheory.targets import repeated_bit
    >>> r = kl_bound_check(repeated_bit(4), target_predictor(repeated_bit(4)), mask_id=0, sizes=[2, 2],
    ...                    n_samples=200, n_orders=2, n_per_m=50)
    >>> r["holds"]
    True
    """
    from ..models.predictors import PredictorModel
    from ..profiles.estimation import CurveEstimate, estimate_loss_curve

    rng = np.random.default_rng(seed)
    sizes = np.asarray([int(s) for s in sizes])
    N = int(sizes.sum())
    s_prev = block_starts(sizes)
    curve = estimate_loss_curve(PredictorModel(predict, n=target.n), np.asarray(target.sample(20_000, seed=rng)),
                                n_per_m=n_per_m, seed=rng)
    H = exact_entropy(target)
    bound = float(sizes @ curve.values[s_prev] - H)
    bound_se = float(np.sqrt((sizes ** 2) @ (curve.stderr[s_prev] ** 2)))
    x = np.asarray(target.sample(n_samples, seed=rng))
    log_pi = np.asarray(target.log_prob(x), dtype=np.float64)
    ll = np.stack([order_log_likelihood(predict if sampler_predict is None else sampler_predict, x, np.argsort(rng.random((n_samples, N)), axis=1), sizes,
                                        mask_id=mask_id) for _ in range(n_orders)])
    z = CurveEstimate.z(level)
    out = {"bound": bound, "bound_se": bound_se, "entropy": H, "n_samples": n_samples, "n_orders": n_orders}
    for name, lp in (("path_kl", ll.mean(axis=0)), (f"kl_{n_orders}", logsumexp(ll, axis=0) - np.log(n_orders))):
        d = log_pi - lp
        out[name], out[f"{name}_se"] = float(d.mean()), float(d.std(ddof=1) / np.sqrt(n_samples))
    kl, se = out[f"kl_{n_orders}"], out[f"kl_{n_orders}_se"]
    out["margin"] = bound - kl
    out["margin_se"] = float(np.hypot(bound_se, se))
    out["holds"] = bool(out["margin"] > -z * out["margin_se"])
    out["path_matches_bound"] = bool(abs(out["path_kl"] - bound) < z * np.hypot(bound_se, out["path_kl_se"]))
    return out
