"""The figures: one module per figure, each exposing ``main(out_dir, *, quick=False, rng=0) -> Path``.

``FIGURES`` lists them in the order ``mdtheory figures`` runs them. The figures of the Monte-Carlo drivers
also expose ``plot(data_dir, out_dir)``, which draws from a driver's output folder
(:func:`driver_figure`); so does the figure of a sweep preset (``fig_tv_scaling``). The top-level ``paper_figures/`` folder holds one thin entry script per figure.
"""

import importlib
from pathlib import Path

FIGURES = (
    "fig_tv_vs_n",
    "fig_tv_vs_k",
    "fig_implicit_temperature",
    "fig_profile_shapes",
    "fig_efact_vs_steps",
    "fig_optimal_blocks",
    "fig_scaling_limits",
    "fig_z_curve",
    "fig_prop3_bias",
    "fig_kl_vs_bound",
    "fig_hybrid_gamma",
    "fig_float32_noise",
    "fig_digits_samples",
    "fig_real_asymptotics",
    "fig_quality",
    "fig_kl_bounds",
    "fig_schedules",
    "fig_random_sizes",
    "fig_mi_bound",
    "fig_certificates",
    "fig_entropy_sum",
    "fig_sequence_error",
    "fig_oracle_posterior",
)


def driver_figure(name: str, data_dir, out_dir) -> Path:
    """Draw figure ``name`` of a Monte-Carlo driver (e.g. ``kl_bounds``) or a sweep preset (``tv_scaling``)
    from its output folder ``data_dir`` into ``out_dir``."""
    return importlib.import_module(f"{__name__}.fig_{name}").plot(data_dir, out_dir)
