"""Monte Carlo of the project's own round functions against exact laws (§9).

Estimator: cell counts of n seeded rounds; test: Pearson χ² (cells with expected count < 5 pooled) at
false-alarm rate 1e-6 per test, so the suite's false-failure rate is negligible. Each failure message
prints the statistic and p-value.
"""

import math
from math import comb

import numpy as np
import pytest
import torch

from mdtheory import maskgit_round_law, moment_round_law
# private helpers build closed-form laws in the RoundLaw cell layout (set order, C-order token tuples)
from mdtheory.exact.round_laws import RoundLaw, _all_sets, _token_product
from mdtheory.montecarlo.statistics import chisquare_test, empirical_round_counts, tv_estimate
from mdtheory.rules.orders import halton_order
from mdtheory.sampling.rounds import (
    ConfidenceRule,
    EntropyRule,
    FixedOrderRule,
    HybridRule,
    MarginRule,
    MomentRule,
    Temperature,
    UniformRule,
    cts_round,
    maskgit_round,
    moment_round,
    select_positions,
)

from ..cases import PEAKED, TIES, ZEROS

N_SAMPLES = 200_000
FALSE_ALARM = 1e-6


def _closed_form_law(probs, k, set_probs):
    """Law with given set probabilities and untempered tokens (independent closed form)."""
    sets = _all_sets(probs.shape[0], k)
    return RoundLaw(sets=sets, probs=set_probs[:, None] * _token_product(probs[sets]), vocab_size=probs.shape[1],
                    k=k, n_masked=probs.shape[0], sampler="closed_form", alpha=math.inf)


def _assert_fits(counts, law, case):
    r = chisquare_test(counts, law, false_alarm=FALSE_ALARM)
    assert r.off_support == 0, f"{case}: {r.off_support} draws outside the support"
    assert r.passed, f"{case}: chi2={r.statistic:.1f} > {r.critical_value:.1f} (dof={r.dof}, p={r.p_value:.2e})"
    tv, ub = tv_estimate(counts, law)
    # the statistical claim: the exact law lies in the 99% region ‖p̂ − p‖₁ ≤ ε, i.e. TV̂ ≤ ε/2 = ub − TV̂
    assert tv <= ub - tv, f"{case}: TV {tv:.4f} beyond its 99% half-width {ub - tv:.4f}"


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("probs,k", [(PEAKED, 2), (ZEROS, 2), (ZEROS, 1), (PEAKED, 3)], ids=["peaked2", "zeros2", "zeros1", "peaked3"])
def test_maskgit_round_matches_exact_law(probs, k, alpha):
    counts = empirical_round_counts(maskgit_round, probs, k=k, n_samples=N_SAMPLES, seed=1, alpha=alpha)
    _assert_fits(counts, maskgit_round_law(probs, k=k, alpha=alpha), f"maskgit k={k} alpha={alpha}")


@pytest.mark.parametrize("alpha", [0.0, math.inf])
def test_maskgit_round_limits(alpha):
    counts = empirical_round_counts(maskgit_round, TIES, k=2, n_samples=N_SAMPLES, seed=2, alpha=alpha)
    _assert_fits(counts, maskgit_round_law(TIES, k=2, alpha=alpha), f"maskgit alpha={alpha}")


@pytest.mark.parametrize("alpha", [0.0, 0.5, 2.0, math.inf])
@pytest.mark.parametrize("probs,k", [(PEAKED, 2), (ZEROS, 2), (TIES, 1)], ids=["peaked", "zeros", "ties"])
def test_moment_round_matches_exact_law(probs, k, alpha):
    counts = empirical_round_counts(moment_round, probs, k=k, n_samples=N_SAMPLES, seed=3, alpha=alpha)
    _assert_fits(counts, moment_round_law(probs, k=k, alpha=alpha), f"moment k={k} alpha={alpha}")


