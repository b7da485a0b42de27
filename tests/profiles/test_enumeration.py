"""Targets (§6) and profile identities (§5.2, §5.3, §7)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdtheory.profiles.closed_forms import markov_profile
from mdtheory.profiles.enumeration import efact, efact_bruteforce, entropy_profile, information_profile, profile_from_entropy
from mdtheory.multiround.targets import (beta_bernoulli, binary_markov_chain, dirichlet_joint, global_parity,
                              hidden_subset_parity, ising_grid, joint_table, markov_chain, noisy_repeated_bit,
                              potts_chain, product_target, repeated_bit)

LOG2 = np.log(2.0)
TOL = 1e-10  # identities to 1e-10


@pytest.mark.parametrize("n,q,seed", [(4, 2, 0), (5, 2, 1), (3, 3, 2), (6, 2, 3), (4, 3, 4)])
def test_identities_on_random_joints(n, q, seed):
    pr = information_profile(dirichlet_joint(n, q, concentration=0.5, seed=seed))
    assert np.all(pr.f >= -TOL)  # subset entropy is concave in size
    N = n
    i = np.arange(1, N)
    assert abs(pr.f.sum() - pr.sum_mutual_info / N) < TOL
    assert pr.f.sum() <= np.log(q) + TOL
    assert abs(((N - i) * pr.f).sum() - pr.tc) < TOL
    assert abs((i * pr.f).sum() - pr.dtc) < TOL
    assert abs(pr.tc + pr.dtc - pr.sum_mutual_info) < TOL
    np.testing.assert_allclose(pr.f, np.diff(pr.Z), atol=TOL)
    assert abs(pr.Z.sum() - pr.tc) < TOL and abs((pr.Z[-1] - pr.Z).sum() - pr.dtc) < TOL
    assert np.all(np.diff(pr.Z) >= -TOL) and pr.Z[0] == 0.0


@pytest.mark.parametrize("schedule", [[1, 1, 1, 1, 1], [2, 3], [5], [1, 3, 1], [3, 1, 1]])
def test_efact_equals_bruteforce_over_orders(schedule):
    t = dirichlet_joint(5, 2, concentration=0.7, seed=7)
    pr = information_profile(t)
    assert abs(efact(pr, schedule) - efact_bruteforce(t, schedule)) < TOL


def test_efact_extremes():
    pr = information_profile(dirichlet_joint(4, 3, seed=8))
    assert abs(efact(pr, [4]) - pr.tc) < TOL  # one block: E_fact = TC
    assert abs(efact(pr, [1, 1, 1, 1])) < TOL  # one token per step: exact
    with pytest.raises(ValueError, match="must sum to 4"):
        efact(pr, [2, 1])


def test_closed_form_families():
    n = 6
    pr = information_profile(repeated_bit(n))
    np.testing.assert_allclose(pr.f, [LOG2] + [0.0] * (n - 2), atol=TOL)
    assert abs(pr.tc - (n - 1) * LOG2) < TOL and abs(pr.dtc - LOG2) < TOL
    assert abs(efact(pr, [3, 3]) - 2 * LOG2) < TOL  # repeated bit: (k_1 − 1) log 2
    pr = information_profile(global_parity(n))
    np.testing.assert_allclose(pr.f, [0.0] * (n - 2) + [LOG2], atol=TOL)
    assert abs(pr.tc - LOG2) < TOL and abs(pr.dtc - (n - 1) * LOG2) < TOL
    # uneven schedule counterexample (§5.4): all blocks of size 1 but a last block of size 2 costs log 2
    assert abs(efact(pr, [1] * (n - 2) + [2]) - LOG2) < TOL
    pr = information_profile(product_target(np.random.default_rng(0).dirichlet(np.ones(3), size=4)))
    assert abs(pr.tc) < TOL and abs(pr.dtc) < TOL


def test_hidden_subset_parity_z_curve():
    from math import comb

    n, S = 6, [0, 2, 5]
    m = len(S)
    pr = information_profile(hidden_subset_parity(n, S))
    Z = [0.0 if j < m else m / n * comb(n - m, j - m) / comb(n - 1, j - 1) * LOG2 for j in range(1, n + 1)]
    np.testing.assert_allclose(pr.Z, Z, atol=TOL)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.37, 0.5])
def test_markov_closed_form_equals_enumeration(eps):
    np.testing.assert_allclose(markov_profile(7, eps).H, entropy_profile(binary_markov_chain(7, eps)), atol=TOL)


def test_exchangeable_families_are_normalised_and_conditionals():
    for t in (beta_bernoulli(5, 0.7, 1.3), noisy_repeated_bit(5, 0.1), ising_grid(2, 3, coupling=0.8),
              potts_chain(4, 3, coupling=1.0), markov_chain(4, [[0.9, 0.1, 0.0], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])):
        assert abs(t.table.sum() - 1) < 1e-12
        c = t.conditionals(np.zeros(t.n, int), np.array([True] + [False] * (t.n - 1)))
        np.testing.assert_allclose(c.sum(axis=1), 1.0, atol=1e-12)


def test_markov_conditional_depends_on_nearest_neighbours():
    t = binary_markov_chain(6, 0.2)
    a = t.conditionals(np.array([1, 0, 0, 0, 0, 0]), np.array([True, True, False, False, False, False]))
    b = t.conditionals(np.array([0, 0, 0, 0, 0, 0]), np.array([True, True, False, False, False, False]))
    np.testing.assert_allclose(a[2:], b[2:], atol=1e-12)


def test_bad_targets():
    with pytest.raises(ValueError, match="sum to 1"):
        joint_table(np.full((2, 2), 0.3))
    with pytest.raises(ValueError, match="shape"):
        joint_table(np.full((2, 3), 1 / 6))
    with pytest.raises(ValueError, match="length vocab_size"):
        joint_table(np.full(6, 1 / 6), vocab_size=2)
    with pytest.raises(ValueError, match="non-negative"):
        joint_table(np.array([[1.2, -0.2], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="probability 0"):
        repeated_bit(3).conditionals(np.array([0, 1, 0]), np.array([True, True, False]))
    with pytest.raises(ValueError, match="eps"):
        binary_markov_chain(3, 1.5)


@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=8))
def test_profile_from_concave_entropy(increments):
    # any non-increasing non-negative g gives f >= 0 and the identities
    g = np.sort(np.asarray(increments))[::-1]
    H = np.concatenate([[0.0], np.cumsum(g)])
    pr = profile_from_entropy(H)
    n = pr.n
    i = np.arange(1, n)
    assert np.all(pr.f >= -1e-12)
    assert abs(((n - i) * pr.f).sum() - pr.tc) < 1e-9
    assert abs((i * pr.f).sum() - pr.dtc) < 1e-9


def test_an_entropy_profile_needs_at_least_one_position():
    from mdtheory.profiles.enumeration import profile_from_entropy

    with pytest.raises(ValueError, match="N >= 1"):
        profile_from_entropy([0.0])
    assert profile_from_entropy([0.0, 0.5]).tc == 0.0  # N = 1 is fine


def test_the_path_kl_brute_force_refuses_seven_positions():
    from mdtheory.profiles.learning_error import path_kl_bruteforce
    from mdtheory.targets import dirichlet_joint

    t = dirichlet_joint(7, 2, seed=0)
    with pytest.raises(ValueError, match="N must be <= 6, got N=7"):
        path_kl_bruteforce(t, t, [4, 3])


@pytest.mark.parametrize("bad", [-1.0, -1e-9, 0.0])
def test_the_dirichlet_concentration_must_be_positive(bad):
    from mdtheory.targets import dirichlet_joint

    with pytest.raises(ValueError, match="concentration"):
        dirichlet_joint(3, 2, concentration=bad)
