"""Schedules ordered by the data-driven loss-curve quantity and by sample quality (§5.3,
§5.6).

Message: Q = Σ_t k_t·CE_θ(s_{t−1}) (with 3-standard-error bars) against the sample-quality metric of
random-order CTS on each schedule; schedules whose Q differ significantly are ordered alike by quality.
Data: ``mdtheory simulate schedules``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .plot import finish_figure, new_figure

NAME = "schedules"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    from ._smoke import driver_data

    return plot(driver_data(NAME, out_dir, quick=quick, seed=seed), out_dir)


def plot(data_dir, out_dir) -> Path:
    """Draw the figure from a driver output directory (any preset)."""
    from ..montecarlo.sample_quality import QUALITY_METRIC

    rows = json.loads((Path(data_dir) / "results.json").read_text())
    models = sorted({r["model"] for r in rows})
    fig, axes = new_figure(max(2, len(models)))
    for ax, model in zip(axes, models):
        metric = QUALITY_METRIC[model]
        for K in sorted({r["steps"] for r in rows if r["model"] == model}):
            sel = [r for r in rows if r["model"] == model and r["steps"] == K]
            ax.errorbar([r["loss_curve_quantity"] for r in sel], [r[metric] for r in sel],
                        xerr=[3 * r["loss_curve_quantity_se"] for r in sel],
                        yerr=[3 * r.get(f"{metric}_se", 0.0) for r in sel], fmt="o", capsize=2, label=f"K = {K}")
            for r in sel:
                ax.annotate(r["schedule"], (r["loss_curve_quantity"], r[metric]), fontsize=7)
        ax.set(xlabel="Q = Σ k_t CE_θ(s_{t−1}) (nats, ± 3 se)", ylabel=f"{metric} (± 3 se)", title=f"{model}: random-order CTS")
        ax.legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
