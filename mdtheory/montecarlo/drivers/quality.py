"""Sample quality against α, steps, γ and partial caching on real models (the
analogue of [H]'s image and text tables).

One task = (model, sampler, α, γ, steps, caching r): generate ``n`` samples with a seeded generator, score
them (:func:`mdtheory.montecarlo.sample_quality.quality_metrics`) and record throughput (samples/s, rounds/s) and NFE.
Results are appended one fsync'ed JSON line per task (resume after interruption).

Presets: ``smoke`` (digits; MaskGIT, moment and U-moment at α ∈ {0.5, 4}, uniform, Halton, hybrid γ = 0.5;
moment with partial caching r = 4; 8 steps; 400 samples each; under a minute on 2 cores) and ``paper``
(digits, text and AntiBERTy; α ∈ {0.25, 0.5, 1, 2, 4}; steps ∈ {4, 8, 16}; γ ∈ {0, 0.25, 0.5, 0.75, 1};
caching r ∈ {1, 2, 4, 8}; 1,000 samples for digits and text). AntiBERTy costs ~4 s per 64-sequence forward on
2 CPU cores, so its paper grid is thinner: 64 samples, the α grid at 8 steps and α = 1 at 4 and 16 steps,
pseudo-log-likelihood over 12 seeded positions, plus pairwise identity and the recovery of 30% masked
residues of the 12 held-out variable domains.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...montecarlo.real_predictions import load_prediction_model
from ...montecarlo.sample_quality import generate, quality_metrics, sampler_by_name
from ..._io import atomic_write_text, to_json

NAME = "quality"
PRESETS = {
    "smoke": {"models": ("digits",), "alphas": (0.5, 4.0), "steps": (8,), "gammas": (0.5,), "cache_r": (4,),
              "n": {"digits": 400}},
    "paper": {"models": ("digits", "text", "antiberty"), "alphas": (0.25, 0.5, 1.0, 2.0, 4.0), "steps": (4, 8, 16),
              "gammas": (0.0, 0.25, 0.5, 0.75, 1.0), "cache_r": (1, 2, 4, 8),
              "n": {"digits": 1000, "text": 1000, "antiberty": 64},
              "alpha_steps": {"antiberty": (8,)}, "pll_positions": 12},
}


def tasks(preset: str, seed: int) -> list[dict]:
    p = PRESETS[preset]
    out = []
    for model in p["models"]:
        base = {"model": model, "n": p["n"][model], "seed": seed, "gamma": None, "cache_r": None}
        if model == "antiberty":
            base["pll_positions"] = p.get("pll_positions", 24)
        alpha_steps = p.get("alpha_steps", {}).get(model, p["steps"])  # elsewhere α = 1 only
        for steps in p["steps"]:
            alphas = p["alphas"] if steps in alpha_steps else (1.0,)
            for name in ("maskgit", "moment", "umoment"):
                out += [{**base, "sampler": name, "alpha": a, "steps": steps} for a in alphas]
            out += [{**base, "sampler": name, "alpha": None, "steps": steps} for name in ("uniform", "halton")]
        mid = p["steps"][len(p["steps"]) // 2]
        out += [{**base, "sampler": "hybrid", "alpha": 1.0, "gamma": g, "steps": mid} for g in p["gammas"]]
        if model != "antiberty":
            out += [{**base, "sampler": "moment", "alpha": 1.0, "steps": mid, "cache_r": r} for r in p["cache_r"]]
        else:  # recovery of 30% masked residues of the held-out antibodies
            rec = {**base, "recovery": True, "steps": mid}
            out += [{**rec, "sampler": name, "alpha": a} for name in ("maskgit", "moment", "umoment")
                    for a in p["alphas"]]
            out += [{**rec, "sampler": "uniform", "alpha": None}]
    return out


def run_task(task: dict, device: str = "cpu") -> dict:
    from ...sampling.partial_caching import PartialCaching

    m = load_prediction_model(task["model"], device)
    # None means "not a parameter of this sampler"; 0 is a real γ (pure exploration order)
    smp = sampler_by_name(task["sampler"], alpha=1.0 if task["alpha"] is None else task["alpha"],
                          gamma=0.5 if task["gamma"] is None else task["gamma"],
                          seq_len=m.seq_len, grid=m.grid)
    if task.get("recovery"):
        from ...models.hf import HELD_OUT_ANTIBODIES
        from ...montecarlo.sample_quality import masked_recovery

        seqs = [m.predict.encode(s) for s in HELD_OUT_ANTIBODIES.values()]
        return masked_recovery(m, smp, seqs, n_steps=task["steps"], seed=task["seed"], device=device)
    caching = PartialCaching(r=task["cache_r"]) if task["cache_r"] else None
    # a cached run keeps the coarse schedule and splits each step into r sub-steps (trajectory length steps·r)
    x, timing = generate(m, smp, n_samples=task["n"], n_steps=task["steps"], seed=task["seed"], device=device,
                         caching=caching)
    return {**quality_metrics(task["model"], x, pll_positions=task.get("pll_positions", 24)), **timing,
            "device": str(device)}


def summarise(rows: list[dict], out_dir) -> dict:
    """The quality table (one line per task) as Markdown, plus the temperature trend per sampler."""
    lines = ["| model | sampler | α | γ | steps | cache r | entropy ± se | FID* | IS* | gen-PPL | PLL | identity | samples/s | NFE |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def f(v, fmt):
        return "—" if v is None else format(v, fmt)

    for r in rows:
        if r.get("recovery"):
            continue
        lines.append(f"| {r['model']} | {r['sampler']} | {f(r['alpha'], 'g')} | {f(r['gamma'], 'g')} | {r['steps']} | "
                     f"{f(r['cache_r'], 'd')} | {r['entropy']:.3f} ± {r['entropy_se']:.3f} | {f(r.get('fid'), '.2f')} | "
                     f"{f(r.get('inception_score'), '.2f')} | {f(r.get('gen_ppl'), '.2f')} | {f(r.get('pll'), '.3f')} | "
                     f"{f(r.get('pairwise_identity'), '.3f')} | {r['samples_per_s']:.0f} | "
                     f"{r['nfe']:.2f} |")
    atomic_write_text(Path(out_dir) / "quality.md", "\n".join(lines) + "\n")
    trends = []
    for model in sorted({r["model"] for r in rows}):
        for name in ("maskgit", "moment", "umoment"):
            sel = sorted((r["alpha"], r["entropy"], r["entropy_se"]) for r in rows
                         if r["model"] == model and r["sampler"] == name and r["cache_r"] is None
                         and not r.get("recovery"))
            if len(sel) >= 2:
                lo, hi = sel[0], sel[-1]
                trends.append({"model": model, "sampler": name, "alpha_low": lo[0], "alpha_high": hi[0],
                               "entropy_gain": hi[1] - lo[1], "se": float(np.hypot(lo[2], hi[2]))})
    recovery = [{k: r[k] for k in ("sampler", "alpha", "recovery", "recovery_se")} for r in rows if r.get("recovery")]
    summary = {"tasks": len(rows), "temperature_trends": trends, "antibody_recovery": recovery}
    atomic_write_text(Path(out_dir) / "summary.json", to_json(summary, indent=1))
    return summary
