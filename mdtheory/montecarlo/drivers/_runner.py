"""The part every driver shares: run its tasks resumably and summarise them."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..sweeps import run_sweep


def run_driver(module, out_dir, *, preset: str, seed: int, device: str, progress: bool, executor=None) -> dict:
    """Run ``module`` (a driver exposing NAME, PRESETS, tasks, run_task, summarise) into ``out_dir``, its tasks
    computed by ``executor`` (:mod:`mdtheory.montecarlo.executors`; in this process by default)."""
    from ...sampling.rounds import check_device

    if preset not in module.PRESETS:
        raise ValueError(f"preset must be one of {', '.join(module.PRESETS)}; got {preset!r}")
    device = check_device(device)
    tasks = [{**task, "device": device} for task in module.tasks(preset, seed)]  # the device is in every task key
    rows = run_sweep(tasks, partial(module.run_task, device=device), Path(out_dir), progress=progress,
                     desc=module.NAME, executor=executor)
    return module.summarise(rows, out_dir)
