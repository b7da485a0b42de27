"""Do two runs of a driver agree within their Monte-Carlo error? (§9)

Used to check a run on another device (or another machine) against a reference run of the same preset and
seed. The two runs draw different random streams (CPU and CUDA generators differ), so their rows are not
equal; their estimates must agree within the standard errors the drivers record. For every statistic with
a standard error, z = (a − b)/√(se_a² + se_b²); the runs agree when every |z| stays below the two-sided
critical value at family-wise false-alarm rate ``false_alarm`` (Bonferroni over the statistics).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from scipy.stats import norm

__all__ = ["COMPARED", "run_statistics", "compare_runs"]

#: per driver: (rows or summary, the fields that identify a statistic, [(value field, standard-error field)])
COMPARED = {
    "quality": ("rows", ("model", "sampler", "alpha", "steps", "gamma", "cache_r"),
                [("entropy", "entropy_se"), ("fid", "fid_se")]),
    "kl_bounds": ("rows", ("model", "schedule", "steps"),
                  [("bound", "bound_se"), ("path_kl", "path_kl_se"), ("kl_8", "kl_8_se")]),
    "schedules": ("rows", ("model", "schedule", "steps"),
                  [("loss_curve_quantity", "loss_curve_quantity_se"), ("entropy", "entropy_se"), ("fid", "fid_se")]),
    # exact TVs along sampled trajectories: the fitted slopes in N, with their regression standard errors
    "real_asymptotics": ("fits", ("model", "alpha", "k"), [("slope_in_n", "slope_stderr")]),
}


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
    lists the statistics present in only one run (they make the runs disagree).
    """
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
