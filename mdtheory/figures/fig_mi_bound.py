"""The mutual-information bound against the exact expected KL (§10.2).

Message: ((k_max − 1)/N)·Σ I(X_i; X_−i) is exact on the copy law (the profile sits at block starts), within
about a factor 2 when Z rises linearly (Markov, pair parity), and loosest on global parity, where the truth is
1/(k − 1) of it (the profile sits at block ends). N = 256, K equal blocks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..profiles.bounds import ccl_expected_kl, mutual_information_bound
from ..profiles.closed_forms import (beta_bernoulli_profile, hidden_subset_parity_profile, markov_profile,
                                     parity_profile, repeated_bit_profile)
from ..profiles.schedule_shapes import constant_schedule
from .plot import finish_figure, new_figure

NAME = "mi_bound"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    n = 256
    steps = np.array([2, 4, 8, 16, 32, 64, 128])
    fams = {"copy": repeated_bit_profile(n), "Beta–Bernoulli (1, 1)": beta_bernoulli_profile(n, 1.0, 1.0),
            "Markov (ε = 0.1)": markov_profile(n, 0.1), "pair parity (m = 2)": hidden_subset_parity_profile(n, 2),
            "parity (m = N)": parity_profile(n)}
    fig, axes = new_figure(2)
    for (name, pr), marker in zip(fams.items(), "osv^D"):
        truth = np.array([ccl_expected_kl(pr, constant_schedule(n, K)) for K in steps])
        bound = np.array([mutual_information_bound(pr, constant_schedule(n, K)) for K in steps])
        axes[0].loglog(steps, bound / np.log(2), marker + "-", ms=4, label=f"{name}: bound")
        axes[0].loglog(steps, np.maximum(truth, 1e-300) / np.log(2), marker + ":", ms=3, color=axes[0].lines[-1].get_color())
        axes[1].semilogx(steps, truth / bound, marker + "-", ms=4, label=name)
    k = n // steps
    axes[1].semilogx(steps, 1 / (k - 1), "k:", label="1/(k − 1)")
    axes[0].set(xlabel="K (equal blocks)", ylabel="nats / log 2 (bits)", title="bound (solid) and exact E·KL (dotted)")
    axes[1].set(xlabel="K (equal blocks)", ylabel="exact E·KL / bound", title="tightness", ylim=(0, 1.05))
    axes[1].legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
