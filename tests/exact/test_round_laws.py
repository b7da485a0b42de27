"""Exact one-round laws vs the brute-force oracle, limits and extreme parameters."""

import math

import numpy as np
import pytest

from mdtheory import maskgit_round_law, moment_round_law
from mdtheory.exact import maskgit_ordered_law, maskgit_round_law_bruteforce, moment_ordered_law, moment_round_law_bruteforce, tv_distance
from mdtheory.exact.round_laws import LawSizeError

from ..cases import INVALID, TIES, VALID, random_rows

# Exact-vs-exact tolerance: the spec asks ~1e-10; the routes agree to ~1e-15, so 1e-12 leaves margin.
TOL = 1e-12


@pytest.mark.parametrize("name,probs,k,alpha", VALID, ids=[c[0] for c in VALID])
def test_maskgit_quadrature_equals_bruteforce(name, probs, k, alpha):
    q = maskgit_round_law(probs, k=k, alpha=alpha)
    b = maskgit_round_law_bruteforce(probs, k=k, alpha=alpha)
    np.testing.assert_allclose(q.probs, b.probs, atol=TOL, rtol=0)
    assert q.quad_error < 1e-9  # the reported (conservative) estimate is small too
    assert q.probs.dtype == np.float64


@pytest.mark.parametrize("name,probs,k,alpha", VALID, ids=[c[0] for c in VALID])
def test_moment_closed_form_equals_bruteforce(name, probs, k, alpha):
    np.testing.assert_allclose(moment_round_law(probs, k=k, alpha=alpha).probs,
                               moment_round_law_bruteforce(probs, k=k, alpha=alpha).probs, atol=TOL, rtol=0)


@pytest.mark.parametrize("seed", range(12))
def test_random_cases_n_up_to_6(seed):
    rng = np.random.default_rng(100 + seed)
    n, V = int(rng.integers(2, 7)), int(rng.integers(2, 4))
    if V ** n > 800:
        V = 2
    k = int(rng.integers(1, min(3, n) + 1))
    P = rng.dirichlet(np.full(V, [0.1, 1.0, 20.0][seed % 3]), size=n)
    if seed % 2:
        P[0] = np.eye(V)[0]
    alpha = float(rng.choice([0.05, 0.4, 1.0, 2.5, 20.0]))
    np.testing.assert_allclose(maskgit_round_law(P, k=k, alpha=alpha).probs,
                               maskgit_round_law_bruteforce(P, k=k, alpha=alpha).probs, atol=TOL, rtol=0)


