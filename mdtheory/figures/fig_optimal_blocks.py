"""Optimal block sizes: the DP optimum against the square-root rule k(i) ∝ f(i)^{−1/2}.

Message: the exact optimal schedule reveals few tokens where the information profile is large and many
where it is small, as the continuum square-root rule predicts (§5.6).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..profiles.closed_forms import beta_bernoulli_profile, markov_profile, noisy_repeated_bit_profile
from ..profiles.optimal_schedules import optimal_schedule
from ..profiles.schedule_shapes import sqrt_schedule
from .plot import finish_figure, new_figure

NAME = "optimal_blocks"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    n, K = 400, 20
    fig, axes = new_figure(3, width=4.0)
    for ax, (label, pr) in zip(axes, {"Markov ε = 0.05": markov_profile(n, 0.05),
                                      "Beta–Bernoulli(½, ½)": beta_bernoulli_profile(n, 0.5, 0.5),
                                      "noisy repeated bit η = 0.2": noisy_repeated_bit_profile(n, 0.2)}.items()):
        for method, sizes, style in (("DP optimum", optimal_schedule(pr, K), "o-"),
                                     ("√f rule", sqrt_schedule(pr, K), "s--")):
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            ax.plot(starts / n, sizes, style, ms=3, label=method)
        ax.set(xlabel="revealed fraction s_{t−1}/N", ylabel="block size k_t", title=f"{label}, N={n}, K={K}")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
