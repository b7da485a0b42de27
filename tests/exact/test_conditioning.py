"""The rounding error every exact law states, against 60-digit references computed with mpmath.

Rows or tokens that differ in their last digits at a small α or τ: the law of the float64 table is well
defined, but float64 log-weights resolve it only so far. Each law must be within its stated rounding error of
the 60-digit answer, and refused (``IllConditioned``) where that error would exceed the limit.
"""

import itertools

import mpmath as mp
import numpy as np
import pytest

from mdtheory import maskgit_round_law, moment_round_law
from mdtheory.exact.conditioning import (PROBE_FROM, ROUNDING_LIMIT, IllConditioned, amplification, cells_tv,
                                         first_order_rounding, last_digit_perturbation, perturbed_table)
from mdtheory.exact.rule_laws import rule_law
from mdtheory.rules import (ChooseThenSample, ConfidenceRule, MarginRule, MomentRule, SampleThenChoose, Temperature,
                            UniformRule)

mp.mp.dps = 60
_A = 0.6
_UP, _DOWN = np.nextafter(_A, 1), np.nextafter(_A, 0)
#: three rows one ulp apart in their first entry: the exact laws at a tiny α differ from 1/3 each
NEAR = np.array([[_UP, 1 - _UP], [_A, 1 - _A], [_DOWN, 1 - _DOWN]])


def _moment_positions_mp(P, alpha):
    """P(position) of one moment round with k = 1: m_i / Σ m, m_i = Σ_s p_i(s)^(1 + 1/α), in 60 digits."""
    beta = 1 + 1 / mp.mpf(alpha)
    m = [sum(mp.mpf(float(x)) ** beta for x in row) for row in P]
    return np.array([float(x / sum(m)) for x in m])


def _maskgit_k1_mp(P, alpha):
    """P(position, token) of one MaskGIT round with k = 1, by enumerating the candidates, in 60 digits.

    Every position draws x_i ~ p_i; the largest of log p_i(x_i)/α + Gumbel wins with probability w_i/Σw,
    w = p^(1/α).
    """
    n, V = P.shape
    out = [[mp.mpf(0)] * V for _ in range(n)]
    for xs in itertools.product(range(V), repeat=n):
        pr = mp.mpf(1)
        for i, x in enumerate(xs):
            pr *= mp.mpf(float(P[i, x]))
        if pr == 0:
            continue
        w = [mp.mpf(float(P[i, x])) ** (1 / mp.mpf(alpha)) for i, x in enumerate(xs)]
        for i, x in enumerate(xs):
            out[i][x] += pr * w[i] / sum(w)
    return np.array([[float(v) for v in row] for row in out])


@pytest.mark.parametrize("alpha", [1e-3, 1e-6, 1e-8, 1e-9])
def test_the_moment_law_of_rows_one_ulp_apart_is_within_its_stated_rounding_error(alpha):
    law = moment_round_law(NEAR, k=1, alpha=alpha)
    ref = _moment_positions_mp(NEAR, alpha)
    tv = 0.5 * np.abs(law.probs.sum(axis=1) - ref).sum()
    assert tv <= law.rounding_error, (tv, law.rounding_error)
    assert law.rounding_error <= ROUNDING_LIMIT
    # the reference is not 1/3 each: the rows are not tied, so an answer that treated them as tied would fail
    assert np.abs(ref - 1 / 3).max() > 0.5 * 6e-14 / alpha * 1e-3  # ≈ 6e-17/α: the tie's answer is 1/3


@pytest.mark.parametrize("alpha", [1e-10, 1e-12, 1e-16])
def test_the_moment_law_is_refused_where_the_rounding_would_exceed_the_limit(alpha):
    with pytest.raises(IllConditioned, match=r"moving the table by 4 ulps moves the law by total variation"):
        moment_round_law(NEAR, k=1, alpha=alpha)
    # the truth there is far from uniform, which is what an unrefused float64 answer would be near
    assert np.abs(_moment_positions_mp(NEAR, alpha) - 1 / 3).max() > 6e-17 / alpha / 2


@pytest.mark.parametrize("alpha", [1e-3, 1e-6])
def test_the_maskgit_law_of_rows_one_ulp_apart_is_within_its_stated_errors(alpha):
    law = maskgit_round_law(NEAR, k=1, alpha=alpha)
    ref = _maskgit_k1_mp(NEAR, alpha)
    tv = 0.5 * np.abs(law.probs - ref).sum()
    assert tv <= law.rounding_error + law.quad_error + 1e-12, (tv, law.rounding_error, law.quad_error)


