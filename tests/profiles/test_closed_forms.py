"""Closed-form profiles (§6) against enumeration; Markov-chain target; Gaussian KL routes (§5.1, §6)."""

import itertools

import numpy as np
import pytest

from mdtheory.profiles.closed_forms import (beta_bernoulli_profile, family_profile, gaussian_ar1_profile,
                                           hidden_subset_parity_profile, markov_profile, markov_transition_profile,
                                           noisy_repeated_bit_profile, parity_profile, repeated_bit_profile)
from mdtheory.profiles.gaussian import gaussian_factorized_kl, gaussian_factorized_kl_chain_rule, gaussian_profile
from mdtheory.profiles.enumeration import efact, information_profile
from mdtheory.multiround.targets import (MarkovChain, batch_conditionals, beta_bernoulli, binary_markov_chain, global_parity,
                              hidden_subset_parity, markov_chain, noisy_repeated_bit, repeated_bit)

TOL = 1e-10
LOG2 = np.log(2.0)


def _same(closed, target):
    ref = information_profile(target)
    for name in ("H", "g", "f", "Z"):
        np.testing.assert_allclose(getattr(closed, name), getattr(ref, name), atol=TOL, err_msg=name)
    assert abs(closed.tc - ref.tc) < TOL and abs(closed.dtc - ref.dtc) < TOL


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("n", [1, 2, 3, 8])
def test_binary_markov(n, eps):
    _same(markov_profile(n, eps), binary_markov_chain(n, eps))


@pytest.mark.parametrize("q,eps", [(3, 0.2), (3, 0.9), (4, 0.5), (3, 1.0)])
def test_qary_markov(q, eps):
    P = (1 - eps) * np.eye(q) + eps / (q - 1) * (np.ones((q, q)) - np.eye(q))
    _same(markov_profile(5, eps, vocab_size=q), markov_chain(5, P, initial=np.full(q, 1 / q)))


def test_general_transition_markov():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5]])
    _same(markov_transition_profile(6, P), markov_chain(6, P))


@pytest.mark.parametrize("a,b", [(0.5, 0.5), (1.0, 3.0), (7.0, 2.0)])
def test_beta_bernoulli(a, b):
    _same(beta_bernoulli_profile(9, a, b), beta_bernoulli(9, a, b))


@pytest.mark.parametrize("eta", [0.0, 0.03, 0.25, 0.5, 1.0])
def test_noisy_repeated_bit(eta):
    _same(noisy_repeated_bit_profile(8, eta), noisy_repeated_bit(8, eta))


def test_parities_and_repeated_bit():
    _same(parity_profile(7), global_parity(7))
    _same(repeated_bit_profile(7), repeated_bit(7))
    for subset in ([0], [1, 4], [0, 2, 5], [0, 1, 2, 3, 4, 5, 6]):
        _same(hidden_subset_parity_profile(7, len(subset)), hidden_subset_parity(7, subset))


def test_spec_values_of_simple_families():
    n = 50
    pr = repeated_bit_profile(n)
    assert abs(pr.f[0] - LOG2) < 1e-15 and abs(pr.tc - (n - 1) * LOG2) < 1e-12 and abs(pr.dtc - LOG2) < 1e-12
    pr = parity_profile(n)
    assert abs(pr.f[-1] - LOG2) < 1e-12 and np.abs(pr.f[:-1]).max() < 1e-12
    assert abs(pr.tc - LOG2) < 1e-12 and abs(pr.dtc - (n - 1) * LOG2) < 1e-10


def test_markov_large_n_is_consistent_and_finite():
    # at N = 10⁴ the profile keeps its identities (independent sums) and matches the analytic N = 2 value
    for eps in (1e-4, 0.01, 0.1, 0.49):
        pr = markov_profile(10_000, eps)
        assert np.all(np.isfinite(pr.H)) and pr.f.min() >= -1e-15
        i = np.arange(1, pr.n)
        assert abs(((pr.n - i) * pr.f).sum() - pr.tc) < 1e-8 * pr.tc
        assert abs((i * pr.f).sum() - pr.dtc) < 1e-8 * max(pr.dtc, 1)
        assert pr.error < 1e-15
    # TC of the chain in closed form: N log 2 − H(π), H(π) = log 2 + (N−1) h₂(ε)
    eps, n = 0.1, 10_000
    h2 = -(eps * np.log(eps) + (1 - eps) * np.log(1 - eps))
    pr = markov_profile(n, eps)
    assert abs(pr.tc - (n - 1) * (LOG2 - h2)) < 1e-9 * pr.tc


