"""Performance benchmarks behind ``mdtheory bench`` (medians of repeated, warmed runs).

Each benchmark is a function ``fn(quick, device) -> dict`` registered in :data:`BENCHMARKS`; its result
records what it measured, the median seconds, the target where there is one, and the environment (machine,
device, versions, threads). ``run_benchmarks(out_dir=D)`` writes one file per benchmark, ``D/NAME.json``,
named after what it measures. The torch benchmarks run on the given device; the exact-law ones are numpy
and ignore it.

Targets: exact TV N = 1024, k = 2, V = 4 ≤ 30 s; k = 3 at N = 256; homogeneous N = 10⁴,
k = 64 ≤ 10 s; brute force vs quadrature crossover; sampler round throughput B = 64, N = 256,
V = 1024 against a plain multi-pass reference round (target ≥ 1.5×).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ._io import atomic_write_text, to_json

__all__ = ["run_benchmarks", "reference_maskgit_round", "BENCHMARKS", "environment"]


def _median_time(fn: Callable[[], object], *, repeats: int, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def reference_maskgit_round(logits: torch.Tensor, k: int, alpha: float, generator: torch.Generator):
    """Benchmark baseline only: the plain multi-pass MaskGIT round of common implementations
    (softmax → categorical → gather → log → add Gumbel → top-k), in the logits' dtype."""
    B, N, V = logits.shape
    probs = torch.softmax(logits, dim=-1)
    cand = torch.multinomial(probs.reshape(-1, V), 1, generator=generator).reshape(B, N)
    conf = torch.log(probs.gather(-1, cand.unsqueeze(-1)).squeeze(-1))
    u = torch.rand(B, N, generator=generator, dtype=logits.dtype, device=logits.device)
    conf = conf + alpha * -torch.log(-torch.log(u.clamp_min(1e-20)))
    pos = torch.topk(conf, k, dim=-1).indices
    return pos, cand.gather(1, pos)


def bench_tv_k2(quick: bool) -> dict:
    from .exact.distances import maskgit_moment_tv

    n = 256 if quick else 1024
    P = np.random.default_rng(0).dirichlet(np.ones(4), size=n)
    med, times = _median_time(lambda: maskgit_moment_tv(P, k=2, alpha=1.0), repeats=1 if quick else 3, warmup=0)
    r = maskgit_moment_tv(P, k=2, alpha=1.0) if quick else None
    return {"name": "exact_tv_k2", "n_masked": n, "k": 2, "vocab_size": 4, "median_s": med, "times_s": times,
            "target_s": 30.0, **({"tv": r.tv} if r else {})}


def bench_tv_k3(quick: bool) -> dict:
    from .exact.distances import maskgit_moment_tv

    n = 64 if quick else 256
    P = np.random.default_rng(0).dirichlet(np.ones(4), size=n)
    med, times = _median_time(lambda: maskgit_moment_tv(P, k=3, alpha=1.0), repeats=1, warmup=0)
    return {"name": "exact_tv_k3", "n_masked": n, "k": 3, "vocab_size": 4, "median_s": med, "times_s": times,
            "target_s": 30.0}


def bench_homogeneous(quick: bool) -> dict:
    from .exact.homogeneous import homogeneous_maskgit_moment_tv

    n, k = (1000, 16) if quick else (10_000, 64)
    p = [0.4, 0.3, 0.2, 0.1]
    med, times = _median_time(lambda: homogeneous_maskgit_moment_tv(p, n_masked=n, k=k, alpha=1.0),
                              repeats=1 if quick else 3, warmup=0)
    return {"name": "homogeneous_tv", "n_masked": n, "k": k, "vocab_size": 4, "median_s": med, "times_s": times,
            "target_s": 10.0}


