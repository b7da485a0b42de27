"""Exact multi-round output laws of whole samplers (§2, §4.3–§4.6, §8) against the path-enumeration
oracle, closed forms and Monte Carlo of the real sampling loop.

Monte-Carlo tests: estimator = empirical counts of the 2^N outputs of :func:`mdtheory.sample` run with
the target's exact conditionals; Pearson χ² against the exact output law at false-alarm 1e-6 (cells
with expected count < 5 pooled); fixed seeds; 60 000 samples."""

from math import inf

import numpy as np
import pytest
import torch

from mdtheory.profiles.learning_error import TemperedConditionals
from mdtheory.montecarlo.statistics import chisquare_test
from mdtheory.exact.oracle import output_law_bruteforce
from mdtheory.rules.orders import halton_order
from mdtheory.models.predictors import target_predictor
from mdtheory.multiround.output_laws import hybrid_decomposition_bound, output_law
from mdtheory.rules import EntropyPrefix
from mdtheory.profiles.enumeration import efact, information_profile
from mdtheory.rules.samplers import CTS, EB, EntropySum, MaskGIT, Moment, UMoment
from mdtheory.sampling.loop import sample
from mdtheory.rules.positions import ConfidenceRule, EntropyRule, FixedOrderRule, HybridRule, MarginRule, MomentRule, UniformRule
from mdtheory.rules.tokens import Temperature
from mdtheory.multiround.targets import dirichlet_joint, ising_grid, potts_chain

