"""Peer harness (issue #7 groundwork): diffusers' AmusedScheduler against the exact MaskGIT law.

Monte Carlo: 100 000 seeded rounds of the peer's public ``step`` per case; Pearson χ² against the exact
§3.2 law at false-alarm 1e-6 (cells with expected count < 5 pooled). Skips when diffusers is absent."""

import numpy as np
import pytest

from mdtheory.audit import amused_round, audit_cases, audit_round
from mdtheory.laws import maskgit_round_law, moment_round_law

pytest.importorskip("diffusers")


def _peer(alpha):
    return lambda lp, k, generator: amused_round(lp, k=k, alpha=alpha, generator=generator)


@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_amused_draws_the_maskgit_law(alpha):
    for case in audit_cases(seed=1):
        r = audit_round(_peer(alpha), case, maskgit_round_law(case.probs, k=case.k, alpha=alpha), peer="amused",
                        n_samples=100_000, seed=2)
        assert r.passed, r.to_dict()
        assert r.tv <= r.tv_upper


def test_audit_has_power_against_the_wrong_law():
    case = audit_cases(seed=1)[0]
    r = audit_round(_peer(1.0), case, moment_round_law(case.probs, k=case.k, alpha=1.0), n_samples=100_000, seed=3)
    assert not r.passed and abs(r.worst_cells[0]["z"]) > 5


def test_amused_adapter_rejects_k_equal_n():
    import torch

    with pytest.raises(ValueError, match="re-masks at least one"):
        amused_round(torch.zeros(1, 3, 2), k=3, alpha=1.0)


def test_cli_audit(capsys):
    from mdtheory.cli import main

    assert main(["audit", "amused", "--n-samples", "20000", "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert d["peer"] == "amused" and len(d["results"]) == 4 and all(r["passed"] for r in d["results"])
    assert np.isfinite([r["tv_upper"] for r in d["results"]]).all()


@pytest.mark.parametrize("temperature,gamma", [(1.0, 0.3), (0.6, 1.0)])
def test_entropy_bound_scheduler_draws_the_eb_law(temperature, gamma):
    import dataclasses

    from mdtheory.audit import eb_round_law, entropy_bound_round

    for case in audit_cases(seed=4):
        law = eb_round_law(case.probs, gamma=gamma, temperature=temperature)
        c = dataclasses.replace(case, k=law.k)
        r = audit_round(lambda lp, k, generator: entropy_bound_round(lp, k=k, alpha=temperature, generator=generator,
                                                                     gamma=gamma), c, law, n_samples=50_000, seed=5)
        assert r.passed, r.to_dict()


def test_cli_audit_entropy_bound(capsys):
    from mdtheory.cli import main

    assert main(["audit", "entropy-bound", "--alpha", "0.7", "--n-samples", "20000"]) == 0
    assert "PASS" in capsys.readouterr().out
