"""Does the data-driven loss-curve quantity order schedules by sample quality? (§5.3,
§5.6)

For the shipped digits and text models, each task is one :func:`mdtheory.montecarlo.sample_quality.schedule_quality`
row (cosine, constant, geometric (increasing) or data-driven optimal schedule): the loss-curve cost
Q = Σ_t k_t·CE_θ(s_{t−1}) (= E_learn + E_fact + H(π) for random order) with its standard error, and the
quality of random-order untempered CTS samples on that schedule (FID analogue for digits, gen-PPL for
text). ``summary.json`` gives, per model and K, :func:`mdtheory.montecarlo.sample_quality.order_schedule_rows`:
Kendall's τ between the two orders, and every pair of schedules whose Q differ by more than 3 combined
standard errors: a *violation* when the one with the larger Q has the better quality estimate, an
*agreement* or a *contradiction* when the quality scores themselves (FID bootstrap se, gen-PPL delta-method
se) separate the pair by more than 3 combined standard errors the same or the other way.

Presets: ``smoke`` (digits, K = 4, 300 samples, 200 draws per m) and ``paper`` (digits and text,
K ∈ {4, 8}, 1,000 samples, 1,000 draws per m).
"""

from __future__ import annotations

from pathlib import Path

from ..._io import atomic_write_text, to_json

NAME = "schedules"
SCHEDULES = ("cosine", "constant", "geometric", "data-driven")
PRESETS = {
    "smoke": {"models": ("digits",), "steps": (4,), "n": 300, "n_per_m": 200},
    "paper": {"models": ("digits", "text"), "steps": (4, 8), "n": 1000, "n_per_m": 1000},
}


def tasks(preset: str, seed: int) -> list[dict]:
    p = PRESETS[preset]
    return [{"model": m, "schedule": s, "steps": K, "n": p["n"], "n_per_m": p["n_per_m"], "seed": seed}
            for m in p["models"] for K in p["steps"] for s in SCHEDULES]


def run_task(task: dict, device: str = "cpu") -> dict:
    from ...montecarlo.sample_quality import schedule_quality

    return schedule_quality(task["model"], task["schedule"], n_steps=task["steps"], n_samples=task["n"],
                            n_per_m=task["n_per_m"], seed=task["seed"], device=device)


def summarise(rows: list[dict], out_dir) -> dict:
    from ...montecarlo.sample_quality import QUALITY_METRIC, order_schedule_rows

    out = []
    for model in sorted({r["model"] for r in rows}):
        metric = QUALITY_METRIC[model]
        all_k = sorted({r["steps"] for r in rows})
        for K in all_k + (["all"] if len(all_k) > 1 else []):  # "all": schedules pooled over step counts
            sel = [r for r in rows if r["model"] == model and K in (r["steps"], "all")]
            o = order_schedule_rows(sel, model, [f"{r['schedule']}/K={r['steps']}" if K == "all" else r["schedule"]
                                                 for r in sel])
            out.append({"model": model, "steps": K, "quality_metric": metric, "kendall_tau": o.kendall_tau,
                        "significant_pairs": o.significant_pairs, "violations": o.violations,
                        "agreements": o.agreements, "contradictions": o.contradictions,
                        "by_quantity": list(o.by_cost), "by_quality": list(o.by_quality)})
    summary = {"orderings": out}
    atomic_write_text(Path(out_dir) / "summary.json", to_json(summary, indent=1))
    return summary
