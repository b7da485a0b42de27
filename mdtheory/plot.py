"""Plot helpers (the only module that imports matplotlib; ``import mdtheory`` does not load it).

Helpers draw on the ``ax`` they are given and return it; they never call ``show()``. Figure scripts own
their figures: they save and close them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .sweeps import fit_loglog_slope  # noqa: E402

__all__ = ["plt", "loglog_with_fit", "new_figure", "save_figure"]


def new_figure(ncols: int = 1, *, width: float = 4.6, height: float = 3.6):
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


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
