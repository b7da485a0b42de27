"""Whole generation loops audited against the exact output law of the sampler they state.

The loop under test is written here as a user would write it: LLaDA's semi-autoregressive low-confidence
remasking (Gumbel-max candidates in float64, confidence of the sampled token, the positions after the block set
to −inf, the top k per step, the steps shared out over the block as ``get_num_transfer_tokens`` does). The
correct loop passes; each planted bug (a schedule count off by one, a block boundary ignored, a committed token
re-drawn, an edit of the prompt, a global RNG) fails with a message that names it, and a loop that draws its
tokens from the wrong law fails the χ² test on the final sequences.
"""

import numpy as np
import pytest
import torch

from mdtheory import make_sampler, sample
from mdtheory.targets import dirichlet_joint, repeated_bit
from mdtheory.testing.conventions import UserCodeError
from mdtheory.testing.loops import LoopAuditError, assert_sampler_law, check_sampler_law, exact_predict

TARGET = dirichlet_joint(5, 3, concentration=0.7, seed=3)  # V = 3, N = 5: 243 sequences, no symmetry to hide in
LOW_CONFIDENCE = make_sampler("low_confidence", temperature=1.0)


def _num_transfer(n_masked: int, steps: int) -> list:
    base, extra = divmod(n_masked, steps)
    return [base + (1 if i < extra else 0) for i in range(steps)]


def llada_generate(predict, *, seq_len, batch_size, generator, prompt=None, steps=4, block_length=2, mask_id=3,
                   bug=None):
    P = 0 if prompt is None else len(prompt)
    x = torch.full((batch_size, seq_len), mask_id, dtype=torch.int64)
    if P:
        x[:, :P] = prompt
    gen_len = seq_len - P
    n_blocks = gen_len // block_length
    per_block = steps // n_blocks
    for b in range(n_blocks):
        lo, hi = P + b * block_length, P + (b + 1) * block_length
        if bug == "block":  # the block boundary ignored: every masked position competes
            hi = seq_len
        counts = _num_transfer(int((x[0, lo:lo + block_length] == mask_id).sum()), per_block)
        if bug == "schedule":  # the last step of each block reveals one fewer
            counts[-1] -= 1
        for i in range(per_block):
            logits = predict(x)[..., :mask_id]
            u = torch.rand(logits.shape, generator=generator, dtype=torch.float64).clamp_min(1e-300)
            x0 = torch.argmax(logits.exp() / (-torch.log(u)), dim=-1)  # Gumbel-max at temperature 1
            p = torch.softmax(logits, dim=-1)
            conf = torch.gather(p, -1, x0[..., None])[..., 0]
            conf[:, hi:] = -np.inf
            masked = x == mask_id
            if bug == "redraw":  # committed tokens are candidates again (and may be re-drawn)
                masked[:, P:] = True
            conf = torch.where(masked, conf, torch.tensor(-np.inf, dtype=torch.float64))
            perm = torch.randperm(seq_len, generator=generator)  # ties among confidences split uniformly
            top = torch.topk(conf[:, perm], counts[i], dim=-1).indices
            chosen = perm[top]
            rows = torch.arange(batch_size)[:, None]
            x[rows, chosen] = x0[rows, chosen]
    if bug == "prompt" and P:
        x[:, 0] = (x[:, 0] + 1) % mask_id  # an edit of the prompt (as an editing pass that reaches it would make)
    return x


def _run(bug=None, *, steps=4, block_length=2, prompt=(1,), schedule=(1, 1, 1, 1), stated_blocks=True):
    def generate(predict, *, seq_len, batch_size, generator, prompt=None):
        return llada_generate(predict, seq_len=seq_len, batch_size=batch_size, generator=generator, prompt=prompt,
                              bug=bug, steps=steps, block_length=block_length)

    return check_sampler_law(generate, TARGET, LOW_CONFIDENCE, list(schedule), mask_id=3, n_samples=20_000,
                             prompt=list(prompt), block_length=block_length if stated_blocks else None)


def test_a_correct_semi_autoregressive_loop_passes_and_the_audit_tells_its_blocks_apart():
    audit = _run()
    assert audit.passed, audit.report()
    assert audit.n_calls == 4 * 20_000 // 500 and audit.tv_upper < 0.2
    # the same loop stated without its blocks: the path check names the first reveal out of order or the law
    # of the output fails; either way it does not pass
    from mdtheory import output_law
    from mdtheory.targets.tables import JointTable

    sub = TARGET.table[1]
    cond = JointTable(sub / sub.sum())
    blocked = output_law(cond, LOW_CONFIDENCE, [1, 1, 1, 1], blocks=[0, 0, 1, 1]).table
    free = output_law(cond, LOW_CONFIDENCE, [1, 1, 1, 1]).table
    assert 0.5 * np.abs(blocked - free).sum() > 0.02  # the two laws differ
    assert not _run(stated_blocks=False).passed


