

def test_a_fitted_curve_leaves_out_and_marks_points_below_their_error():
    import matplotlib

    matplotlib.use("Agg")
    from mdtheory.figures.plot import loglog_with_fit, new_figure, plt

    fig, (ax,) = new_figure(1)
    x, y = [1, 2, 4, 8], [1.0, 0.25, 0.0625, 1e-13]  # the last TV sits below its quadrature error
    loglog_with_fit(ax, x, y, label="tv", error=[1e-12] * 4)
    label = ax.get_lines()[0].get_label()
    assert label == "tv (slope -2.00; 1 unresolved left out)", label  # the slope of the three resolved points
    hollow = ax.get_lines()[1]
    assert list(hollow.get_xdata()) == [8] and hollow.get_markerfacecolor() == "white"
    fig2, (ax2,) = new_figure(1)
    loglog_with_fit(ax2, x[:3], y[:3], label="tv", error=[1e-12] * 3)
    assert ax2.get_lines()[0].get_label() == "tv (slope -2.00)" and len(ax2.get_lines()) == 1
    plt.close(fig)
    plt.close(fig2)
