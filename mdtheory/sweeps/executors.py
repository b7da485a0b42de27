"""Where the tasks of a sweep or a driver run: in this process, in local worker processes, or on a Dask cluster.

The coordinating process stays the only writer of the fsync'ed JSON-lines log that makes runs resumable
(:func:`mdtheory.sweeps.run_sweep`); executors only compute rows and hand them back, in any order. Every task carries
its own seed (and the device), so a row does not depend on where, or in which order, it was computed.

* :class:`InProcess` (the default) runs the tasks one after the other.
* :class:`ProcessPool` runs them in ``workers`` local processes (``--workers N``).
* :class:`DaskExecutor` submits them to a ``dask.distributed`` cluster: a ``LocalCluster`` of N workers
  (``--cluster local:N``) or a running scheduler (``--scheduler tcp://HOST:PORT``; dask-jobqueue's SLURM and
  PBS clusters expose one).

A worker that dies mid-task has its task run again (the Dask scheduler does so up to
``distributed.scheduler.allowed-failures`` times, 3 by default; :class:`ProcessPool` restarts its pool up to
``restarts`` times). An exception raised by the task itself is not retried: it would be raised again. The
coordinator records each task's row exactly once, so no row is lost or duplicated.

Every failure of the Dask machinery (no scheduler at the address, a peer that accepts and never answers the
handshake or answers with something that is not Dask, a worker killed too often, a scheduler lost mid-run) is
one :class:`DaskFailure`, a ``ValueError`` naming the address and what happened (exit 2 from the command line).
Connecting has a hard deadline (``connect_timeout``), handshake included.

``distributed`` is an optional dependency (``pip install "mdtheory[dask]"``); everything else works without it.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .._validation import check_positive_int

__all__ = ["Executor", "InProcess", "ProcessPool", "DaskExecutor", "DaskFailure", "executor_from_options"]

class DaskFailure(ValueError):
    """The Dask cluster could not be used: the message names the scheduler and what failed (module doc)."""


_DASK_HINT = 'the Dask executor needs dask.distributed: pip install "mdtheory[dask]"'


class Executor:
    """How the tasks of a sweep are computed (module doc).

    ``map_unordered(fn, tasks)`` yields ``(index, fn(tasks[index]))`` once for every task, in completion
    order; ``describe()`` says where they ran (recorded in a sweep's ``run.json``); ``threads`` is the number
    of BLAS, OpenMP and torch threads each task runs on (:func:`mdtheory.sweeps.run_sweep` pins it, so that rows do
    not depend on the executor). Executors are context managers: leaving the block releases their workers.
    """

    threads: int = 1

    def map_unordered(self, fn: Callable[[dict], dict], tasks: list[dict]) -> Iterator[tuple[int, dict]]:
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers and connections (a no-op for executors that hold none)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class InProcess(Executor):
    """Run every task in this process, one after the other (on ``threads`` threads each).

    Spec: §9 (rows depend on their task alone).

    Parameters
    ----------
    threads : int
        BLAS, OpenMP and torch threads per task (default 1).

    Examples
    --------
    >>> list(InProcess().map_unordered(lambda t: {"y": 2 * t["x"]}, [{"x": 1}, {"x": 2}]))
    [(0, {'y': 2}), (1, {'y': 4})]
    """

    threads: int = 1

    def __post_init__(self):
        check_positive_int(self.threads, name="threads")

    def map_unordered(self, fn, tasks):
        for i, task in enumerate(tasks):
            yield i, fn(task)

    def describe(self) -> dict:
        return {"executor": "in-process", "workers": 1, "threads_per_task": self.threads}


@dataclass
class ProcessPool(Executor):
    """Run tasks in ``workers`` local processes (started with *spawn*: no inherited threads or CUDA state).

    Spec: §9. ``fn`` and the tasks must be picklable (module-level functions, ``functools.partial`` of them).
    If a worker process dies (killed, out of memory) the pool is restarted and the unfinished tasks run
    again, at most ``restarts`` times.

    Parameters
    ----------
    workers : int
        Worker processes.
    restarts : int
        Pool restarts allowed after worker deaths (default 3); then ``RuntimeError``.
    threads : int
        BLAS, OpenMP and torch threads per task (default 1).

    Examples
    --------
    >>> from mdtheory.exact.tv_sweeps import tv_sweep_task, tv_sweep_tasks
    >>> tasks = tv_sweep_tasks(family="dirichlet", n_values=[4], k_values=[1], alpha_values=[1.0], vocab_values=[2])
    >>> with ProcessPool(2) as pool:
    ...     [(i, round(row["tv"], 6)) for i, row in pool.map_unordered(tv_sweep_task, tasks)]
    [(0, 0.022812)]
    """

    workers: int
    restarts: int = 3
    threads: int = 1

    def __post_init__(self):
        check_positive_int(self.workers, name="workers")
        check_positive_int(self.threads, name="threads")
        if isinstance(self.restarts, bool) or not isinstance(self.restarts, int) or self.restarts < 0:
            raise ValueError(f"restarts must be an integer >= 0; got restarts={self.restarts!r}")

    def map_unordered(self, fn, tasks):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        ctx = multiprocessing.get_context("spawn")
        pending = dict(enumerate(tasks))
        for attempt in range(self.restarts + 1):
            with ProcessPoolExecutor(min(self.workers, max(len(pending), 1)), mp_context=ctx) as pool:
                futures = {pool.submit(fn, task): i for i, task in pending.items()}
                try:
                    for fut in as_completed(futures):
                        i = futures[fut]
                        result = fut.result()
                        del pending[i]
                        yield i, result
                    return
                except BrokenProcessPool:
                    if attempt == self.restarts:
                        raise RuntimeError(f"worker processes died {self.restarts + 1} times; {len(pending)} tasks "
                                           "left undone (rerun the same command to resume)") from None

    def describe(self) -> dict:
        return {"executor": "process-pool", "workers": self.workers, "threads_per_task": self.threads}


def _require_distributed():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(_DASK_HINT) from None


class DaskExecutor(Executor):
    """Run tasks on a ``dask.distributed`` cluster (module doc).

    Spec: §9. A worker that dies mid-task has its task run again by the scheduler. (The example is skipped
    by the doctests, which run without the ``dask`` extra; the test suite runs a real ``LocalCluster``.)

    Parameters
    ----------
    local_workers : int, optional
        Start a ``LocalCluster`` of this many single-threaded worker processes (closed by :meth:`close`).
    scheduler : str, optional
        Connect to a running scheduler instead, e.g. ``tcp://10.0.0.5:8786`` (``dask scheduler`` on one
        machine and ``dask worker tcp://…`` on others, or dask-jobqueue's ``SLURMCluster(...).scheduler_address``).
    connect_timeout : float
        Seconds to wait for the scheduler.
    threads : int
        BLAS, OpenMP and torch threads per task (the workers of a ``LocalCluster`` get one Dask thread each).

    Give exactly one of ``local_workers`` and ``scheduler``. Workers must have mdtheory installed (the same
    version as the coordinator) and see the same files for drivers that load models.

    Examples
    --------
    >>> from mdtheory.exact.tv_sweeps import tv_sweep_task, tv_sweep_tasks
    >>> tasks = tv_sweep_tasks(family="dirichlet", n_values=[4], k_values=[1], alpha_values=[1.0], vocab_values=[2])
    >>> with DaskExecutor(local_workers=1) as ex:  # doctest: +SKIP
    ...     [(i, round(row["tv"], 6)) for i, row in ex.map_unordered(tv_sweep_task, tasks)]
    [(0, 0.022812)]
    """

    def __init__(self, *, local_workers: int | None = None, scheduler: str | None = None,
                 connect_timeout: float = 30.0, threads: int = 1):
        if (local_workers is None) == (scheduler is None):
            raise ValueError("give exactly one of local_workers and scheduler")
        if local_workers is not None:
            check_positive_int(local_workers, name="local_workers")
        else:
            check_scheduler_address(scheduler)
            if not (isinstance(connect_timeout, (int, float)) and math.isfinite(connect_timeout)
                    and connect_timeout > 0):
                raise ValueError(f"connect_timeout must be a finite number of seconds > 0; got {connect_timeout!r}")
        self.threads = check_positive_int(threads, name="threads")
        _require_distributed()
        from distributed import Client, LocalCluster

        self.scheduler, self.local_workers, self.cluster = scheduler, local_workers, None
        if local_workers is not None:
            import dask

            # Dask's nannies export MALLOC_TRIM_THRESHOLD_, which turns off glibc's adaptive mmap threshold:
            # every large temporary array is then mapped and page-faulted afresh (on the TV-scaling sweep,
            # 94 s of system time and 1.5x the wall-clock of a plain process pool). Our workers keep glibc's
            # default.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self.cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = _connect(Client, scheduler, connect_timeout)

    def map_unordered(self, fn, tasks):
        from distributed import as_completed

        # pure=False: a task run again after a worker died is computed again, never taken from a cache
        from distributed import KilledWorker
        from distributed.comm import CommClosedError

        where = self.scheduler or f"local:{self.local_workers}"
        try:
            futures = {self.client.submit(fn, task, pure=False): i for i, task in enumerate(tasks)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
                fut.release()
        except KilledWorker as exc:
            raise DaskFailure(f"a task killed its Dask worker too often (distributed.scheduler.allowed-failures) "
                              f"on {where}: {' '.join(str(exc).split())}") from None
        except (CommClosedError, OSError, TimeoutError) as exc:
            raise DaskFailure(f"lost the Dask scheduler {where} mid-run ({type(exc).__name__}: "
                              f"{' '.join(str(exc).split())}); the rows finished so far are kept, rerun to resume") from None

    def describe(self) -> dict:
        workers = len(self.client.scheduler_info().get("workers", {}))
        if self.cluster is not None:
            return {"executor": "dask", "cluster": f"local:{self.local_workers}", "workers": workers,
                    "threads_per_task": self.threads}
        return {"executor": "dask", "scheduler": self.scheduler, "workers": workers, "threads_per_task": self.threads}

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss|inproc)://[^\s/:]+(:\d{1,5})?$")


def check_scheduler_address(address) -> str:
    """``address`` if it is a Dask scheduler address ``PROTOCOL://HOST[:PORT]`` with a port in 1..65535, else
    ``ValueError``."""
    match = _ADDRESS.match(address) if isinstance(address, str) else None
    if match is None:
        raise ValueError("scheduler must be a Dask scheduler address like tcp://HOST:PORT (protocols tcp, tls, ucx, "
                         f"ws, wss, inproc); got scheduler={address!r}")
    if match.group(2) is not None and not 1 <= int(match.group(2)[1:]) <= 65535:
        raise ValueError(f"scheduler's port must be in 1..65535; got scheduler={address!r}")
    return address


def _connect(client_class, scheduler: str, timeout: float):
    """A ``Client`` of ``scheduler`` within ``timeout`` seconds, or :class:`DaskFailure`.

    ``Client(timeout=)`` bounds the TCP connection but not the handshake: a peer that accepts and never
    answers holds it forever, and one that answers with other bytes can make it allocate exabytes. So the
    attempt runs in a daemon thread with a hard deadline, and whatever it raises becomes one error.
    """
    out: dict = {}

    def attempt() -> None:
        try:
            out["client"] = client_class(scheduler, timeout=f"{timeout}s")
        except BaseException as exc:  # noqa: BLE001 -- a MemoryError from garbage bytes included
            out["error"] = exc

    thread = threading.Thread(target=attempt, name="mdtheory-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)  # the client's own timeout first; ours only when it never returns
    if thread.is_alive():
        raise DaskFailure(f"the peer at scheduler={scheduler!r} accepted the connection but did not complete the "
                          f"Dask handshake within {timeout:g} s: is a Dask scheduler (of a compatible version) "
                          "listening there?")
    if "error" in out:
        exc = out["error"]
        raise DaskFailure(f"cannot connect to the Dask scheduler at scheduler={scheduler!r} ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split()) or 'no message'})") from None
    return out["client"]


def parse_cluster(text: str) -> int:
    """The number of workers of a ``local:N`` cluster specification."""
    kind, _, n = str(text).partition(":")
    if kind != "local" or not n.isdigit() or int(n) < 1:
        raise ValueError(f"cluster must be local:N with N >= 1 workers; got cluster={text!r}")
    return int(n)


def executor_from_options(*, workers: int | None = None, cluster: str | None = None,
                          scheduler: str | None = None, threads: int = 1,
                          connect_timeout: float = 30.0) -> Executor:
    """The executor that the command line's ``--workers N``, ``--cluster local:N`` or ``--scheduler URL`` names.

    Spec: §9.

    Parameters
    ----------
    workers : int, optional
        Local worker processes (:class:`ProcessPool`).
    cluster : str, optional
        ``local:N``: a Dask ``LocalCluster`` of N workers.
    scheduler : str, optional
        The address of a running Dask scheduler.
    threads : int
        BLAS, OpenMP and torch threads per task (``--threads``).
    connect_timeout : float
        Seconds allowed to connect to ``scheduler``, handshake included (``--connect-timeout``).

    Returns
    -------
    Executor
        :class:`InProcess` when none is given.

    Raises
    ------
    ValueError
        If more than one is given, or one is malformed.
    ImportError
        If a Dask executor is asked for without ``distributed`` installed.

    Examples
    --------
    >>> executor_from_options().describe()
    {'executor': 'in-process', 'workers': 1, 'threads_per_task': 1}
    >>> executor_from_options(workers=2).describe()
    {'executor': 'process-pool', 'workers': 2, 'threads_per_task': 1}
    """
    given = [o for o in (workers, cluster, scheduler) if o is not None]
    if len(given) > 1:
        raise ValueError("give at most one of workers (--workers), cluster (--cluster) and scheduler (--scheduler)")
    if workers is not None:
        return ProcessPool(workers, threads=threads)
    if cluster is not None:
        return DaskExecutor(local_workers=parse_cluster(cluster), threads=threads)
    if scheduler is not None:
        return DaskExecutor(scheduler=scheduler, threads=threads, connect_timeout=connect_timeout)
    return InProcess(threads=threads)