def bench_crossover(quick: bool) -> dict:
    """Time of brute force vs quadrature for one law (V = 3, k = 2) as N grows; brute force is
    extrapolated (×V·N/(N−k) per extra position) past the largest N measured."""
    from .exact.round_laws import maskgit_round_law
    from .exact.oracle import maskgit_round_law_bruteforce

    rows = []
    n_max = 5 if quick else 7
    rng = np.random.default_rng(0)
    for n in range(3, n_max + 1):
        P = rng.dirichlet(np.ones(3), size=n)
        tb, _ = _median_time(lambda: maskgit_round_law_bruteforce(P, k=2, alpha=1.0), repeats=1, warmup=0)
        tq, _ = _median_time(lambda: maskgit_round_law(P, k=2, alpha=1.0), repeats=3)
        rows.append({"n_masked": n, "bruteforce_s": tb, "quadrature_s": tq})
    tb = rows[-1]["bruteforce_s"]
    n = n_max
    while tb < 3600.0:
        n += 1
        tb *= 3 * n / (n - 2)
        rows.append({"n_masked": n, "bruteforce_s_extrapolated": tb})
    return {"name": "crossover", "vocab_size": 3, "k": 2, "rows": rows,
            "bruteforce_infeasible_at_n": n, "note": "first N where brute force exceeds one hour (extrapolated)"}


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def bench_round_throughput(quick: bool, device: str = "cpu") -> dict:
    from .sampling.rounds import maskgit_round, moment_round

    B, N, V = (16, 128, 512) if quick else (64, 256, 1024)
    g = torch.Generator(device=device).manual_seed(0)
    logits = torch.randn(B, N, V, generator=g, device=device) * 3.0
    k, alpha = 16, 1.0
    reps = 3 if quick else 15

    def timed(fn):
        return _median_time(lambda: (fn(), _sync(device)), repeats=reps, warmup=2)[0]

    t_ref = timed(lambda: reference_maskgit_round(logits, k, alpha, g))
    t_mg = timed(lambda: maskgit_round(logits, k=k, alpha=alpha, generator=g))
    t_mg32 = timed(lambda: maskgit_round(logits, k=k, alpha=alpha, generator=g, noise_dtype=torch.float32))
    t_mo = timed(lambda: moment_round(logits, k=k, alpha=alpha, generator=g))
    return {"name": "round_throughput", "device": device, "batch": B, "n_masked": N, "vocab_size": V, "k": k,
            "threads": torch.get_num_threads(),
            "reference_samples_per_s": B / t_ref, "maskgit_samples_per_s": B / t_mg,
            "maskgit_float32_noise_samples_per_s": B / t_mg32, "moment_samples_per_s": B / t_mo,
            "speedup_maskgit_vs_reference": t_ref / t_mg, "speedup_moment_vs_reference": t_ref / t_mo,
            "median_s": {"reference": t_ref, "maskgit": t_mg, "maskgit_f32": t_mg32, "moment": t_mo}}


def bench_markov_profile(quick: bool) -> dict:
    from .profiles.closed_forms import markov_profile
    from .profiles.enumeration import efact
    from .rules.schedules import schedule_sizes

    n = 1000 if quick else 10_000
    sched = schedule_sizes("constant", seq_len=n, n_steps=64)
    rows = []
    for eps in (0.1, 0.01, 1e-4):
        med, times = _median_time(lambda: efact(markov_profile(n, eps), sched), repeats=3 if quick else 5)
        rows.append({"eps": eps, "median_s": med, "times_s": times})
    return {"name": "markov_profile_efact", "n": n, "rows": rows, "median_s": max(r["median_s"] for r in rows),
            "target_s": 1.0}


def bench_optimal_schedule(quick: bool) -> dict:
    from .profiles.closed_forms import markov_profile
    from .profiles.optimal_schedules import optimal_schedule

    n, K = (1024, 32) if quick else (4096, 64)
    pr = markov_profile(n, 0.05)
    med, times = _median_time(lambda: optimal_schedule(pr, K, method="monotone"), repeats=3, warmup=0)
    med_dp, times_dp = _median_time(lambda: optimal_schedule(pr, K, method="dp"), repeats=1, warmup=0)
    return {"name": "optimal_schedule_dp", "n": n, "n_steps": K, "median_s": med, "times_s": times,
            "plain_dp_median_s": med_dp, "speedup_vs_plain_dp": med_dp / med, "target_s": 10.0}


def bench_enumeration_profile(quick: bool) -> dict:
    from .profiles.enumeration import information_profile
    from .targets import dirichlet_joint

    rows = []
    for n, q in ((10, 2), (6, 3)) if quick else ((12, 2), (8, 3), (14, 2)):
        t = dirichlet_joint(n, q, rng=0)
        med, times = _median_time(lambda: information_profile(t), repeats=3)
        rows.append({"n": n, "q": q, "median_s": med, "times_s": times})
    return {"name": "enumeration_profile", "rows": rows, "median_s": rows[0]["median_s"], "target_s": 5.0}


