"""The verdict of each installed peer outside diffusers, driven through its own code by the adapters.

Each test skips cleanly when its peer is not installed (``.ci/run`` installs them with ``--no-deps``; the
JAX MaskGIT needs the ``maskgit`` extra). Monte Carlo: 30 000 seeded rounds per case (the kit's minimum for
the V = 64 case is 27 538), 40 000 for the MDLM steps (256 cells need 36 411), Pearson χ² at false alarm 1e-6 per case against the exact law of the stated rule.
An adapter bug (a wrong k, a wrong temperature, a mis-read output) fails the passing cases; the expected
failures are properties of the peers, each with its cause named."""

import pytest

from mdtheory.peers.audit import audit_peer

N = 30_000


def _audit(name: str, module: str, n: int = N):
    pytest.importorskip(module)
    a = audit_peer(name, n_samples=n, seed=11)
    assert a.audit is not None, a.skipped
    return a


def _passed(a) -> dict:
    return {r.case: r.passed for r in a.audit.results}


def test_official_maskgit_draws_the_maskgit_law():
    a = _audit("maskgit", "maskgit.libml.parallel_decode")
    assert a.verdict == "PASS", a.audit.failures
    assert len(a.audit.results) == 5


@pytest.mark.parametrize("name,module", [("dlmserve", "dlmserve.sampler"),
                                         ("dllm-reason", "dllm_reason.inference.sampler"),
                                         ("dllm-reason-cosine-topk", "dllm_reason.inference.sampler"),
                                         ("dfastllm", "dfastllm.engine.diffusion_sampler"),
                                         ("dfastllm-float32", "dfastllm.engine.diffusion_sampler")])
def test_llada_rule_peers_pass_every_case_but_torch_topk_ties(name, module):
    # tempered candidates and untempered confidence are right (temperature 0.7 tells them apart); on tied
    # confidences torch.topk picks neither uniformly nor the first index
    a = _audit(name, module)
    assert a.verdict == "FAIL (ties only)", (a.audit.failures, a.audit.invariant)
    ties = next(r for r in a.audit.results if r.case == "ties")
    assert ties.tv > 0.2 and abs(ties.worst_cells[0]["z"]) > 50


def test_dllm_reason_cosine_scheduler_is_not_maskgit():
    # named after MaskGIT, but it ranks confidences without Gumbel noise: every case fails
    a = _audit("dllm-reason-cosine", "dllm_reason.inference.sampler")
    assert not any(_passed(a).values()) and a.audit.invariant is None
    assert min(r.tv for r in a.audit.results) > 0.1


def test_bitnet_ancestral_step_passes_and_its_last_step_is_greedy():
    a = _audit("bitnet-dllm", "bitnet_dllm.sampler", 40_000)
    assert a.verdict == "PASS", a.audit.failures
    # the V = 64 case's MDLM law has 274 625 cells: it is skipped, and says so
    assert [r.case for r in a.audit.results] == ["peaked", "flat", "zeros", "ties"]
    assert len(a.audit.skipped) == 1 and "large_vocab" in a.audit.skipped[0] and "draws" in a.audit.skipped[0]
    last = _audit("bitnet-dllm-last", "bitnet_dllm.sampler", 40_000)
    assert last.verdict == "FAIL" and not _passed(last)["flat"]


def test_hedgehog_ddpm_sampler_redraws_revealed_tokens():
    # its docstring says ancestral sampling; its step re-samples every position, revealed ones included
    a = _audit("hedgehog-dlm", "hedgehog.samplers", 40_000)
    assert a.verdict == "FAIL (invariant)" and "a revealed token was re-drawn" in a.audit.invariant


def test_a_missing_peer_is_reported_with_its_install_command(monkeypatch):
    import dataclasses

    from mdtheory.peers import audit

    ghost = dataclasses.replace(audit.PEERS["dlmserve"], name="ghost", distribution="no-such-distribution",
                                install="pip install --no-deps no-such-distribution")
    monkeypatch.setitem(audit.PEERS, "ghost", ghost)
    a = audit.audit_peer("ghost")
    assert a.audit is None and a.verdict == "not audited" and "pip install --no-deps" in a.skipped
    assert a.to_dict()["skipped"] == a.skipped