def test_tokens_one_ulp_apart_at_a_tiny_temperature():
    # positions uniform, tokens p^(1/τ): the rows' first two tokens differ by one ulp
    P = np.array([[0.5, np.nextafter(0.5, 0), 1 - 0.5 - np.nextafter(0.5, 0)]])
    P = P / P.sum()
    for tau, refused in ((1e-6, False), (1e-9, False), (1e-13, True)):
        rule = ChooseThenSample(UniformRule(), Temperature(tau))
        if refused:
            with pytest.raises(IllConditioned):
                rule_law(rule, P, 1)
            continue
        law = rule_law(rule, P, 1)
        w = [mp.mpf(float(x)) ** (1 / mp.mpf(tau)) for x in P[0]]
        ref = np.array([float(x / sum(w)) for x in w])
        assert 0.5 * np.abs(law.probs[0] - ref).sum() <= law.rounding_error
        assert abs(ref[0] - 0.5) > 1e-12  # not the tie's 1/2


def test_exact_ties_and_separated_rows_are_answered_at_any_alpha():
    # exact ties stay tied under the probe, and rows far apart give a point mass the last digits cannot move
    tied = np.array([[0.8, 0.2], [0.8, 0.2], [0.3, 0.7]])
    law = moment_round_law(tied, k=1, alpha=1e-12)
    np.testing.assert_allclose(law.probs.sum(axis=1), [0.5, 0.5, 0.0], atol=1e-15)
    assert law.rounding_error <= 2 * PROBE_FROM
    apart = np.array([[0.9, 0.1], [0.6, 0.4]])
    law = moment_round_law(apart, k=1, alpha=1e-12)
    assert law.probs[0, 0] == pytest.approx(1.0, abs=1e-15) and law.rounding_error <= 2 * PROBE_FROM


def test_a_well_conditioned_law_states_its_first_order_bound_and_is_not_computed_twice(monkeypatch):
    from mdtheory.exact import rule_laws

    calls = []
    real = rule_laws._log_cells
    monkeypatch.setattr(rule_laws, "_log_cells", lambda *a: calls.append(1) or real(*a))
    law = rule_law(ChooseThenSample(MomentRule(alpha=1.0), Temperature(0.5)), NEAR, 1)
    assert len(calls) == 1
    assert law.rounding_error == pytest.approx(first_order_rounding(NEAR, 2.0, 1))
    assert 0 < law.rounding_error < PROBE_FROM
    rule_law(ChooseThenSample(MomentRule(alpha=1e-6)), NEAR, 1)
    assert len(calls) == 4  # computed, then probed both ways


def test_amplification_reads_every_scale_of_a_rule():
    assert amplification(ChooseThenSample(MomentRule(alpha=0.25))) == 5.0
    assert amplification(ChooseThenSample(ConfidenceRule(noise=0.01), Temperature(0.5))) == pytest.approx(100.0)
    assert amplification(ChooseThenSample(MarginRule(noise=0.0), Temperature(0.0))) == 1.0  # deterministic
    assert amplification(SampleThenChoose(noise=1e-4)) == pytest.approx(1e4)
    assert amplification(ChooseThenSample(MomentRule(alpha=float("inf")))) == 1.0


def test_the_perturbation_moves_neighbours_apart_and_keeps_ties_zeros_and_infinities():
    x = np.array([0.5, np.nextafter(0.5, 1), 0.5, 0.0, -np.inf, 0.25])
    y, z = last_digit_perturbation(x), last_digit_perturbation(x, flip=True)
    assert y[0] == y[2] and y[3] == 0.0 and y[4] == -np.inf
    assert (y[1] - y[0] > x[1] - x[0]) != (z[1] - z[0] > x[1] - x[0])  # apart in one probe, crossed in the other
    assert z[1] < z[0]  # one ulp apart, four ulps each way: they cross
    live = [0, 1, 5]
    assert np.all(y[live] != x[live]) and np.all(np.abs(y[live] / x[live] - 1) <= 4 * 2.3e-16)
    q = perturbed_table(NEAR)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_cells_tv_counts_cells_present_in_one_law_only():
    with np.errstate(divide="ignore"):
        a = [((0,), np.log([0.5, 0.25])), ((1,), np.log([0.25, 0.0]))]
    b = [((0,), np.log([0.5, 0.5]))]
    assert cells_tv(a, b) == pytest.approx(0.5 * (0.0 + 0.25 + 0.25))
    assert cells_tv(a, a) == 0.0
