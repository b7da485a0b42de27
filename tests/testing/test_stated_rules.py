"""A rule of the user's own, stated by its exact law, goes through the same audit as the built-in rules."""

import shlex
from itertools import combinations, product

import numpy as np
import pytest
import torch

from mdtheory.cli import main
from mdtheory.testing import AuditCase, RoundAuditError, assert_round_law, check_round_law, stated_rule

CASE = AuditCase("three", np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5]]), 2)


def lowest_entropy_pair_law(probs, *, k):
    """The k positions of lowest entropy (no ties on CASE), tokens from p: one set, its tokens' product law."""
    h = -(probs * np.log(np.where(probs > 0, probs, 1.0))).sum(axis=1)
    chosen = tuple(sorted(np.argsort(h, kind="stable")[:k].tolist()))
    return {(chosen, x): float(np.prod([probs[i, t] for i, t in zip(chosen, x)]))
            for x in product(range(probs.shape[1]), repeat=k)}


def lowest_entropy_step(log_probs, *, k, generator=None, wrong_positions=False):
    p = log_probs.exp()
    h = -(p * log_probs.clamp_min(-1e300)).nan_to_num().sum(-1)
    order = torch.argsort(h, dim=-1, descending=wrong_positions, stable=True)
    pos = order[:, :k]
    tok = torch.multinomial(p.reshape(-1, p.shape[-1]), 1, generator=generator).view(p.shape[:2])
    return pos, torch.gather(tok, 1, pos)


def half_reveal_law(probs):
    """Each position revealed independently with probability 1/2, tokens from p (a variable-size rule)."""
    n, V = probs.shape
    law = {}
    for size in range(n + 1):
        for K in combinations(range(n), size):
            for x in product(range(V), repeat=size):
                law[(K, x)] = 0.5 ** n * float(np.prod([probs[i, t] for i, t in zip(K, x)]))
    return law


def half_reveal_step(log_probs, *, generator=None):
    B, N, V = log_probs.shape
    sel = torch.rand(B, N, generator=generator) < 0.5
    tok = torch.multinomial(log_probs.exp().reshape(-1, V), 1, generator=generator).view(B, N)
    return sel, tok


def test_a_stated_rule_passes_its_own_step_and_fails_a_planted_bug():
    rule = stated_rule("lowest_entropy", lowest_entropy_pair_law)
    assert_round_law(lowest_entropy_step, rule, cases=[CASE], n_samples=20_000, forward=())
    audit = check_round_law(lambda lp, *, k, generator=None: lowest_entropy_step(lp, k=k, generator=generator,
                                                                                  wrong_positions=True),
                            rule, cases=[CASE], n_samples=20_000, forward=())
    assert not audit.passed and "worst cells: positions" in audit.failures[0]
    assert "stated_rule('lowest_entropy', <its law>" in audit.failures[0]  # a lambda: the Python reproduction


def test_a_variable_size_stated_rule():
    rule = stated_rule("half_reveal", half_reveal_law, variable=True)
    assert rule.variable
    assert_round_law(half_reveal_step, rule, cases=[CASE], n_samples=50_000, forward=())


@pytest.mark.parametrize("bad, message", [
    (lambda probs, *, k: [0.5, 0.5], "must return a dict"),
    (lambda probs, *, k: {((0,), (0,)): 1.0}, "of 1 positions; the rule reveals k=2"),
    (lambda probs, *, k: {((0, 5), (0, 0)): 1.0}, "positions must be distinct in 0..2"),
    (lambda probs, *, k: {((0, 1), (0, 7)): 1.0}, "a token in 0..2"),
    (lambda probs, *, k: {((0, 1), (0, 0)): 0.5, ((1, 0), (0, 0)): 0.5}, "twice"),
    (lambda probs, *, k: {((0, 1), (0, 0)): 0.7}, "the law"),  # sums to 0.7: a postcondition
])
def test_a_stated_law_is_checked_before_it_is_used(bad, message):
    from mdtheory._postconditions import PostconditionError

    with pytest.raises((ValueError, TypeError, PostconditionError), match=message):
        stated_rule("mine", bad).law(CASE.probs, 2)


def test_stated_rule_arguments():
    with pytest.raises(ValueError, match="built-in rule"):
        stated_rule("maskgit", lowest_entropy_pair_law)
    with pytest.raises(TypeError, match="callable"):
        stated_rule("mine", 3)
    law = stated_rule("mine", lowest_entropy_pair_law).law(CASE.probs, 2)
    assert law.sets.shape == (3, 2) and abs(law.probs.sum() - 1) < 1e-12  # every 2-set of 3, one with mass


def test_a_stated_rule_from_the_command_line_and_its_reproduction_line(capsys):
    argv = ["audit", "--round", "tests.testing.test_stated_rules:half_reveal_step", "--law",
            "tests.testing.test_stated_rules:half_reveal_law", "--variable", "--forward", "none", "--case", "flat",
            "--n-samples", "50000"]
    assert main(argv) == 0
    assert "against half_reveal_law()" in capsys.readouterr().out
    bad = ["audit", "--round", "tests.testing.test_stated_rules:half_reveal_step", "--law",
           "tests.testing.test_stated_rules:lowest_entropy_pair_law", "--forward", "none", "--case", "flat",
           "--n-samples", "20000"]
    assert main(bad) == 4  # a step of a variable-size rule called with k: its own TypeError, reported as the user's
    assert "unexpected keyword argument 'k'" in capsys.readouterr().err
    assert main(["audit", "--round", "tests.testing.test_stated_rules:lowest_entropy_step", "--rule", "maskgit",
                 "--law", "tests.testing.test_stated_rules:lowest_entropy_pair_law"]) == 2
    assert "one of --rule NAME and --law" in capsys.readouterr().err


def test_the_reproduction_line_of_a_stated_rule_names_its_law(capsys):
    def wrong(log_probs, *, k, generator=None):
        return lowest_entropy_step(log_probs, k=k, generator=generator, wrong_positions=True)

    from mdtheory.testing.kit import _reproduction

    line = _reproduction(lowest_entropy_step, stated_rule("lowest_entropy", lowest_entropy_pair_law), "flat", 20_000,
                         0, "round", ())
    assert "--law tests.testing.test_stated_rules:lowest_entropy_pair_law" in line and "--rule" not in line
    with pytest.raises(RoundAuditError):
        assert_round_law(wrong, stated_rule("lowest_entropy", lowest_entropy_pair_law), cases=[CASE],
                         n_samples=20_000, forward=())
    assert main(shlex.split(line)[1:]) == 0  # the printed command runs as printed (the correct step passes)
    capsys.readouterr()
