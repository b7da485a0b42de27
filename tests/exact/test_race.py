"""The race quadrature's building blocks against independent derivations: the t×density of the k-th arrival
against a central difference of its CDF, the binomial shortcut against the DP over repeated rows, and the
adaptive refinement against the exact mass of its panels."""

import numpy as np
import pytest

from mdtheory.exact.race import order_statistic_cdf, race_grid


def _rows(n, V, seed, alpha):
    p = np.random.default_rng(seed).dirichlet(np.ones(V), size=n)
    log_w = np.log(p) / alpha
    return p, log_w - log_w.max()


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_density_is_the_log_time_derivative_of_the_cdf(k):
    # the DP carries the derivative of every count's probability: k ≥ 3 reads counts beyond the first two
    p, log_w = _rows(4, 3, 1, 0.7)
    log_t, h = np.linspace(-3.0, 3.0, 13), 1e-5
    cdf, dens = order_statistic_cdf(p, log_w, log_t, k)
    up, _ = order_statistic_cdf(p, log_w, log_t + h, k)
    down, _ = order_statistic_cdf(p, log_w, log_t - h, k)
    np.testing.assert_allclose(dens, (up - down) / (2 * h), atol=1e-9)
    assert np.all(np.diff(cdf) >= 0) and dens.max() > 0.05


@pytest.mark.parametrize("count", [2, 3, 5, 8])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_homogeneous_binomial_shortcut_equals_the_dp_over_repeated_rows(count, k):
    if k > count:
        pytest.skip("k ≤ count")
    p, log_w = _rows(1, 3, 4, 0.6)
    log_t = np.linspace(-4.0, 4.0, 9)
    fast = order_statistic_cdf(p, log_w, log_t, k, homogeneous_count=count)
    slow = order_statistic_cdf(np.repeat(p, count, 0), np.repeat(log_w, count, 0), log_t, k)
    np.testing.assert_allclose(fast[0], slow[0], atol=1e-14)
    np.testing.assert_allclose(fast[1], slow[1], atol=1e-14)


def test_adaptive_refinement_reaches_the_rounding_floor_on_a_sharp_order_statistic():
    # the median of 1000 arrivals is sharply peaked: the first GK15 panels miss its mass by ~4e-4, so the
    # grid is only right if panels are bisected until their quadrature matches their exact mass
    p, log_w = _rows(1, 3, 1, 1.0)
    grid = race_grid(p, log_w, 500, homogeneous_count=1000)
    assert grid.mass_check < 1e-12
    _, dens = order_statistic_cdf(p, log_w, grid.log_t, 500, homogeneous_count=1000)
    assert abs(grid.weight_kronrod @ dens - (1.0 - grid.truncation)) < 1e-12
