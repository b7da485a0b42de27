"""Schedules (§2.4) and fixed orders (§2.3)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdtheory._validation import check_schedule
from mdtheory.rules.orders import halton_order, hybrid_select, radical_inverse, raster_order, van_der_corput_order
from mdtheory.rules.schedules import SCHEDULE_NAMES, masked_fraction, schedule_sizes


@given(st.sampled_from(SCHEDULE_NAMES), st.integers(1, 300), st.integers(1, 300))
def test_schedule_is_a_composition(name, seq_len, n_steps):
    if n_steps > seq_len:
        with pytest.raises(ValueError, match="n_steps <= seq_len"):
            schedule_sizes(name, seq_len=seq_len, n_steps=n_steps)
        return
    s = schedule_sizes(name, seq_len=seq_len, n_steps=n_steps)
    assert s.sum() == seq_len and (s >= 1).all() and len(s) == n_steps


def test_schedule_shapes():
    assert schedule_sizes("constant", seq_len=10, n_steps=3).tolist() == [4, 3, 3]
    cos = schedule_sizes("cosine", seq_len=256, n_steps=8)
    assert cos[0] < cos[-1]  # cosine reveals few tokens first
    assert masked_fraction("arccos", np.array([0.0, 1.0])).tolist() == [1.0, 0.0]
    np.testing.assert_allclose(masked_fraction("cosine", np.array([0.5])), [np.cos(np.pi / 4)])


@pytest.mark.parametrize("bad,msg", [([3, 0, 5], ">= 1"), ([3, 3], "must sum to 8"), ([2.5, 5.5], "integers"),
                                     ([], "non-empty"), ([-1, 9], ">= 1")])
def test_bad_schedules(bad, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        check_schedule(bad, total=8)


def test_orders_are_permutations():
    for order in (raster_order(10), van_der_corput_order(13), halton_order(4, 4), halton_order(3, 5, shift=(0.3, 0.7))):
        assert np.array_equal(np.sort(order), np.arange(order.size))


def test_halton_and_van_der_corput_values():
    np.testing.assert_allclose(radical_inverse(np.arange(5), 2), [0, 0.5, 0.25, 0.75, 0.125])
    np.testing.assert_allclose(radical_inverse(np.arange(4), 3), [0, 1 / 3, 2 / 3, 1 / 9])
    assert van_der_corput_order(4).tolist() == [0, 2, 1, 3]
    # 2×2 grid: points (0,0), (.5,1/3), (.25,2/3), (.75,1/9) → cells 0, 2, 1, 2(dup) , ...
    assert halton_order(2, 2)[:3].tolist() == [0, 2, 1]


def test_halton_rotation_shifts_each_coordinate_by_its_own_component():
    # 3 × 5 grid, shift (0.3, 0.7). n = 0: (0.3, 0.7) → row ⌊0.9⌋ = 0, col ⌊3.5⌋ = 3 → cell 3;
    # n = 1: (0.8, 1/3 + 0.7 − 1) → row 2, col 0 → cell 10; n = 2: (0.55, 2/3 + 0.7 − 1) → row 1, col 1 → 6;
    # n = 3: (0.75 + 0.3 − 1, 1/9 + 0.7) → row 0, col 4 → cell 4
    assert halton_order(3, 5, shift=(0.3, 0.7))[:4].tolist() == [3, 10, 6, 4]
    # a rotation of the first coordinate only moves the rows: (0.3, 0), (0.8, 1/3), (0.55, 2/3) → 0, 11, 8
    assert halton_order(3, 5, shift=(0.3, 0.0))[:3].tolist() == [0, 11, 8]
    # van der Corput, 4 positions, shift 0.3: 0.3, 0.8, 0.55, 0.05 → 1, 3, 2, 0
    assert van_der_corput_order(4, shift=0.3).tolist() == [1, 3, 2, 0]


def test_hybrid_select():
    assert hybrid_select(np.array([5, 4, 3]), np.array([4, 1, 2]), k=3, gamma=0.5).tolist() == [5, 4, 1]
    assert hybrid_select(np.array([5, 4]), np.array([4, 1, 2]), k=2, gamma=0.0).tolist() == [4, 1]
    with pytest.raises(ValueError, match="0 <= gamma <= 1"):
        hybrid_select(np.array([1]), np.array([1]), k=1, gamma=1.5)


# Hand-derived from the masked count after step t, ⌊D·γ(t/K)⌋ (§2.4; zero-size steps raised to 1, the excess
# taken from the largest step). Example, cosine D = 10, K = 4: ⌊10·cos(πt/8)⌋ = 10, 9, 7, 3, 0 → 1, 2, 4, 3.
PINNED_SCHEDULES = [
    ("cosine", 10, 4, [1, 2, 4, 3]),
    ("cosine", 16, 8, [1, 1, 1, 2, 3, 2, 3, 3]),  # ⌊16·cos(πt/16)⌋ = 16, 15, 14, 13, 11, 8, 6, 3, 0
    ("cosine", 5, 5, [1, 1, 1, 1, 1]),  # 5, 4, 4, 2, 1, 0: the zero step borrows from the size-2 step
    # 7, 6, 6, 4, 3, 1, 0 → 1, 0, 2, 1, 2, 1: the zero step is raised to 1 and the excess is taken from the
    # latest of the two largest steps (the fifth), not the earliest (the third)
    ("cosine", 7, 6, [1, 1, 2, 1, 1, 1]),
    ("arccos", 10, 4, [2, 2, 2, 4]),  # ⌊10·arccos(t/4)/(π/2)⌋ = 10, 8, 6, 4, 0
    ("linear", 10, 4, [3, 2, 3, 2]),  # ⌊10·(1 − t/4)⌋ = 10, 7, 5, 2, 0
    ("linear", 10, 3, [4, 3, 3]),  # 10, 6, 3, 0
    ("constant", 10, 4, [3, 3, 2, 2]),  # ⌊10/4⌋ or ⌈10/4⌉, the larger first
    ("constant", 7, 7, [1] * 7),
]


@pytest.mark.parametrize("name,seq_len,n_steps,sizes", PINNED_SCHEDULES)
def test_named_schedules_match_hand_derived_counts(name, seq_len, n_steps, sizes):
    assert schedule_sizes(name, seq_len=seq_len, n_steps=n_steps).tolist() == sizes
