"""Randomized step sizes: E·KL·E[K] against N for each size law on the diagnostic families (§10.1).

Message: with no knowledge of the target, the random-ratio geometric laws reach the TC/K rate (decreasing:
flat on parity) and the DTC/K rate (increasing: flat on the copy law), up to log N, while the multinomial and
Poisson splits pay (TC + DTC)/(2K)-like costs; the DP optimum of the same K, which needs the profile, is the
floor. Exact values by the generating recursion; K = 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..profiles.bounds import ccl_expected_kl
from ..profiles.optimal_schedules import optimal_schedule
from ..profiles.random_sizes import DIAGNOSTIC_FAMILIES, expected_kl_random_sizes, size_law
from .plot import finish_figure, new_figure

NAME = "random_sizes"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    K = 8
    sizes = np.array([16, 64, 256, 1024] if quick else [16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
    laws = {"multinomial split": size_law("multinomial", n_steps=K),
            "Poisson split": None,
            "geometric, decreasing": size_law("geometric", n_steps=K),
            "geometric, increasing": size_law("geometric", n_steps=K, direction="increasing")}
    fig, axes = new_figure(len(DIAGNOSTIC_FAMILIES), max_cols=2)
    for ax, (fam, make) in zip(axes, DIAGNOSTIC_FAMILIES.items()):
        curves = {name: [] for name in [*laws, "DP optimum (knows the profile)"]}
        for n in sizes:
            pr = make(int(n))
            for name, law in laws.items():
                law = law or size_law("poisson", mean_size=n / K)
                r = expected_kl_random_sizes(pr, law)
                curves[name].append(r.expected_kl * r.expected_steps / np.log(2))
            curves["DP optimum (knows the profile)"].append(ccl_expected_kl(pr, optimal_schedule(pr, K)) * K / np.log(2))
        for (name, ys), style in zip(curves.items(), ("o-", "s--", "v-", "^-", "k:")):
            ax.plot(sizes, ys, style, ms=4, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes[::2], [str(int(n)) for n in sizes[::2]])
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set(xlabel="N", ylabel="E·KL · E[K] (bits)", title=fam)
    axes[0].legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
