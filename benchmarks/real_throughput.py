"""Sampling throughput (samples/s, rounds/s) of MaskGIT(α = 1), 8 cosine steps, on the real models: the
shipped digits and text denoisers and AntiBERTy (120 residues, when its wheel is installed). On the CPU one
batch each (1,000 sequences; AntiBERTy 64); on CUDA a sweep of batch sizes up to the memory limit (a batch
that runs out of memory ends the sweep). Median of 3 runs each.

Run with ``mdtheory bench --only real_throughput``; the result is ``real_throughput.json``."""

from __future__ import annotations

import torch

from mdtheory.bench import median_time, sync_device


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.montecarlo.real_predictions import load_prediction_model
    from mdtheory.montecarlo.sample_quality import generate, sampler_by_name

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
                med, _ = median_time(lambda: (generate(m, smp, n_samples=n, n_steps=8, seed=0, device=device,
                                                        batch_size=n), sync_device(device)), repeats=3)
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
