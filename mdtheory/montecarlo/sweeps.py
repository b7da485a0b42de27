"""Resumable parameter sweeps and log-log slope fits (§4.2 (a)–(b)).

A sweep is a list of tasks (dicts of parameters) and a function from a task to a result dict. Results
are appended one JSON line per task to ``<out>/results.jsonl`` (flushed and fsync'ed, so an interrupted
sweep loses at most the task in flight); a rerun skips the tasks already recorded. At the end the CSV
and JSON tables are written atomically (temporary file + ``os.replace``), and ``run.json`` gains one entry
for the run: where it ran (:mod:`mdtheory.montecarlo.executors`), the tasks it computed and its wall-clock.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .._io import append_jsonl, atomic_write_text, drop_torn_tail, read_jsonl, restore_inf, strict_json, to_json

__all__ = ["run_sweep", "SlopeFit", "fit_loglog_slope", "tv_sweep_tasks", "tv_sweep_task",
           "tv_sweep_slopes", "rows_for", "TV_SCALING", "tv_scaling_tasks"]


def _timed(fn, task: dict, threads: int) -> tuple[dict, float]:
    """``fn(task)`` on ``threads`` BLAS, OpenMP and torch threads, and the seconds it took, measured where it
    ran (picklable for worker processes).

    The thread count is pinned because it changes the rounding of parallel reductions: with it fixed, a
    row is bit-for-bit the same in this process, in a worker process or on a Dask worker. A task with a
    ``device`` runs torch, so torch is imported (and pinned) before it starts.
    """
    from threadpoolctl import threadpool_limits

    torch = None
    if "device" in task or "torch" in sys.modules:
        import torch
    previous = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            t0 = time.perf_counter()
            result = fn(task)
            return result, time.perf_counter() - t0
        finally:
            if torch is not None:
                torch.set_num_threads(previous)


def _record_run(path: Path, run: dict) -> None:
    """Append this invocation's timing to ``run.json`` (one entry per run or resumed run)."""
    runs = []
    if path.exists():
        try:
            runs = json.loads(path.read_text())["runs"]
        except (ValueError, KeyError, TypeError):  # a file from elsewhere: start a new record
            runs = []
    atomic_write_text(path, to_json({"runs": [*runs, run]}, indent=1))


def _task_key(task: dict) -> str:
    return json.dumps(task, sort_keys=True, default=str)


def run_sweep(tasks: Iterable[dict], fn: Callable[[dict], dict], out_dir: str | Path, *,
              progress: bool = True, desc: str = "sweep", executor=None) -> list[dict]:
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
    executor : Executor, optional
        Where the tasks run (:mod:`mdtheory.montecarlo.executors`; in this process by default). Rows come back
        in any order and only this process writes the log, so each task's row is written exactly once. ``fn``
        must then be picklable (a module-level function or a ``functools.partial`` of one). Each task runs
        on the executor's ``threads`` BLAS, OpenMP and torch threads (1 by default): with the thread count
        pinned, every row is bit-for-bit the same whatever the executor and however many workers.

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

    from .executors import InProcess

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "results.jsonl"
    done: dict[str, dict] = {}
    drop_torn_tail(log)
    if log.exists():
        for row in read_jsonl(log):
            done[row["_key"]] = restore_inf(row)
    tasks = list(tasks)
    todo, queued = [], set()
    for t in tasks:  # tasks not yet in the log, each once
        key = _task_key(t)
        if key not in done and key not in queued:
            todo.append(t)
            queued.add(key)
    executor = executor or InProcess()
    threads = executor.threads
    started, t0, task_seconds = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter(), 0.0
    with open(log, "a") as fh, tqdm(desc=desc, disable=not progress, initial=len(tasks) - len(todo),
                                    total=len(tasks), unit="task") as bar:
        for i, (result, seconds) in executor.map_unordered(partial(_timed, fn, threads=threads), todo):
            key = _task_key(todo[i])
            if key in done:  # a retried task that had already reported: keep the first row
                continue
            row = {**todo[i], **result, "seconds": seconds, "_key": key}
            append_jsonl(fh, row)
            done[key] = restore_inf(strict_json(row))  # what a resumed run reads back
            task_seconds += seconds
            bar.update(1)
    rows = [done[_task_key(t)] for t in tasks]
    _record_run(out / "run.json", {**executor.describe(), "started": started, "tasks": len(tasks),
                                   "computed": len(todo), "wall_seconds": time.perf_counter() - t0,
                                   "task_seconds": task_seconds, "cpus": os.cpu_count()})
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
    """Log-log slopes of the mean TV in N (per family, k, α, V) and in k (per family, N, α, V).

    Spec: §4.2 (b). Lines with fewer than two points are left out; a two-point slope has an undefined
    (NaN) standard error.
    """
    from collections import defaultdict

    mean: dict = defaultdict(list)
    for r in rows:
        mean[(r["family"], r["n_masked"], r["k"], r["alpha"], r["vocab_size"])].append(r["tv"])
    avg = {key: float(np.mean(v)) for key, v in mean.items()}
    groups_n: dict = defaultdict(list)
    groups_k: dict = defaultdict(list)
    for (fam, N, k, a, V), tv in avg.items():
        groups_n[(fam, k, a, V)].append((N, tv))
        groups_k[(fam, N, a, V)].append((k, tv))

    def fits(groups: dict, names: tuple[str, ...]) -> list[dict]:
        out = []
        for key, pts in sorted(groups.items()):
            if len(pts) >= 2:
                f = fit_loglog_slope(*zip(*sorted(pts)))
                out.append(dict(zip(names, key), slope=f.slope, stderr=f.stderr, n_points=f.n_points))
        return out

    return {"in_n": fits(groups_n, ("family", "k", "alpha", "vocab_size")),
            "in_k": fits(groups_k, ("family", "n_masked", "alpha", "vocab_size"))}


