"""The standard errors of an estimated curve's summaries are those of the linear combinations they are."""

import numpy as np
import pytest

from mdtheory.profiles.estimation import CurveEstimate


def _coefficients(functional, n):
    # a summary that is linear in the values: its coefficients are its values at the unit vectors
    zero = functional(CurveEstimate(values=np.zeros(n), stderr=np.zeros(n), n_samples=1))
    return np.array([functional(CurveEstimate(values=np.eye(n)[i], stderr=np.zeros(n), n_samples=1)) - zero
                     for i in range(n)])


@pytest.mark.parametrize("n", [2, 3, 6])
def test_tc_and_dtc_stderr_are_those_of_independent_estimates(n):
    stderr = np.linspace(0.05, 0.4, n) ** 1.5  # distinct per m, so a wrong weight on any of them shows
    c = CurveEstimate(values=np.linspace(2.0, 0.5, n), stderr=stderr, n_samples=50)
    for value, err in ((lambda e: e.tc, c.tc_stderr), (lambda e: e.dtc, c.dtc_stderr)):
        w = _coefficients(value, n)
        assert err == pytest.approx(float(np.sqrt((w ** 2 * stderr ** 2).sum())), rel=1e-12)
    f = c.f_stderr
    np.testing.assert_allclose(f, np.sqrt(stderr[:-1] ** 2 + stderr[1:] ** 2), rtol=1e-12)