def test_markov_chain_target_conditionals_and_sampling():
    P = np.array([[0.8, 0.15, 0.05], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    mc, jt = MarkovChain(P, 6), markov_chain(6, P)
    rng = np.random.default_rng(0)
    x = jt.sample(20, seed=1)
    rev = rng.random((20, 6)) < 0.4
    np.testing.assert_allclose(batch_conditionals(mc, x, rev), batch_conditionals(jt, x, rev), atol=1e-14)
    np.testing.assert_allclose(mc.log_prob(x), jt.log_prob(x), atol=1e-13)
    # sampling: the pair (x_2, x_3) follows μ_a P_ab; Pearson χ² at false-alarm 1e-6 with 8 dof
    from scipy.stats import chi2

    n_s = 100_000
    xs = mc.sample(n_s, seed=2)
    counts = np.bincount(3 * xs[:, 2] + xs[:, 3], minlength=9)
    expected = n_s * (mc.mu[:, None] * P).ravel()
    assert ((counts - expected) ** 2 / expected).sum() < chi2.ppf(1 - 1e-6, 8)


def test_markov_chain_rejects_zero_probability_conditioning():
    mc = MarkovChain(np.array([[1.0, 0.0], [0.5, 0.5]]), 4)
    with pytest.raises(ValueError, match="probability 0"):
        mc.conditionals(np.array([0, 1, 0, 0]), np.array([True, True, False, False]))


def test_gaussian_profile_and_ar1():
    n, rho = 7, 0.6
    cov = rho ** np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    a, b = gaussian_profile(cov), gaussian_ar1_profile(n, rho)
    np.testing.assert_allclose(a.H, b.H, atol=TOL)
    np.testing.assert_allclose(a.f, b.f, atol=TOL)
    assert np.all(a.f >= -TOL)


@pytest.mark.parametrize("schedule", [(1, 1, 1, 1, 1), (2, 3), (5,), (1, 3, 1)])
def test_gaussian_factorized_kl_two_routes_and_order_average(schedule):
    rng = np.random.default_rng(3)
    A = rng.normal(size=(5, 5))
    cov = A @ A.T + 0.3 * np.eye(5)
    kls = []
    for order in itertools.permutations(range(5)):
        a = gaussian_factorized_kl(cov, order, schedule)
        assert abs(a - gaussian_factorized_kl_chain_rule(cov, order, schedule)) < 1e-10
        kls.append(a)
    assert abs(np.mean(kls) - efact(gaussian_profile(cov), schedule)) < 1e-10
    if schedule == (5,):  # one block: KL = TC = Σ½log Σ_ii − ½ log det Σ
        tc = 0.5 * np.log(np.diag(cov)).sum() - 0.5 * np.linalg.slogdet(cov)[1]
        assert abs(kls[0] - tc) < 1e-10


@pytest.mark.parametrize("call,match", [
    (lambda: markov_profile(5, -0.1), "eps"),
    (lambda: markov_profile(5, float("nan")), "eps"),
    (lambda: markov_profile(0, 0.1), "n"),
    (lambda: markov_profile(5, 0.1, vocab_size=1), "q"),
    (lambda: beta_bernoulli_profile(5, 0.0, 1.0), "a and b"),
    (lambda: noisy_repeated_bit_profile(5, 1.5), "eta"),
    (lambda: hidden_subset_parity_profile(5, 6), "m"),
    (lambda: gaussian_ar1_profile(5, 1.0), "rho"),
    (lambda: gaussian_profile([[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
    (lambda: gaussian_profile([[1.0, 0.5], [0.4, 1.0]]), "symmetric"),
    (lambda: markov_transition_profile(5, [[0.5, 0.6], [0.5, 0.5]]), "row-stochastic"),
    (lambda: markov_transition_profile(5, np.eye(2)), "unique stationary"),
    (lambda: family_profile("markov", {"n": 5}), "needs eps"),
    (lambda: family_profile("ising", {"n": 5}), "unknown target family"),
    (lambda: family_profile("parity", {"n": 8, "m": 3}), "does not take m"),
    (lambda: family_profile("markov", {"n": 5, "eps": 0.1, "epsilon": 0.2}), "does not take epsilon"),
])
def test_bad_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("family, params", [("parity", {"n": 10 ** 9}), ("repeated-bit", {"n": 10 ** 9}),
                                            ("markov", {"n": 2 * 10 ** 5, "eps": 1e-12}),
                                            ("beta-bernoulli", {"n": 10 ** 5, "a": 1.0, "b": 1.0})])
def test_work_guard_refuses_huge_profiles_before_any_work(family, params):
    from mdtheory.profiles.closed_forms import profile_seconds

    seconds = profile_seconds(family, params)
    assert seconds > 60.0  # every family's estimate grows with N and is positive
    half = profile_seconds(family, {**params, "n": params["n"] // 2})
    assert 0.0 < half < seconds
    with pytest.raises(ValueError, match="max_seconds"):
        family_profile(family, params)


def test_gaussian_profile_of_one_coordinate_is_trivial():
    # N = 1: nothing to be dependent on, so the profile is flat (TC = DTC = 0) and the only E_fact is 0
    pr = gaussian_profile([[2.5]])
    assert pr.n == 1 and pr.tc == 0.0 and pr.dtc == 0.0
    with pytest.raises(ValueError, match="square"):
        gaussian_profile(np.ones((1, 2)))


@pytest.mark.parametrize("max_terms", [4, 5])
def test_the_markov_scaling_function_against_a_symbolic_derivative(max_terms):
    """φ(t) = −S′(t), S(t) = Σ_{d=1}^{M} h̃(d)·[2t(1−t)^{d−1} − (d−1)t²(1−t)^{d−2}], differentiated by sympy, with
    h̃(d) = −I(x_0; x_d) of the symmetric binary chain written out here: every one of the M terms counts."""
    import sympy as sp

    from mdtheory.profiles.continuum import markov_scaling_function

    eps, t = 1e-6, sp.Symbol("t")  # a slow chain: no term falls below the series' cut
    lam = 1 - 2 * eps
    S = 0
    for d in range(1, max_terms + 1):
        stay = 0.5 + 0.5 * lam ** d
        h = -(stay * np.log(2 * stay) + (1 - stay) * np.log(2 * (1 - stay)))
        S += h * (2 * t * (1 - t) ** (d - 1) - (d - 1) * t ** 2 * (1 - t) ** (d - 2))
    dS = sp.lambdify(t, -sp.diff(S, t))
    phi = markov_scaling_function(eps, max_terms=max_terms)
    for x in (0.1, 0.37, 0.8):
        assert abs(phi(x) - dS(x)) <= 1e-9 * abs(dS(x))
