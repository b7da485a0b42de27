"""Scaling limits of the factorization error on a Markov chain (ε = 0.05).

Message: with diverging tokens per step (K = √N), (K/N)·E_fact tends to ½∫φ for the constant schedule
and to ½(∫√φ)² for the optimum; with k tokens per step fixed, E_fact tends to (k−1)/2·∫φ
(§5.6). Limits computed by quadrature of the closed-form φ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..profiles.closed_forms import markov_profile
from ..profiles.schedule_shapes import constant_schedule
from ..profiles.continuum import continuum_limits, markov_scaling_function
from ..profiles.optimal_schedules import optimal_schedule
from ..profiles.enumeration import efact
from .plot import finish_figure, new_figure

NAME = "scaling_limits"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    eps = 0.05
    lim = continuum_limits(markov_scaling_function(eps))
    ns = [100, 400, 1600] if quick else [100, 200, 400, 800, 1600, 3200, 6400, 10_000]
    fig, axes = new_figure(2)
    const, opt = [], []
    for n in ns:
        pr = markov_profile(n, eps)
        K = int(round(np.sqrt(n)))
        const.append(K / n * efact(pr, constant_schedule(n, K)))
        opt.append(K / n * efact(pr, optimal_schedule(pr, K)))
    axes[0].semilogx(ns, const, "o-", label="constant schedule")
    axes[0].semilogx(ns, opt, "s-", label="DP optimum")
    axes[0].axhline(lim.half_integral, color="C0", ls=":", label=f"½∫φ = {lim.half_integral:.4f}")
    axes[0].axhline(lim.half_sqrt_integral_sq, color="C1", ls=":", label=f"½(∫√φ)² = {lim.half_sqrt_integral_sq:.4f}")
    axes[0].set(xlabel="N (K = √N)", ylabel="(K/N)·E_fact", title="diverging tokens per step")
    axes[0].legend(fontsize=7)
    for k in (2, 3, 4):
        vals = [efact(markov_profile(n, eps), constant_schedule(n, n // k)) for n in ns]
        axes[1].semilogx(ns, vals, "o-", ms=3, label=f"k = {k}")
        axes[1].axhline(lim.bounded(k), color=f"C{k - 2}", ls=":")
    axes[1].set(xlabel="N", ylabel="E_fact", title="k tokens per step: → (k−1)/2·∫φ (dotted)")
    axes[1].legend(fontsize=7)
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
