"""Oracle-posterior correctness: every sampler run on the exact conditionals of a known chain (§10.4).

With the exact conditionals π(x_i | x_U) as the prediction function, every error left is the sampler's own.
The sampler's law is compared with π on transition statistics: the law of an adjacent pair (x_i, x_{i+1})
averaged over i, and the rate of forbidden transitions. Beside them, the scores people report: the NLL per
token under π and the generative perplexity exp(NLL) (both infinite once a sample leaves the support, so they
are given on the samples inside it, with the support's mass beside them), which can improve while the law
gets worse.

* :func:`oracle_exact_table`: exact laws by enumeration (N ≤ 8), through
  :func:`mdtheory.output_law`;
* :func:`oracle_monte_carlo_table`: Monte Carlo of the same statistics at any N, each with a 99% interval
  (normal over independent sequences; the pair TV by a seeded bootstrap over sequences). It runs the project's
  :func:`mdtheory.sample` with the prediction function given, so the trained Markov model of the shipped
  checkpoints runs through the same code as the oracle, which separates its learning error (model − oracle)
  from the sampler's error (oracle − π).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ORACLE_SAMPLERS", "oracle_samplers", "chain_pair_law", "oracle_exact_table", "oracle_monte_carlo_table"]

ORACLE_SAMPLERS = ("maskgit", "moment", "uniform", "confidence")


def oracle_samplers(alpha: float = 1.0) -> dict:
    """The samplers of the comparison: MaskGIT and moment at α, uniform and confidence choose-then-sample."""
    from ..rules.samplers import CTS, MaskGIT, Moment
    from ..rules.positions import ConfidenceRule, UniformRule

    return {"maskgit": MaskGIT(alpha), "moment": Moment(alpha), "uniform": CTS(UniformRule()),
            "confidence": CTS(ConfidenceRule())}


def chain_pair_law(transition) -> np.ndarray:
    """π(x_i = a, x_{i+1} = b) = μ_a P_ab of a stationary chain (the same at every i)."""
    from ..targets.chains import stationary_law

    P = np.asarray(transition, dtype=np.float64)
    return stationary_law(P)[:, None] * P


def _scores(pair: np.ndarray, ref: np.ndarray, forbidden: np.ndarray) -> tuple[float, float]:
    return 0.5 * float(np.abs(pair - ref).sum()), float(pair[forbidden].sum())


def oracle_exact_table(target, transition, steps, *, alpha: float = 1.0) -> list[dict]:
    """Exact transition statistics of every sampler on a small chain, with the oracle's conditionals.

    Spec: §10.4.

    Parameters
    ----------
    target : JointTable
        The chain as a table (N ≤ 8), e.g. :func:`mdtheory.targets.bigram_chain`.
    transition : array_like, shape (q, q)
        Its transition matrix (the reference pair law and the forbidden transitions).
    steps : sequence of int
        K values (equal blocks).
    alpha : float
        α of MaskGIT and moment.

    Returns
    -------
    list of dict
        Per sampler and K: ``pair_tv`` (TV between the averaged adjacent-pair laws), ``forbidden_rate`` (per
        transition), ``ser`` (ν(x ∉ supp π)), ``kl`` (KL(π ‖ ν)), ``nll_in_support`` (E_ν[−log π(x) | x ∈ supp π]/N),
        ``gen_ppl_in_support`` (its exponential) and ``entropy_rate`` (H(π)/N, what an exact sampler scores).

    Examples
    --------
    >>> from mdtheory.targets import bigram_chain, forbidden_bigram_transition
    >>> rows = oracle_exact_table(bigram_chain(4), forbidden_bigram_transition(3), [4])
    >>> [round(r["pair_tv"], 12) for r in rows if r["sampler"] == "uniform"]  # one at a time: exact (Prop. 3)
    [0.0]
    """
    from ..multiround.output_laws import output_law
    from ..profiles.schedule_shapes import constant_schedule

    n = target.n
    ref = chain_pair_law(transition)
    forbidden = np.asarray(transition) == 0
    pi = target.table
    support = pi > 0
    with np.errstate(divide="ignore"):
        log_pi = np.where(support, np.log(np.where(support, pi, 1.0)), 0.0)
    H = float(-(pi[support] * log_pi[support]).sum())
    rows = []
    for name, sampler in oracle_samplers(alpha).items():
        for K in steps:
            law = output_law(target, sampler, constant_schedule(n, int(K)))
            nu = law.table
            pair = sum(nu.sum(axis=tuple(a for a in range(n) if a not in (i, i + 1))) for i in range(n - 1)) / (n - 1)
            tv, bad = _scores(pair, ref, forbidden)
            inside = float(nu[support].sum())
            nll = float(-(nu[support] * log_pi[support]).sum() / inside / n) if inside > 0 else float("nan")
            rows.append({"sampler": name, "n": n, "K": int(K), "pair_tv": tv, "forbidden_rate": bad,
                         "ser": float(law.off_support), "kl": max(float(law.kl), 0.0), "nll_in_support": nll,
                         "gen_ppl_in_support": float(np.exp(nll)), "entropy_rate": H / n})
    return rows


def oracle_monte_carlo_table(predict, transition, seq_len: int, steps, *, n_samples: int = 2000, seed: int = 0,
                             alpha: float = 1.0, samplers=None, mask_id: int | None = None, device: str = "cpu",
                             n_boot: int = 200, z: float = 2.576) -> list[dict]:
    """Monte Carlo of the transition statistics of every sampler with a given prediction function.

    Spec: §10.4, §9. Estimators: the adjacent-pair law and the forbidden-transition rate are averages over
    ``n_samples`` independent sequences (99% normal intervals over sequences); the pair TV is the plug-in with
    a seeded bootstrap interval over sequences (its bias, about √(q²/(n(N − 1))), is in the interval's centre:
    compare it with the exact law or with the oracle's row, not with 0); NLL per token under π on in-support
    sequences with a normal interval.

    Parameters
    ----------
    predict : callable
        ``predict(tokens, masked)`` for :func:`mdtheory.sample` (e.g. :func:`mdtheory.models.target_predictor` of a
        :class:`mdtheory.targets.MarkovChain`, or a trained model's ``predictor()``).
    transition : array_like, shape (q, q)
        The reference chain.
    seq_len : int
        N.
    steps : sequence of int
        K values (equal blocks).
    n_samples : int
        Sequences per (sampler, K).
    seed : int
        Seed (each row's generator is seeded from it and the row's index).
    alpha : float
        α of MaskGIT and moment.
    samplers : sequence of str, optional
        A subset of :data:`ORACLE_SAMPLERS`.
    mask_id : int, optional
        Passed to :func:`mdtheory.sample` (a trained model's vocabulary size).
    device : str
        Where sampling runs.
    n_boot : int
        Bootstrap resamples of the pair TV.
    z : float
        Normal quantile of the intervals (2.576: 99%).

    Returns
    -------
    list of dict
        Per sampler and K: ``pair`` (the averaged adjacent-pair law, q × q) ± ``pair_hw`` cell by cell, ``pair_tv``
        with ``pair_tv_low``/``pair_tv_high``, ``forbidden_rate`` ± half-width,
        ``in_support`` (fraction of sequences with no forbidden transition), ``nll_in_support`` ± half-width.

    Examples
    --------
    >>> from mdtheory.models import target_predictor
    >>> from mdtheory.targets import MarkovChain, forbidden_bigram_transition
    >>> P = forbidden_bigram_transition(3)
    >>> rows = oracle_monte_carlo_table(target_predictor(MarkovChain(P, 16)), P, 16, [16], n_samples=200,
    ...                                 samplers=["uniform"], n_boot=20)
    >>> rows[0]["forbidden_rate"]  # one at a time with the oracle: never a forbidden transition
    0.0
    """
    import torch

    from ..profiles.schedule_shapes import constant_schedule
    from ..sampling.loop import sample

    for name, value, low in (("n_samples", n_samples, 2), ("n_boot", n_boot, 1), ("seq_len", seq_len, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {name}={value!r}")
    if not (isinstance(z, (int, float)) and math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a finite number > 0; got z={z!r}")
    unknown = [s for s in (samplers or ()) if s not in ORACLE_SAMPLERS]
    if unknown:
        raise ValueError(f"samplers must be among {', '.join(ORACLE_SAMPLERS)}; got {unknown[0]!r}")
    P = np.asarray(transition, dtype=np.float64)
    q = P.shape[0]
    ref = chain_pair_law(P)
    forbidden = P == 0
    with np.errstate(divide="ignore"):
        log_P = np.log(P)
        log_mu = np.log(ref.sum(axis=1))
    chosen = oracle_samplers(alpha)
    names = list(chosen) if samplers is None else list(samplers)
    rng = np.random.default_rng(seed)
    rows = []
    for r_i, (name, K) in enumerate((nm, K) for nm in names for K in steps):
        res = sample(predict, seq_len=seq_len, schedule=constant_schedule(seq_len, int(K)), sampler=chosen[name],
                     batch_size=n_samples, output="log_probs" if mask_id is None else "logits", mask_id=mask_id,
                     generator=torch.Generator(device=device).manual_seed(seed * 1000 + r_i), device=device)
        x = res.tokens.cpu().numpy()
        a, b = x[:, :-1], x[:, 1:]
        cells = a * q + b
        per_seq = np.stack([np.bincount(row, minlength=q * q) for row in cells]) / (seq_len - 1)  # (n, q²)
        pair = per_seq.mean(axis=0).reshape(q, q)
        tv, bad = _scores(pair, ref, forbidden)
        bad_seq = per_seq[:, forbidden.ravel()].sum(axis=1)
        boot = [0.5 * np.abs(per_seq[rng.integers(0, n_samples, n_samples)].mean(axis=0) - ref.ravel()).sum()
                for _ in range(n_boot)]
        inside = bad_seq == 0
        ll = log_mu[x[:, 0]] + log_P[a, b].sum(axis=1)
        nll = -ll[inside] / seq_len
        pair_hw = z * per_seq.std(axis=0, ddof=1) / np.sqrt(n_samples)
        rows.append({"sampler": name, "n": seq_len, "K": int(K), "n_samples": n_samples, "pair": pair.tolist(),
                     "pair_hw": pair_hw.reshape(q, q).tolist(), "pair_tv": tv,
                     "pair_tv_low": float(np.quantile(boot, 0.005)), "pair_tv_high": float(np.quantile(boot, 0.995)),
                     "forbidden_rate": bad, "forbidden_rate_hw": float(z * bad_seq.std(ddof=1) / np.sqrt(n_samples)),
                     "in_support": float(inside.mean()),
                     "nll_in_support": float(nll.mean()) if nll.size else float("nan"),
                     "nll_in_support_hw": float(z * nll.std(ddof=1) / np.sqrt(nll.size)) if nll.size > 1 else float("nan")})
    return rows
