"""The exact-law test kit: does a sampler's round draw the law of the rule it states? (§9)

For sampler authors, in their own CI::

    from mdtheory.testing import assert_round_law, round_rule

    def test_my_round():
        assert_round_law(my_round, round_rule("maskgit", alpha=1.0))

``rules`` holds the stated rules and their exact laws; ``cases`` the tables an audit runs on; ``audit`` its
statistics (χ², the TV bound, the sample size); ``conventions`` how a round is called and the invariants
checked on every batch; ``kit`` the engine (``check_round_law``, ``assert_round_law``); ``plugin`` the pytest
plugin (marker ``mdtheory_rule`` and fixture ``round_law``); ``scripted`` the scripted model that audits a step of a
loop that owns its network; ``loops`` the audit of a whole generation loop against the exact output law of the
sampler it states (``assert_sampler_law``). The peer audits of :mod:`mdtheory.peers` run on this kit.
"""

from .audit import AUDIT_TV_RESOLUTION, AuditResult, audit_round, audit_variable_round, min_audit_samples
from .cases import AuditCase, audit_cases, round_cases
from .conventions import CONVENTIONS, RoundAuditError, seeded_global_rngs
from .kit import RuleAudit, assert_round_law, check_round_law
from .loops import LoopAudit, LoopAuditError, assert_sampler_law, check_sampler_law, exact_predict
from .scripted import ScriptStop, first_step_count, run_until_stopped, scripted_model
from .rules import RULE_NAMES, RoundRule, StatedRule, round_rule, stated_rule, truncated

__all__ = ["assert_round_law", "check_round_law", "RuleAudit", "round_rule", "RoundRule", "RULE_NAMES",
           "RoundAuditError", "round_cases",
           "audit_cases", "audit_round", "audit_variable_round", "AuditCase", "AuditResult", "min_audit_samples",
           "AUDIT_TV_RESOLUTION", "CONVENTIONS", "truncated", "seeded_global_rngs",
           "stated_rule", "StatedRule", "scripted_model", "ScriptStop", "run_until_stopped", "first_step_count",
           "assert_sampler_law", "check_sampler_law", "LoopAudit", "LoopAuditError", "exact_predict"]