def _grid_samplers(h: int, w: int, *, deterministic_only: bool) -> dict:
    from .rules.orders import halton_order, raster_order
    from .rules.samplers import CTS, EB, MaskGIT, Moment, UMoment
    from .rules.positions import ConfidenceRule, EntropyRule, FixedOrderRule, HybridRule, UniformRule

    halton = FixedOrderRule(tuple(int(i) for i in halton_order(h, w)))
    out = {"halton": CTS(halton), "raster": CTS(FixedOrderRule(tuple(int(i) for i in raster_order(h * w)))),
           "confidence": CTS(ConfidenceRule()), "entropy": CTS(EntropyRule()),
           "hybrid": CTS(HybridRule(ConfidenceRule(), halton, 0.5)), "eb": EB(1.0)}
    if not deterministic_only:
        out.update({"uniform": CTS(UniformRule()), "maskgit": MaskGIT(1.0), "moment": Moment(1.0),
                    "umoment": UMoment(1.0)})
    return out


def bench_output_laws_3x3(quick: bool) -> dict:
    import time

    from .multiround.output_laws import output_law
    from .targets import ising_grid

    g = ising_grid(3, 3, coupling=0.6, field=0.1)
    rows = []
    for name, s in _grid_samplers(3, 3, deterministic_only=quick).items():
        t0 = time.perf_counter()
        law = output_law(g, s, "cosine", n_steps=4)
        rows.append({"sampler": name, "seconds": time.perf_counter() - t0, "kl": law.kl, "path_kl": law.path_kl,
                     "n_states": law.n_states})
    return {"name": "output_laws_ising3x3", "schedule": "cosine, K=4", "rows": rows,
            "median_s": sum(r["seconds"] for r in rows), "target_s": 10.0}


def bench_path_formula_4x4(quick: bool) -> dict:
    import time

    from .multiround.output_laws import output_law
    from .targets import ising_grid

    h = 3 if quick else 4
    g = ising_grid(h, h, coupling=0.5, field=0.1)
    rows = []
    for name, s in _grid_samplers(h, h, deterministic_only=True).items():
        t0 = time.perf_counter()
        law = output_law(g, s, "cosine", n_steps=4)
        rows.append({"sampler": name, "seconds": time.perf_counter() - t0, "kl": law.kl, "path_kl": law.path_kl,
                     "n_states": law.n_states})
    return {"name": "path_formula_grid", "grid": f"{h}x{h}", "rows": rows,
            "median_s": sum(r["seconds"] for r in rows), "target_s": 60.0}


def bench_gumbel_law_large_vocab(quick: bool) -> dict:
    """Exact Gumbel-max law under float32 noise: the O(V) common-node route at GPT-2's V."""
    from .exact.finite_precision_noise import truncated_gumbel_max_law, zipf_logits
    from .sampling.rounds import gumbel_noise_range

    V = 10_000 if quick else 50_257
    lo, hi = gumbel_noise_range("float32")
    out = {"name": "gumbel_law_large_vocab", "vocab_size": V, "target_s": None}
    for tau in (0.5, 1.0):
        a = zipf_logits(V, 1.1) / tau
        med, times = _median_time(lambda: truncated_gumbel_max_law(a, lo, hi), repeats=3)
        out[f"median_s_tau{tau}"] = med
    flat = np.zeros(V)
    out["median_s_flat"], _ = _median_time(lambda: truncated_gumbel_max_law(flat, lo, hi), repeats=1, warmup=0)
    out["median_s"] = out["median_s_tau1.0"]
    return out


def _shipped(name: str):

    from .models import SHIPPED_CHECKPOINTS
    from .models.training import load_trained

    return load_trained(SHIPPED_CHECKPOINTS / name)[0]


