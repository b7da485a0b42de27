"""Oracle-posterior correctness: the samplers on the exact conditionals of a known chain (§10.4).

Message: even with the exact posterior, few-step samplers get the transition law wrong, and MaskGIT and moment
stay wrong one token at a time (their choice of positions peeks at the draws); the NLL under π of their
samples falls below π's own entropy rate while the law gets worse. For the trained Markov model the same runs
split its error into the sampler's part (oracle) and the learning part (model − oracle). Monte Carlo, 99%
intervals (``--quick``: the exact laws at N = 6 on the left, 300 sequences per bar on the right).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..models import SHIPPED_CHECKPOINTS
from ..models.datasets import known_law_target
from ..models.predictors import target_predictor
from ..models.training import load_trained
from ..montecarlo.oracle_posterior import ORACLE_SAMPLERS, chain_pair_law, oracle_exact_table, oracle_monte_carlo_table
from ..targets import MarkovChain, bigram_chain, forbidden_bigram_transition
from .plot import finish_figure, new_figure

NAME = "oracle_posterior"


def _entropy_rate(P: np.ndarray, n: int) -> float:
    pair = chain_pair_law(P)
    mu = pair.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_mu = -np.sum(np.where(mu > 0, mu * np.log(mu), 0.0))
        h_step = -np.sum(np.where(pair > 0, pair * np.log(P), 0.0))
    return float((h_mu + (n - 1) * h_step) / n)


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    n_samples = 300 if quick else 2000
    P = forbidden_bigram_transition(3)
    N, steps = (6, [1, 2, 3, 6]) if quick else (64, [4, 8, 16, 32, 64])
    if quick:
        rows = oracle_exact_table(bigram_chain(N), P, steps)
    else:
        rows = oracle_monte_carlo_table(target_predictor(MarkovChain(P, N, on_impossible="nearest")), P, N, steps,
                                        n_samples=n_samples, seed=seed)
    fig, axes = new_figure(3, width=4.0)
    for name, marker in zip(ORACLE_SAMPLERS, "osv^"):
        rs = [r for r in rows if r["sampler"] == name]
        K = np.array([r["K"] for r in rs])
        tv = np.array([r["pair_tv"] for r in rs])
        err = None if quick else np.maximum(np.array([[t - r["pair_tv_low"], r["pair_tv_high"] - t]
                                                       for t, r in zip(tv, rs)]).T, 0)
        axes[0].errorbar(K, tv, yerr=err, fmt=marker + "-", ms=4, capsize=2, label=name)
        axes[1].errorbar(K, [r["nll_in_support"] for r in rs],
                         yerr=None if quick else [r["nll_in_support_hw"] for r in rs], fmt=marker + "-", ms=4,
                         capsize=2, label=name)
    axes[1].axhline(_entropy_rate(P, N), color="k", ls=":", label="H(π)/N (an exact sampler)")
    for ax in axes[:2]:
        ax.set_xscale("log", base=2)
        ax.set_xticks(steps, [str(k) for k in steps])
    axes[0].set(xlabel="K (equal blocks)", ylabel="TV of the adjacent-pair law",
                title=f"transition law, oracle (N = {N}{', exact' if quick else ''})")
    axes[1].set(xlabel="K (equal blocks)", ylabel="NLL per token under π (in-support samples)",
                title="the score improves as the law worsens")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=6)
    chain = known_law_target("markov")
    model = load_trained(SHIPPED_CHECKPOINTS / "markov")[0]
    ks = [4, chain.n] if quick else [4, 8, chain.n]
    oracle = oracle_monte_carlo_table(target_predictor(chain), chain.transition, chain.n, ks, n_samples=n_samples,
                                      seed=seed + 1)
    trained = oracle_monte_carlo_table(model.predictor(), chain.transition, chain.n, ks, n_samples=n_samples,
                                       seed=seed + 1, mask_id=model.config.mask_id)
    short = {"maskgit": "MG", "moment": "Mo", "uniform": "U", "confidence": "C"}
    labels = [f"{short[a['sampler']]}{a['K']}" for a in oracle]
    x = np.arange(len(oracle))
    sampler_part = np.array([a["pair_tv"] for a in oracle])
    learning_part = np.array([b["pair_tv"] - a["pair_tv"] for a, b in zip(oracle, trained)])
    axes[2].bar(x, sampler_part, color="C0", label="sampler error (oracle)")
    axes[2].bar(x, learning_part, bottom=sampler_part, color="C3", label="learning error (model − oracle)")
    axes[2].set_xticks(x, labels, fontsize=6)
    axes[2].set(ylabel="TV of the adjacent-pair law", title="trained Markov model (N = 32)")
    axes[2].set_xlabel("MG MaskGIT, Mo moment, U uniform, C confidence; then K", fontsize=7)
    axes[2].legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
