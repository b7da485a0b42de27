"""The exact-law test kit: does a sampler's round draw the law of the rule it states? (§9)

For sampler authors, in their own CI::

    from mdtheory.testing import assert_round_law, round_rule

    def test_my_round():
        assert_round_law(my_round, round_rule("maskgit", alpha=1.0))

``rules`` holds the stated rules and their exact laws; ``kit`` the audit engine (cases, χ², TV bound,
invariants, calling conventions); ``plugin`` the pytest plugin (marker ``mdtheory_rule`` and fixture
``round_law``). The peer audits of :mod:`mdtheory.peers` run on this kit.
"""

from .kit import (AUDIT_TV_RESOLUTION, CONVENTIONS, AuditCase, AuditResult, RoundAuditError, RuleAudit,
                  assert_round_law, check_round_law, audit_cases, audit_round, audit_variable_round, min_audit_samples, round_cases)
from .rules import RULE_NAMES, RoundRule, round_rule, truncated

__all__ = ["assert_round_law", "check_round_law", "RuleAudit", "round_rule", "RoundRule", "RULE_NAMES",
           "RoundAuditError", "round_cases",
           "audit_cases", "audit_round", "audit_variable_round", "AuditCase", "AuditResult", "min_audit_samples",
           "AUDIT_TV_RESOLUTION", "CONVENTIONS", "truncated"]
