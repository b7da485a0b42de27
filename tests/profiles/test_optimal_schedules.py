"""Schedules from profiles (§2.4, §5.5, §5.6) and the bounds of §5.4, §5.5, §7 — exact references:
exhaustive search over compositions, brute force over orders, closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdtheory.profiles.bounds import (BOUND_EXPRESSIONS, bound_expression, ccl_expected_kl, geometric_decreasing_bound,
                             geometric_increasing_bound, kmax_bound)
from mdtheory.profiles.closed_forms import markov_profile, parity_profile, repeated_bit_profile
from mdtheory.profiles.optimal_schedules import (SCHEDULE_METHODS, data_driven_schedule, optimal_schedule,
                                                 optimal_schedule_exhaustive, profile_schedule, schedule_comparison)
from mdtheory.profiles.continuum import continuum_limits, markov_scaling_function
from mdtheory.profiles.schedule_shapes import geometric_rho, geometric_schedule, sqrt_schedule
from mdtheory.profiles.schedule_costs import schedule_cost
from mdtheory.profiles.enumeration import efact, efact_weights, information_profile, profile_from_g
from mdtheory.multiround.targets import dirichlet_joint

LOG2 = np.log(2.0)


@st.composite
def profiles(draw, max_n=12):
    """A profile from an arbitrary non-increasing, non-negative g (every such g is a valid curve)."""
    n = draw(st.integers(2, max_n))
    g = np.sort(np.array(draw(st.lists(st.floats(0.0, 1.5), min_size=n, max_size=n))))[::-1]
    return profile_from_g(g)


@st.composite
def profile_and_schedule(draw):
    pr = draw(profiles())
    cuts = draw(st.sets(st.integers(1, pr.n - 1), max_size=pr.n - 1))
    sizes = np.diff(np.array([0, *sorted(cuts), pr.n]))
    return pr, sizes


@given(profile_and_schedule())
@settings(max_examples=200)
def test_bounds_hold_on_arbitrary_profiles(case):
    pr, sizes = case
    e = efact(pr, sizes)
    assert e >= -1e-12
    assert e <= kmax_bound(pr, sizes) + 1e-12
    assert abs(ccl_expected_kl(pr, sizes) - e) < 1e-9
    assert abs(schedule_cost(pr, sizes) - pr.entropy - e) < 1e-9  # Σ k_t g(s_{t−1}) − H(π)
    if sizes[0] == 1:
        assert e <= geometric_increasing_bound(pr, sizes) + 1e-12
        assert geometric_increasing_bound(pr, sizes) <= geometric_rho(sizes) * pr.dtc + 1e-9
    if sizes[-1] == 1:
        assert e <= geometric_decreasing_bound(pr, sizes) + 1e-12
        assert geometric_decreasing_bound(pr, sizes) <= geometric_rho(sizes, direction="decreasing") * pr.tc + 1e-9


@given(profiles(max_n=11), st.data())
@settings(max_examples=60)
def test_optimum_equals_exhaustive_and_beats_every_method(pr, data):
    K = data.draw(st.integers(1, pr.n))
    ref = schedule_cost(pr, optimal_schedule_exhaustive(pr, K))
    for method in ("monotone", "dp", "auto"):
        s = optimal_schedule(pr, K, method=method)
        assert len(s) == K and s.sum() == pr.n and s.min() >= 1
        assert abs(schedule_cost(pr, s) - ref) < 1e-12
    best = efact(pr, optimal_schedule(pr, K))
    for method in SCHEDULE_METHODS:
        if method.startswith("geometric") and K == 1 and pr.n > 1:
            continue
        s = profile_schedule(pr, K, method)
        assert len(s) == K and s.sum() == pr.n and s.min() >= 1, (method, s)
        assert efact(pr, s) >= best - 1e-12


def test_noisy_curve_uses_the_plain_dp():
    rng = np.random.default_rng(0)
    for _ in range(20):
        c = rng.normal(size=9)
        for K in (2, 4, 7):
            a, b = data_driven_schedule(c, K), optimal_schedule_exhaustive(c, K)
            assert abs(schedule_cost(c, a) - schedule_cost(c, b)) < 1e-12


def test_efact_weights_and_spec_examples():
    np.testing.assert_array_equal(efact_weights([3, 2], 5), [2, 1, 0, 1])
    pr = parity_profile(8)
    assert abs(efact(pr, [1] * 6 + [2]) - LOG2) < 1e-12  # uneven schedule counterexample
    s = optimal_schedule(pr, 3)  # ties: any schedule whose last block is one token costs 0
    assert s[-1] == 1 and abs(efact(pr, s)) < 1e-15
    pr = repeated_bit_profile(8)
    assert abs(efact(pr, [3, 5]) - 2 * LOG2) < 1e-12  # (k_1 − 1) log 2
    assert abs(kmax_bound(pr, [5, 3]) - efact(pr, [5, 3])) < 1e-12  # tight when the largest block is first


def test_geometric_schedules():
    s = geometric_schedule(100, rho=0.5)
    assert s[0] == 1 and s.sum() == 100
    s_prev = np.cumsum(s)[:-1]
    assert np.all(s[1:] - 1 <= 0.5 * s_prev + 1e-12)
    for K in (2, 5, 13, 40, 100):
        inc = geometric_schedule(100, n_steps=K)
        dec = geometric_schedule(100, n_steps=K, direction="decreasing")
        assert len(inc) == K and inc.sum() == 100 and inc[0] == 1
        assert dec.tolist() == inc[::-1].tolist() and dec[-1] == 1
    # given K, ρ is the smallest achieving K steps: a slightly smaller ρ needs more steps
    inc = geometric_schedule(1000, n_steps=12)
    rho = geometric_rho(inc)
    assert len(geometric_schedule(1000, rho=rho * (1 - 1e-6))) > 12
    assert geometric_schedule(7, n_steps=7).tolist() == [1] * 7


def test_sqrt_rule_places_blocks_by_sqrt_f_mass():
    pr = parity_profile(20)  # all mass at i = N−1: big first block, unit blocks at the end
    assert sqrt_schedule(pr, 4).tolist() == [17, 1, 1, 1]
    pr = markov_profile(400, 0.05)
    s = sqrt_schedule(pr, 20)
    assert efact(pr, s) <= 1.01 * efact(pr, optimal_schedule(pr, 20))


def test_continuum_limits_of_markov_chain():
    eps = 0.05
    phi = markov_scaling_function(eps)
    lim = continuum_limits(phi)
    # ∫φ = lim Σ f = g(0) − g(N−1) → log 2 − (2 h(1) − h(2)) (the last conditional: two neighbours at distance 1)
    def h(e):
        return -(e * np.log(e) + (1 - e) * np.log(1 - e))

    e2 = 2 * eps * (1 - eps)
    assert abs(2 * lim.half_integral - (LOG2 - 2 * h(eps) + h(e2))) < 1e-9
    assert lim.gain >= 1.0 and lim.error < 1e-10
    pr = markov_profile(10_000, eps)
    np.testing.assert_allclose([pr.n * pr.f[int(t * pr.n) - 1] for t in (0.25, 0.5, 0.75)],
                               [phi(t) for t in (0.25, 0.5, 0.75)], rtol=2e-3)


def test_schedule_comparison_rows():
    rows = schedule_comparison(markov_profile(50, 0.1), [1, 5])
    assert {r["method"] for r in rows if r["n_steps"] == 5} == set(SCHEDULE_METHODS)
    assert all(r["method"] in ("optimal", "sqrt", "constant") for r in rows if r["n_steps"] == 1)


def test_bound_expressions_parse():
    import sympy

    for name in BOUND_EXPRESSIONS:
        assert isinstance(bound_expression(name), sympy.Expr)
    assert {str(s) for s in bound_expression("geometric_increasing_dtc").free_symbols} == {"rho", "DTC"}


@pytest.mark.parametrize("call,match", [
    (lambda: efact(markov_profile(5, 0.1), [2, 2]), "must sum to 5"),
    (lambda: efact(markov_profile(5, 0.1), [3, 0, 2]), ">= 1"),
    (lambda: efact(markov_profile(5, 0.1), [-1, 6]), ">= 1"),
    (lambda: optimal_schedule(markov_profile(5, 0.1), 6), "n_steps"),
    (lambda: optimal_schedule(markov_profile(5, 0.1), 0), "n_steps"),
    (lambda: optimal_schedule([0.5, np.nan, 0.1], 2), "finite"),
    (lambda: geometric_schedule(10, n_steps=1), "n_steps must be >= 2"),
    (lambda: geometric_schedule(10, rho=-1.0), "rho"),
    (lambda: geometric_schedule(10), "exactly one"),
    (lambda: geometric_rho([2, 3]), "size 1"),
    (lambda: profile_schedule(markov_profile(5, 0.1), 2, "cosine"), "method"),
    (lambda: sqrt_schedule(markov_profile(5, 0.1), 9), "n_steps"),
])
def test_bad_schedules(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dp_on_enumerated_joint():
    pr = information_profile(dirichlet_joint(8, 2, concentration=0.3, seed=5))
    for K in range(1, 9):
        assert abs(efact(pr, optimal_schedule(pr, K)) - efact(pr, optimal_schedule_exhaustive(pr, K))) < 1e-12


def test_profile_schedules_drive_the_sampling_loop():
    torch = pytest.importorskip("torch")
    import mdtheory as mdt

    pr = markov_profile(12, 0.1)
    for method in SCHEDULE_METHODS:
        sizes = profile_schedule(pr, 4, method)
        res = mdt.sample(lambda t, m: torch.zeros(t.shape[0], t.shape[1], 2, dtype=torch.float64), seq_len=12,
                         schedule=sizes, sampler=mdt.make_sampler("uniform"), batch_size=3,
                         generator=torch.Generator().manual_seed(0))
        np.testing.assert_array_equal(np.asarray(res.schedule), sizes)
        # reveal_step counts the positions revealed at each step
        counts = np.stack([np.bincount(r, minlength=4) for r in np.asarray(res.reveal_step)])
        assert (counts == sizes).all()


def test_schedule_cost_stderr_and_ordering_by_hand():
    """J = 1·3 + 2·2 + 1·0.5 = 7.5 and se² = 1·0.1² + 4·0.2² + 1·0.4² = 0.33 (hand computed); the ordering of
    three schedules: all three pairs are significant, (a, b) is a violation, Kendall τ = (2 − 1)/3."""
    from types import SimpleNamespace

    from mdtheory.profiles.schedule_costs import schedule_cost_stderr
    from mdtheory.montecarlo.schedule_ordering import schedule_ordering

    curve = SimpleNamespace(values=np.array([3.0, 2.0, 1.0, 0.5]), stderr=np.array([0.1, 0.2, 0.3, 0.4]))
    J, se = schedule_cost_stderr(curve, [1, 2, 1])
    assert J == pytest.approx(7.5, abs=1e-14) and se == pytest.approx(np.sqrt(0.33), abs=1e-14)
    o = schedule_ordering(["a", "b", "c"], [1.0, 2.0, 10.0], [0.1, 0.1, 0.1], [5.0, 3.0, 9.0])
    assert (o.significant_pairs, o.violations) == (3, 1)
    assert o.kendall_tau == pytest.approx(1 / 3, abs=1e-12)
    assert o.by_cost == ("a", "b", "c") and o.by_quality == ("b", "a", "c")
    assert o.agreements is None and o.contradictions is None
    # with quality standard errors: (a, b) is reversed by 2 with se √0.5 each → 2 < 3 → undecided;
    # (a, c) and (b, c) agree (gaps 4 and 6 > 3)
    o = schedule_ordering(["a", "b", "c"], [1.0, 2.0, 10.0], [0.1, 0.1, 0.1], [5.0, 3.0, 9.0], [0.5 ** 0.5] * 3)
    assert (o.violations, o.agreements, o.contradictions) == (1, 2, 0)
    o = schedule_ordering(["a", "b", "c"], [1.0, 2.0, 10.0], [0.1, 0.1, 0.1], [5.0, 3.0, 9.0], [0.1] * 3)
    assert (o.agreements, o.contradictions) == (2, 1)
    # a cost gap inside 3 combined standard errors is not significant
    assert schedule_ordering(["a", "b"], [1.0, 1.4], [0.1, 0.1], [5.0, 3.0]).significant_pairs == 0


@pytest.mark.parametrize("args, match", [
    ((["a", "b"], [1.0], [0.1, 0.1], [1.0, 2.0]), "costs must have one entry"),
    ((["a", "b"], [1.0, 2.0], [0.1, -0.1], [1.0, 2.0]), "cost_stderr must be non-negative"),
    ((["a", "b"], [1.0, 2.0], [0.1, 0.1], [1.0, np.nan]), "quality must be finite"),
    ((["a", "b"], [1.0, 2.0], [0.1, 0.1], [1.0, 2.0], [0.1, -1.0]), "quality_stderr must be non-negative"),
    ((["a"], [1.0], [0.1], [1.0]), "at least two schedules"),
])
def test_schedule_ordering_bad_input(args, match):
    from mdtheory.montecarlo.schedule_ordering import schedule_ordering

    with pytest.raises(ValueError, match=match):
        schedule_ordering(*args)


def test_schedule_cost_stderr_bad_stderr():
    from types import SimpleNamespace

    from mdtheory.profiles.schedule_costs import schedule_cost_stderr

    with pytest.raises(ValueError, match="curve.stderr must be finite"):
        schedule_cost_stderr(SimpleNamespace(values=np.ones(3), stderr=np.ones(2)), [3])
    with pytest.raises(ValueError, match="schedule"):
        schedule_cost_stderr(SimpleNamespace(values=np.ones(3), stderr=np.ones(3)), [1, 1])


def test_geometric_rho_of_a_single_block_and_of_hand_computed_schedules():
    # ρ = max_t (k_t − 1)/s_{t−1}: no step after the first, nothing to bound (ρ = 0)
    assert geometric_rho([1]) == 0.0
    assert geometric_rho([1, 1, 2, 4]) == pytest.approx(max(0 / 1, 1 / 2, 3 / 4))
    assert geometric_rho([3, 1], direction="decreasing") == pytest.approx(2.0)


def test_lag_conditioning_by_hand_and_for_any_integer_type():
    from mdtheory.profiles.bounds import lag_conditioning

    # blocks start at 0, 2, 5, 6; with lag L block t sees the revealed prefix up to block t − L
    assert lag_conditioning([2, 3, 1, 2], 0).tolist() == [0, 2, 5, 6]
    assert lag_conditioning([2, 3, 1, 2], 2).tolist() == [0, 0, 0, 2]
    for lag in (np.int64(1), np.int32(1), 1.0):  # an integer value of any numeric type
        assert lag_conditioning([2, 3, 1, 2], lag).tolist() == [0, 0, 2, 5]
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="lag"):
            lag_conditioning([2, 3, 1, 2], bad)


def test_the_earlier_method_name_dp_is_refused_with_its_new_name():
    from mdtheory.profiles import markov_profile

    with pytest.raises(ValueError, match="method 'dp' is now 'optimal'"):
        profile_schedule(markov_profile(12, 0.1), 3, "dp")
    assert profile_schedule(markov_profile(12, 0.1), 3, "optimal").tolist() == \
        optimal_schedule(markov_profile(12, 0.1), 3).tolist()


def test_the_direction_is_compared_by_value_not_identity():
    built = "".join(["incr", "easing"])  # equal to "increasing" but another object, as argv strings are
    assert built == "increasing" and built is not "increasing"  # noqa: F632
    assert geometric_schedule(10, rho=1.0, direction=built).tolist() == [1, 2, 4, 3]
    assert geometric_schedule(10, n_steps=4, direction=built).tolist() == geometric_schedule(10, n_steps=4).tolist()


def test_splitting_to_k_steps_halves_the_latest_largest_step_and_keeps_the_total():
    from mdtheory.profiles.schedule_shapes import _split_to

    # [5, 3] → split the 5: [3, 2, 3] → the latest largest is the last 3: [3, 2, 2, 1]
    assert _split_to(np.array([5, 3]), 4).tolist() == [3, 2, 2, 1]
    assert _split_to(np.array([4, 4]), 3).tolist() == [4, 2, 2]
    assert _split_to(np.array([7]), 2).tolist() == [4, 3]
    assert _split_to(np.array([2, 1]), 2).tolist() == [2, 1]  # already K steps: unchanged
