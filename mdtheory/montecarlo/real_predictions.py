"""Exact one-round quantities on the predictions of real models along real trajectories (§4.1,
§4.2 (a)–(c)).

:func:`record_trajectory_predictions` runs a sampler with a real model (the shipped digits and text
denoisers, or AntiBERTy) and records, at every round, the model's predictive rows p_i over the positions
still masked. Each recorded table is an input to the exact engine:

* :func:`round_tv_record` — the exact TV(MaskGIT, moment) of one round with k positions (quadrature,
  §3.2), with M_rest = the smallest Σ_{j∉K} m_j over sets K and the Theorem 2 ratio TV·M_rest/k²
  (the constant C of §4.2 (c) on real predictions);
* :func:`round_temperature_record` — the exact errors of the implicit-temperature prediction (§4.1) at
  k = 1: TV of the position law against m_i/Σm and the mean token-law TV against p^β/m.

* :func:`marginal_tv_mc` — for larger k, Monte-Carlo estimates (with rigorous half-widths) of two
  low-dimensional statistics, the TV between the samplers' position-inclusion laws and between their
  (position, token) laws, from the project's own round samplers; :func:`marginal_tv_exact` gives the same
  statistics exactly where the round laws can be materialised (both lower-bound the full TV).

:func:`model_loss_curve` estimates a shipped model's loss curve CE_θ(m) (§5.3, §9), cached per process.

Apart from :func:`marginal_tv_mc` and :func:`model_loss_curve` nothing here is Monte Carlo: the only randomness is which trajectory
the model is run along.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from ..models import SHIPPED_CHECKPOINTS

__all__ = ["PREDICTION_MODELS", "PredictionModel", "load_prediction_model", "RoundPredictions",
           "record_trajectory_predictions", "round_tv_record", "round_temperature_record", "marginal_tv_exact",
           "marginal_tv_mc", "model_loss_curve"]

PREDICTION_MODELS = ("digits", "text", "antiberty")


@dataclass(frozen=True)
class PredictionModel:
    """A real model as a prediction function, with its sequence length, vocabulary size and mask id.

    Spec: §4 on real predictions.

    Parameters
    ----------
    name : str
        ``digits``, ``text`` or ``antiberty``.
    predict : callable
        ``predict(tokens, masked) -> logits``.
    seq_len, vocab_size, mask_id : int
        D, V and the mask id.
    grid : tuple of int, optional
        (H, W) for images.
    module : object, optional
        The underlying network (for partial caching).

    Examples
    --------
    >>> m = load_prediction_model("digits")
    >>> m.seq_len, m.vocab_size, m.grid
    (64, 17, (8, 8))
    """

    name: str
    predict: object
    seq_len: int
    vocab_size: int
    mask_id: int
    grid: tuple[int, int] | None = None
    module: object = None  # the MaskedDenoiser itself (partial caching needs its K/V), when there is one


@lru_cache(maxsize=8)
def _shipped_denoiser(name: str, device: str = "cpu"):
    """A shipped denoiser (hash-checked), cached per process."""
    from ..models.training import load_trained

    return load_trained(SHIPPED_CHECKPOINTS / name, device=device)[0]


@lru_cache(maxsize=16)
def model_loss_curve(name: str, *, n_per_m: int, seed: tuple[int, ...], device: str = "cpu"):
    """The loss curve ĈE_θ(m), m = 0..N − 1, of a shipped denoiser, with standard errors.

    Spec: §5.3, §9. Digits and text score their held-out split; the known-law models (markov, ising) score 5,000
    exact draws of their law. Deterministic in its arguments, hence cached per process; pass different
    ``seed`` tuples for curves that must be independent.

    Parameters
    ----------
    name : str
        ``digits``, ``text``, ``markov`` or ``ising``.
    n_per_m : int
        Draws per m.
    seed : tuple of int
        Seed of the generator.
    device : str
        Where the model runs.

    Returns
    -------
    CurveEstimate

    Examples
    --------
    >>> c = model_loss_curve("markov", n_per_m=50, seed=(0,))
    >>> c.values.shape, bool(c.values[0] > c.values[-1])
    ((32,), True)
    """
    from ..models.datasets import known_law_target, load_dataset
    from ..models.predictors import PredictorModel
    from ..profiles.estimation import estimate_loss_curve

    rng = np.random.default_rng(list(seed))
    predict = _shipped_denoiser(name, device).predictor()
    if name in ("markov", "ising"):
        data = np.asarray(known_law_target(name).sample(5000, seed=rng))
    else:
        data = load_dataset(name).held_out
    return estimate_loss_curve(PredictorModel(predict, n=data.shape[1]), data, n_per_m=n_per_m, seed=rng)


@lru_cache(maxsize=8)
def load_prediction_model(name: str, device: str = "cpu") -> PredictionModel:
    """The shipped digits or text denoiser, or AntiBERTy (120 residues), as a :class:`PredictionModel`.

    Spec: §4 on real predictions.

    Parameters
    ----------
    name : {"digits", "text", "antiberty"}
        The model.
    device : str
        Where it runs.

    Returns
    -------
    PredictionModel

    Raises
    ------
    ValueError
        If the name is unknown.
    ImportError
        If AntiBERTy's wheel is missing.

    Examples
    --------
    >>> load_prediction_model("text").vocab_size
    96
    """
    if name in ("digits", "text"):
        model = _shipped_denoiser(name, device)
        return PredictionModel(name, model.predictor(), model.config.seq_len, model.config.vocab_size,
                               model.config.mask_id, model.config.grid, model)
    if name == "antiberty":
        from ..models.hf import antiberty_predictor

        p = antiberty_predictor(device=device)
        return PredictionModel(name, p, 120, p.vocab_size, p.mask_id)
    raise ValueError(f"unknown model {name!r}; allowed: {', '.join(PREDICTION_MODELS)}")


@dataclass(frozen=True)
class RoundPredictions:
    """The model's rows (n_masked, V) over the masked positions at one round of one trajectory."""

    trajectory: int
    round: int
    probs: np.ndarray


