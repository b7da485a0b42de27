"""Earlier home of the exact TV sweep tasks (now :mod:`mdtheory.exact.tv_sweeps`) and of the sweep runner and
slope fit (now :mod:`mdtheory.sweeps`); every name still imports from here (docs/glossary.md, "Names that
moved")."""

from ..exact.tv_sweeps import TV_SCALING, rows_for, tv_scaling_tasks, tv_sweep_slopes, tv_sweep_task, tv_sweep_tasks
from ..sweeps.fits import SlopeFit, fit_loglog_slope
from ..sweeps.runner import run_sweep

__all__ = ["run_sweep", "SlopeFit", "fit_loglog_slope", "tv_sweep_tasks", "tv_sweep_task",
           "tv_sweep_slopes", "rows_for", "TV_SCALING", "tv_scaling_tasks"]
