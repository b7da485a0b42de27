"""Coherence of set-keyed conditionals: circulations, order pseudo-joints and the order-gap identity.

References come from closed forms (a two-position model written by hand) and from literal products of the
model's conditionals, never from the route under test."""

import itertools

import numpy as np
import pytest

from mdtheory.montecarlo.coherence import coherence_montecarlo
from mdtheory.profiles import TemperedConditionals
from mdtheory.profiles.coherence import (PlantedIncoherence, coherence_exact, mean_swap_kl_exact, order_gap,
                                         order_log_prob, order_pseudo_joint, sample_in_order, swap_circulation)
from mdtheory.targets import dirichlet_joint, global_parity, markov_chain


class TwoPositions:
    """A hand-written incoherent model on N = 2, q = 2: unconditional rows u_i, conditional rows c_i[a]."""

    n, q = 2, 2
    u = np.array([[0.3, 0.7], [0.6, 0.4]])
    c = np.array([[[0.9, 0.1], [0.2, 0.8]],   # p_0(. | x_1 = a)
                  [[0.5, 0.5], [0.25, 0.75]]])  # p_1(. | x_0 = a)

    def conditionals(self, values, revealed):
        out = np.zeros((2, 2))
        for i in range(2):
            o = 1 - i
            if revealed[i]:
                out[i, values[i]] = 1.0
            else:
                out[i] = self.c[i][values[o]] if revealed[o] else self.u[i]
        return out


def test_circulation_of_a_hand_written_model_matches_its_closed_form():
    m = TwoPositions()
    s = swap_circulation(m, [0, 0], [False, False], 0, 1)
    for a, b in itertools.product(range(2), range(2)):
        forward = m.u[0, a] * m.c[1][a][b]
        backward = m.u[1, b] * m.c[0][b][a]
        assert s.forward[a, b] == pytest.approx(forward, abs=1e-15)
        assert s.backward[a, b] == pytest.approx(backward, abs=1e-15)
        assert s.circulation[a, b] == pytest.approx(np.log(forward / backward), abs=1e-13)
    F = np.array([[m.u[0, a] * m.c[1][a][b] for b in range(2)] for a in range(2)])
    B = np.array([[m.u[1, b] * m.c[0][b][a] for b in range(2)] for a in range(2)])
    assert s.tv == pytest.approx(0.5 * np.abs(F - B).sum(), abs=1e-15)
    assert s.kl == pytest.approx(float(np.sum(F * np.log(F / B))), abs=1e-14)
    # the swapped call is the same swap seen from the other side: C(j, i) = −C(i, j) transposed
    r = swap_circulation(m, [0, 0], [False, False], 1, 0)
    assert np.allclose(r.circulation, -s.circulation.T, atol=1e-13)


