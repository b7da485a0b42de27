"""Resumable parameter sweeps and log-log slope fits (§4.2 (a)–(b)).

A sweep is a list of tasks (dicts of parameters) and a function from a task to a result dict. Results
are appended one JSON line per task to ``<out>/results.jsonl`` (flushed and fsync'ed, so an interrupted
sweep loses at most the task in flight); a rerun skips the tasks already recorded. At the end the CSV
and JSON tables are written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import append_jsonl, atomic_write_text, drop_torn_tail, read_jsonl, restore_inf, strict_json, to_json

__all__ = ["run_sweep", "SlopeFit", "fit_loglog_slope", "tv_sweep_tasks", "tv_sweep_task",
           "tv_sweep_slopes", "rows_for"]


def _task_key(task: dict) -> str:
    return json.dumps(task, sort_keys=True, default=str)


def run_sweep(tasks: Iterable[dict], fn: Callable[[dict], dict], out_dir: str | Path, *,
              progress: bool = True, desc: str = "sweep") -> list[dict]:
    """Run a function over a list of tasks, resumably: one fsync'ed JSON line per finished task.

    Spec: §4.2 (a)–(b), §9. A rerun skips the tasks already in ``out_dir/results.jsonl``; at the end
    ``results.json`` and ``results.csv`` are written atomically.

    Parameters
    ----------
    tasks : iterable of dict
        JSON-serialisable parameters; each task's key is its sorted JSON.
    fn : callable
        Task → dict of results.
    out_dir : str or Path
        The results folder.
    progress : bool
        Show a progress bar.
    desc : str
        Its label.

    Returns
    -------
    list of dict
        One row per task, in task order (task fields, result fields and ``seconds``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     rows = run_sweep([{"x": 1}, {"x": 2}], lambda t: {"y": t["x"] ** 2}, d, progress=False)
    >>> [r["y"] for r in rows]
    [1, 4]
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "results.jsonl"
    done: dict[str, dict] = {}
    drop_torn_tail(log)
    if log.exists():
        for row in read_jsonl(log):
            done[row["_key"]] = restore_inf(row)
    tasks = list(tasks)
    todo = [t for t in tasks if _task_key(t) not in done]
    with open(log, "a") as fh:
        for task in tqdm(todo, desc=desc, disable=not progress, initial=len(tasks) - len(todo), total=len(tasks)):
            t0 = time.perf_counter()
            result = fn(task)
            row = {**task, **result, "seconds": time.perf_counter() - t0, "_key": _task_key(task)}
            append_jsonl(fh, row)
            done[row["_key"]] = restore_inf(strict_json(row))  # what a resumed run reads back
    rows = [done[_task_key(t)] for t in tasks]
    clean = [{k: v for k, v in r.items() if k != "_key"} for r in rows]
    atomic_write_text(out / "results.json", to_json(clean, indent=1))
    if clean:
        fields = list(dict.fromkeys(k for r in clean for k in r))  # rows of different task kinds: union of fields
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(clean)
        atomic_write_text(out / "results.csv", buf.getvalue())
    return clean


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit log y = intercept + slope · log x, with the slope's standard error (NaN, i.e.
    undefined, when two points fit exactly)."""

    slope: float
    intercept: float
    stderr: float
    n_points: int


def fit_loglog_slope(x, y) -> SlopeFit:
    """A least-squares line through (log x, log y), with the slope's standard error.

    Spec: §4.2 (b). Points with x ≤ 0 or y ≤ 0 are dropped.

    Parameters
    ----------
    x, y : array_like
        At least two positive points.

    Returns
    -------
    SlopeFit
        ``slope``, ``intercept``, ``stderr`` and ``n_points``.

    Raises
    ------
    ValueError
        If fewer than two points are usable.

    Examples
    --------
    >>> round(fit_loglog_slope([1, 2, 4], [1.0, 0.5, 0.25]).slope, 12)
    -1.0
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return SlopeFit(math.nan, math.nan, math.nan, int(ok.sum()))
    lx, ly = np.log(x[ok]), np.log(y[ok])
    A = np.stack([np.ones_like(lx), lx], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    n = lx.size
    if n > 2:
        resid = ly - A @ coef
        s2 = float(resid @ resid) / (n - 2)
        stderr = math.sqrt(s2 / float(((lx - lx.mean()) ** 2).sum()))
    else:  # two points fit exactly: the error of the slope is undefined, not zero
        stderr = math.nan
    return SlopeFit(slope=float(coef[1]), intercept=float(coef[0]), stderr=stderr, n_points=n)


# ---------------------------------------------------------------------------------------------
# the TV(MaskGIT, moment) sweep
def tv_sweep_tasks(*, family: str, n_values, k_values, alpha_values, vocab_values, reps: int = 1,
                   concentration: float = 1.0, seed: int = 0) -> list[dict]:
    """Grid of one-round TV tasks; combinations with k > N are skipped (an empty grid is refused)."""
    from .._validation import check_alpha, check_method, check_positive_int

    check_method(family, allowed=("dirichlet", "homogeneous"), name="family")
    for name, values, minimum in (("n_values", n_values, 1), ("k_values", k_values, 1), ("vocab_values", vocab_values, 2)):
        if not len(values):
            raise ValueError(f"{name} must not be empty")
        for v in values:
            check_positive_int(v, name=name, minimum=minimum)
    for a in alpha_values:
        check_alpha(a, name="alpha")
    check_positive_int(reps, name="reps")
    if not (math.isfinite(concentration) and concentration > 0):
        raise ValueError(f"concentration must be finite and > 0; got concentration={concentration!r}")
    tasks = []
    for V in vocab_values:
        for N in n_values:
            for k in k_values:
                if k > N:
                    continue
                for a in alpha_values:
                    for r in range(reps):
                        tasks.append(dict(family=family, n_masked=int(N), k=int(k), alpha=float(a),
                                          vocab_size=int(V), rep=r, concentration=float(concentration),
                                          seed=int(seed)))
    if not tasks:
        raise ValueError("the sweep has no tasks: every k exceeds every N")
    return tasks


def rows_for(task: dict) -> np.ndarray:
    """The prediction rows of a sweep task: Dirichlet(concentration) rows seeded by (seed, N, V, rep), or
    one Dirichlet row seeded by (seed, V, rep) repeated (homogeneous) — shared across k and α."""
    V, c = task["vocab_size"], task["concentration"]
    if task["family"] == "homogeneous":
        rng = np.random.default_rng([task["seed"], V, task["rep"], 1])
        return rng.dirichlet(np.full(V, c))[None, :]
    rng = np.random.default_rng([task["seed"], task["n_masked"], V, task["rep"]])
    return rng.dirichlet(np.full(V, c), size=task["n_masked"])


def tv_sweep_task(task: dict) -> dict:
    """Exact TV(MaskGIT, moment) and Σ_j m_j for one task."""
    from ..exact.distances import maskgit_moment_tv
    from ..exact.homogeneous import homogeneous_maskgit_moment_tv
    from ..exact.round_laws import moment_log_m

    rows = rows_for(task)
    if task["family"] == "homogeneous":
        r = homogeneous_maskgit_moment_tv(rows[0], n_masked=task["n_masked"], k=task["k"], alpha=task["alpha"])
        sum_m = task["n_masked"] * float(np.exp(moment_log_m(rows, task["alpha"]))[0])
    else:
        r = maskgit_moment_tv(rows, k=task["k"], alpha=task["alpha"])
        sum_m = float(np.exp(moment_log_m(rows, task["alpha"])).sum())
    return {"tv": r.tv, "quad_error": r.quad_error, "sum_m": sum_m, "route": r.route}


def tv_sweep_slopes(rows: list[dict]) -> dict:
    """Log-log slopes of mean TV in N (per k, α, V) and in k (per N, α, V)."""
    from collections import defaultdict

    mean: dict = defaultdict(list)
    for r in rows:
        mean[(r["n_masked"], r["k"], r["alpha"], r["vocab_size"])].append(r["tv"])
    avg = {key: float(np.mean(v)) for key, v in mean.items()}
    out = {"in_n": [], "in_k": []}
    groups_n: dict = defaultdict(list)
    groups_k: dict = defaultdict(list)
    for (N, k, a, V), tv in avg.items():
        groups_n[(k, a, V)].append((N, tv))
        groups_k[(N, a, V)].append((k, tv))
    for (k, a, V), pts in sorted(groups_n.items()):
        if len(pts) >= 2:
            x, y = zip(*sorted(pts))
            f = fit_loglog_slope(x, y)
            out["in_n"].append(dict(k=k, alpha=a, vocab_size=V, slope=f.slope, stderr=f.stderr, n_points=f.n_points))
    for (N, a, V), pts in sorted(groups_k.items()):
        if len(pts) >= 2:
            x, y = zip(*sorted(pts))
            f = fit_loglog_slope(x, y)
            out["in_k"].append(dict(n_masked=N, alpha=a, vocab_size=V, slope=f.slope, stderr=f.stderr,
                                    n_points=f.n_points))
    return out
