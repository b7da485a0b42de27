"""A differential fuzz suite against the literal oracles (hypothesis, deterministic profile).

Tables of V up to 64 with the hard rows (1 ulp apart, exact zeros, one entry 1 − 1e-300, subnormal entries) and
α from the smallest accepted value to 1e300: every exact route agrees with its brute-force oracle wherever the
oracle is feasible (V^N ≤ 4,096), and every answer passes its postconditions everywhere — or is refused with a
one-line ``ValueError`` (a regime a route states it cannot resolve). A failure hypothesis finds is shrunk and
then kept here as a named ``@example``, so it stays a regression case.
"""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mdtheory import maskgit_round_law, moment_round_law
from mdtheory._validation import ALPHA_MIN
from mdtheory.exact.conditioning import IllConditioned
from mdtheory.exact.oracle import maskgit_round_law_bruteforce, moment_round_law_bruteforce

#: cases by outcome, for the record (printed by the last test)
OUTCOMES: Counter = Counter()

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

ALPHAS = st.one_of(st.sampled_from([0.0, ALPHA_MIN, 1e-300, 1e-18, 1e-16, 1e-6, 0.5, 1.0, 3.0, 1e6, 1e300, math.inf]),
                   st.floats(-3, 3).map(lambda e: 10.0 ** e))


def _row(kind: str, v: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "dirichlet":
        return rng.dirichlet(np.full(v, rng.choice([0.1, 1.0, 30.0])))
    if kind == "zeros":
        r = rng.dirichlet(np.ones(v))
        r[rng.integers(v)] = 0.0
        return r / r.sum()
    if kind == "near_one":
        r = np.full(v, 1e-300 / (v - 1))
        r[rng.integers(v)] = 1.0 - 1e-300  # rounds to 1: the others are below its ulp
        return r
    if kind == "subnormal":
        r = rng.dirichlet(np.ones(v))
        r[rng.integers(v)] = 5e-324
        return r / r.sum()
    return np.full(v, 1.0 / v)  # flat


@st.composite
def tables(draw, *, max_n: int, max_v: int, max_cells: int | None = None):
    v = draw(st.integers(2, max_v))
    hi = max_n if max_cells is None else max(1, min(max_n, int(math.log(max_cells) / math.log(v))))
    n = draw(st.integers(1, hi))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 20)))
    rows = [_row(draw(st.sampled_from(["dirichlet", "dirichlet", "zeros", "near_one", "subnormal", "flat"])), v, rng)
            for _ in range(n)]
    P = np.array(rows)
    if n >= 2 and draw(st.booleans()):  # a row 1 ulp from another: nearly tied
        j = int(np.argmax(P[0]))
        P[1] = P[0]
        P[1, j] = np.nextafter(P[0, j], 0.0)
        P[1, (j + 1) % v] += P[0, j] - P[1, j]
    return P


def _valid(law) -> None:
    assert np.all(np.isfinite(law.probs)) and law.probs.min() >= 0.0
    assert abs(law.probs.sum() - 1.0) <= 1e-9 + getattr(law, "quad_error", 0.0) + getattr(law, "truncation", 0.0)


@FUZZ
@given(P=tables(max_n=4, max_v=4, max_cells=4096), alpha=ALPHAS, k=st.integers(1, 2), sampler=st.sampled_from(
    ["maskgit", "moment"]))
@example(P=np.array([[0.6, 0.4], [np.nextafter(0.6, 0), 1 - np.nextafter(0.6, 0)]]), alpha=1e-16, k=1,
         sampler="moment")  # nearly tied rows at tiny α: the unshifted Plackett–Luce law summed to 1.37
@example(P=np.array([[0.6, 0.4], [np.nextafter(0.6, 0), 1 - np.nextafter(0.6, 0)]]), alpha=1e-8, k=1,
         sampler="moment")  # the same rows at α = 1e-8: accurate only to the stated rounding error
def test_every_exact_round_law_agrees_with_its_oracle(P, alpha, k, sampler):
    k = min(k, P.shape[0])
    fast, slow = ((maskgit_round_law, maskgit_round_law_bruteforce) if sampler == "maskgit"
                  else (moment_round_law, moment_round_law_bruteforce))
    try:
        law = fast(P, k=k, alpha=alpha)
    except IllConditioned as e:  # float64 does not resolve this law: refused, with the measured sensitivity
        assert "\n" not in str(e) and "ulps" in str(e)
        OUTCOMES["oracle: refused as ill-conditioned"] += 1
        return
    except ValueError as e:  # a regime the route refuses, in one line
        assert "\n" not in str(e)
        OUTCOMES["oracle: refused"] += 1
        return
    _valid(law)
    ref = slow(P, k=k, alpha=alpha)
    assert np.array_equal(law.sets, ref.sets)
    _valid(ref)
    OUTCOMES["oracle: both laws valid"] += 1
    # the oracle rounds as much as the route does: agreement within 1e-10 plus both stated errors, the rounding
    # error being the route's own measured sensitivity to the inputs' last digits
    atol = 1e-10 + 10 * (law.quad_error + law.truncation) + 4 * law.rounding_error
    np.testing.assert_allclose(law.probs, ref.probs, rtol=0, atol=atol)
    OUTCOMES["oracle: agree to 1e-10" if law.rounding_error <= 1e-11 else "oracle: agree within the rounding"] += 1


@FUZZ
@given(P=tables(max_n=6, max_v=64), alpha=ALPHAS, k=st.integers(1, 3), sampler=st.sampled_from(["maskgit", "moment"]))
def test_every_exact_round_law_passes_its_postconditions_beyond_the_oracles_reach(P, alpha, k, sampler):
    k = min(k, P.shape[0], 1 if P.shape[1] > 16 else 3)  # at most ~10^5 cells: the budget of the default run
    route = maskgit_round_law if sampler == "maskgit" else moment_round_law
    try:
        law = route(P, k=k, alpha=alpha)
    except (ValueError, IllConditioned) as e:  # refused: too many cells, or a regime the route cannot resolve
        assert "\n" not in str(e)
        OUTCOMES["postconditions: refused"] += 1
        return
    _valid(law)
    OUTCOMES["postconditions: valid"] += 1


@pytest.mark.parametrize("alpha", [1e-320, 5e-324, ALPHA_MIN / 2])
def test_alphas_below_the_range_are_refused_by_both_routes(alpha):
    for route in (maskgit_round_law, moment_round_law):
        with pytest.raises(ValueError, match="alpha must be 0"):
            route(np.full((2, 2), 0.5), k=1, alpha=alpha)


def test_zz_the_outcomes_are_recorded():
    print("differential fuzz outcomes:", dict(sorted(OUTCOMES.items())))
