"""The edges of the exact routes, one test per mechanism: every answer passes its postconditions or is refused,
the α range is decided in one place, and the log-space arithmetic is shift-invariant in floating point."""

import math

import numpy as np
import pytest
import torch

from mdtheory import MaskGIT, Moment, ising_grid, make_sampler, maskgit_moment_tv, maskgit_round_law, \
    moment_round_law, output_law
from mdtheory._postconditions import PostconditionError, check_distance, check_kl, check_law, check_nonnegative
from mdtheory._validation import ALPHA_MIN
from mdtheory.exact.conditioning import IllConditioned
from mdtheory.exact.plackett_luce import pl_log_complement, pl_ordered_log_prob, pl_set_log_prob
from mdtheory.exact.round_laws import RoundLaw
from mdtheory.rules.tokens import Temperature, log_normalise
from mdtheory.sampling import maskgit_round, moment_round

# rows 1 ulp apart: the regime where unshifted log-space arithmetic failed
_P = 0.6
NEAR_TIES = np.array([[_P, 1 - _P], [np.nextafter(_P, 0), 1 - np.nextafter(_P, 0)],
                      [np.nextafter(np.nextafter(_P, 0), 0), 1 - np.nextafter(np.nextafter(_P, 0), 0)]])


# ---- postconditions: one helper, every route ---------------------------------------------------------------

def test_a_law_that_does_not_sum_to_one_is_refused_and_rounding_is_clipped():
    with pytest.raises(PostconditionError, match="sums to 1.4"):
        check_law(np.array([0.7, 0.7]), route="r")
    with pytest.raises(PostconditionError, match="entry -0.1 < 0"):
        check_law(np.array([-0.1, 1.1]), route="r")
    with pytest.raises(PostconditionError, match="non-finite"):
        check_law(np.array([np.nan, 1.0]), route="r")
    assert check_law(np.array([-1e-17, 1.0]), route="r").tolist() == [0.0, 1.0]
    # a stated error widens the band: 0.999 passes with error 1e-3, not without
    assert check_law(np.array([0.499, 0.5]), route="r", error=2e-3).sum() == pytest.approx(0.999)
    with pytest.raises(PostconditionError):
        check_law(np.array([0.499, 0.5]), route="r")
    assert check_law(np.array([0.3, 0.2]), route="r", total=0.5).sum() == 0.5


def test_distances_kl_and_nonnegative_quantities_are_checked_with_pinsker():
    assert check_distance(1.0000000000000004, route="r") == 1.0
    assert check_distance(-1e-17, route="r") == 0.0
    with pytest.raises(PostconditionError, match="outside"):
        check_distance(1.2, route="r")
    with pytest.raises(PostconditionError, match="Pinsker"):
        check_kl(0.0, tv=1.0, route="r")  # the reported KL = 0 next to TV = 1 of the unshifted moment law
    assert check_kl(-1e-17, tv=0.0, route="r") == 0.0 and check_kl(math.inf, tv=1.0, route="r") == math.inf
    assert check_nonnegative(-2.2e-16, name="E_fact", route="r") == 0.0
    with pytest.raises(PostconditionError, match="E_fact = -0.01 < 0"):
        check_nonnegative(-0.01, name="E_fact", route="r")


def test_every_round_law_is_checked_where_it_is_built():
    good = dict(sets=np.array([[0], [1]]), vocab_size=2, k=1, n_masked=2, sampler="maskgit", alpha=1.0)
    with pytest.raises(PostconditionError, match=r"maskgit round law \(quadrature\) \(N=2, k=1, V=2, alpha=1.0\)"):
        RoundLaw(probs=np.array([[0.5, 0.5], [0.5, 0.5]]), **good)
    law = RoundLaw(probs=np.array([[0.5, -1e-18], [0.25, 0.25]]), **good)
    assert law.probs.min() == 0.0


def test_efact_of_a_profile_never_prints_a_negative_number():
    from mdtheory.profiles import efact, profile_from_g

    # g non-increasing up to one rounding step: f = g(i−1) − g(i) has a −1e-17 entry
    pr = profile_from_g([1.0, 0.5, 0.5 + 1e-17, 0.2])
    assert efact(pr, [2, 2]) >= 0.0 and efact(pr, [1, 1, 1, 1]) == 0.0


# ---- the α range, decided once ---------------------------------------------------------------------------

TINY = [1e-320, 5e-324, 0.5 * ALPHA_MIN]


@pytest.mark.parametrize("alpha", TINY)
def test_an_alpha_below_the_range_is_refused_by_every_route_and_sampler(alpha):
    logp = torch.log(torch.tensor(NEAR_TIES))[None]
    g = torch.Generator().manual_seed(0)
    calls = [lambda: maskgit_round_law(NEAR_TIES, k=1, alpha=alpha), lambda: moment_round_law(NEAR_TIES, k=1, alpha=alpha),
             lambda: maskgit_moment_tv(NEAR_TIES, k=1, alpha=alpha), lambda: MaskGIT(alpha), lambda: Moment(alpha),
             lambda: make_sampler("maskgit", alpha=alpha), lambda: maskgit_round(logp, k=1, alpha=alpha, generator=g),
             lambda: moment_round(logp, k=1, alpha=alpha, generator=g)]
    for call in calls:
        with pytest.raises(ValueError, match="alpha must be 0 .the greedy limit. or at least 1e-305"):
            call()


