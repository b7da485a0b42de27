"""Theorem 2 and Theorem 1 on real predictions (§4.1, §4.2).

Runs MaskGIT (α = 1, cosine, 8 steps) with a real model along seeded trajectories, and at every round
computes, from the model's own p_i over the still-masked positions, the exact TV(MaskGIT, moment) for
each k (with TV·M_rest/k², the Theorem 2 constant on that round) and, at k = 1, the exact errors of the
implicit-temperature prediction. One task = (model, trajectory, round, k, α); results are appended one
fsync'ed JSON line per task, so an interrupted run resumes where it stopped.

For larger k (4 and 8) the exact route is out of reach; Monte-Carlo tasks estimate the TV between the
samplers' position-inclusion laws and (position, token) laws instead (lower bounds on the full TV, with
rigorous half-widths; :func:`mdtheory.montecarlo.real_predictions.marginal_tv_mc`), checked against the exact values
of the same statistics in the tests.

Presets: ``smoke`` (digits and text, 1 trajectory, k ∈ {1, 2}, α = 1; ~1 min on 2 cores) and ``paper``
(digits, text and AntiBERTy, 2 trajectories, k ∈ {1, 2, 3}, α ∈ {0.5, 1, 2}; k = 3 only where the table
has at most 40 masked positions and V ≤ 20, where the exact route stays under a minute).
"""

from __future__ import annotations

from pathlib import Path

from ...montecarlo.real_predictions import (load_prediction_model, record_trajectory_predictions, round_temperature_record,
                                       round_tv_record)
from ...sweeps.fits import fit_loglog_slope
from ..._io import atomic_write_text, to_json

NAME = "real_asymptotics"
PRESETS = {
    "smoke": {"models": ("digits", "text"), "trajectories": 1, "k": (1, 2), "alpha": (1.0,),
              "mc_k": (4,), "mc_rounds": (0,), "mc_draws": 20_000},
    "paper": {"models": ("digits", "text", "antiberty"), "trajectories": 2, "k": (1, 2, 3), "alpha": (0.5, 1.0, 2.0),
              "mc_k": (4, 8), "mc_rounds": (0, 2, 4), "mc_draws": 100_000},
}
N_STEPS = 8
_CACHE: dict = {}


def _rounds(model: str, trajectories: int, seed: int, device: str):
    key = (model, trajectories, seed, device)
    if key not in _CACHE:
        from ...rules.samplers import MaskGIT

        m = load_prediction_model(model, device)
        _CACHE[key] = record_trajectory_predictions(m, sampler=MaskGIT(1.0), n_steps=N_STEPS,
                                                    n_trajectories=trajectories, seed=seed, device=device)
    return _CACHE[key]


def tasks(preset: str, seed: int) -> list[dict]:
    p = PRESETS[preset]
    out = []
    for model in p["models"]:
        for traj in range(p["trajectories"]):
            for rnd in range(N_STEPS):
                for k in p["k"]:
                    for alpha in p["alpha"]:
                        out.append({"model": model, "trajectory": traj, "round": rnd, "k": k, "alpha": alpha,
                                    "trajectories": p["trajectories"], "seed": seed})
            for rnd in p["mc_rounds"]:  # larger k: Monte Carlo of the inclusion and (position, token) laws
                for k in p["mc_k"]:
                    out.append({"model": model, "trajectory": traj, "round": rnd, "k": k, "alpha": 1.0,
                                "trajectories": p["trajectories"], "seed": seed, "mc_draws": p["mc_draws"]})
    return out


def run_task(task: dict, device: str = "cpu") -> dict:
    recs = [r for r in _rounds(task["model"], task["trajectories"], task["seed"], device)
            if r.trajectory == task["trajectory"] and r.round == task["round"]]
    probs = recs[0].probs
    n, V = probs.shape
    if task.get("mc_draws"):
        from ...montecarlo.real_predictions import marginal_tv_mc

        return {"vocab_size": V, "skipped": False, "mc": True, "n_masked": n,
                **marginal_tv_mc(probs, k=task["k"], alpha=task["alpha"], n_draws=task["mc_draws"], seed=task["seed"],
                                 device=device)}
    if task["k"] >= n or (task["k"] == 3 and (n > 40 or V > 20)):
        return {"n_masked": n, "vocab_size": V, "skipped": True}
    row = {"vocab_size": V, "skipped": False, **round_tv_record(probs, k=task["k"], alpha=task["alpha"])}
    if task["k"] == 1:
        row.update({f"temp_{k}": v for k, v in round_temperature_record(probs, alpha=task["alpha"]).items()
                    if k != "n_masked"})
    return row


