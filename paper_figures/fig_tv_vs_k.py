"""TV(MaskGIT, moment) vs the number k of positions revealed per round, at fixed N.

Message: at fixed N the exact TV grows with k roughly like k^1.3–2 and never faster than k² ([H]
Theorem 2); the approximation fails when k is comparable to N. Homogeneous rows p = (0.4, 0.3, 0.2, 0.1)
use the exact composition reduction (THEORY.md §3.5), so N = 2000 is exact.
"""

from __future__ import annotations

from pathlib import Path

from mdtheory.plot import loglog_with_fit, new_figure, save_figure
from mdtheory.sweeps import run_sweep, tv_sweep_task, tv_sweep_tasks

NAME = "tv_vs_k"


def main(out_dir, *, quick: bool = False, rng: int = 0) -> Path:
    out = Path(out_dir)
    n_values = [500] if quick else [500, 2000]
    k_values = [1, 2, 4, 8] if quick else [1, 2, 4, 8, 16, 32]
    alphas = [0.5, 1.0, 2.0]
    tasks = tv_sweep_tasks(family="homogeneous", n_values=n_values, k_values=k_values, alpha_values=alphas,
                           vocab_values=[4], seed=rng, concentration=2.0)
    rows = run_sweep(tasks, tv_sweep_task, out / f"{NAME}_data", progress=False)
    fig, axes = new_figure(len(n_values))
    for ax, n in zip(axes, n_values):
        for a in alphas:
            pts = sorted((r["k"], r["tv"]) for r in rows if r["alpha"] == a and r["n_masked"] == n)
            loglog_with_fit(ax, [p[0] for p in pts], [p[1] for p in pts], label=f"α={a}")
        ks = [p for p in k_values]
        ref = [rows[0]["tv"] * kk ** 2 for kk in ks]
        ax.loglog(ks, ref, "k:", label="∝ k² (reference)")
        ax.set_title(f"N = {n} (homogeneous rows)")
        ax.set_xlabel("k")
        ax.set_ylabel("exact TV(MaskGIT, moment)")
        ax.legend(fontsize=8)
    path = out / f"fig_{NAME}.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    print(main(Path("figures")))
