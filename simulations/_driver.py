"""The part every driver shares: run its tasks resumably, summarise, draw its figure."""

from __future__ import annotations

import importlib
from pathlib import Path

from mdtheory.montecarlo.sweeps import run_sweep


def run_driver(module, out_dir, *, preset: str, seed: int, device: str, progress: bool) -> dict:
    """Run ``module`` (a driver exposing NAME, PRESETS, tasks, run_task, summarise) into ``out_dir``; its
    figure ``paper_figures/fig_NAME.py`` is drawn there too."""
    if preset not in module.PRESETS:
        raise ValueError(f"preset must be one of {', '.join(module.PRESETS)}; got {preset!r}")
    rows = run_sweep(module.tasks(preset, seed), lambda t: module.run_task(t, device), Path(out_dir),
                     progress=progress, desc=module.NAME)
    summary = module.summarise(rows, out_dir)
    plot = importlib.import_module(f"paper_figures.fig_{module.NAME}").plot
    summary["figure"] = str(plot(out_dir, out_dir))
    return summary
