"""Resumable parameter sweeps: a list of tasks (dicts of parameters) and a function from a task to a result dict.

Results are appended one JSON line per task to ``<out>/results.jsonl`` (flushed and fsync'ed, so an
interrupted sweep loses at most the task in flight); a rerun skips the tasks already recorded. At the end the
CSV and JSON tables are written atomically (temporary file + ``os.replace``), and ``run.json`` gains one entry
for the run: where it ran (:mod:`mdtheory.sweeps.executors`), the tasks it computed and its wall-clock.
Nothing here knows any mathematics: the exact TV sweeps, the figure sweeps and the Monte-Carlo drivers all
run through it.

**A log is validated before it is reused.** Each line read back must be a JSON object whose ``_key`` is the
sorted JSON of a task and whose fields repeat that task's values, with no NaN or infinite number written as
such (an infinite result is stored as its marker); a line that is not is named on stderr (file and line)
and its task is computed again. **One writer per folder:** a run holds an exclusive lock on
``<out>/.lock`` while it writes, and a second run on the same folder is refused at once.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from .._io import append_jsonl, atomic_write_text, drop_torn_tail, restore_inf, strict_json, to_json

__all__ = ["run_sweep", "pinned_threads"]


@contextlib.contextmanager
def pinned_threads(threads: int, *, torch_too: bool = True):
    """BLAS, OpenMP and (when ``torch_too`` or torch is already imported) torch run on ``threads`` threads
    inside the block; the previous counts come back after it.

    Examples
    --------
    >>> with pinned_threads(1):
    ...     pass
    """
    from threadpoolctl import threadpool_limits

    torch = None
    if torch_too or "torch" in sys.modules:
        import torch
    previous = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(previous)


def _timed(fn, task: dict, threads: int) -> tuple[dict, float]:
    """``fn(task)`` on ``threads`` BLAS, OpenMP and torch threads, and the seconds it took, measured where it
    ran (picklable for worker processes).

    The thread count is pinned because it changes the rounding of parallel reductions: with it fixed, a
    row is bit-for-bit the same in this process, in a worker process or on a Dask worker. A task with a
    ``device`` runs torch, so torch is imported (and pinned) before it starts.
    """
    with pinned_threads(threads, torch_too="device" in task):
        t0 = time.perf_counter()
        result = fn(task)
        return result, time.perf_counter() - t0


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


def _nonfinite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_nonfinite(v) for v in value)
    return False


def _why_invalid(row) -> str | None:
    """Why a line read back from a log cannot be reused (None if it can)."""
    if not isinstance(row, dict):
        return f"a {type(row).__name__}, not a row"
    key = row.get("_key")
    if not isinstance(key, str):
        return "no task key"
    try:
        task = json.loads(key)
    except ValueError:
        return "a task key that is not JSON"
    if not isinstance(task, dict):
        return "a task key that is not a task"
    for field, value in task.items():
        if field not in row or _task_key({"v": row[field]}) != _task_key({"v": value}):
            return f"field {field!r} differs from its task key"
    bad = [k for k, v in row.items() if _nonfinite(v)]
    if bad:
        return f"a non-finite number in {bad[0]!r}"
    return None


def _read_log(log: Path) -> dict[str, dict]:
    """The reusable rows of a log, by task key; every other line is reported and its task recomputed."""
    done: dict[str, dict] = {}
    lines: dict[str, int] = {}
    if not log.exists():
        return done
    for lineno, line in enumerate(log.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = line
        why = _why_invalid(row)
        if why is not None:
            print(f"warning: {log}:{lineno}: {why}; that task is computed again", file=sys.stderr)
            continue
        done[row["_key"]] = restore_inf(row)
        lines[row["_key"]] = lineno
    for key, why in _off_schema(done).items():
        print(f"warning: {log}:{lines[key]}: {why}; that task is computed again", file=sys.stderr)
        del done[key]
    return done


def _kind(value) -> str:
    """The JSON kind of a value; an undefined number (null) counts as a number."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return "number"
    return type(value).__name__


def _off_schema(rows: dict[str, dict]) -> dict[str, str]:
    """Rows that hold a field of another kind than a strict majority of the rows of the log do.

    The rows of one sweep come from one function, so a field holds one kind of value in all of them; a row
    with a string where the others hold a number was not written by it. (Rows may differ in which fields they
    have: a task can add details.)
    """
    out: dict[str, str] = {}
    if len(rows) < 3:
        return out
    kinds: dict[str, Counter] = {}
    for r in rows.values():
        for f, v in r.items():
            kinds.setdefault(f, Counter())[_kind(v)] += 1
    for key, r in rows.items():
        for f, v in r.items():
            (kind, n), = kinds[f].most_common(1)
            if n * 2 > len(rows) and _kind(v) != kind:
                out[key] = f"field {f!r} is a {_kind(v)} where the other rows hold a {kind}"
                break
    return out


class _FolderLock:
    """An exclusive, non-blocking lock on ``<out>/.lock`` (POSIX ``flock``; released when the process ends)."""

    def __init__(self, folder: Path):
        self.path = folder / ".lock"
        self.fh = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # no flock on this platform: one writer per folder is then the user's to ensure
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            self.fh = None
            raise ValueError(f"another run is writing to {self.path.parent} (it holds {self.path}); wait for it "
                             "to finish or give another output folder") from None
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            self.fh.close()  # closing the file releases the lock


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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _FolderLock(out):
        return _run_locked(list(tasks), fn, out, progress=progress, desc=desc, executor=executor)


def _run_locked(tasks: list[dict], fn, out: Path, *, progress: bool, desc: str, executor) -> list[dict]:
    from tqdm.auto import tqdm

    from .executors import InProcess

    log = out / "results.jsonl"
    drop_torn_tail(log)
    done = _read_log(log)
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
