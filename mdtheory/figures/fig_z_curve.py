"""The [CCL] information curve Z_j and its left-endpoint step approximation for a schedule.

Message: E_σ KL(π‖ν_σ) = Σ_j Z_j − Σ_t k_t Z_{s_{t−1}+1} is the area between Z and its step
approximation at the block starts; the DP optimum places steps where Z rises (§7).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..profiles.bounds import ccl_expected_kl
from ..profiles.closed_forms import markov_profile
from ..profiles.schedule_shapes import constant_schedule
from ..profiles.optimal_schedules import optimal_schedule
from .plot import finish_figure, new_figure

NAME = "z_curve"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    n, K = 60, 8
    pr = markov_profile(n, 0.05)
    j = np.arange(1, n + 1)
    fig, axes = new_figure(2)
    for ax, (label, sizes) in zip(axes, (("constant", constant_schedule(n, K)), ("DP optimum", optimal_schedule(pr, K)))):
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        step = pr.Z[np.repeat(starts, sizes)]  # Z_{s_{t−1}+1} on every j of block t
        ax.plot(j, pr.Z, "k-", label="Z_j")
        ax.step(j, step, where="post", color="C1", label="step approximation")
        ax.fill_between(j, step, pr.Z, step="post", alpha=0.3, color="C1")
        ax.set(xlabel="j", ylabel="Z_j (nats)",
               title=f"{label}: area = E·KL = {ccl_expected_kl(pr, sizes):.4f}")
        ax.legend(fontsize=7)
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
