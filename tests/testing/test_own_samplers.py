"""Every mdtheory sampler audited, through the test kit, against the rule it is built from (same registry name)."""

import pytest

from mdtheory.rules.registry import example_params, make_sampler
from mdtheory.sampling.rounds import run_round, run_select
from mdtheory.testing import check_round_law, round_rule

CASES = ["peaked", "flat", "ties"]  # N = 4 each


@pytest.mark.parametrize("name", ["maskgit", "moment", "umoment", "margin", "entropy", "halton", "hybrid",
                                  "entropy_sum", "eb", "threshold", "dream", "low_confidence"])
def test_own_round_draws_its_stated_rule(name):
    params = example_params(name, 4)
    rule = make_sampler(name, **params).rule_at(0, 1)
    if rule.variable:
        def step(log_probs, *, generator):
            return run_select(rule, log_probs, generator=generator)
    else:
        def step(log_probs, *, k, generator):
            return run_round(rule, log_probs, k=k, generator=generator)
    audit = check_round_law(step, round_rule(name, **params), cases=CASES, forward=(), n_samples=60_000)
    assert not audit.failures, audit.failures
