"""Shared smoke data for the driver figures."""

from __future__ import annotations

import importlib
from pathlib import Path


def smoke_data(name: str, rng: int = 0) -> Path:
    """Run (or resume) driver ``name`` at the smoke preset where ``mdtheory simulate`` puts it, so verify,
    the tests and the CLI share one run (finished tasks are read back, which equals recomputing them)."""
    data_dir = Path("mdtheory-out") / "simulations" / f"{name}-smoke-seed{rng}"
    importlib.import_module(f"mdtheory.montecarlo.drivers.{name}").main(data_dir, preset="smoke", seed=rng, progress=False)
    return data_dir
