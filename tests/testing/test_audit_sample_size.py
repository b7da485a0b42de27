"""The audit's sample size is the smallest for which the TV bound of ``tv_estimate`` is within the resolution."""

import numpy as np
import pytest

from mdtheory.montecarlo.statistics import tv_estimate
from mdtheory.testing.audit import AUDIT_TV_RESOLUTION, min_audit_samples


@pytest.mark.parametrize("n_cells, confidence", [(2, 0.99), (12, 0.99), (300, 0.9), (1, 0.999999)])
def test_min_audit_samples_is_the_smallest_n_that_resolves_the_tv_bound(n_cells, confidence):
    law = np.full(n_cells, 1.0 / n_cells)

    def width(n):
        counts = np.zeros(n_cells, dtype=np.int64)
        counts[0] = n
        tv, upper = tv_estimate(counts, law, confidence=confidence)
        return upper - tv

    n = min_audit_samples(n_cells, confidence=confidence)
    assert width(n) <= AUDIT_TV_RESOLUTION + 1e-15 < width(n - 1)
