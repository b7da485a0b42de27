"""Resumable parameter sweeps: a list of tasks (dicts of parameters) and a function from a task to a result dict.

Results are appended one JSON line per task to ``<out>/results.jsonl`` (flushed and fsync'ed, so an
interrupted sweep loses at most the task in flight); a rerun skips the tasks already recorded. At the end the
CSV and JSON tables are written atomically (temporary file + ``os.replace``), and ``run.json`` gains one entry
for the run: where it ran (:mod:`mdtheory.sweeps.executors`), the tasks it computed and its wall-clock.
Nothing here knows any mathematics: the exact TV sweeps, the figure sweeps and the Monte-Carlo drivers all
run through it.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from .._io import append_jsonl, atomic_write_text, drop_torn_tail, read_jsonl, restore_inf, strict_json, to_json

__all__ = ["run_sweep"]


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
        Where the tasks run (:mod:`mdtheory.sweeps.executors`; in this process by default). Rows come back
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