def record_trajectory_predictions(model: PredictionModel, *, sampler, schedule="cosine", n_steps: int = 8,
                                  n_trajectories: int = 1, seed: int = 0, device="cpu") -> list[RoundPredictions]:
    """Run a sampler on a real model and record, at every round, the rows p_i at the still-masked positions.

    Spec: §4.1, §4.2 (real predictions along real trajectories).

    Parameters
    ----------
    model : PredictionModel
        The model.
    sampler : Sampler
        The sampler that drives the trajectories.
    schedule : str or sequence of int
        The schedule.
    n_steps : int
        K.
    n_trajectories : int
        How many trajectories.
    seed : int
        Seed.
    device : str
        Where it runs.

    Returns
    -------
    list of RoundPredictions
        ``trajectory``, ``round`` and ``probs`` (N_masked, V) in float64, renormalised.

    Examples
    --------
    >>> from mdtheory import MaskGIT
    >>> recs = record_trajectory_predictions(load_prediction_model("digits"), sampler=MaskGIT(1.0), n_steps=4)
    >>> [r.probs.shape[0] for r in recs]
    [64, 59, 45, 24]
    """
    from ..sampling.loop import sample

    records: list[RoundPredictions] = []
    calls = {"t": 0}

    def recording(tokens, masked):
        out = model.predict(tokens, masked)
        lp = torch.log_softmax(out.double(), dim=-1)
        for b in range(tokens.shape[0]):
            rows = lp[b][masked[b]].exp().cpu().numpy()
            records.append(RoundPredictions(b, calls["t"], rows / rows.sum(axis=1, keepdims=True)))
        calls["t"] += 1
        return out

    sample(recording, seq_len=model.seq_len, schedule=schedule, n_steps=n_steps, sampler=sampler,
           batch_size=n_trajectories, mask_id=model.mask_id, device=device,
           generator=torch.Generator(device=device).manual_seed(seed))
    return records


def round_tv_record(probs: np.ndarray, *, k: int, alpha: float) -> dict:
    """The exact TV(MaskGIT, moment) of one round on real rows, with M_rest and the ratio TV·M_rest/k².

    Spec: §4.2 (the Theorem 2 constant on real predictions).

    Parameters
    ----------
    probs : numpy.ndarray, shape (N, V)
        The rows.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α.

    Returns
    -------
    dict
        ``n_masked``, ``tv``, ``quad_error``, ``m_rest`` and ``c_ratio``.

    Examples
    --------
    >>> from mdtheory.exact import MOMENT_EQUIVALENCE_C_REGRESSION
    >>> r = round_tv_record(np.random.default_rng(0).dirichlet(np.ones(4), size=32), k=1, alpha=1.0)
    >>> bool(r["c_ratio"] < MOMENT_EQUIVALENCE_C_REGRESSION)
    True
    """
    from ..exact.moment_equivalence import moment_equivalence_ratio

    r = moment_equivalence_ratio(probs, k=k, alpha=alpha)
    return {"n_masked": r.n_masked, "tv": r.tv, "quad_error": r.quad_error, "m_rest": r.m_rest, "c_ratio": r.c_ratio}


def round_temperature_record(probs: np.ndarray, *, alpha: float, prediction_alpha: float | None = None) -> dict:
    """The exact errors of the implicit-temperature prediction at k = 1 on real rows.

    Spec: §4.1.

    Parameters
    ----------
    probs : numpy.ndarray, shape (N, V)
        The rows.
    alpha : float
        0 < α < ∞.
    prediction_alpha : float, optional
        The α of the prediction (default: ``alpha``).

    Returns
    -------
    dict
        ``n_masked`` and the float fields of :func:`implicit_temperature_errors`.

    Examples
    --------
    >>> r = round_temperature_record(np.random.default_rng(0).dirichlet(np.ones(4), size=32), alpha=1.0)
    >>> bool(r["position_tv"] < 0.05)
    True
    """
    from ..exact.temperature import implicit_temperature_errors

    e = implicit_temperature_errors(probs, alpha=alpha, prediction_alpha=prediction_alpha)
    return {"n_masked": int(probs.shape[0]), **{f: float(v) for f, v in e.__dict__.items()
                                                 if isinstance(v, (float, np.floating))}}


