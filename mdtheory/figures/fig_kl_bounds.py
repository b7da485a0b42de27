"""KL chain rule with trained known-law models (§5.1, §5.3).

Message: for the shipped Markov-chain and Ising models under random-order CTS, the upper estimate KL_M
of the sampler's KL(π ‖ p) stays below the data-driven bound Σ k_t·CE_θ(s_{t−1}) − H(π) = E_learn + E_fact,
and the path KL matches the bound, for every schedule (99% intervals). Data: ``mdtheory simulate kl_bounds``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .plot import finish_figure, new_figure

NAME = "kl_bounds"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    from ._smoke import driver_data

    return plot(driver_data(NAME, out_dir, quick=quick, seed=seed), out_dir)


def plot(data_dir, out_dir) -> Path:
    """Draw the figure from a driver output directory (any preset)."""
    rows = json.loads((Path(data_dir) / "results.json").read_text())
    fig, axes = new_figure(2)
    for ax, model in zip(axes, ("markov", "ising")):
        sel = [r for r in rows if r["model"] == model]
        x = np.arange(len(sel))
        z = 2.576
        ax.errorbar(x - 0.15, [r["bound"] for r in sel], yerr=[z * r["bound_se"] for r in sel], fmt="o",
                    label="bound Σ k_t CE(s_{t−1}) − H(π)")
        ax.errorbar(x, [r["path_kl"] for r in sel], yerr=[z * r["path_kl_se"] for r in sel], fmt="s", label="path KL")
        key = f"kl_{sel[0]['orders']}" if sel else "kl"
        ax.errorbar(x + 0.15, [r[key] for r in sel], yerr=[z * r[f"{key}_se"] for r in sel], fmt="^",
                    label=f"KL_M (M = {sel[0]['orders'] if sel else ''}) ≥ KL(π‖p)")
        ax.set_xticks(x, [f"{r['schedule']}\nK={r['steps']}" for r in sel], fontsize=7)
        ax.set(ylabel="nats", title=f"{model}: trained model, random-order CTS (99% CI)")
        ax.legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
