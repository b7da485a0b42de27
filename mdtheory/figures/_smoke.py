"""Where the figures of the Monte-Carlo drivers get their data."""

from __future__ import annotations

from pathlib import Path

from ..montecarlo.drivers import run_driver, shipped_smoke


def driver_data(name: str, out_dir, *, quick: bool, seed: int = 0) -> Path:
    """Quick figures of seed 0 draw from the shipped smoke results (hash-checked; nothing is simulated);
    otherwise the driver's smoke preset runs (or resumes) into ``out_dir/NAME_data``."""
    if quick and seed == 0:
        return shipped_smoke(name)
    data_dir = Path(out_dir) / f"{name}_data"
    run_driver(name, data_dir, preset="smoke", seed=seed, progress=False)
    return data_dir
