"""The figures: one module per figure, each exposing ``main(out_dir, *, quick=False, seed=0) -> Path``.

``FIGURES`` lists them in the order ``mdtheory figures`` runs them. The figures of the Monte-Carlo drivers
also expose ``plot(data_dir, out_dir)``, which draws from a driver's output folder
(:func:`driver_figure`); so does the figure of a sweep preset (``fig_tv_scaling``). The top-level ``paper_figures/`` folder holds one thin entry script per figure.
"""

import importlib
from pathlib import Path

from .._validation import renamed_keywords

__all__ = ["FIGURES", "run_figures", "figure_caption", "driver_figure"]

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


@renamed_keywords(rng="seed")
def run_figures(out_dir: Path, *, quick: bool, only: list[str] | None = None, seed: int = 0,
                progress: bool = False) -> list[Path]:
    """Draw the figures named in ``only`` (all by default) into ``out_dir``; returns the PNG paths."""
    from tqdm.auto import tqdm

    names = [n for n in FIGURES if not only or n in only or n.removeprefix("fig_") in only]
    unknown = sorted(set(only or ()) - {n for n in FIGURES} - {n.removeprefix("fig_") for n in FIGURES})
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; allowed: "
                         f"{', '.join(n.removeprefix('fig_') for n in FIGURES)}")
    return [importlib.import_module(f"{__name__}.{name}").main(out_dir, quick=quick, seed=seed)
            for name in tqdm(names, desc="figures", disable=not progress)]


def figure_caption(name: str) -> str:
    """One line: what figure ``name`` shows (its title) and what to look for (its message)."""
    doc = importlib.import_module(f"{__name__}.{name}").__doc__ or name
    paragraphs = [" ".join(p.split()) for p in doc.strip().split("\n\n")]
    title = paragraphs[0]
    message = next((p.removeprefix("Message:").strip() for p in paragraphs if p.startswith("Message:")), "")
    first = message.split(". ")[0].rstrip(".") + "." if message else ""
    return f"{title} {('Look for: ' + first) if first else ''}".strip()