@pytest.mark.parametrize("alpha", [ALPHA_MIN, 1e-300, 1e-18, 1e-16, 1e300, math.inf, 0.0])
def test_an_alpha_inside_the_range_gives_a_valid_law_or_a_clear_refusal(alpha):
    for route in (maskgit_round_law, moment_round_law):
        for k in (1, 2):
            try:
                law = route(NEAR_TIES, k=k, alpha=alpha)
            except IllConditioned as e:  # rows that differ in their last digits: float64 cannot resolve it
                assert "ulps" in str(e) and alpha < 1e-3
                continue
            except ValueError as e:  # the race quadrature's own, stated limit
                assert "alpha is too small" in str(e)
                continue
            assert np.all(law.probs >= 0) and abs(law.probs.sum() - 1) < 1e-12, (route.__name__, k, alpha)
    out = moment_round(torch.log(torch.tensor(NEAR_TIES))[None], k=1, alpha=alpha,
                       generator=torch.Generator().manual_seed(0))
    pos, tok = int(out.positions[0, 0]), int(out.tokens[0, 0])
    assert NEAR_TIES[pos, tok] > 0  # never a token of probability 0


# ---- shift-invariant log-space arithmetic ----------------------------------------------------------------

@pytest.mark.parametrize("shift", [2.0 ** 20, 2.0 ** 40, -(2.0 ** 45)])
def test_plackett_luce_is_invariant_under_a_shift_of_the_log_weights(shift):
    # weights on a grid of 1/8, so that every shifted value is exact: the inputs are the same law
    lw = np.array([0.0, 0.125, 0.5, -0.25, 0.375])
    sets = np.array([[0, 1], [2, 4], [1, 3]])
    orders = np.array([[1, 0], [4, 2], [3, 1]])
    np.testing.assert_allclose(pl_set_log_prob(lw + shift, sets), pl_set_log_prob(lw, sets), rtol=0, atol=1e-12)
    np.testing.assert_allclose(pl_ordered_log_prob(lw + shift, orders), pl_ordered_log_prob(lw, orders), atol=1e-12)
    # the complement itself is a value at the shift's magnitude: it is as precise as that magnitude allows
    np.testing.assert_allclose(pl_log_complement(lw + shift, sets) - shift, pl_log_complement(lw, sets),
                               atol=2 * np.spacing(abs(shift)))


def test_token_laws_are_invariant_under_a_shift_and_survive_a_tiny_temperature():
    assert log_normalise([[-6.9e17, -6.9e17]]).round(12).tolist() == [[-0.693147180560, -0.693147180560]]
    np.testing.assert_allclose(Temperature(1e-18).law([[0.5, 0.5], [0.6, 0.4]]), [[0.5, 0.5], [1.0, 0.0]])


@pytest.mark.parametrize("alpha", [1e-16, 1e-18, 1e-300])
def test_nearly_tied_rows_at_tiny_alpha_are_refused_never_returned_as_laws_that_do_not_sum_to_one(alpha):
    # rows one ulp apart at α ≤ 1e-16: float64 does not resolve the law, which once came back summing to 2.95
    for k in (1, 2):
        with pytest.raises(IllConditioned, match="ulps"):
            moment_round_law(NEAR_TIES, k=k, alpha=alpha)
    # the Ising marginals are tied in exact arithmetic and differ in their last digits in float64
    try:
        out = output_law(ising_grid(2, 2, coupling=0.6), Moment(alpha), "cosine", n_steps=2)
    except IllConditioned as e:
        assert "ulps" in str(e)
    else:
        assert abs(out.table.sum() - 1) < 1e-12 and out.tv <= math.sqrt(out.kl / 2) + 1e-12


def test_variable_size_laws_pass_the_same_postconditions(monkeypatch):
    from mdtheory._postconditions import PostconditionError, check_law_dict
    from mdtheory.exact import rule_laws
    from mdtheory.rules import Bernoulli

    assert check_law_dict({"a": 0.25, "b": 0.75}, route="r") == {"a": 0.25, "b": 0.75}
    with pytest.raises(PostconditionError, match="r: the law"):
        check_law_dict({"a": 0.7, "b": 0.7}, route="r")
    with pytest.raises(PostconditionError, match="non-finite"):
        check_law_dict({"a": float("nan"), "b": 1.0}, route="r")
    # a route that returned a mass of 1.4 is refused with its name, never returned
    monkeypatch.setattr(rule_laws, "mdlm_law", lambda rule, p: {((), ()): 0.7, ((0,), (0,)): 0.7})
    with pytest.raises(PostconditionError, match="Bernoulli round law \\(enumeration\\).*N=1, V=2"):
        rule_laws.rule_law(Bernoulli(rate=0.5), [[0.5, 0.5]])