def test_uniform_cts_matches_closed_form():
    P, k = ZEROS, 2
    counts = empirical_round_counts(cts_round, P, k=k, n_samples=N_SAMPLES, seed=4, position_rule=UniformRule())
    law = _closed_form_law(P, k, np.full(comb(5, 2), 1 / comb(5, 2)))
    _assert_fits(counts, law, "uniform CTS")


def test_halton_cts_matches_closed_form():
    # 2×2 grid: the first k positions of the Halton order are revealed, tokens from p
    order = halton_order(2, 2)
    P = PEAKED
    k = 2
    counts = empirical_round_counts(cts_round, P, k=k, n_samples=N_SAMPLES, seed=5,
                                    position_rule=FixedOrderRule(tuple(order)))
    sets = _all_sets(4, k)
    set_p = np.array([float(set(s) == set(order[:k].tolist())) for s in sets])
    _assert_fits(counts, _closed_form_law(P, k, set_p), "halton CTS")


def test_chisquare_detects_a_wrong_law():
    # the test has power: MaskGIT draws do not fit the moment law at small N
    counts = empirical_round_counts(maskgit_round, PEAKED, k=2, n_samples=N_SAMPLES, seed=6, alpha=1.0)
    assert not chisquare_test(counts, moment_round_law(PEAKED, k=2, alpha=1.0), false_alarm=FALSE_ALARM).passed


def test_deterministic_under_seed_and_dtype_device():
    lp = torch.log(torch.tensor(PEAKED, dtype=torch.float32)).expand(8, -1, -1)
    for fn in (maskgit_round, moment_round):
        a = fn(lp, k=2, alpha=1.0, generator=torch.Generator().manual_seed(7))
        b = fn(lp, k=2, alpha=1.0, generator=torch.Generator().manual_seed(7))
        torch.testing.assert_close(a.positions, b.positions)
        torch.testing.assert_close(a.tokens, b.tokens)
        assert a.positions.device == lp.device and a.positions.dtype == torch.int64


