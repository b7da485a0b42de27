"""One script per figure; each exposes ``main(out_dir, *, quick=False, rng=0) -> Path``.

``FIGURES`` lists them in the order ``mdtheory figures`` runs them.
"""

FIGURES = (
    "fig_tv_vs_n",
    "fig_tv_vs_k",
    "fig_implicit_temperature",
)