def test_order_log_prob_is_the_literal_product_of_conditionals():
    m = TemperedConditionals(dirichlet_joint(4, 3, seed=5), beta=0.6, mix=0.1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        x, order = rng.integers(0, 3, size=4), rng.permutation(4)
        lit, revealed = 0.0, np.zeros(4, dtype=bool)
        for pos in order:
            lit += np.log(m.conditionals(x, revealed)[pos, x[pos]])
            revealed[pos] = True
        assert order_log_prob(m, x[None], order)[0] == pytest.approx(lit, abs=1e-13)
        assert np.log(order_pseudo_joint(m, order)[tuple(x)]) == pytest.approx(lit, abs=1e-13)


def test_pseudo_joints_differ_by_order_for_an_incoherent_model_and_not_for_a_joint():
    t = dirichlet_joint(3, 3, seed=2)
    m = TemperedConditionals(t, beta=2.0)
    tables = [order_pseudo_joint(m, o) for o in itertools.permutations(range(3))]
    assert all(abs(T.sum() - 1) < 1e-13 for T in tables)
    assert max(np.abs(a - b).max() for a, b in itertools.combinations(tables, 2)) > 1e-3
    assert max(np.abs(order_pseudo_joint(t, o) - t.table).max() for o in itertools.permutations(range(3))) < 1e-15


def test_order_gap_telescopes_over_the_swaps_of_a_bubble_sort():
    m = TemperedConditionals(dirichlet_joint(5, 2, seed=1), beta=0.5, mix=0.05)
    g = order_gap(m, [0, 1, 1, 0, 1], [0, 1, 2, 3, 4], [4, 3, 2, 1, 0])
    assert len(g.swaps) == 10  # the reversal of 5 needs C(5, 2) adjacent swaps
    assert g.residual < 1e-12 and abs(g.gap) > 1e-3
    # bubble sort's first pass carries position 0 to the end: (t, i, j) = (0, 0, 1), then (1, 0, 2), ...
    assert g.swaps[:4] == ((0, 0, 1), (1, 0, 2), (2, 0, 3), (3, 0, 4))


def test_zero_probability_draws_are_refused_by_the_order_gap():
    with pytest.raises(ValueError, match="probability 0"):
        order_gap(global_parity(3), [1, 0, 0], [0, 1, 2], [2, 1, 0])


def test_exact_report_counts_reachable_states_only():
    # global parity on 3 bits: every state with |U| <= 1 is reachable: 1 + 3·2 = 7 states with 2 or more masked
    r = coherence_exact(global_parity(3))
    assert r.n_states == 7 and r.n_swaps == 3 + 3 * 2 * 1 and r.coherent and r.order_tv == 0.0
    # a chain with a forbidden transition: states after x_0 = 0 never see x_1 = 1
    T = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert coherence_exact(markov_chain(3, T, initial=[0.5, 0.5])).coherent


def test_a_planted_change_is_found_and_located():
    t = dirichlet_joint(4, 3, seed=0)
    m = PlantedIncoherence(t, revealed=(False, True, False, False), values=(0, 2, 0, 0), position=3, weight=0.5)
    r = coherence_exact(m)
    assert not r.coherent and r.max_abs_circulation > 1e-2
    w = r.worst
    assert w["revealed"] in ([False, True, False, False], [False, False, False, False])
    assert 3 in (w["i"], w["j"])


def test_mean_swap_kl_of_a_hand_written_model_is_its_closed_form():
    m = TwoPositions()
    P01 = np.array([[m.u[0, a] * m.c[1][a][b] for b in range(2)] for a in range(2)])
    P10 = np.array([[m.u[1, b] * m.c[0][b][a] for b in range(2)] for a in range(2)])
    expected = 0.5 * (np.sum(P01 * np.log(P01 / P10)) + np.sum(P10 * np.log(P10 / P01)))
    assert mean_swap_kl_exact(m) == pytest.approx(expected, abs=1e-14)


def test_sampling_in_order_follows_the_pseudo_joint():
    m = TwoPositions()
    x, lp = sample_in_order(m, np.tile([1, 0], (40_000, 1)), seed=3)
    P = order_pseudo_joint(m, [1, 0])
    counts = np.zeros((2, 2))
    np.add.at(counts, (x[:, 0], x[:, 1]), 1)
    se = np.sqrt(P * (1 - P) / 40_000)
    assert np.all(np.abs(counts / 40_000 - P) < 4.5 * se)
    assert np.allclose(lp, np.log(P[x[:, 0], x[:, 1]]), atol=1e-13)


def test_montecarlo_interval_covers_the_exact_swap_kl():
    m = TwoPositions()
    e = coherence_montecarlo(m, n_samples=3000, seed=1)
    exact = mean_swap_kl_exact(m)
    assert e.swap_kl_ci[0] <= exact <= e.swap_kl_ci[1] and e.incoherent
    # with N = 2 the swap is the whole order change: the order KL estimand is half the swap KL (τ = σ half the time)
    assert e.order_kl_ci[0] <= exact / 2 <= e.order_kl_ci[1]


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_samples=1), "n_samples must be >= 2"),
    (dict(confidence=1.0), "confidence must lie in"),
])
def test_montecarlo_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        coherence_montecarlo(TwoPositions(), **kwargs)


def test_bad_positions_and_oversized_work_are_refused():
    m = TwoPositions()
    with pytest.raises(ValueError, match="i and j must be distinct"):
        swap_circulation(m, [0, 0], [False, False], 1, 1)
    with pytest.raises(ValueError, match="j must be a masked position"):
        swap_circulation(m, [0, 0], [False, True], 0, 1)
    from mdtheory._validation import WorkTooLarge
    with pytest.raises(WorkTooLarge, match="max_states"):
        coherence_exact(dirichlet_joint(6, 3, seed=0), max_states=100)