def test_logits_input_equals_normalised_input():
    logits = torch.randn(16, 6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2
    lp = torch.log_softmax(logits, -1)
    for fn in (maskgit_round, moment_round):
        a = fn(logits, k=3, alpha=0.7, generator=torch.Generator().manual_seed(1))
        b = fn(lp, k=3, alpha=0.7, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(a.positions, b.positions)
        torch.testing.assert_close(a.tokens, b.tokens)


def test_masked_positions_are_respected():
    lp = torch.log(torch.tensor(PEAKED)).expand(500, -1, -1)
    masked = torch.tensor([True, False, True, True]).expand(500, -1)
    for out in (maskgit_round(lp, k=2, alpha=1.0, masked=masked, generator=torch.Generator().manual_seed(0)),
                moment_round(lp, k=2, alpha=1.0, masked=masked, generator=torch.Generator().manual_seed(0))):
        assert not bool((out.positions == 1).any())


def test_deterministic_rules_pick_the_right_positions():
    P = torch.log(torch.tensor([[[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01]]], dtype=torch.float64))
    g = torch.Generator().manual_seed(0)
    m = torch.ones(1, 4, dtype=torch.bool)
    assert set(select_positions(ConfidenceRule(), P, k=2, masked=m, generator=g)[0].tolist()) == {0, 3}
    assert set(select_positions(MarginRule(), P, k=2, masked=m, generator=g)[0].tolist()) == {0, 3}
    assert set(select_positions(EntropyRule(), P, k=1, masked=m, generator=g)[0].tolist()) == {3}
    assert set(select_positions(EntropyRule(order=2.0), P, k=1, masked=m, generator=g)[0].tolist()) == {3}
    assert set(select_positions(MomentRule(alpha=0.0), P, k=2, masked=m, generator=g)[0].tolist()) == {0, 3}


def test_deterministic_rules_pick_different_rows_on_a_three_token_table():
    # Rows: max p = 0.5, 0.45, 0.49 (confidence: row 0); p1 − p2 = 0.05, 0.15, 0 (margin: row 1);
    # −Σ p log p ≈ 0.856, 1.067, 0.777 (entropy: row 2); Rényi-2 −log Σ p² ≈ 0.787, 1.036, 0.733 (row 2, then 0).
    # The fourth row is uniform: last by confidence and entropy, and tied with row 2 at margin 0 (so k = 2 there).
    P = torch.log(torch.tensor([[[0.5, 0.45, 0.05], [0.45, 0.3, 0.25], [0.49, 0.49, 0.02], [1 / 3, 1 / 3, 1 / 3]]],
                               dtype=torch.float64))
    m = torch.ones(1, 4, dtype=torch.bool)
    g = torch.Generator().manual_seed(0)
    assert select_positions(ConfidenceRule(), P, k=3, masked=m, generator=g)[0].tolist() == [0, 2, 1]
    assert select_positions(MarginRule(), P, k=2, masked=m, generator=g)[0].tolist() == [1, 0]
    assert select_positions(EntropyRule(), P, k=3, masked=m, generator=g)[0].tolist() == [2, 0, 1]
    assert select_positions(EntropyRule(order=2.0), P, k=3, masked=m, generator=g)[0].tolist() == [2, 0, 1]


def test_hybrid_rule_merges_exploit_then_explore():
    P = torch.log(torch.tensor([[[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01], [0.55, 0.45]]], dtype=torch.float64))
    m = torch.ones(1, 5, dtype=torch.bool)
    explore = FixedOrderRule((3, 1, 4, 2, 0))
    g = torch.Generator().manual_seed(0)
    got = select_positions(HybridRule(exploit=ConfidenceRule(), explore=explore, gamma=0.5), P, k=3, masked=m, generator=g)
    # ⌈0.5·3⌉ = 2 from confidence ({3, 0}), then explore order skipping 3 → 1
    assert got[0].tolist() == [3, 0, 1]
    assert select_positions(HybridRule(exploit=ConfidenceRule(), explore=explore, gamma=0.0), P, k=2, masked=m, generator=g)[0].tolist() == [3, 1]
    assert set(select_positions(HybridRule(exploit=ConfidenceRule(), explore=explore, gamma=1.0), P, k=2, masked=m, generator=g)[0].tolist()) == {3, 0}


def test_temperature_transform_and_float32_input():
    lp = torch.log(torch.tensor(PEAKED, dtype=torch.float32)).expand(20_000, -1, -1)
    out = cts_round(lp, k=1, position_rule=FixedOrderRule((0, 1, 2, 3)), token_transform=Temperature(0.0),
                    generator=torch.Generator().manual_seed(0))
    assert bool((out.tokens == 0).all())  # argmax of row 0


@pytest.mark.parametrize("bad,msg", [
    (dict(k=0), "1 <= k"), (dict(k=5), "n_masked=4"), (dict(alpha=-1.0), "alpha >= 0"),
])
def test_round_bad_input(bad, msg):
    lp = torch.log(torch.tensor(PEAKED)).expand(2, -1, -1)
    kwargs = dict(k=1, alpha=1.0) | bad
    with pytest.raises(ValueError, match=msg):
        maskgit_round(lp, **kwargs)
    with pytest.raises(ValueError, match=msg):
        moment_round(lp, **kwargs)


def test_round_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        maskgit_round(torch.zeros(3, 4), k=1, alpha=1.0)
    with pytest.raises(ValueError, match="vocab_size >= 2"):
        maskgit_round(torch.zeros(1, 3, 1), k=1, alpha=1.0)
    with pytest.raises(ValueError, match="masked must have shape"):
        maskgit_round(torch.zeros(1, 3, 2), k=1, alpha=1.0, masked=torch.ones(1, 4, dtype=torch.bool))


@pytest.mark.gpu
def test_cuda_round_matches_exact_law():
    counts = empirical_round_counts(maskgit_round, PEAKED, k=2, n_samples=N_SAMPLES, seed=8, alpha=1.0, device="cuda")
    _assert_fits(counts, maskgit_round_law(PEAKED, k=2, alpha=1.0), "maskgit cuda")
