"""Rules on tables that tell them apart: confidence reveals row 0, margin row 1, entropy row 2.

Each assertion below fails for a rule that scores like one of its neighbours (margin as log(p1/p2) or as
confidence, entropy as confidence, ...). Reference values are written out by hand from the definitions.
"""

import numpy as np
import pytest
import torch

from mdtheory.exact.rule_laws import rule_law
from mdtheory.exact.oracle import output_law_bruteforce
from mdtheory.multiround.output_laws import output_law
from mdtheory.multiround.targets import dirichlet_joint
from mdtheory.rules import (CTS, ChooseThenSample, ConfidenceRule, EntropyRule, FixedOrderRule, HybridRule,
                            MarginRule, MomentRule, UniformRule)
from mdtheory.rules.registry import SAMPLER_NAMES, example_params, make_sampler
from mdtheory.sampling.rounds import torch_scores

APART = np.array([[0.5, 0.45, 0.05], [0.45, 0.3, 0.25], [0.49, 0.49, 0.02]])


def _entropy(row):
    return -sum(x * np.log(x) for x in row if x > 0)


def test_the_table_tells_the_three_rules_apart():
    conf = [max(r) for r in APART]
    margin = [sorted(r)[-1] - sorted(r)[-2] for r in APART]
    ent = [-_entropy(r) for r in APART]
    assert (np.argmax(conf), np.argmax(margin), np.argmax(ent)) == (0, 1, 2)
    # margin as log(p1/p2) would pick row 1 too; check that p1 − p2 and log(p1/p2) rank rows 0 and 2 alike but differ
    for rule, expected in ((ConfidenceRule(), np.log(conf)), (MarginRule(), margin), (EntropyRule(), ent)):
        np.testing.assert_allclose(rule.scores(np.log(APART)), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("rule,winner", [(ConfidenceRule(), 0), (MarginRule(), 1), (EntropyRule(), 2)])
def test_each_rule_reveals_its_own_row(rule, winner):
    law = rule_law(ChooseThenSample(rule), APART, 1)
    set_mass = law.probs.sum(axis=1)
    assert law.sets[np.argmax(set_mass)].tolist() == [winner] and abs(set_mass.max() - 1) < 1e-15


def test_margin_is_a_difference_of_probabilities_not_a_log_ratio():
    # p1 − p2 ranks row 0 first (0.85 > 0.483); log(p1/p2) would rank row 1 first (log 29 > log 18)
    rows = np.zeros((2, 30))
    rows[0, :3] = [0.9, 0.05, 0.05]
    rows[1] = [0.5] + [0.5 / 29] * 29
    with np.errstate(divide="ignore"):
        scores = MarginRule().scores(np.log(rows))
    np.testing.assert_allclose(scores, [0.85, 0.5 - 0.5 / 29], atol=1e-15)
    law = rule_law(ChooseThenSample(MarginRule()), rows, 1)
    assert law.sets[np.argmax(law.probs.sum(axis=1))].tolist() == [0]


@pytest.mark.parametrize("rule", [UniformRule(), MomentRule(alpha=0.7), MomentRule(alpha=0.0), MomentRule(np.inf),
                                  ConfidenceRule(), MarginRule(), EntropyRule(), EntropyRule(order=2.0),
                                  FixedOrderRule((2, 0, 1))])
def test_torch_scores_equal_the_numpy_scores(rule):
    rng = np.random.default_rng(3)
    for table in (APART, rng.dirichlet(np.ones(5), size=3)):
        logits = np.log(table) + rng.normal(size=(table.shape[0], 1))  # unnormalised rows: scores must not care
        got = torch_scores(rule, torch.as_tensor(logits)[None])[0].numpy()
        np.testing.assert_allclose(got, rule.scores(logits), rtol=0, atol=1e-12)
        np.testing.assert_allclose(rule.scores(logits), rule.scores(np.log(table)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in SAMPLER_NAMES if n != "mdlm"])
def test_every_registered_sampler_agrees_with_the_oracle_on_a_table_that_tells_rules_apart(name):
    """Exact output law against the literal path enumeration, on a V = 3 joint (N = 3)."""
    target = dirichlet_joint(3, 3, concentration=0.6, seed=7)
    sampler = make_sampler(name, **example_params(name, 3))
    if name in ("low_confidence", "dream", "threshold"):
        pytest.skip("the oracle transcribes the mdtheory samplers; stated peer rules are checked one round at a time")
    sched = None if sampler.adaptive else [1, 2]
    law = output_law(target, sampler, sched)
    brute, _ = output_law_bruteforce(target, sampler, sched)
    assert float(np.abs(law.table - brute).max()) < 1e-10


def test_hybrid_and_fixed_orders_are_their_rules():
    rule = HybridRule(ConfidenceRule(), FixedOrderRule((2, 1, 0)), gamma=0.5)
    law = rule_law(ChooseThenSample(rule), APART, 2)
    # ⌈0.5·2⌉ = 1 from confidence (row 0), then the order's first free position (2)
    assert law.sets[np.argmax(law.probs.sum(axis=1))].tolist() == [0, 2]
    assert CTS(rule).rule_at(0, 1) == ChooseThenSample(rule)


def test_eb_default_budget_is_the_documented_one():
    from mdtheory.rules.samplers import EB

    assert "0.1 nats by default" in EB.__doc__
    assert EB() == EB(0.1) and EB().rule_at(0, 3).budget == 0.1


@pytest.mark.parametrize("bad", [1.5, -0.1, 2])
def test_threshold_and_top_p_parameters_are_range_checked(bad):
    from mdtheory.rules.rounds import Threshold
    from mdtheory.rules.tokens import Truncated

    with pytest.raises(ValueError, match="threshold must be >= 0 and <= 1"):
        Threshold(m=1, threshold=bad)
    with pytest.raises(ValueError, match="top_p must be > 0 and <= 1"):
        Truncated(top_p=bad)
    assert Threshold(m=1, threshold=1.0).threshold == 1.0 and Truncated(top_p=1.0).top_p == 1.0  # the ends


def test_temperature_zero_takes_the_argmax_with_first_index_or_uniform_ties():
    from mdtheory.rules.tokens import Temperature, temperature_transform
    from mdtheory.sampling.execute import torch_token_log_weights

    p = np.array([[0.4, 0.4, 0.2], [0.1, 0.3, 0.6], [0.25, 0.25, 0.5]])
    assert Temperature(0.0, ties="first").law(p).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
    assert Temperature(0.0).law(p).tolist() == [[0.5, 0.5, 0], [0, 0, 1], [0, 0, 1]]
    assert temperature_transform(0) == Temperature(0.0, ties="first")
    with pytest.raises(ValueError, match="ties must be 'uniform' or 'first'"):
        Temperature(0.0, ties="last")
    rng = np.random.default_rng(3)
    for _ in range(20):  # rows with ties at the top: torch's first argmax and the rule's agree exactly
        lp = np.log(rng.choice([0.1, 0.2, 0.3], size=(4, 5)))
        for ties in ("first", "uniform"):
            t = Temperature(0.0, ties=ties)
            got = torch.exp(torch_token_log_weights(t, torch.tensor(lp))).numpy()
            assert np.array_equal(got > 0, t.law(np.exp(lp)) > 0)


def test_temperature_zero_is_a_valid_parameter_of_every_rule_with_a_temperature():
    from mdtheory.testing import round_rule

    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    law = round_rule("low_confidence", temperature=0.0).law(p, 1)
    # tokens are the first argmax of each row (0, 2, 0); the position is the most confident: row 2 (0.6)
    cells = {(tuple(s), tuple(t)): pr for s, t, pr in law.cells(include_zero=False)}
    assert cells == {((2,), (0,)): 1.0}
    for name in ("confidence", "margin", "entropy", "uniform", "dream"):
        extra = {"alg_temp": 0.0} if name == "dream" else {}
        r = round_rule(name, temperature=0.0, **extra).law(p, 2)
        tokens = r.token_tuples()
        # every cell with mass carries the first argmax tokens of its rows
        for c, s in enumerate(r.sets):
            for j in np.nonzero(r.probs[c] > 0)[0]:
                assert [int(np.argmax(p[i])) for i in s] == tokens[j].tolist()