@pytest.mark.parametrize("bug, message", [
    ("schedule", "step 1 revealed 0 positions (row 0); the schedule says 1"),
    ("block", "outside the open block 0: blocks are filled in order"),
    # committed positions compete again: under exact conditionals a committed row is one-hot, so it is chosen
    # and "re-drawn" to itself, and the step reveals too few new positions
    ("redraw", "step 1 revealed 0 positions (row 0); the schedule says 1 (too few: a count off by one, or a step "
               "that chose committed positions again)"),
    ("prompt", "step 3: the prompt was edited: its token at position 0 was re-drawn (1 → 2) (row 0)"),
])
def test_each_planted_bug_in_a_whole_loop_fails_with_a_message_that_names_it(bug, message):
    audit = _run(bug=bug)
    assert not audit.passed and message in audit.invariant, audit.report()
    report = audit.report()
    assert report.startswith("FAIL ") and len(report.splitlines()) <= 15 and "reproduce: check_sampler_law(" in report


def test_a_loop_that_draws_from_the_wrong_law_fails_on_its_final_sequences():
    def tempered(predict, *, seq_len, batch_size, generator, prompt=None):
        return sample(lambda x, m: predict(x) / 0.7, seq_len=seq_len, schedule=[1, 1, 1, 1, 1], batch_size=batch_size,
                      sampler=LOW_CONFIDENCE, mask_id=3, generator=generator).tokens  # a temperature not stated

    with pytest.raises(LoopAuditError) as e:
        assert_sampler_law(tempered, TARGET, LOW_CONFIDENCE, [1, 1, 1, 1, 1], mask_id=3, n_samples=20_000)
    first = str(e.value).splitlines()[0]
    assert first.startswith("FAIL ") and "χ² = " in first and "TV ≈" in first and "upper bound" in first
    assert "sequence [" in str(e.value) and len(str(e.value).splitlines()) <= 15


def test_the_projects_own_loop_passes_as_a_user_loop():
    sampler = make_sampler("maskgit", alpha=0.7)

    def generate(predict, *, seq_len, batch_size, generator):
        return sample(lambda x, m: predict(x), seq_len=seq_len, schedule=[2, 1, 2], batch_size=batch_size,
                      sampler=sampler, mask_id=3, generator=generator).tokens

    audit = assert_sampler_law(generate, TARGET, sampler, [2, 1, 2], mask_id=3, n_samples=20_000)
    assert audit.passed and audit.to_dict()["passed"] is True


def test_a_loop_on_a_global_rng_fails_the_seed_contract():
    def unseeded(predict, *, seq_len, batch_size, generator):
        return llada_generate(predict, seq_len=seq_len, batch_size=batch_size, generator=None, steps=5,
                              block_length=5)

    audit = check_sampler_law(unseeded, TARGET, LOW_CONFIDENCE, [1, 1, 1, 1, 1], mask_id=3, n_samples=500)
    assert not audit.passed and "not a function of its generator" in audit.invariant


def test_a_mask_id_inside_the_vocabulary_has_its_mass_removed_and_no_false_alarm():
    # mask id 0, as LLaDA and Dream keep theirs inside the vocabulary: the target's tokens are ids 1, 2
    predict = exact_predict(repeated_bit(2), mask_id=0)
    logits = predict(torch.tensor([[0, 0], [2, 0]]))
    assert logits.shape == (2, 2, 3) and torch.all(torch.isinf(logits[..., 0]))
    np.testing.assert_allclose(logits[1, 1].exp().numpy(), [0, 0, 1])  # x_0 = token 1 (id 2) fixes x_1
    sampler = make_sampler("uniform")

    def generate(predict, *, seq_len, batch_size, generator):
        return sample(lambda x, m: predict(x), seq_len=seq_len, schedule=[1, 1], batch_size=batch_size,
                      sampler=sampler, mask_id=0, generator=generator).tokens

    assert check_sampler_law(generate, repeated_bit(2), sampler, [1, 1], mask_id=0, n_samples=2000).passed


def test_the_users_exception_is_reported_as_theirs_and_bad_outputs_are_named():
    def raises(predict, *, seq_len, batch_size, generator):
        raise KeyError("oops")

    with pytest.raises(UserCodeError, match="the audited loop raised KeyError"):
        check_sampler_law(raises, TARGET, LOW_CONFIDENCE, [1, 1, 1, 1, 1], n_samples=10)

    def floats(predict, *, seq_len, batch_size, generator):
        for _ in range(5):
            predict(torch.full((batch_size, seq_len), 3))
        return torch.zeros(batch_size, seq_len)

    audit = check_sampler_law(floats, TARGET, LOW_CONFIDENCE, [1, 1, 1, 1, 1], n_samples=10)
    assert "integer token ids" in audit.invariant


def test_arguments_are_checked():
    g = llada_generate
    with pytest.raises(ValueError, match="n_samples must be"):
        check_sampler_law(g, TARGET, LOW_CONFIDENCE, [1, 1, 1, 1, 1], n_samples=0)
    with pytest.raises(ValueError, match="prompt must be"):
        check_sampler_law(g, TARGET, LOW_CONFIDENCE, [1, 1, 1, 1], prompt=[7])
    with pytest.raises(ValueError, match="must not cross a block boundary"):
        check_sampler_law(g, TARGET, LOW_CONFIDENCE, [1, 2, 1], prompt=[1], block_length=2)


def test_the_pytest_fixture_audits_a_loop(sampler_law):
    sampler = make_sampler("uniform")

    def generate(predict, *, seq_len, batch_size, generator):
        return sample(lambda x, m: predict(x), seq_len=seq_len, schedule=[1, 1, 1], batch_size=batch_size,
                      sampler=sampler, mask_id=2, generator=generator).tokens

    assert sampler_law(generate, repeated_bit(3), sampler, [1, 1, 1], n_samples=2000).passed
