"""Plot helpers and the one shared figure style (matplotlib is imported here, never by ``import mdtheory``).

Helpers draw on the ``ax`` they are given and return it; they never call ``show()``. Figure modules own
their figures: :func:`finish_figure` applies the shared style, writes PNG and PDF, and closes the figure.

The style: log axes label decades (or 1-2-5 steps on axes shorter than a decade) and leave minor ticks
unlabelled; whatever tick labels would still overlap after layout are hidden, so every label drawn is
readable; error bars or bands wherever a value is estimated (the figure modules draw them).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..sweeps.fits import fit_loglog_slope  # noqa: E402

__all__ = ["plt", "loglog_with_fit", "loglog_curves", "new_figure", "save_figure", "finish_figure",
           "tidy_log_axes", "overlapping_tick_labels", "digit_grid"]


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


def loglog_with_fit(ax, x, y, *, label: str, marker: str = "o", fit: bool = True, error=None, **kw):
    """Log-log scatter+line of (x, y); the fitted slope is appended to the label.

    With ``error`` (each y's absolute error estimate), points that it does not resolve (y ≤ error) are left
    out of the fit and drawn hollow, and the label says how many: a slope is never drawn through rounding.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    unresolved = np.zeros(x.shape, dtype=bool) if error is None else ~(y > np.broadcast_to(np.asarray(error, float),
                                                                                            y.shape))
    if fit:
        f = fit_loglog_slope(x, y, error=error)
        label = f"{label} (slope {f.slope:.2f}" + (f"; {f.n_unresolved} unresolved left out)" if f.n_unresolved
                                                   else ")")
    line = ax.loglog(x, y, marker=marker, label=label, **kw)[0]
    if unresolved.any():
        ax.loglog(x[unresolved], y[unresolved], linestyle="none", marker=marker, markerfacecolor="white",
                  markeredgecolor=line.get_color(), markersize=line.get_markersize())
    return ax


def _tidy_log_axis(axis, lo: float, hi: float) -> None:
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    if not (lo > 0 and hi > lo) or not isinstance(axis.get_major_locator(), LogLocator):
        return  # a figure that placed its own ticks keeps them
    decades_inside = np.floor(np.log10(hi)) - np.ceil(np.log10(lo)) + 1
    if decades_inside >= 2:
        axis.set_major_locator(LogLocator(base=10.0, numticks=12))
    else:  # fewer than two decade ticks: label 1-2-5 steps too
        axis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0), numticks=12))
        if 1e-3 <= lo and hi <= 1e4:
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    axis.set_minor_locator(LogLocator(base=10.0, subs=tuple(range(2, 10)), numticks=12))
    axis.set_minor_formatter(NullFormatter())


def tidy_log_axes(fig) -> None:
    """Give every log axis of ``fig`` readable ticks: labelled decades (1-2-5 steps when fewer than two
    decades show), unlabelled minor ticks. Axes whose ticks a figure placed itself are left alone."""
    for ax in fig.axes:
        if ax.get_xscale() == "log":
            _tidy_log_axis(ax.xaxis, *sorted(ax.get_xlim()))
        if ax.get_yscale() == "log":
            _tidy_log_axis(ax.yaxis, *sorted(ax.get_ylim()))


def _visible_tick_labels(axis):
    return [t for t in axis.get_ticklabels(which="both") if t.get_visible() and t.get_text()]


def overlapping_tick_labels(fig, *, pad: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of visible tick labels of one axis whose drawn extents overlap (after a draw of ``fig``)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(1.0, 1.0)) for t in _visible_tick_labels(axis)]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    a, b = boxes[i][1], boxes[j][1]
                    if a.x0 < b.x1 + pad and b.x0 < a.x1 + pad and a.y0 < b.y1 + pad and b.y0 < a.y1 + pad:
                        out.append((boxes[i][0], boxes[j][0]))
    return out


def _hide_overlapping_tick_labels(fig, *, pad: float = 2.0) -> None:
    """Hide tick labels that would overlap a label already kept (major labels are kept first)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            kept = []
            labels = [t for t in axis.get_ticklabels(which="major") if t.get_visible() and t.get_text()]
            labels += [t for t in axis.get_ticklabels(which="minor") if t.get_visible() and t.get_text()]
            for t in labels:
                box = t.get_window_extent(renderer)
                if any(box.x0 < k.x1 + pad and k.x0 < box.x1 + pad and box.y0 < k.y1 + pad and k.y0 < box.y1 + pad
                       for k in kept):
                    t.set_visible(False)
                else:
                    kept.append(box)


def _apply_style(fig) -> None:
    tidy_log_axes(fig)
    fig.tight_layout()
    _hide_overlapping_tick_labels(fig)


def save_figure(fig, path) -> None:
    """Apply the shared style, lay out, write ``path`` (its suffix picks the format) and close ``fig``."""
    _apply_style(fig)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def finish_figure(fig, out_dir, name: str):
    """Write ``fig`` as ``out_dir/fig_{name}.png`` and ``.pdf`` in the shared style, close it, and return the
    PNG's path."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"fig_{name}.png"
    _apply_style(fig)
    fig.savefig(out / f"fig_{name}.pdf")
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def loglog_curves(ax, rows, *, x: str, y: str, group: str, where: dict | None = None, label: str = "{}",
                  xlabel: str = "", ylabel: str = "", title: str = "", error: str | None = None):
    """One fitted log-log curve of ``y`` vs ``x`` per value of ``group`` among the rows matching ``where``;
    ``error`` names the rows' field of y's error estimate (unresolved points are left out of the fits)."""
    sel = [r for r in rows if all(r[key] == val for key, val in (where or {}).items())]
    for g in sorted({r[group] for r in sel}):
        pts = sorted((r[x], r[y], r.get(error, 0.0) if error else 0.0) for r in sel if r[group] == g)
        loglog_with_fit(ax, [q[0] for q in pts], [q[1] for q in pts], label=label.format(g),
                        error=[q[2] for q in pts] if error else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def digit_grid(ax, images, *, grid: tuple[int, int], cols: int, vmax: float, gap: int = 1):
    """Draw rows of ``images`` (each H·W values, row-major) as a grid of H×W tiles with ``gap``-pixel
    separators, at equal aspect, so that each image keeps its shape."""
    h, w = grid
    x = np.asarray(images, dtype=float).reshape(-1, h, w)
    rows = -(-len(x) // cols)
    canvas = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap), np.nan)
    for i, img in enumerate(x):
        r, c = divmod(i, cols)
        canvas[gap + r * (h + gap):gap + r * (h + gap) + h, gap + c * (w + gap):gap + c * (w + gap) + w] = img
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#c8d4e3")  # the separators
    ax.imshow(np.ma.masked_invalid(canvas), cmap=cmap, vmin=0, vmax=vmax, aspect="equal", interpolation="nearest")
    ax.set(xticks=[], yticks=[])
    return ax
