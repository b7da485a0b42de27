"""Do two runs of a driver agree within their Monte-Carlo error? (§9)

Used to check a run on another device (or another machine) against a reference run of the same preset and
seed. The two runs draw different random streams (CPU and CUDA generators differ), so their rows are not
equal; their estimates must agree within the standard errors the drivers record. For every statistic with
a standard error, z = (a − b)/√(se_a² + se_b²); the runs agree when every |z| stays below the two-sided
critical value at family-wise false-alarm rate ``false_alarm`` (Bonferroni over the statistics).

The ``real_asymptotics`` driver fits slopes to exact TVs along a few sampled trajectories. Their regression
standard errors leave out how much the slope varies from one draw of trajectories to another, so they are
no Monte-Carlo errors and a z-test on them raises false alarms (CPU against CUDA: z = 3.87 against a
critical 3.66 on the smoke preset). Such runs are compared on the claims each supports instead
(:data:`CLAIMS`): both runs must support every one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from scipy.stats import norm

__all__ = ["COMPARED", "CLAIMS", "run_statistics", "run_claims", "compare_runs"]

#: per driver: (rows or summary, the fields that identify a statistic, [(value field, standard-error field)])
COMPARED = {
    "quality": ("rows", ("model", "sampler", "alpha", "steps", "gamma", "cache_r"),
                [("entropy", "entropy_se"), ("fid", "fid_se")]),
    "kl_bounds": ("rows", ("model", "schedule", "steps"),
                  [("bound", "bound_se"), ("path_kl", "path_kl_se"), ("kl_8", "kl_8_se")]),
    "schedules": ("rows", ("model", "schedule", "steps"),
                  [("loss_curve_quantity", "loss_curve_quantity_se"), ("entropy", "entropy_se"), ("fid", "fid_se")]),
}


def _real_asymptotics_claims(summary: dict) -> dict[str, bool]:
    """[H] Theorems 1–2 on real predictions, as the driver's summary supports them (§4.1, §4.2)."""
    from ...exact.moment_equivalence import MOMENT_EQUIVALENCE_C_REGRESSION

    claims = {}
    for f in summary["fits"]:
        claims[f"model={f['model']}, alpha={f['alpha']}, k={f['k']}: TV falls with N (slope + 3 se < 0)"] = (
            f["slope_in_n"] + 3 * f["slope_stderr"] < 0)
    for f in summary["k_slopes"]:
        claims[f"model={f['model']}, alpha={f['alpha']}: TV grows with k no faster than k²"] = 0 < f["slope_in_k"] <= 2
    claims[f"largest TV·M_rest/k² ≤ {MOMENT_EQUIVALENCE_C_REGRESSION}"] = summary["real_C"] <= MOMENT_EQUIVALENCE_C_REGRESSION
    for f in summary["temperature_fits"]:
        claims[f"model={f['model']}, alpha={f['alpha']}: position-law error of the implicit temperature falls "
               "with N (slope + 3 se < 0)"] = f["position_slope_in_n"] + 3 * f["position_slope_stderr"] < 0
    return claims


#: per driver without Monte-Carlo standard errors: its claims, from its ``summary.json``
CLAIMS = {"real_asymptotics": _real_asymptotics_claims}


def run_claims(name: str, run_dir) -> dict[str, bool]:
    """{claim: whether the run supports it} of a finished run of driver ``name`` (one of :data:`CLAIMS`)."""
    return CLAIMS[name](json.loads((Path(run_dir) / "summary.json").read_text()))


def run_statistics(name: str, run_dir) -> dict[str, tuple[float, float]]:
    """{statistic: (value, standard error)} of a finished run of driver ``name`` in ``run_dir``."""
    source, keys, fields = COMPARED[name]
    run_dir = Path(run_dir)
    if source == "rows":
        items = json.loads((run_dir / "results.json").read_text())
    else:
        items = json.loads((run_dir / "summary.json").read_text())[source]
    out = {}
    for item in items:
        ident = ", ".join(f"{k}={item.get(k)}" for k in keys)
        for value, se in fields:
            if item.get(value) is not None and item.get(se) is not None:
                out[f"{ident}: {value}"] = (float(item[value]), float(item[se]))
    return out


def compare_runs(name: str, reference_dir, other_dir, *, false_alarm: float = 1e-3) -> dict:
    """Compare two runs of driver ``name`` statistic by statistic (module doc).

    Returns ``{"driver", "compared", "critical_z", "max_abs_z", "worst", "agree", "missing"}``; ``missing``
    lists the statistics present in only one run (they make the runs disagree). For a driver of
    :data:`CLAIMS`: ``{"driver", "compared", "claims", "failed", "agree", "missing"}``, where ``failed`` lists
    the claims that either run does not support.
    """
    if name in CLAIMS:
        a, b = run_claims(name, reference_dir), run_claims(name, other_dir)
        common = sorted(set(a) & set(b))
        missing = sorted(set(a) ^ set(b))
        failed = [c for c in common if not (a[c] and b[c])]
        return {"driver": name, "compared": len(common), "claims": {c: [a[c], b[c]] for c in common},
                "failed": failed, "agree": bool(common) and not missing and not failed, "missing": missing}
    a, b = run_statistics(name, reference_dir), run_statistics(name, other_dir)
    common = sorted(set(a) & set(b))
    missing = sorted(set(a) ^ set(b))
    crit = float(norm.isf(false_alarm / (2 * max(len(common), 1))))
    zs = {}
    for key in common:
        (va, sa), (vb, sb) = a[key], b[key]
        scale = math.hypot(sa, sb)
        zs[key] = 0.0 if va == vb else (math.inf if scale == 0 else (va - vb) / scale)
    worst = max(zs, key=lambda k: abs(zs[k]), default=None)
    max_z = abs(zs[worst]) if worst else 0.0
    return {"driver": name, "compared": len(common), "critical_z": crit, "max_abs_z": max_z, "worst": worst,
            "agree": bool(common) and not missing and max_z <= crit, "missing": missing}