def _pair_marginal(law) -> np.ndarray:
    """P(i ∈ K, x_i = x) / k from an exact RoundLaw: the law of a uniformly chosen revealed (position, token)."""
    tuples = law.token_tuples()
    out = np.zeros((law.n_masked, law.vocab_size))
    for j in range(law.k):
        for x in range(law.vocab_size):
            cols = tuples[:, j] == x
            np.add.at(out[:, x], law.sets[:, j], law.probs[:, cols].sum(axis=1))
    return out / law.k


def marginal_tv_exact(probs: np.ndarray, *, k: int, alpha: float) -> dict:
    """Exact TVs between MaskGIT and moment of two low-dimensional statistics of a round.

    Spec: §3.6, §9. The law of a uniformly chosen revealed position ("inclusion") and of a uniformly chosen
    revealed (position, token) pair ("pair"); both lower-bound the full TV (a Markov kernel of (K, x_K)).

    Parameters
    ----------
    probs : numpy.ndarray, shape (N, V)
        The rows (small N·V^k only: the round laws are materialised).
    k : int
        1 ≤ k ≤ N.
    alpha : float
        0 < α < ∞.

    Returns
    -------
    dict
        ``inclusion_tv`` and ``pair_tv``.

    Examples
    --------
    >>> P = np.random.default_rng(0).dirichlet(np.ones(3), size=6)
    >>> r = marginal_tv_exact(P, k=2, alpha=1.0)
    >>> from mdtheory import maskgit_moment_tv
    >>> bool(r["pair_tv"] <= maskgit_moment_tv(P, k=2, alpha=1.0).tv + 1e-12)
    True
    """
    from ..exact.round_laws import maskgit_round_law, moment_round_law

    a = _pair_marginal(maskgit_round_law(probs, k=k, alpha=alpha))
    b = _pair_marginal(moment_round_law(probs, k=k, alpha=alpha))
    return {"inclusion_tv": 0.5 * float(np.abs(a.sum(1) - b.sum(1)).sum()), "pair_tv": 0.5 * float(np.abs(a - b).sum())}


def marginal_tv_mc(probs: np.ndarray, *, k: int, alpha: float, n_draws: int = 20_000, seed: int = 0,
                   confidence: float = 0.99, device="cpu", chunk: int = 10_000) -> dict:
    """Monte-Carlo estimates of :func:`marginal_tv_exact`'s statistics for any k, with rigorous half-widths.

    Spec: §9. From ``n_draws`` rounds of the project's ``maskgit_round`` and ``moment_round`` on the same table;
    one draw moves the slot-averaged empirical marginal by ≤ 2/n in L1, so ‖p̂ − p‖₁ ≤ √(c/n) + √(2 log(4/δ)/n)
    with probability 1 − δ/2 (Cauchy–Schwarz and McDiarmid).

    Parameters
    ----------
    probs : numpy.ndarray, shape (N, V)
        The rows.
    k : int
        1 ≤ k ≤ N.
    alpha : float
        α.
    n_draws : int
        Rounds per sampler.
    seed : int
        Seed.
    confidence : float
        1 − δ.
    device : str
        Where the rounds run.
    chunk : int
        Rounds per call.

    Returns
    -------
    dict
        ``inclusion_tv``, ``inclusion_half``, ``pair_tv`` and ``pair_half``.

    Examples
    --------
    >>> P = np.random.default_rng(0).dirichlet(np.ones(3), size=6)
    >>> r = marginal_tv_mc(P, k=2, alpha=1.0, n_draws=20000)
    >>> bool(abs(r["pair_tv"] - marginal_tv_exact(P, k=2, alpha=1.0)["pair_tv"]) <= r["pair_half"])
    True
    """
    from ..sampling.rounds import maskgit_round, moment_round

    p = np.asarray(probs, dtype=np.float64)
    N, V = p.shape
    lp = torch.log(torch.as_tensor(p, device=device))
    est = {}
    for name, fn in (("mg", maskgit_round), ("mo", moment_round)):
        gen = torch.Generator(device=device).manual_seed(seed)
        counts = np.zeros(N * V)
        for lo in range(0, n_draws, chunk):  # bounded memory: chunk × N × V
            r = fn(lp.expand(min(chunk, n_draws - lo), -1, -1), k=k, alpha=alpha, generator=gen)
            counts += np.bincount((r.positions * V + r.tokens).reshape(-1).cpu().numpy(), minlength=N * V)
        est[name] = counts.reshape(N, V) / (n_draws * k)
    delta = 1.0 - confidence
    half_pair = np.sqrt(N * V / n_draws) + np.sqrt(2 * np.log(4 / delta) / n_draws)
    half_inc = np.sqrt(N / n_draws) + np.sqrt(2 * np.log(4 / delta) / n_draws)
    return {"inclusion_tv": 0.5 * float(np.abs(est["mg"].sum(1) - est["mo"].sum(1)).sum()), "inclusion_half": half_inc,
            "pair_tv": 0.5 * float(np.abs(est["mg"] - est["mo"]).sum()), "pair_half": half_pair, "n_draws": n_draws}