@pytest.mark.parametrize("alpha", [0.0, math.inf])
@pytest.mark.parametrize("probs", [TIES, random_rows(3, 4, 3)], ids=["ties", "random"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_limits_equal_bruteforce(alpha, probs, k):
    np.testing.assert_allclose(maskgit_round_law(probs, k=k, alpha=alpha).probs,
                               maskgit_round_law_bruteforce(probs, k=k, alpha=alpha).probs, atol=TOL, rtol=0)
    np.testing.assert_allclose(moment_round_law(probs, k=k, alpha=alpha).probs,
                               moment_round_law_bruteforce(probs, k=k, alpha=alpha).probs, atol=TOL, rtol=0)


@pytest.mark.parametrize("name,probs,k,alpha", VALID, ids=[c[0] for c in VALID])
def test_laws_sum_to_one(name, probs, k, alpha):
    for fn in (maskgit_round_law, moment_round_law):
        for a in (alpha, 0.0, math.inf):
            assert abs(fn(probs, k=k, alpha=a).probs.sum() - 1.0) < 1e-12


def test_alpha_infinity_limit_is_approached():
    # spec §2.1: α → ∞ gives uniform positions and untempered tokens; the gap shrinks like 1/α
    P = random_rows(4, 5, 3)
    lim = maskgit_round_law(P, k=2, alpha=math.inf)
    gaps = [tv_distance(maskgit_round_law(P, k=2, alpha=a), lim) for a in (1e2, 1e3, 1e4)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3
    np.testing.assert_allclose(gaps[1] / gaps[2], 10.0, rtol=0.05)  # first-order in 1/α


def test_alpha_zero_limit_is_approached():
    P = np.array([[0.6, 0.3, 0.1], [0.45, 0.35, 0.2], [0.8, 0.15, 0.05], [0.25, 0.5, 0.25]])
    lim = maskgit_round_law(P, k=2, alpha=0.0)
    assert tv_distance(maskgit_round_law(P, k=2, alpha=1e-3), lim) < 1e-12
    assert tv_distance(maskgit_round_law(P, k=2, alpha=0.05), lim) > 1e-4


def test_alpha_zero_ties_split_uniformly():
    # two identical flat rows: the α = 0 rule keeps either with probability 1/2 (k = 1)
    P = np.array([[0.5, 0.5], [0.5, 0.5]])
    law = maskgit_round_law(P, k=1, alpha=0.0)
    np.testing.assert_allclose(law.probs, np.full((2, 2), 0.25), atol=1e-15)


def test_k_equals_n_maskgit_samples_p():
    P = random_rows(5, 4, 3)
    law = maskgit_round_law(P, k=4, alpha=0.3)
    np.testing.assert_allclose(law.probs[0], np.einsum("a,b,c,d->abcd", *P).ravel(), atol=1e-15)


def test_two_positions_closed_form_at_extreme_alpha():
    # independent derivation (N = 2, k = 1): P(1, x) = p_1(x) Σ_s p_2(s) w_1x / (w_1x + w_2s), evaluated in
    # mpmath at 40 digits, for α from 1e-3 to 1e3
    import mpmath as mp

    mp.mp.dps = 40
    P = np.array([[0.55, 0.3, 0.15], [0.2, 0.45, 0.35]])
    for alpha in (1e-3, 0.1, 1.0, 1e3):
        law = maskgit_round_law(P, k=1, alpha=alpha)
        ref = np.zeros((2, 3))
        for i, j in ((0, 1), (1, 0)):
            for x in range(3):
                wx = mp.mpf(P[i, x]) ** (1 / mp.mpf(alpha))
                ref[i, x] = float(mp.mpf(P[i, x]) * sum(mp.mpf(P[j, s]) * wx / (wx + mp.mpf(P[j, s]) ** (1 / mp.mpf(alpha)))
                                                        for s in range(3)))
        np.testing.assert_allclose(law.probs, ref, atol=1e-13, rtol=0, err_msg=f"alpha={alpha}")


@pytest.mark.parametrize("alpha", [1e-3, 1e3])
def test_extreme_alpha_is_finite_and_normalised(alpha):
    P = random_rows(6, 5, 4, 0.3)
    for k in (1, 2):
        law = maskgit_round_law(P, k=k, alpha=alpha)
        assert np.all(np.isfinite(law.probs)) and abs(law.probs.sum() - 1) < 1e-11
        assert np.isfinite(law.quad_error)


@pytest.mark.parametrize("alpha", [1.0, 1e3])
def test_vocab_50k_is_finite(alpha):
    P = random_rows(7, 2, 50257, 0.1)
    law = maskgit_round_law(P, k=1, alpha=alpha)
    assert np.all(np.isfinite(law.probs)) and abs(law.probs.sum() - 1) < 1e-11


@pytest.mark.parametrize("k", [1, 2, 3])
def test_ordered_laws_equal_bruteforce(k):
    P = random_rows(8, 4, 3, 0.5)
    P[1] = np.eye(3)[2]
    for alpha in (0.1, 1.0, 7.0):
        np.testing.assert_allclose(maskgit_ordered_law(P, k=k, alpha=alpha).probs,
                                   maskgit_round_law_bruteforce(P, k=k, alpha=alpha, ordered=True).probs, atol=TOL)
        np.testing.assert_allclose(moment_ordered_law(P, k=k, alpha=alpha).probs,
                                   moment_round_law_bruteforce(P, k=k, alpha=alpha, ordered=True).probs, atol=TOL)


@pytest.mark.parametrize("name,probs,k,alpha,exc,msg", INVALID, ids=[c[0] for c in INVALID])
def test_bad_input_raises(name, probs, k, alpha, exc, msg):
    for fn in (maskgit_round_law, moment_round_law):
        with pytest.raises(exc, match=msg):
            fn(probs, k=k, alpha=alpha)


def test_unknown_method_lists_allowed_values():
    with pytest.raises(ValueError, match="allowed values are 'quadrature', 'bruteforce'"):
        maskgit_round_law(random_rows(0, 3, 2), k=1, alpha=1.0, method="mc")


def test_size_guards():
    with pytest.raises(LawSizeError, match="MAX_CELLS"):
        maskgit_round_law(random_rows(0, 2000, 4), k=3, alpha=1.0)
    with pytest.raises(ValueError, match="brute force"):
        maskgit_round_law_bruteforce(random_rows(0, 12, 4), k=1, alpha=1.0)


# ---------------------------------------------------------------------------------------------
# generic sample-then-choose rounds (the peer rules: LLaDA/Fast-dLLM, Dream alg_temp)
def _peer_cases(seed):
    rng = np.random.default_rng(seed)
    for c in range(12):
        n, V = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        k = int(rng.integers(1, n + 1))
        p = rng.dirichlet(np.full(V, 0.7), size=n)
        q = p ** (1 / 0.6)
        q /= q.sum(axis=1, keepdims=True)
        yield q, np.log(p), k, 0.0  # LLaDA low-confidence remasking: tempered candidates, untempered confidence
        yield p, p, k, 0.3  # Dream alg_temp: PL on exp(confidence / τ)
        yield q, np.log(p), k, 0.7
        yield p, np.round(p, 1), k, 0.0  # many exact ties


def test_sample_then_choose_law_equals_bruteforce():
    from mdtheory.exact.round_laws import sample_then_choose_law
    from mdtheory.exact.oracle import sample_then_choose_law_bruteforce

    for probs, scores, k, noise in _peer_cases(31):
        a = sample_then_choose_law(probs, scores, k=k, noise=noise)
        b = sample_then_choose_law_bruteforce(probs, scores, k=k, noise=noise)
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-12)
        assert abs(a.probs.sum() - 1) < 1e-12


def test_sample_then_choose_law_contains_maskgit_and_rejects_bad_scores():
    from mdtheory.exact.round_laws import sample_then_choose_law

    P = np.random.default_rng(32).dirichlet(np.ones(3), size=4)
    for alpha in (0.0, 0.4, 2.0, np.inf):
        np.testing.assert_allclose(sample_then_choose_law(P, np.log(P), k=2, noise=alpha).probs,
                                   maskgit_round_law(P, k=2, alpha=alpha).probs, atol=1e-15)
    with pytest.raises(ValueError, match="shape"):
        sample_then_choose_law(P, np.log(P)[:, :2], k=1, noise=1.0)
    with pytest.raises(ValueError, match="finite"):
        sample_then_choose_law(P, np.full(P.shape, np.nan), k=1, noise=1.0)
    with pytest.raises(ValueError, match="noise"):
        sample_then_choose_law(P, np.log(P), k=1, noise=-1.0)


def test_ordered_laws_count_every_order_in_their_size_guard():
    # C(10, 5)·5⁵ = 787 500 sets-with-tokens fit, but × 5! orders = 94.5 M cells do not
    probs = random_rows(0, 10, 5)
    assert math.comb(10, 5) * 5 ** 5 < 60_000_000 < math.comb(10, 5) * 5 ** 5 * math.factorial(5)
    for fn in (maskgit_ordered_law, moment_ordered_law):
        with pytest.raises(LawSizeError, match="cells"):
            fn(probs, k=5, alpha=1.0)


def test_a_law_of_another_rule_keeps_its_temperature_in_its_params_not_in_alpha():
    from mdtheory.exact import eb_round_law

    law = eb_round_law([[0.9, 0.1], [0.5, 0.5], [0.99, 0.01]], gamma=0.3, temperature=0.7)
    assert np.isnan(law.alpha) and law.extra["params"] == {"gamma": 0.3, "temperature": 0.7}
