"""TV(MaskGIT, moment) vs the number of masked positions N, for several k and α.

Message: the exact total variation between one MaskGIT round and one moment-sampler round decays like
1/N at fixed k (slope ≈ −1 in log-log), as [H] Theorem 2 predicts for N ≫ k². Rows are Dirichlet(1)
predictions over V = 4 tokens; each point is the exact TV by quadrature (§3.2, §4.2).
"""

from __future__ import annotations

from pathlib import Path

from .plot import finish_figure, loglog_curves, new_figure
from ..exact.tv_sweeps import tv_sweep_slopes, tv_sweep_task, tv_sweep_tasks
from ..sweeps.runner import run_sweep
from .._io import atomic_write_text, to_json

NAME = "tv_vs_n"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    alphas = [0.5, 2.0]
    # (N values, k values); at k = 3 the exact TV stops at N = 256, since N = 512 is 1.4e9 cells, above the size guard
    grid = [([8, 16, 32, 64], [1, 2])] if quick else [([8, 16, 32, 64, 128, 256, 512], [1, 2]),
                                                       ([8, 16, 32, 64, 128, 256], [3])]
    tasks = [t for n_values, k_values in grid
             for t in tv_sweep_tasks(family="dirichlet", n_values=n_values, k_values=k_values, alpha_values=alphas,
                                     vocab_values=[4], seed=seed)]
    rows = run_sweep(tasks, tv_sweep_task, out / f"{NAME}_data", progress=False)
    atomic_write_text(out / f"{NAME}_data" / "slopes.json", to_json(tv_sweep_slopes(rows), indent=1))
    fig, axes = new_figure(len(alphas))
    for ax, a in zip(axes, alphas):
        loglog_curves(ax, rows, x="n_masked", y="tv", group="k", where={"alpha": a}, label="k={}",
                      error="quad_error", xlabel="N (masked positions)", ylabel="exact TV(MaskGIT, moment)",
                      title=f"α = {a}")
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
