"""Monte-Carlo experiment drivers on real models, run by ``mdtheory simulate NAME``.

Each driver module exposes ``NAME``, ``PRESETS`` (``smoke`` and ``paper``), ``tasks(preset, seed)``,
``run_task(task, device)`` and ``summarise(rows, out_dir)``; :func:`run_driver` runs any of them, resumably:
results are written atomically and resume after interruption. The top-level ``simulations/`` folder holds
one thin entry script per driver.

``SHIPPED_SMOKE/NAME`` holds the smoke preset's results (seed 0, CPU) as shipped with the package, with their
SHA-256 in ``SHIPPED_SMOKE/MANIFEST.json``: quick figures draw from them, and runs on other devices are
compared with them.
"""

import importlib
from functools import partial
from pathlib import Path

DRIVERS = ("real_asymptotics", "quality", "kl_bounds", "schedules")
SHIPPED_SMOKE = Path(__file__).resolve().parent / "smoke"

__all__ = ["DRIVERS", "SHIPPED_SMOKE", "run_driver", "shipped_smoke"]


def run_driver(name: str, out_dir, *, preset: str = "smoke", seed: int = 0, device: str = "cpu",
               progress: bool = True, executor=None) -> dict:
    """Run (or resume) driver ``name`` into ``out_dir``; returns its summary. ``executor``
    (:mod:`mdtheory.sweeps.executors`) says where its tasks run: in this process by default."""
    from ...sampling.primitives import check_device
    from ...sweeps.runner import run_sweep

    if name not in DRIVERS:
        raise ValueError(f"unknown driver {name!r}; allowed: {', '.join(DRIVERS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    if preset not in module.PRESETS:
        raise ValueError(f"preset must be one of {', '.join(module.PRESETS)}; got {preset!r}")
    device = check_device(device)
    tasks = [{**task, "device": device} for task in module.tasks(preset, seed)]  # the device is in every task key
    rows = run_sweep(tasks, partial(module.run_task, device=device), Path(out_dir), progress=progress,
                     desc=module.NAME, executor=executor)
    return module.summarise(rows, out_dir)


def shipped_smoke(name: str) -> Path:
    """The folder of driver ``name``'s shipped smoke results, after checking every file against the SHA-256
    recorded in ``SHIPPED_SMOKE/MANIFEST.json`` (a mismatch raises ``ValueError``)."""
    import hashlib
    import json

    if name not in DRIVERS:
        raise ValueError(f"unknown driver {name!r}; allowed: {', '.join(DRIVERS)}")
    manifest = json.loads((SHIPPED_SMOKE / "MANIFEST.json").read_text())["sha256"]
    for rel, digest in manifest.items():
        if rel.startswith(f"{name}/"):
            if hashlib.sha256((SHIPPED_SMOKE / rel).read_bytes()).hexdigest() != digest:
                raise ValueError(f"shipped smoke results {SHIPPED_SMOKE / rel} do not match their recorded SHA-256")
    return SHIPPED_SMOKE / name
