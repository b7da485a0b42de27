"""The mutual-information bound (§10.2) against brute force over orders, closed forms and its own identities."""

import numpy as np
import pytest

from mdtheory.profiles import ccl_expected_kl, constant_schedule, efact_bruteforce, information_profile, kmax_bound, mutual_information_bound, parity_profile, repeated_bit_profile
from mdtheory.targets import dirichlet_joint
from mdtheory.profiles.enumeration import subset_entropies


@pytest.mark.parametrize("seed", range(4))
def test_bound_holds_against_brute_force_and_uses_the_mutual_information(seed):
    t = dirichlet_joint(5, 2, concentration=0.4, seed=seed)
    pr = information_profile(t)
    ents = subset_entropies(t)
    full = frozenset(range(5))
    mi = sum(ents[frozenset([j])] + ents[full - {j}] - ents[full] for j in range(5))  # Σ_i I(X_i; X_−i)
    for sched in ([2, 3], [1, 2, 2], [4, 1], [5]):
        bound = mutual_information_bound(pr, sched)
        assert abs(bound - (max(sched) - 1) * mi / 5) < 1e-12
        assert efact_bruteforce(t, sched) <= bound + 1e-12


def test_tightness_on_the_extreme_families():
    n = 48
    for K in (2, 4, 6, 12):
        s = constant_schedule(n, K)
        k = n // K
        cp, par = repeated_bit_profile(n), parity_profile(n)
        assert abs(mutual_information_bound(cp, s) - (k - 1) * np.log(2)) < 1e-12  # copy: equality
        assert abs(ccl_expected_kl(cp, s) - mutual_information_bound(cp, s)) < 1e-12
        assert abs(ccl_expected_kl(par, s) / mutual_information_bound(par, s) - 1 / (k - 1)) < 1e-12
        assert abs(mutual_information_bound(par, s) - (1 / K - 1 / n) * (par.tc + par.dtc)) < 1e-12
        assert abs(mutual_information_bound(par, s) - kmax_bound(par, s)) < 1e-12
