"""Does the data-driven loss-curve quantity order schedules by sample quality? (issue #6 groundwork;
THEORY.md §5.3, §5.6)

For the shipped digits and text models: the loss curve CE_θ(m) is estimated on held-out data
(:func:`mdtheory.profile_estimation.estimate_loss_curve`, CLT standard errors); for the cosine, constant,
geometric (increasing) and data-driven optimal schedules (DP on an *independent* curve estimate) the task
computes Q = Σ_t k_t·CE_θ(s_{t−1}) (= E_learn + E_fact + H(π) for random order) with its standard error,
generates samples with random-order untempered CTS (the sampler Q describes) on that schedule and scores
them (FID analogue for digits, gen-PPL for text). ``summary.json`` gives Kendall's τ between the order by
Q and the order by quality, per model and K, and checks every pair of schedules whose Q differ by more than
3 combined standard errors: the one with the larger Q must have the worse quality (a violation otherwise).

Presets: ``smoke`` (digits, K = 4, 300 samples, 200 draws per m) and ``paper`` (digits and text,
K ∈ {4, 8}, 1,000 samples, 1,000 draws per m).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mdtheory.sweeps import atomic_write_text

NAME = "schedules"
SCHEDULES = ("cosine", "constant", "geometric", "dp")
PRESETS = {
    "smoke": {"models": ("digits",), "steps": (4,), "n": 300, "n_per_m": 200},
    "paper": {"models": ("digits", "text"), "steps": (4, 8), "n": 1000, "n_per_m": 1000},
}


def tasks(preset: str, seed: int) -> list[dict]:
    p = PRESETS[preset]
    return [{"model": m, "schedule": s, "steps": K, "n": p["n"], "n_per_m": p["n_per_m"], "seed": seed}
            for m in p["models"] for K in p["steps"] for s in SCHEDULES]


_CURVES: dict = {}


def _curve(model: str, n_per_m: int, seed, device: str):
    key = (model, n_per_m, tuple(seed), device)
    if key not in _CURVES:
        _CURVES[key] = _estimate_curve(model, n_per_m, seed, device)
    return _CURVES[key]


def _estimate_curve(model: str, n_per_m: int, seed, device: str):
    from mdtheory.datasets import load_dataset
    from mdtheory.profile_estimation import estimate_loss_curve
    from mdtheory.real_predictions import load_prediction_model

    m = load_prediction_model(model, device)
    return estimate_loss_curve(m.predict, load_dataset(model).held_out, n_per_m=n_per_m, rng=seed)


def run_task(task: dict, device: str = "cpu") -> dict:
    from mdtheory.optimal_schedules import data_driven_schedule, geometric_schedule
    from mdtheory.real_predictions import load_prediction_model
    from mdtheory.sample_quality import generate, quality_metrics, sampler_by_name
    from mdtheory.schedules import as_schedule

    m = load_prediction_model(task["model"], device)
    N, K = m.seq_len, task["steps"]
    curve = _curve(task["model"], task["n_per_m"], [task["seed"], 0], device)
    if task["schedule"] == "dp":
        sizes = data_driven_schedule(_curve(task["model"], task["n_per_m"], [task["seed"], 1], device), K)
    elif task["schedule"] == "geometric":
        sizes = geometric_schedule(N, n_steps=K)
    else:
        sizes = as_schedule(task["schedule"], seq_len=N, n_steps=K)
    sizes = np.asarray(sizes, dtype=int)
    s_prev = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    q = float(sizes @ curve.values[s_prev])
    q_se = float(np.sqrt((sizes ** 2) @ (curve.stderr[s_prev] ** 2)))
    x, timing = generate(m, sampler_by_name("uniform", seq_len=N), n_samples=task["n"], n_steps=K,
                         schedule=[int(k) for k in sizes], seed=task["seed"], device=device)
    return {"sizes": [int(k) for k in sizes], "loss_curve_quantity": q, "loss_curve_quantity_se": q_se,
            **quality_metrics(task["model"], x), "samples_per_s": timing["samples_per_s"]}


def summarise(rows: list[dict], out_dir) -> dict:
    from scipy.stats import kendalltau

    out = []
    for model in sorted({r["model"] for r in rows}):
        metric = "fid" if model == "digits" else "gen_ppl"
        for K in sorted({r["steps"] for r in rows}):
            sel = [r for r in rows if r["model"] == model and r["steps"] == K]
            tau = kendalltau([r["loss_curve_quantity"] for r in sel], [r[metric] for r in sel]).statistic
            # pairs whose quantities differ by more than 3 combined standard errors must be ordered alike
            sig = viol = 0
            for a in sel:
                for b in sel:
                    d = b["loss_curve_quantity"] - a["loss_curve_quantity"]
                    if d > 3 * np.hypot(a["loss_curve_quantity_se"], b["loss_curve_quantity_se"]):
                        sig += 1
                        viol += int(b[metric] < a[metric])
            out.append({"model": model, "steps": K, "quality_metric": metric, "kendall_tau": float(tau),
                        "significant_pairs": sig, "violations": viol,
                        "by_quantity": [r["schedule"] for r in sorted(sel, key=lambda r: r["loss_curve_quantity"])],
                        "by_quality": [r["schedule"] for r in sorted(sel, key=lambda r: r[metric])]})
    summary = {"orderings": out}
    atomic_write_text(Path(out_dir) / "summary.json", json.dumps(summary, indent=1))
    return summary


def main(out_dir, *, preset: str = "smoke", seed: int = 0, device: str = "cpu", progress: bool = True) -> dict:
    import sys

    from ._driver import run_driver

    return run_driver(sys.modules[__name__], out_dir, preset=preset, seed=seed, device=device, progress=progress)
