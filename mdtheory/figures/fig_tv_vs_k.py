"""TV(MaskGIT, moment) vs the number k of positions revealed per round, at fixed N.

Message: at fixed N the exact TV grows with k roughly like k^1.3–2 and never faster than k² ([H]
Theorem 2); the approximation fails when k is comparable to N. Homogeneous rows (one Dirichlet(2) draw
over V = 4 tokens, shared by all positions) use the exact composition reduction (§3.5).
"""

from __future__ import annotations

from pathlib import Path

from .plot import finish_figure, loglog_curves, new_figure
from ..exact.tv_sweeps import tv_sweep_task, tv_sweep_tasks
from ..sweeps.runner import run_sweep

NAME = "tv_vs_k"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    n_values = [500] if quick else [500, 2000]
    k_values = [1, 2, 4, 8] if quick else [1, 2, 4, 8, 16, 32]
    tasks = tv_sweep_tasks(family="homogeneous", n_values=n_values, k_values=k_values, alpha_values=[0.5, 1.0, 2.0],
                           vocab_values=[4], seed=seed, concentration=2.0)
    rows = run_sweep(tasks, tv_sweep_task, out / f"{NAME}_data", progress=False)
    fig, axes = new_figure(len(n_values))
    for ax, n in zip(axes, n_values):
        tv1 = min(r["tv"] for r in rows if r["n_masked"] == n and r["k"] == 1)
        ax.loglog(k_values, [tv1 * kk ** 2 for kk in k_values], "k:", label="∝ k² (reference)")
        loglog_curves(ax, rows, x="k", y="tv", group="alpha", where={"n_masked": n}, label="α={}", xlabel="k",
                      error="quad_error", ylabel="exact TV(MaskGIT, moment)", title=f"N = {n} (homogeneous rows)")
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
