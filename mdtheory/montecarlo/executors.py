"""Where sweep tasks run, at its earlier path: the executors live in :mod:`mdtheory.sweeps.executors`."""

from ..sweeps.executors import (DaskExecutor, Executor, InProcess, ProcessPool, check_scheduler_address,  # noqa: F401
                                executor_from_options, parse_cluster)

__all__ = ["Executor", "InProcess", "ProcessPool", "DaskExecutor", "check_scheduler_address", "parse_cluster",
           "executor_from_options"]