SAMPLERS = {
    "uniform": CTS(UniformRule()),
    "maskgit": MaskGIT(1.0),
    "maskgit-annealed": MaskGIT(3.0, anneal=True),
    "maskgit-alpha0.2": MaskGIT(0.2),
    "moment": Moment(0.7),
    "moment-annealed": Moment(2.0, anneal=True),
    "umoment": UMoment(1.0),
    "confidence": CTS(ConfidenceRule()),
    "confidence-noisy": CTS(ConfidenceRule(noise=0.3)),
    "entropy": CTS(EntropyRule()),
    "margin": CTS(MarginRule()),
    "moment-positions": CTS(MomentRule(2.0)),
    "fixed-order": CTS(FixedOrderRule((2, 0, 3, 1))),
    "hybrid": CTS(HybridRule(ConfidenceRule(), FixedOrderRule((2, 0, 3, 1)), 0.5)),
    "hybrid-tempered": CTS(HybridRule(MomentRule(1.0), UniformRule(), 0.34), Temperature(0.6)),
    "eb": EB(0.7),
    "entropy-sum": EntropySum(0.9),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@pytest.mark.parametrize("schedule", [[2, 2], [1, 2, 1]])
def test_output_law_equals_path_enumeration(name, schedule):
    t = dirichlet_joint(4, 2, concentration=0.7, seed=11)
    for model in (None, TemperedConditionals(t, beta=0.7, mix=0.1)):
        law = output_law(t, SAMPLERS[name], schedule, model=model)
        table, path_kl = output_law_bruteforce(t, SAMPLERS[name], schedule, model=model)
        np.testing.assert_allclose(law.table, table, atol=1e-12)
        assert abs(law.path_kl - path_kl) < 1e-12
        assert abs(law.table.sum() - 1) < 1e-12 and law.ideal_error < 1e-14


# A V = 3 target whose first-round conditionals are near the rows [[0.5, 0.45, 0.05], [0.45, 0.3, 0.25],
# [0.49, 0.49, 0.02]]: confidence reveals position 0 first, margin position 1, entropy position 2, so a
# rule that scores like another one changes the law (dependence comes from the 10 % Dirichlet component).
APART_ROWS = [[0.5, 0.45, 0.05], [0.45, 0.3, 0.25], [0.49, 0.49, 0.02]]


def apart_target():
    from mdtheory.multiround.targets import joint_table, product_target

    return joint_table(0.9 * product_target(APART_ROWS).table
                       + 0.1 * dirichlet_joint(3, 3, concentration=0.5, seed=2).table)


def _on_three_positions(sampler):
    # the fixed orders above are for four positions; the same shapes on three
    order = FixedOrderRule((2, 0, 1))
    rule = getattr(sampler, "position_rule", None)
    if isinstance(rule, FixedOrderRule):
        return CTS(order)
    if isinstance(rule, HybridRule) and isinstance(rule.explore, FixedOrderRule):
        return CTS(HybridRule(rule.exploit, order, rule.gamma), sampler.token_transform)
    return sampler


def test_apart_target_tells_the_position_rules_apart():
    t = apart_target()
    first = t.conditionals([0, 0, 0], [False] * 3)
    top2 = -np.sort(-first, axis=1)[:, :2]
    assert np.argmax(top2[:, 0]) == 0 and np.argmax(top2[:, 0] - top2[:, 1]) == 1  # confidence 0, margin 1
    assert np.argmin(-(first * np.log(first)).sum(axis=1)) == 2  # lowest entropy: position 2
    laws = {n: output_law(t, SAMPLERS[n], [1, 2]).table for n in ("confidence", "margin", "entropy")}
    for a, b in (("confidence", "margin"), ("confidence", "entropy"), ("margin", "entropy")):
        assert 0.5 * np.abs(laws[a] - laws[b]).sum() > 0.01, (a, b)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@pytest.mark.parametrize("schedule", [[1, 2], [2, 1]])
def test_output_law_equals_path_enumeration_on_a_table_that_tells_rules_apart(name, schedule):
    t = apart_target()
    s = _on_three_positions(SAMPLERS[name])
    for model in (None, TemperedConditionals(t, beta=0.7, mix=0.1)):
        law = output_law(t, s, schedule, model=model)
        table, path_kl = output_law_bruteforce(t, s, schedule, model=model)
        np.testing.assert_allclose(law.table, table, atol=1e-12)
        assert abs(law.path_kl - path_kl) < 1e-12


def test_ternary_target_and_three_steps():
    t = dirichlet_joint(3, 3, concentration=0.8, seed=12)
    for s in (MaskGIT(0.8), CTS(EntropyRule()), UMoment(0.5)):
        law = output_law(t, s, [1, 1, 1])
        table, path_kl = output_law_bruteforce(t, s, [1, 1, 1])
        np.testing.assert_allclose(law.table, table, atol=1e-12)


def test_uniform_path_kl_is_efact():
    # the random-order planner's path KL is E_fact of §5.3 (an independent closed form)
    t = dirichlet_joint(5, 2, concentration=0.5, seed=13)
    pr = information_profile(t)
    for sched in ([2, 3], [1, 2, 2], [5]):
        assert abs(output_law(t, CTS(UniformRule()), sched).path_kl - efact(pr, sched)) < 1e-12


@pytest.mark.parametrize("name", ["uniform", "maskgit", "moment-annealed", "confidence", "hybrid-tempered", "eb",
                                  "entropy-sum"])
def test_sampling_loop_matches_exact_output_law(name):
    t = dirichlet_joint(4, 2, concentration=0.7, seed=14)
    s = SAMPLERS[name]
    sched = None if name in ("eb", "entropy-sum") else [1, 2, 1]
    law = output_law(t, s, sched)
    res = sample(target_predictor(t), seq_len=4, schedule=sched, sampler=s, batch_size=60_000, output="log_probs",
                 generator=torch.Generator().manual_seed(15))
    flat = (res.tokens.numpy() * 2 ** np.arange(3, -1, -1)).sum(axis=1)
    r = chisquare_test(np.bincount(flat, minlength=16), law, false_alarm=1e-6)
    assert r.passed, r


def test_monte_carlo_has_power_against_a_wrong_law():
    t = dirichlet_joint(4, 2, concentration=0.7, seed=14)
    wrong = output_law(t, MaskGIT(1.0), [1, 2, 1])
    res = sample(target_predictor(t), seq_len=4, schedule=[1, 2, 1], sampler=CTS(UniformRule()), batch_size=60_000,
                 output="log_probs", generator=torch.Generator().manual_seed(16))
    flat = (res.tokens.numpy() * 2 ** np.arange(3, -1, -1)).sum(axis=1)
    assert not chisquare_test(np.bincount(flat, minlength=16), wrong, false_alarm=1e-6).passed


def test_proposition3():
    t = dirichlet_joint(5, 2, concentration=0.6, seed=17)
    for name, s in SAMPLERS.items():
        if name.startswith(("maskgit", "moment", "umoment", "hybrid", "fixed-order")):
            continue
        s = EB(0.0) if name == "eb" else EntropySum(0.0) if name == "entropy-sum" else s
        assert output_law(t, s, [1] * 5).tv < 1e-12, name
    hybrid = CTS(HybridRule(ConfidenceRule(), FixedOrderRule((4, 2, 0, 3, 1)), 0.5))
    assert output_law(t, hybrid, [1] * 5).tv < 1e-12
    kls = [output_law(t, MaskGIT(a), [1] * 5).kl for a in (0.5, 2.0, 8.0, 1e5)]
    assert kls[0] > 1e-3 and all(a > b for a, b in zip(kls, kls[1:])) and kls[-1] < 1e-8


def test_chain_rule_bound_and_equality():
    t = dirichlet_joint(5, 2, concentration=0.6, seed=18)
    for model in (None, TemperedConditionals(t, beta=1.4, mix=0.05)):
        for name in ("uniform", "confidence", "confidence-noisy", "entropy", "margin", "moment", "umoment", "eb"):
            law = output_law(t, SAMPLERS[name], [2, 2, 1], model=model)
            assert law.kl <= law.path_kl + 1e-12, name
            if name in ("confidence", "entropy", "margin", "eb"):
                assert abs(law.kl - law.path_kl) < 1e-10, name
    # MaskGIT is not a CTS sampler, but its (generalised) path KL still bounds the mixture KL
    law = output_law(t, MaskGIT(1.0), [2, 2, 1])
    assert law.kl <= law.path_kl


def test_ties_break_the_equality_on_symmetric_grids():
    # zero-field Ising: confidence ties are split at random, so the path is not unique: KL < path KL
    g = ising_grid(2, 2, coupling=0.8)
    law = output_law(g, CTS(ConfidenceRule()), [1, 1, 2])
    assert law.kl < law.path_kl - 1e-6


def test_hybrid_decomposition_bound():
    t = dirichlet_joint(5, 2, concentration=0.5, seed=19)
    for gamma in (0.0, 0.5, 1.0):
        s = CTS(HybridRule(ConfidenceRule(), FixedOrderRule((3, 0, 4, 1, 2)), gamma))
        law = output_law(t, s, [2, 2, 1])
        assert law.kl <= law.path_kl + 1e-12 <= hybrid_decomposition_bound(t, s, [2, 2, 1]) + 2e-12
    with pytest.raises(TypeError, match="HybridRule"):
        hybrid_decomposition_bound(t, CTS(UniformRule()), [5])


def test_eb_rule_and_bound():
    p = np.array([[0.5, 0.5], [0.99, 0.01], [0.9, 0.1], [0.99, 0.01]])
    assert EntropyPrefix(0.0, subtract_max=True).select(p, np.ones(4, bool)) == (1,)  # ties by position index
    assert EntropyPrefix(0.06, subtract_max=True).select(p, np.ones(4, bool)) == (1, 3)
    assert EntropyPrefix(0.2, subtract_max=True).select(p, np.ones(4, bool)) == (1, 2, 3)
    t = dirichlet_joint(5, 2, concentration=0.8, seed=20)
    for gamma in (0.1, 0.4, 1.0):
        law = output_law(t, EB(gamma))
        assert law.max_block_kl <= gamma + 1e-12 and law.kl <= gamma * law.mean_steps + 1e-12
        assert 1 <= law.mean_steps <= 5


@pytest.mark.parametrize("subtract_max", [False, True])
def test_entropy_prefix_budget_is_inclusive(subtract_max):
    # Spec §8: a prefix is admitted while its spent entropy is ≤ the budget. Four V = 3 rows whose entropies
    # (computed here as −Σ p log p) increase from row 3 to row 0; the budget is set exactly at the spend of the
    # two-row prefix {3, 2}, then a hair below it (inside the rounding tolerance), then clearly below: the
    # prefix is taken, taken, and refused (one row is always revealed).
    p = np.array([[0.98, 0.01, 0.01], [0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.6, 0.3, 0.1]])[::-1].copy()
    h = -(p * np.log(p)).sum(axis=1)  # rows 3, 2, 1, 0 by increasing entropy
    two = h[3] + h[2] - (h[2] if subtract_max else 0.0)
    masked = np.ones(4, bool)
    import torch

    from mdtheory.sampling.rounds import run_select

    lp = torch.log(torch.tensor(p))[None]
    for budget, expected in ((two, (2, 3)), (two - 1e-13, (2, 3)), (two - 1e-9, (3,))):
        rule = EntropyPrefix(budget, subtract_max=subtract_max)
        assert rule.select(p, masked) == expected, (budget, expected)
        chosen = torch.nonzero(run_select(rule, lp)[0][0])[:, 0].tolist()
        assert tuple(chosen) == expected, (budget, chosen)


def test_grids_chains_and_performance_scale():
    g = ising_grid(3, 3, coupling=0.6, field=0.1)
    order = tuple(int(i) for i in halton_order(3, 3))
    law = output_law(g, CTS(FixedOrderRule(order)), "cosine", n_steps=4)
    assert abs(law.kl - law.path_kl) < 1e-12 and law.ideal_error < 1e-14
    c = potts_chain(6, 3, coupling=1.0)
    law = output_law(c, MaskGIT(1.0), [2, 2, 2])
    assert 0 < law.kl <= law.path_kl


def test_target_predictor_feeds_the_loop():
    t = dirichlet_joint(3, 2, seed=21)
    out = target_predictor(t)(torch.zeros(2, 3, dtype=torch.long), torch.ones(2, 3, dtype=torch.bool))
    np.testing.assert_allclose(out.exp().sum(-1).numpy(), 1.0)


def test_bad_inputs():
    t = dirichlet_joint(3, 2, seed=22)
    with pytest.raises(ValueError, match="must sum to 3"):
        output_law(t, CTS(UniformRule()), [1, 1])
    with pytest.raises(ValueError, match="n_steps is required"):
        output_law(t, CTS(UniformRule()), "cosine")
    with pytest.raises(TypeError, match="no exact law"):
        output_law(t, object(), [1, 2])
    with pytest.raises(ValueError, match="gamma"):
        EB(-1.0)


@pytest.mark.parametrize("rule", [ConfidenceRule(), EntropyRule()])
def test_sampling_loop_matches_exact_law_with_ties(rule):
    # zero-field Ising: symmetric positions tie up to float rounding; loop and exact law use the same tie grid
    g = ising_grid(2, 2, coupling=0.8)
    law = output_law(g, CTS(rule), [1, 2, 1])
    res = sample(target_predictor(g), seq_len=4, schedule=[1, 2, 1], sampler=CTS(rule), batch_size=60_000,
                 output="log_probs", generator=torch.Generator().manual_seed(23))
    flat = (res.tokens.numpy() * 2 ** np.arange(3, -1, -1)).sum(axis=1)
    r = chisquare_test(np.bincount(flat, minlength=16), law, false_alarm=1e-6)
    assert r.passed, r


def test_prediction_functions_plug_in_as_models():
    # a trained model enters through the loop's prediction-function interface; round trip via the target
    from mdtheory.models.predictors import PredictorModel

    t = dirichlet_joint(4, 2, concentration=0.7, seed=24)
    model = PredictorModel(target_predictor(t), n=4, output="log_probs")
    for s in (MaskGIT(1.0), CTS(EntropyRule())):
        a, b = output_law(t, s, [2, 2]), output_law(t, s, [2, 2], model=model)
        np.testing.assert_allclose(a.table, b.table, atol=1e-12)
        assert abs(a.path_kl - b.path_kl) < 1e-12


def test_paths_leaving_the_support_are_counted_not_completed():
    """Repeated bit, uniform CTS, blocks [2, 1]: the first block is the product of two fair bits, so half the
    paths leave supp π at once (closed form: off-support mass ½, KL(π‖ν) = log 2 = E_fact, TV = ½)."""
    from mdtheory.targets import repeated_bit

    law = output_law(repeated_bit(3), CTS(), [2, 1])
    np.testing.assert_allclose([law.off_support, law.tv, law.kl], [0.5, 0.5, np.log(2)], rtol=0, atol=1e-12)
    np.testing.assert_allclose(law.table[0, 0, 0], 0.25, atol=1e-12)


def test_entropy_sum_rule_and_bound():
    from mdtheory.sampling.rounds import entropy_sum_selection

    # entropies 0.69, 0.0, 0.33, 0.33 (nats): by increasing entropy 1, 2, 3, 0; ties by index
    p = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1], [0.9, 0.1]])
    lp = torch.log(torch.as_tensor(p))[None]

    def take(tau):
        return tuple(int(i) for i in torch.nonzero(entropy_sum_selection(lp, threshold=tau)[0])[:, 0])

    assert take(0.0) == (1,) and take(0.33) == (1, 2) and take(0.66) == (1, 2, 3) and take(10.0) == (0, 1, 2, 3)
    masked = torch.tensor([[True, False, False, False]])
    assert tuple(torch.nonzero(entropy_sum_selection(lp, threshold=0.0, masked=masked)[0])[:, 0].tolist()) == (0,)
    # each step's TC ≤ Σ H ≤ τ, so KL(π‖ν) ≤ τ·E_π[#steps] (§8, §10.6)
    t = dirichlet_joint(6, 2, concentration=0.4, seed=21)
    for tau in (0.1, 0.5, 1.5):
        law = output_law(t, EntropySum(tau))
        assert law.kl <= tau * law.mean_steps + 1e-12 and law.max_block_kl <= tau + 1e-12