#: the grids of the TV-scaling sweep (``mdtheory sweep tv --preset scaling``)
TV_SCALING = {
    "alphas": (0.5, 1.0, 2.0), "vocab_sizes": (2, 4),
    "k2_n": tuple(2 ** e for e in range(4, 13)),  # N = 16 … 4096 at k = 2
    "k3_n": tuple(2 ** e for e in range(4, 9)),  # N = 16 … 256 at k = 3
    "homogeneous_n": 4096,  # the homogeneous route: k = 1, 2, 4, … while the memory estimate fits
}


def tv_scaling_tasks(*, seed: int = 0, max_bytes: float | None = None) -> tuple[list[dict], list[dict]]:
    """The TV-scaling sweep: exact TV(MaskGIT, moment) in N and in k, and the homogeneous route up to the
    largest k whose memory estimate fits.

    Spec: §3.5, §4.2. Dirichlet(1) rows at k = 2 for N = 16 … 4096 and at k = 3 for N = 16 … 256; one
    shared Dirichlet(1) row at N = 4096 for k = 1, 2, 4, … (homogeneous reduction); V ∈ {2, 4} and
    α ∈ {0.5, 1, 2} throughout (:data:`TV_SCALING`).

    Parameters
    ----------
    seed : int
        Seeds the rows.
    max_bytes : float, optional
        The memory limit of the homogeneous route (default
        :data:`mdtheory.exact.homogeneous.DEFAULT_MAX_HOMOGENEOUS_BYTES`).

    Returns
    -------
    tasks : list of dict
        The tasks, for :func:`run_sweep` with :func:`tv_sweep_task`.
    refused : list of dict
        For each V, the first k of the homogeneous route that the memory estimate refused (``k``,
        ``vocab_size``, ``bytes``, ``max_bytes``); empty where every k up to N fits.

    Examples
    --------
    >>> tasks, refused = tv_scaling_tasks()
    >>> len(tasks), [(r["vocab_size"], r["k"]) for r in refused]
    (150, [(4, 512)])
    """
    from ..exact.homogeneous import DEFAULT_MAX_HOMOGENEOUS_BYTES, homogeneous_law_bytes

    g = TV_SCALING
    limit = DEFAULT_MAX_HOMOGENEOUS_BYTES if max_bytes is None else max_bytes
    common = dict(alpha_values=g["alphas"], vocab_values=g["vocab_sizes"], seed=seed)
    tasks = tv_sweep_tasks(family="dirichlet", n_values=g["k2_n"], k_values=[2], **common)
    tasks += tv_sweep_tasks(family="dirichlet", n_values=g["k3_n"], k_values=[3], **common)
    refused = []
    n = g["homogeneous_n"]
    for V in g["vocab_sizes"]:
        k_values = []
        k = 1
        while k <= n:
            need = homogeneous_law_bytes(k, V)
            if need > limit:
                refused.append(dict(vocab_size=V, k=k, bytes=need, max_bytes=limit))
                break
            k_values.append(k)
            k *= 2
        tasks += tv_sweep_tasks(family="homogeneous", n_values=[n], k_values=k_values, alpha_values=g["alphas"],
                                vocab_values=[V], seed=seed)
    return tasks, refused
