"""The harness behind ``mdtheory bench``: it finds, runs and records the benchmarks of ``benchmarks/``.

Each benchmark is one file of the source checkout's ``benchmarks/`` folder, named after what it measures
(``benchmarks/exact_tv_k2.py``, ...), with ``run(quick, device) -> dict``; its result records what it
measured, the median seconds, the target where there is one, and the environment (machine, device,
versions, threads). ``run_benchmarks(out_dir=D)`` writes one file per benchmark, ``D/NAME.json``. The torch
benchmarks (:data:`DEVICE_BENCHMARKS`) run on the given device; the exact-law ones are numpy and ignore it.

The folder is the checkout's ``benchmarks/`` beside the package, or the one named by the environment
variable ``MDTHEORY_BENCHMARKS``; without one (an installed wheel) ``mdtheory bench`` is refused with
that message.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from ._io import atomic_write_text, to_json

__all__ = ["run_benchmarks", "BENCHMARKS", "DEVICE_BENCHMARKS", "environment", "median_time", "sync_device",
           "shipped_model", "load_benchmark", "benchmarks_folder"]

#: the benchmarks, in the order they run: each is ``benchmarks/NAME.py`` and writes ``NAME.json``
BENCHMARKS = ("exact_tv_k2", "exact_tv_k3", "homogeneous_tv", "crossover", "round_throughput",
              "markov_profile_efact", "optimal_schedule_dp", "enumeration_profile", "output_laws_ising3x3",
              "path_formula_grid", "gumbel_law_large_vocab", "sample_digits", "partial_caching", "real_throughput",
              "train_digits", "verify_wall_time", "cli_startup")

#: benchmarks that run on the requested device (the others are numpy and CPU-only)
DEVICE_BENCHMARKS = ("round_throughput", "sample_digits", "partial_caching", "real_throughput")


def median_time(fn: Callable[[], object], *, repeats: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones, and every time."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def sync_device(device: str) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously; a timer must not stop before it ends)."""
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def shipped_model(name: str):
    """The shipped trained checkpoint ``name`` (``digits``, ``text``), loaded on the CPU."""
    from .models import SHIPPED_CHECKPOINTS
    from .models.training import load_trained

    return load_trained(SHIPPED_CHECKPOINTS / name)[0]


def benchmarks_folder() -> Path:
    """The folder that holds the benchmark files (see the module's notes); ``ValueError`` if there is none."""
    env = os.environ.get("MDTHEORY_BENCHMARKS")
    folder = Path(env) if env else Path(__file__).resolve().parents[1] / "benchmarks"
    if not (folder / f"{BENCHMARKS[0]}.py").is_file():
        raise ValueError(f"benchmarks: no benchmark files in {folder}; run from a source checkout or set "
                         "MDTHEORY_BENCHMARKS to its benchmarks/ folder")
    return folder


def load_benchmark(name: str) -> ModuleType:
    """The module of benchmark ``name`` (``benchmarks/NAME.py``), loaded once."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; allowed: {', '.join(BENCHMARKS)}")
    key = f"mdtheory_benchmarks.{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, benchmarks_folder() / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
    return sys.modules[key]


def environment(device: str = "cpu") -> dict:
    """Where a benchmark ran: machine, CPU count, device name, library versions, torch threads, date."""
    import numpy
    import scipy
    import torch

    env = {"machine": platform.node() or "host", "platform": platform.platform(), "cpus": os.cpu_count(),
           "python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
           "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "device": device,
           "date": time.strftime("%Y-%m-%d")}
    if torch.device(device).type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def run_benchmarks(*, quick: bool = False, out_dir: str | Path | None = None, only: list[str] | None = None,
                   device: str = "cpu", echo: bool = True) -> list[dict]:
    """Run the benchmarks named in ``only`` (all by default); write ``out_dir/NAME.json`` for each.

    Examples
    --------
    >>> [r["name"] for r in run_benchmarks(quick=True, only=["crossover"], echo=False)]
    ['crossover']
    """
    unknown = sorted(set(only or ()) - set(BENCHMARKS))
    if unknown:
        raise ValueError(f"unknown benchmark {unknown[0]!r}; allowed: {', '.join(BENCHMARKS)}")
    names = [n for n in BENCHMARKS if not only or n in only]
    modules = {n: load_benchmark(n) for n in names}  # a missing folder is refused before any work
    env = environment(device)
    results = []
    for name in names:
        r = modules[name].run(quick, device if name in DEVICE_BENCHMARKS else "cpu")
        r = {**r, "quick": quick, "environment": env}
        results.append(r)
        if echo:
            print(to_json({k: v for k, v in r.items() if k not in ("environment", "rows", "times_s")}))
        if out_dir is not None:
            atomic_write_text(Path(out_dir) / f"{name}.json", to_json(r, indent=1))
    return results