@pytest.mark.parametrize("share, schedule", [(0.75, [3, 1]), (1.0, [2, 2]), (0.7, [1, 3])])
def test_hybrid_whose_exploitation_part_has_several_positions_equals_path_enumeration(share, schedule):
    # ⌈γk⌉ ≥ 2 in some round: the exploitation order's choice of several positions is what is checked
    t = dirichlet_joint(4, 2, concentration=0.7, seed=13)
    s = CTS(HybridRule(ConfidenceRule(), FixedOrderRule((2, 0, 3, 1)), share))
    law = output_law(t, s, schedule)
    table, path_kl = output_law_bruteforce(t, s, schedule)
    np.testing.assert_allclose(law.table, table, atol=1e-12)
    assert abs(law.path_kl - path_kl) < 1e-12


def test_greedy_moment_sampler_equals_path_enumeration():
    # α = ∞: positions by the largest p_max, tokens by argmax (token temperature τ = 1 in the limit)
    t = dirichlet_joint(4, 2, concentration=0.7, seed=14)
    for s in (Moment(inf), UMoment(inf)):
        law = output_law(t, s, [2, 2])
        table, _ = output_law_bruteforce(t, s, [2, 2])
        np.testing.assert_allclose(law.table, table, atol=1e-12)
        assert abs(table.sum() - 1) < 1e-12


def test_the_state_limit_is_the_documented_one():
    import re

    from mdtheory.multiround import output_laws

    stated = re.search(r"more than ([\d,]+) live partial\s+states", output_laws.output_law.__doc__)
    assert stated and int(stated.group(1).replace(",", "")) == output_laws.MAX_STATES == 2_000_000


def test_a_last_configuration_that_no_process_reaches_keeps_the_table_whole():
    """π(1, 1) = 0 and one token per step from the target's own conditionals: no path ends at the last cell, the
    output law is the target exactly, and the table still has all q^N cells."""
    from mdtheory.targets import joint_table

    t = joint_table(np.array([[0.5, 0.25], [0.25, 0.0]]))
    law = output_law(t, CTS(UniformRule()), [1, 1])
    assert law.table.shape == (2, 2) and np.allclose(law.table, t.table, atol=1e-15)