def summarise(rows: list[dict], out_dir) -> dict:
    """Per (model, k, α): log-log slope of TV in n_masked, the largest TV·M_rest/k²; per model and α: the
    slope in k at the first round and the slopes in n_masked of the exact implicit-temperature errors
    (position law vs m_i/Σm, token law vs p^β/m; k = 1); written to ``summary.json``."""
    from ...exact.moment_equivalence import moment_equivalence_constant_fit

    summary_mc = [{k: r[k] for k in ("model", "trajectory", "round", "k", "n_masked", "inclusion_tv", "inclusion_half",
                                     "pair_tv", "pair_half")} for r in rows if r.get("mc")]
    live = [r for r in rows if not r.get("skipped") and not r.get("mc")]
    summary = {"fits": [], "k_slopes": [], "monte_carlo": summary_mc}
    for model in sorted({r["model"] for r in live}):
        for alpha in sorted({r["alpha"] for r in live}):
            for k in sorted({r["k"] for r in live}):
                sel = [r for r in live if r["model"] == model and r["alpha"] == alpha and r["k"] == k]
                if len(sel) < 2:
                    continue
                fit = fit_loglog_slope([r["n_masked"] for r in sel], [r["tv"] for r in sel])
                summary["fits"].append({"model": model, "alpha": alpha, "k": k, "slope_in_n": fit.slope,
                                        "slope_stderr": fit.stderr, "points": fit.n_points,
                                        "max_c_ratio": max(r["c_ratio"] for r in sel),
                                        "max_quad_error": max(r["quad_error"] for r in sel)})
            first = [r for r in live if r["model"] == model and r["alpha"] == alpha and r["round"] == 0]
            for traj in sorted({r["trajectory"] for r in first}):
                pts = sorted((r["k"], r["tv"]) for r in first if r["trajectory"] == traj)
                if len(pts) >= 2:
                    fit = fit_loglog_slope([p[0] for p in pts], [p[1] for p in pts])
                    summary["k_slopes"].append({"model": model, "alpha": alpha, "trajectory": traj,
                                                "slope_in_k": fit.slope})
    # Theorem 1 (implicit temperature, k = 1): the exact position- and token-law errors against N
    summary["temperature_fits"] = []
    for model in sorted({r["model"] for r in live}):
        for alpha in sorted({r["alpha"] for r in live}):
            sel = [r for r in live if r["model"] == model and r["alpha"] == alpha and "temp_position_tv" in r]
            if len(sel) < 2:
                continue
            n = [r["n_masked"] for r in sel]
            pos, tok = (fit_loglog_slope(n, [r[f"temp_{key}"] for r in sel])
                        for key in ("position_tv", "token_tv_weighted"))
            small, large = min(sel, key=lambda r: r["n_masked"]), max(sel, key=lambda r: r["n_masked"])
            summary["temperature_fits"].append({
                "model": model, "alpha": alpha, "position_slope_in_n": pos.slope, "position_slope_stderr": pos.stderr,
                "token_slope_in_n": tok.slope, "token_slope_stderr": tok.stderr, "points": pos.n_points,
                "position_tv_at_min_n": [small["n_masked"], small["temp_position_tv"]],
                "position_tv_at_max_n": [large["n_masked"], large["temp_position_tv"]]})
    summary["synthetic_C"] = moment_equivalence_constant_fit()["C"]
    summary["real_C"] = max((f["max_c_ratio"] for f in summary["fits"]), default=float("nan"))
    atomic_write_text(Path(out_dir) / "summary.json", to_json(summary, indent=1))
    return summary
