"""Plot helpers (the only module that imports matplotlib; ``import mdtheory`` does not load it).

Helpers draw on the ``ax`` they are given and return it; they never call ``show()``. Figure scripts own
their figures: they save and close them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..montecarlo.sweeps import fit_loglog_slope  # noqa: E402

__all__ = ["plt", "loglog_with_fit", "loglog_curves", "new_figure", "save_figure", "finish_figure"]


def new_figure(ncols: int = 1, *, width: float = 4.6, height: float = 3.6, max_cols: int | None = None):
    """A figure of ``ncols`` panels in one row, or wrapped into rows of ``max_cols`` (unused cells hidden);
    returns (fig, flat list of the ``ncols`` axes)."""
    cols = ncols if max_cols is None else min(ncols, max_cols)
    rows = -(-ncols // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[ncols:]:
        ax.set_visible(False)
    return fig, flat[:ncols]


def loglog_with_fit(ax, x, y, *, label: str, marker: str = "o", fit: bool = True, **kw):
    """Log-log scatter+line of (x, y); the fitted slope is appended to the label."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if fit:
        f = fit_loglog_slope(x, y)
        label = f"{label} (slope {f.slope:.2f})"
    ax.loglog(x, y, marker=marker, label=label, **kw)
    return ax


def save_figure(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def finish_figure(fig, out_dir, name: str):
    """Save ``fig`` as ``out_dir/fig_{name}.png`` (creating the folder), close it and return the path."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"fig_{name}.png"
    save_figure(fig, path)
    return path


def loglog_curves(ax, rows, *, x: str, y: str, group: str, where: dict | None = None, label: str = "{}",
                  xlabel: str = "", ylabel: str = "", title: str = ""):
    """One fitted log-log curve of ``y`` vs ``x`` per value of ``group`` among the rows matching ``where``."""
    sel = [r for r in rows if all(r[key] == val for key, val in (where or {}).items())]
    for g in sorted({r[group] for r in sel}):
        pts = sorted((r[x], r[y]) for r in sel if r[group] == g)
        loglog_with_fit(ax, [q[0] for q in pts], [q[1] for q in pts], label=label.format(g))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
