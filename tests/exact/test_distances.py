"""Distances, streaming TV routes, homogeneous reduction, Plackett–Luce and the race grid."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdtheory import maskgit_moment_tv, maskgit_round_law, moment_round_law
from mdtheory.exact import homogeneous_maskgit_moment_tv, homogeneous_round_laws, LawSizeError, kl_divergence, maskgit_moment_ordered_tv, pl_set_log_prob, position_inclusion, token_law_given_position, tv_distance
from mdtheory.exact.plackett_luce import pl_log_complement, pl_ordered_log_prob
from mdtheory.exact.race import GK_NODES, GK_WEIGHTS_GAUSS, GK_WEIGHTS_KRONROD, order_statistic_cdf

from ..cases import random_rows


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("alpha", [0.05, 0.7, 5.0])
def test_streaming_tv_equals_materialised(k, alpha):
    P = random_rows(k, 6, 3, 0.6)
    P[2] = [0.0, 1.0, 0.0]
    ref = tv_distance(maskgit_round_law(P, k=k, alpha=alpha), moment_round_law(P, k=k, alpha=alpha))
    r = maskgit_moment_tv(P, k=k, alpha=alpha)
    assert abs(r.tv - ref) < 1e-13
    assert 0 <= r.quad_error < 1e-9


def test_ordered_tv_bounds_set_tv():
    P = random_rows(1, 4, 3)
    for k in (1, 2, 3):
        assert maskgit_moment_ordered_tv(P, k=k, alpha=1.0) >= maskgit_moment_tv(P, k=k, alpha=1.0).tv - 1e-15


def test_marginals():
    P = random_rows(2, 5, 3)
    law = maskgit_round_law(P, k=2, alpha=0.8)
    incl = position_inclusion(law)
    np.testing.assert_allclose(incl.sum(), 2.0, atol=1e-13)
    tok = token_law_given_position(law)
    np.testing.assert_allclose(tok.sum(axis=1), 1.0, atol=1e-13)
    # k = N: every position included, tokens exactly p
    full = maskgit_round_law(P, k=5, alpha=0.8)
    np.testing.assert_allclose(position_inclusion(full), 1.0, atol=1e-13)
    np.testing.assert_allclose(token_law_given_position(full), P, atol=1e-13)


def test_kl_both_ways_and_support():
    P = random_rows(3, 4, 3)
    mg, mo = maskgit_round_law(P, k=2, alpha=1.0), moment_round_law(P, k=2, alpha=1.0)
    assert kl_divergence(mg, mo) > 0 and kl_divergence(mo, mg) > 0
    assert kl_divergence(mg, mg) == 0.0
    assert kl_divergence(mg, moment_round_law(P, k=2, alpha=0.0)) == np.inf
    with pytest.raises(ValueError, match="cell layout"):
        tv_distance(mg, maskgit_round_law(P, k=1, alpha=1.0))


@pytest.mark.parametrize("p,n,k,alpha", [([0.6, 0.3, 0.1], 6, 2, 1.0), ([0.5, 0.5], 7, 3, 0.3),
                                         ([0.7, 0.2, 0.1], 5, 4, 2.5), ([0.6, 0.0, 0.4], 5, 2, 0.5),
                                         ([0.6, 0.3, 0.1], 4, 4, 0.7)])
def test_homogeneous_equals_general(p, n, k, alpha):
    P = np.tile(p, (n, 1))
    assert abs(homogeneous_maskgit_moment_tv(p, n_masked=n, k=k, alpha=alpha).tv
               - maskgit_moment_tv(P, k=k, alpha=alpha).tv) < 1e-13
    # cell level: every cell of the general law equals the per-composition value
    hl = homogeneous_round_laws(p, n_masked=n, k=k, alpha=alpha)
    law = maskgit_round_law(P, k=k, alpha=alpha)
    support = list(hl.support)
    for toks, j in zip(law.token_tuples(), range(law.probs.shape[1])):
        if any(p[t] == 0 for t in toks):
            continue
        counts = np.bincount([support.index(t) for t in toks], minlength=len(support))
        c = int(np.nonzero((hl.counts == counts).all(axis=1))[0][0])
        np.testing.assert_allclose(law.probs[:, j], np.exp(hl.log_cell_maskgit[c]), atol=1e-14)


def test_homogeneous_large_is_finite():
    r = homogeneous_maskgit_moment_tv([0.4, 0.3, 0.2, 0.1], n_masked=3000, k=8, alpha=1.0)
    assert 0 < r.tv < 1e-2 and r.quad_error < 1e-8


def test_compositions_are_every_count_vector_once():
    from itertools import product
    from math import comb

    from mdtheory.exact.homogeneous import compositions

    for k, V in ((0, 3), (1, 1), (4, 3), (5, 4)):
        got = compositions(k, V)
        brute = sorted(c for c in product(range(k + 1), repeat=V) if sum(c) == k)  # lexicographic
        assert got.tolist() == [list(c) for c in brute] and len(got) == comb(k + V - 1, V - 1)
    with pytest.raises(LawSizeError, match="max_rows=10"):
        compositions(5, 4, max_rows=10)


def test_homogeneous_blocks_do_not_change_the_law(monkeypatch):
    import mdtheory.exact.homogeneous as hom

    p = [0.4, 0.3, 0.2, 0.1]
    whole = hom.homogeneous_round_laws(p, n_masked=500, k=12, alpha=0.7)
    monkeypatch.setattr(hom, "_BLOCK_ELEMS", 1000)  # many blocks of a few compositions, a ragged last one
    blocks = hom.homogeneous_round_laws(p, n_masked=500, k=12, alpha=0.7)
    # equal to rounding (BLAS may sum a block in another order); a misplaced block would be off by O(1)
    np.testing.assert_allclose(blocks.log_cell_maskgit, whole.log_cell_maskgit, rtol=1e-14, atol=0)
    np.testing.assert_allclose(blocks.log_cell_maskgit_gauss, whole.log_cell_maskgit_gauss, rtol=1e-14, atol=0)


def test_homogeneous_memory_is_refused_up_front_and_bounds_the_peak():
    import tracemalloc
    from math import comb

    from mdtheory.exact.homogeneous import homogeneous_law_bytes

    p = [0.4, 0.3, 0.2, 0.1]
    need = homogeneous_law_bytes(48, 4)
    assert need == comb(51, 3) * 16 * 8 + 128_000_000
    with pytest.raises(LawSizeError, match=r"needs about .* MiB .*max_bytes"):
        homogeneous_maskgit_moment_tv(p, n_masked=4096, k=48, alpha=1.0, max_bytes=need - 1)
    tracemalloc.start()
    homogeneous_maskgit_moment_tv(p, n_masked=4096, k=48, alpha=1.0, max_bytes=need)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= need, (peak, need)  # the estimate is an upper bound on what numpy allocated


def test_gauss_kronrod_polynomial_exactness():
    # K15 integrates degree ≤ 22 exactly on [−1, 1]; the embedded G7 degree ≤ 13 (checks the constants)
    for deg in range(23):
        exact = (1 - (-1) ** (deg + 1)) / (deg + 1)
        assert abs(GK_WEIGHTS_KRONROD @ GK_NODES ** deg - exact) < 1e-14
        if deg <= 13:
            assert abs(GK_WEIGHTS_GAUSS @ GK_NODES ** deg - exact) < 1e-14


def test_order_statistic_cdf_against_enumeration():
    # P(E_(k) <= t) for independent mixtures of exponentials, by enumerating which arrivals happened
    P = random_rows(4, 4, 2)
    log_w = np.log(P) / 0.8
    log_w -= log_w.max()
    t = np.array([0.3, 1.0, 4.0])
    for k in (1, 2, 3):
        cdf, _ = order_statistic_cdf(P, log_w, np.log(t), k)
        F = (P[:, :, None] * -np.expm1(-np.exp(log_w)[:, :, None] * t)).sum(axis=1)  # (4, 3)
        ref = np.zeros(3)
        for arrived in itertools.product([0, 1], repeat=4):
            if sum(arrived) >= k:
                ref += np.prod([F[j] if a else 1 - F[j] for j, a in enumerate(arrived)], axis=0)
        np.testing.assert_allclose(cdf, ref, atol=1e-14)


def _pl_set_bruteforce(w, S):
    total = 0.0
    for order in itertools.permutations(S):
        pr, rest = 1.0, sum(w)
        for r in order:
            pr *= w[r] / rest
            rest -= w[r]
        total += pr
    return total


@given(st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=7), st.integers(1, 3))
def test_pl_set_prob_matches_definition(w, k):
    k = min(k, len(w))
    sets = np.array(list(itertools.combinations(range(len(w)), k)))
    got = np.exp(pl_set_log_prob(np.log(w), sets))
    ref = np.array([_pl_set_bruteforce(w, S) for S in sets])
    np.testing.assert_allclose(got, ref, rtol=1e-11)
    assert abs(got.sum() - 1) < 1e-11


def test_pl_complement_keeps_precision_with_dominant_weights():
    # w = (1, 1e-10, 1e-10): after picking 0, position 1 wins with probability 1/2 exactly
    lw = np.log([1.0, 1e-10, 1e-10])
    assert np.exp(pl_log_complement(lw, np.array([[0, 1]])))[0] == pytest.approx(1e-10, rel=1e-14)
    assert np.exp(pl_ordered_log_prob(lw, np.array([[0, 1]])))[0] == pytest.approx(0.5 / (1 + 2e-10), rel=1e-12)


def test_pl_integral_route_matches_orders():
    # private: the integral route is checked against the public inclusion–exclusion route
    from mdtheory.exact.plackett_luce import _pl_set_log_prob_integral

    lw = np.log(random_rows(9, 1, 9)[0])
    sets = np.array(list(itertools.combinations(range(9), 5)))[:20]
    np.testing.assert_allclose(_pl_set_log_prob_integral(lw, sets), pl_set_log_prob(lw, sets), atol=1e-11)


def test_streamed_pair_tv_over_several_blocks_equals_the_homogeneous_route():
    # N = 140 equal rows at k = 2: the pair route streams its sets in blocks of 128 rows (a second block
    # that starts at i0 > 0); the homogeneous route computes the same TV from counts, sharing none of it
    from mdtheory.exact.homogeneous import homogeneous_maskgit_moment_tv

    row = np.array([0.6, 0.3, 0.1])
    streamed = maskgit_moment_tv(np.tile(row, (140, 1)), k=2, alpha=0.8)
    counted = homogeneous_maskgit_moment_tv(row, n_masked=140, k=2, alpha=0.8)
    assert streamed.route != counted.route == "homogeneous"
    assert abs(streamed.tv - counted.tv) <= streamed.quad_error + counted.quad_error + 1e-12
    # both report the number of cells of the law: C(N, k)·V^k
    assert streamed.n_cells == counted.n_cells == math.comb(140, 2) * 3 ** 2


def test_the_homogeneous_refusal_states_the_number_of_token_compositions():
    from math import comb

    from mdtheory.exact.homogeneous import homogeneous_law_bytes

    need = homogeneous_law_bytes(48, 4)
    with pytest.raises(LawSizeError) as info:
        homogeneous_maskgit_moment_tv([0.4, 0.3, 0.2, 0.1], n_masked=4096, k=48, alpha=1.0, max_bytes=need - 1)
    assert f"({comb(51, 3):.3g} token compositions)" in str(info.value)  # C(k + V − 1, V − 1) = 2.08e+04
