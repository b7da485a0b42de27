"""Theorem 2 and Theorem 1 on real predictions (§4.1–§4.2).

Message: along MaskGIT trajectories of the shipped digits and text models, the exact TV(MaskGIT,
moment) computed from the models' own p_i falls with the number N of masked positions (slopes near or
below −1), and TV·M_rest/k² stays below the synthetic Theorem 2 constant; the implicit-temperature error
shrinks the same way. Data: ``mdtheory simulate real_asymptotics`` (run here at the smoke preset into
``out_dir/real_asymptotics`` unless results exist there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .plot import finish_figure, new_figure

NAME = "real_asymptotics"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    from ._smoke import driver_data

    return plot(driver_data(NAME, out_dir, quick=quick, seed=seed), out_dir)


def plot(data_dir, out_dir) -> Path:
    """Draw the figure from a driver output directory (any preset)."""
    data_dir = Path(data_dir)
    summary = json.loads((data_dir / "summary.json").read_text())
    rows = [r for r in json.loads((data_dir / "results.json").read_text()) if not r.get("skipped") and not r.get("mc")]
    fig, axes = new_figure(2)
    for f in (f for f in summary["fits"] if f["alpha"] == 1.0):  # α = 1 only, to keep the panel readable
        sel = sorted((r["n_masked"], r["tv"]) for r in rows
                     if (r["model"], r["k"], r["alpha"]) == (f["model"], f["k"], f["alpha"]))
        axes[0].plot(*zip(*sel), "o-", label=f"{f['model']} k={f['k']} α={f['alpha']:g}: slope {f['slope_in_n']:.2f}")
    axes[0].set(xscale="log", yscale="log", xlabel="masked positions N (along the trajectory)",
                ylabel="exact TV(MaskGIT, moment)",
                title=f"real C = {summary['real_C']:.3f} (synthetic {summary['synthetic_C']:.3f})")
    axes[0].legend(fontsize=6, title="α = 1 (all α in summary.json)", title_fontsize=6)
    for model in sorted({r["model"] for r in rows}):
        sel = [r for r in rows if r["model"] == model and r["k"] == 1 and r["alpha"] == 1.0]
        n = sorted({r["n_masked"] for r in sel})  # mean over trajectories at each N
        pos = [np.mean([r["temp_position_tv"] for r in sel if r["n_masked"] == v]) for v in n]
        tok = [np.mean([r["temp_token_tv_weighted"] for r in sel if r["n_masked"] == v]) for v in n]
        axes[1].plot(n, pos, "o-", label=f"{model}: position law vs m_i/Σm")
        axes[1].plot(n, tok, "s:", label=f"{model}: token law vs p^β/m")
    axes[1].set(xscale="log", yscale="log", xlabel="masked positions N", ylabel="exact TV of the Eq. 2 prediction",
                title="implicit temperature on real logits (k = 1, α = 1)")
    axes[1].legend(fontsize=6)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
