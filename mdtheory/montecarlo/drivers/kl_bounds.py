"""KL chain-rule bounds with trained models on known laws (§5.1, §5.3).

For the shipped Markov-chain and Ising models: random-order choose-then-sample with the model's own
conditionals, for cosine, arccos, constant (the linear γ(r) = 1 − r gives the same balanced sizes) and
data-driven optimal (DP on an independently estimated loss curve, :func:`mdtheory.montecarlo.model_loss_curve`)
schedules. Each task estimates (:func:`mdtheory.montecarlo.model_kl.kl_bound_check`) the data-driven bound
B = Σ k_t·CE_θ(s_{t−1}) − H(π) = E_learn + E_fact, the path KL (which must match B), and an upper
estimate KL_M of the sampler's KL(π ‖ p) (which must not exceed B), all with 99% CLT intervals.

Presets: ``smoke`` (both models, cosine and DP schedules, K = 8, 1,000 samples × 8 orders; ~1 min) and
``paper`` (K ∈ {4, 8, 16}, four schedules, 2,000 samples × 8 orders, 500 draws per m).
"""

from __future__ import annotations

from pathlib import Path

from ..._io import atomic_write_text, to_json

NAME = "kl_bounds"
PRESETS = {
    "smoke": {"models": ("markov", "ising"), "schedules": ("cosine", "data-driven"), "steps": (8,), "n": 1000, "orders": 8,
              "n_per_m": 300},
    "paper": {"models": ("markov", "ising"), "schedules": ("cosine", "arccos", "constant", "data-driven"), "steps": (4, 8, 16),
              "n": 2000, "orders": 8, "n_per_m": 500},
}


def tasks(preset: str, seed: int) -> list[dict]:
    p = PRESETS[preset]
    return [{"model": m, "schedule": s, "steps": K, "n": p["n"], "orders": p["orders"], "n_per_m": p["n_per_m"],
             "seed": seed} for m in p["models"] for s in p["schedules"] for K in p["steps"]]


def run_task(task: dict, device: str = "cpu") -> dict:
    from ...models.datasets import known_law_target
    from ...montecarlo.model_kl import kl_bound_check
    from ...profiles.optimal_schedules import data_driven_schedule
    from ...montecarlo.real_predictions import _shipped_denoiser, model_loss_curve
    from ...rules.schedules import as_schedule

    model = _shipped_denoiser(task["model"], device)
    N = model.config.seq_len
    if task["schedule"] == "data-driven":  # chosen on an independent estimate of the loss curve (one per model)
        sizes = data_driven_schedule(model_loss_curve(task["model"], n_per_m=task["n_per_m"],
                                                      seed=(task["seed"], 1), device=str(device)), task["steps"])
    else:
        sizes = as_schedule(task["schedule"], seq_len=N, n_steps=task["steps"])
    r = kl_bound_check(known_law_target(task["model"]), model.predictor(), mask_id=model.config.mask_id, sizes=sizes,
                       n_samples=task["n"], n_orders=task["orders"], n_per_m=task["n_per_m"], seed=task["seed"])
    return {**r, "sizes": [int(s) for s in sizes]}


def summarise(rows: list[dict], out_dir) -> dict:
    summary = {"all_hold": all(r["holds"] for r in rows), "all_path_match": all(r["path_matches_bound"] for r in rows),
               "min_margin_in_se": min(r["margin"] / r["margin_se"] for r in rows),
               "rows": [{k: r[k] for k in ("model", "schedule", "steps", "bound", "bound_se", "path_kl",
                                            f"kl_{r['orders']}", "margin", "margin_se")} for r in rows]}
    atomic_write_text(Path(out_dir) / "summary.json", to_json(summary, indent=1))
    return summary