def bench_sample_digits(quick: bool, device: str = "cpu") -> dict:
    """sample 1,000 digits with 8 MaskGIT steps (cosine) from the shipped model."""
    from .rules.samplers import MaskGIT
    from .sampling.loop import sample

    model = _shipped("digits").to(device)
    n = 200 if quick else 1000

    def run():
        sample(model.predictor(), seq_len=64, schedule="cosine", n_steps=8, sampler=MaskGIT(1.0), batch_size=n,
               mask_id=model.config.mask_id, generator=0, device=device)
        _sync(device)

    med, times = _median_time(run, repeats=3)
    return {"name": "sample_digits", "device": device, "n_samples": n, "n_steps": 8, "median_s": med,
            "times_s": times, "target_s": 30.0}


def bench_real_throughput(quick: bool, device: str = "cpu") -> dict:
    """sampling throughput (samples/s, rounds/s) of MaskGIT(α = 1), 8 cosine steps, on the real models: the
    shipped digits and text denoisers and AntiBERTy (120 residues, when its wheel is installed). On the CPU one
    batch each (1,000 sequences; AntiBERTy 64); on CUDA a sweep of batch sizes up to the memory limit (a batch
    that runs out of memory ends the sweep). Median of 3 runs each."""
    from .montecarlo.real_predictions import load_prediction_model
    from .montecarlo.sample_quality import generate, sampler_by_name

    cuda = torch.device(device).type == "cuda"
    out = {"name": "real_throughput", "device": device, "n_steps": 8, "rows": []}
    if cuda:
        batches = {"digits": (1000, 4000, 16000, 64000, 256000), "text": (1000, 4000, 16000, 64000, 256000),
                   "antiberty": (64, 256, 1024, 4096)}
    else:
        batches = {"digits": (1000,), "text": (1000,), "antiberty": (64,)}
    if quick:
        batches = {name: (b[0] // 5 if name != "antiberty" else 8,) for name, b in batches.items()}
    for name, sizes in batches.items():
        try:
            m = load_prediction_model(name, device)
        except ImportError:  # AntiBERTy's wheel is optional
            continue
        smp = sampler_by_name("maskgit", alpha=1.0, seq_len=m.seq_len, grid=m.grid)
        for n in sizes:
            try:
                med, _ = _median_time(lambda: (generate(m, smp, n_samples=n, n_steps=8, seed=0, device=device,
                                                        batch_size=n), _sync(device)), repeats=3)
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                out["rows"].append({"model": name, "batch": n, "out_of_memory": True})
                break
            out["rows"].append({"model": name, "batch": n, "samples_per_s": n / med, "rounds_per_s": 8 / med,
                                "median_s": med})
    for name in batches:
        rows = [r for r in out["rows"] if r["model"] == name and "samples_per_s" in r]
        if rows:
            best = max(rows, key=lambda r: r["samples_per_s"])
            out[f"{name}_samples_per_s"] = best["samples_per_s"]
            out[f"{name}_best_batch"] = best["batch"]
    out["median_s"] = next(r["median_s"] for r in out["rows"] if r["model"] == "digits")
    return out


def bench_partial_caching(quick: bool, device: str = "cpu") -> dict:
    """a moment-sampler run on the shipped text model (N = 64) with 8 coarse steps of 8 tokens,
    each split into r = 4 sub-steps: cached rows passes against 4 full passes per coarse step (the same
    trajectory length). Reports both medians, the ratio and the NFE in full-pass equivalents."""
    from .sampling.partial_caching import PartialCaching, sample_partial_caching
    from .rules.samplers import Moment

    model = _shipped("text").to(device)
    B = 64 if quick else 256
    out = {"name": "partial_caching", "device": device, "batch_size": B, "seq_len": 64, "coarse_steps": 8, "r": 4, "target_ratio": 2.0}
    for label, caching in (("cached", PartialCaching(r=4)), ("uncached", PartialCaching(r=4, refresh_every=1))):
        res = {}

        def run():
            res["r"] = sample_partial_caching(model, sampler=Moment(1.0), caching=caching, schedule=[8] * 8,
                                              batch_size=B, generator=0, device=device)
            _sync(device)

        out[f"median_s_{label}"], _ = _median_time(run, repeats=3)
        out[f"nfe_{label}"] = res["r"].nfe
    out["speedup"] = out["median_s_uncached"] / out["median_s_cached"]
    out["median_s"] = out["median_s_cached"]
    return out


def bench_train_digits(quick: bool) -> dict:
    """train the digits preset from scratch on this machine (target ≤ 5 min on 2 cores)."""
    import tempfile
    from dataclasses import replace

    from .models.training import TRAIN_PRESETS, train

    cfg = TRAIN_PRESETS["digits"]
    if quick:
        cfg = replace(cfg, steps=100)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        summary = train(cfg, d, progress=False)
        sec = time.perf_counter() - t0
    return {"name": "train_digits", "steps": cfg.steps, "median_s": sec, "target_s": 300.0,
            "held_out_loss": summary["held_out_loss"]}




def bench_verify_wall_time(quick: bool) -> dict:
    """``mdtheory verify`` from a cold start (a fresh process, an empty output folder), figures included: the
    wall time a new user waits for the README's first command. Target ≤ 90 s on 2 cores. Quick: the checks only."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "mdtheory", "verify", "--out", d, "--no-progress", "--json"]
        if quick:
            cmd.append("--no-figures")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        sec = time.perf_counter() - t0
    summary = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return {"name": "verify_wall_time", "figures": not quick, "median_s": sec, "times_s": [sec], "target_s": 90.0,
            "exit_code": proc.returncode, "passed": summary.get("passed"), "failed": summary.get("failed")}


def bench_cli_startup(quick: bool) -> dict:
    """``mdtheory --help`` and ``mdtheory profile --target markov --n 10000 --eps 0.05 --json`` in fresh
    processes (targets 0.5 s and 1 s); medians of 5 runs."""
    import subprocess
    import sys

    def run(argv):
        return _median_time(lambda: subprocess.run([sys.executable, "-m", "mdtheory", *argv], capture_output=True,
                                                   check=True), repeats=3 if quick else 5)

    help_s, help_times = run(["--help"])
    prof_s, prof_times = run(["profile", "--target", "markov", "--n", "10000", "--eps", "0.05", "--json"])
    return {"name": "cli_startup", "median_s": help_s, "times_s": help_times, "target_s": 0.5,
            "profile_median_s": prof_s, "profile_times_s": prof_times, "profile_target_s": 1.0}


BENCHMARKS = {
    "exact_tv_k2": bench_tv_k2,
    "exact_tv_k3": bench_tv_k3,
    "homogeneous_tv": bench_homogeneous,
    "crossover": bench_crossover,
    "round_throughput": bench_round_throughput,
    "markov_profile_efact": bench_markov_profile,
    "optimal_schedule_dp": bench_optimal_schedule,
    "enumeration_profile": bench_enumeration_profile,
    "output_laws_ising3x3": bench_output_laws_3x3,
    "path_formula_grid": bench_path_formula_4x4,
    "gumbel_law_large_vocab": bench_gumbel_law_large_vocab,
    "sample_digits": bench_sample_digits,
    "partial_caching": bench_partial_caching,
    "real_throughput": bench_real_throughput,
    "train_digits": bench_train_digits,
    "verify_wall_time": bench_verify_wall_time,
    "cli_startup": bench_cli_startup,
}


#: benchmarks that run on the requested device (the others are numpy and CPU-only)
DEVICE_BENCHMARKS = ("round_throughput", "sample_digits", "partial_caching", "real_throughput")


def environment(device: str = "cpu") -> dict:
    """Where a benchmark ran: machine, CPU count, device name, library versions, torch threads, date."""
    import numpy
    import scipy

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
    """Run the benchmarks named in ``only`` (all by default); write ``out_dir/NAME.json`` for each."""
    unknown = sorted(set(only or ()) - set(BENCHMARKS))
    if unknown:
        raise ValueError(f"unknown benchmark {unknown[0]!r}; allowed: {', '.join(BENCHMARKS)}")
    env = environment(device)
    results = []
    for name, fn in BENCHMARKS.items():
        if only and name not in only:
            continue
        r = fn(quick, device) if name in DEVICE_BENCHMARKS else fn(quick)
        r = {**r, "quick": quick, "environment": env}
        results.append(r)
        if echo:
            print(to_json({k: v for k, v in r.items() if k not in ("environment", "rows", "times_s")}))
        if out_dir is not None:
            atomic_write_text(Path(out_dir) / f"{name}.json", to_json(r, indent=1))
    return results
