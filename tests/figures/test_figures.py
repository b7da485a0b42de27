"""Every figure renders in quick mode, as PNG and PDF, with no overlapping tick labels; the quick driver figures
never simulate (they draw from the shipped smoke results)."""

import importlib

import matplotlib
import pytest

from mdtheory.figures import FIGURES
from mdtheory.figures import plot as plot_module


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render every figure once; keep each figure object (closing is deferred) to inspect its labels."""
    out = tmp_path_factory.mktemp("figures")
    kept = {}
    real_close = plot_module.plt.close
    plot_module.plt.close = lambda fig=None: kept.setdefault(len(kept), fig)
    try:
        with matplotlib.rc_context({"figure.max_open_warning": 0}):  # every figure stays open until the end
            paths = {name: importlib.import_module(f"mdtheory.figures.{name}").main(out, quick=True) for name in FIGURES}
    finally:
        plot_module.plt.close = real_close
    yield paths, list(kept.values())
    for fig in kept.values():
        real_close(fig)


def test_every_figure_writes_png_and_pdf(rendered):
    paths, _ = rendered
    for name, png in paths.items():
        assert png.suffix == ".png" and png.stat().st_size > 1000, name
        assert png.with_suffix(".pdf").stat().st_size > 1000, name


def test_no_tick_labels_overlap(rendered):
    _, figures = rendered
    assert len(figures) >= len(FIGURES)
    bad = {fig.axes[0].get_title() if fig.axes else "?": plot_module.overlapping_tick_labels(fig)
           for fig in figures if plot_module.overlapping_tick_labels(fig)}
    assert not bad, bad


def test_overlap_detector_can_fail():
    """The detector finds the overlap it is meant to find: crowded labels on a narrow log axis."""
    fig = matplotlib.figure.Figure(figsize=(1.5, 1.5))
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_xlim(30, 70)
    ax.set_xticks([30, 35, 40, 45, 50, 60, 70], ["3×10¹", "3.5×10¹", "4×10¹", "4.5×10¹", "5×10¹", "6×10¹", "7×10¹"])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    assert plot_module.overlapping_tick_labels(fig)


def test_quick_driver_figures_do_not_simulate(monkeypatch, tmp_path):
    import mdtheory.figures._smoke as smoke

    def fail(*args, **kwargs):
        raise AssertionError("a quick figure ran a simulation")

    monkeypatch.setattr(smoke, "run_driver", fail)
    for name in ("fig_real_asymptotics", "fig_quality", "fig_kl_bounds", "fig_schedules"):
        importlib.import_module(f"mdtheory.figures.{name}").main(tmp_path, quick=True)
