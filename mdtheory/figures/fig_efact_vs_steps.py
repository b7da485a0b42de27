"""E_fact against the number of steps K for constant, geometric, √f and DP-optimal schedules.

Message: on a Markov chain and a Beta–Bernoulli law (N = 400) the exact optimum (DP) and the √f rule
beat the constant schedule, and the right geometric direction (increasing for Beta–Bernoulli, whose
dependence sits at the start) is near-optimal; the k_max bound is shown for the constant schedule
(§5.3–§5.6).
"""

from __future__ import annotations

from pathlib import Path


from ..profiles.bounds import kmax_bound
from ..profiles.closed_forms import beta_bernoulli_profile, markov_profile
from ..profiles.optimal_schedules import SCHEDULE_METHODS, schedule_comparison
from ..profiles.schedule_shapes import constant_schedule
from .plot import finish_figure, new_figure

NAME = "efact_vs_steps"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    n = 400
    ks = [4, 8, 16, 32, 64] if quick else [2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 200]
    fig, axes = new_figure(2)
    for ax, (label, pr) in zip(axes, {"Markov ε = 0.05": markov_profile(n, 0.05),
                                      "Beta–Bernoulli(½, ½)": beta_bernoulli_profile(n, 0.5, 0.5)}.items()):
        rows = schedule_comparison(pr, ks)
        for method in SCHEDULE_METHODS:
            pts = [(r["n_steps"], r["efact"]) for r in rows if r["method"] == method]
            ax.loglog([p[0] for p in pts], [max(p[1], 1e-12) for p in pts], marker="o", ms=3, label=method)
        ax.loglog(ks, [kmax_bound(pr, constant_schedule(n, K)) for K in ks], "k:", label="k_max bound (constant)")
        ax.set(xlabel="steps K", ylabel="E_fact (nats)", title=f"{label}, N = {n}")
        ax.legend(fontsize=7)
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
