"""One script per figure; each exposes ``main(out_dir, *, quick=False, rng=0) -> Path``.

``FIGURES`` lists them in the order ``mdtheory figures`` runs them.
"""

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
)
