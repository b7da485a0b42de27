"""Randomized step sizes (§10.1): the recursion against literal enumerations written here, and the laws' own
invariants. References: assignments of tokens to steps enumerated in the test, the [CCL] sawtooth of each
composition, brute force over orders (``random_sizes_bruteforce``) and closed forms on the repeated bit."""

import itertools
import math

import numpy as np
import pytest

from mdtheory import expected_kl_random_sizes, markov_profile, size_law
from mdtheory.profiles import ccl_expected_kl, expected_kl_over_compositions, information_profile, random_sizes_bruteforce, repeated_bit_profile
from mdtheory.targets import dirichlet_joint


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_multinomial_recursion_equals_literal_assignments(K):
    pr = markov_profile(6, 0.2)
    ref = 0.0
    for assign in itertools.product(range(K), repeat=6):
        sizes = [c for c in (assign.count(t) for t in range(K)) if c]
        ref += ccl_expected_kl(pr, sizes) / K ** 6
    got = expected_kl_random_sizes(pr, size_law("multinomial", n_steps=K))
    assert abs(got.expected_kl - ref) < 1e-12
    assert abs(got.expected_steps - K * (1 - (1 - 1 / K) ** 6)) < 1e-12  # non-empty steps


def test_poisson_recursion_equals_its_composition_law_and_the_extremes():
    pr = markov_profile(9, 0.1)
    for m in (1.0, 1.5, 3.0, 20.0):
        law = size_law("poisson", mean_size=m)
        comp = law.compositions(9)
        assert abs(sum(comp.values()) - 1) < 1e-12
        a = expected_kl_random_sizes(pr, law)
        b = expected_kl_over_compositions(pr, comp)
        assert abs(a.expected_kl - b.expected_kl) < 1e-12 and abs(a.expected_steps - b.expected_steps) < 1e-9
    assert expected_kl_random_sizes(pr, size_law("poisson", mean_size=1.0)).expected_kl < 1e-15  # single tokens
    # a huge mean size reveals everything at once: E·KL = TC
    assert abs(expected_kl_random_sizes(pr, size_law("poisson", mean_size=1e4)).expected_kl - pr.tc) < 1e-9


@pytest.mark.parametrize("law", [size_law("multinomial", n_steps=3), size_law("poisson", mean_size=2.5),
                                 size_law("geometric", n_steps=3), size_law("geometric", n_steps=3, direction="increasing")],
                         ids=lambda law: law.describe())
def test_every_route_equals_brute_force_over_orders_and_sizes(law):
    t = dirichlet_joint(5, 2, concentration=0.4, seed=8)
    ref = random_sizes_bruteforce(t, law)
    pr = information_profile(t)
    assert abs(expected_kl_random_sizes(pr, law).expected_kl - ref) < 1e-12
    assert abs(expected_kl_over_compositions(pr, law.compositions(5)).expected_kl - ref) < 1e-12


def test_repeated_bit_closed_form():
    # copy law: E·KL = E[size of the first non-empty step − 1]·log 2; for the multinomial split the first
    # non-empty step holds Binomial(N − 0, 1/(K − t + 1)) given it is the first non-empty one
    n, K = 7, 3
    pr = repeated_bit_profile(n)
    ref = 0.0
    for sizes in itertools.product(range(n + 1), repeat=K):
        if sum(sizes) != n:
            continue
        p = math.factorial(n) / math.prod(math.factorial(s) for s in sizes) / K ** n
        first = next(s for s in sizes if s)
        ref += p * (first - 1) * math.log(2)
    assert abs(expected_kl_random_sizes(pr, size_law("multinomial", n_steps=K)).expected_kl - ref) < 1e-12


def test_markov_curve_at_ten_thousand_is_fast_and_ordered():
    import time

    t0 = time.perf_counter()
    pr = markov_profile(10_000, 0.05)
    few = expected_kl_random_sizes(pr, size_law("multinomial", n_steps=10)).expected_kl
    many = expected_kl_random_sizes(pr, size_law("multinomial", n_steps=1000)).expected_kl
    assert 0 < many < few < pr.tc
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="binomial", n_steps=2), "name must be one of"),
    (dict(name="multinomial"), "needs n_steps"),
    (dict(name="poisson", mean_size=0.5), "mean_size must be"),
    (dict(name="poisson", n_steps=3), "takes mean_size"),
    (dict(name="geometric", n_steps=1), "needs n_steps >= 2"),
    (dict(name="geometric", n_steps=3, direction="up"), "direction must be"),
])
def test_bad_size_laws_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        size_law(**kwargs)


def test_compositions_refuse_large_n_and_bad_probabilities():
    with pytest.raises(ValueError, match="N <= 16"):
        size_law("multinomial", n_steps=2).compositions(17)
    with pytest.raises(ValueError, match="summing to 1"):
        expected_kl_over_compositions(markov_profile(4, 0.1), {(2, 2): 0.7})
    assert np.isfinite(expected_kl_random_sizes(markov_profile(4, 0.1), size_law("geometric", n_steps=4)).expected_kl)


def test_the_poisson_law_keeps_its_whole_first_step_at_a_large_mean():
    """Repeated bit: E·KL = E[k_1 − 1]·log 2 with k_1 = min(1 + Poisson(λ), N), summed here with scipy: a
    truncation of the Poisson terms short of its tail (mean 101, N = 400) sends their mass to a step of size N."""
    from scipy import stats

    from mdtheory.profiles import repeated_bit_profile
    from mdtheory.profiles.random_sizes import expected_kl_random_sizes, size_law

    n, lam = 400, 100.0
    j = np.arange(n - 1)
    expected = float(j @ stats.poisson.pmf(j, lam) + (n - 1) * stats.poisson.sf(n - 2, lam)) * np.log(2)
    got = expected_kl_random_sizes(repeated_bit_profile(n), size_law("poisson", mean_size=lam + 1)).expected_kl
    assert abs(got - expected) < 1e-9 * expected
