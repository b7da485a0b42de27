"""The scripted model audits one step of a loop that owns its network, through the loop's own code."""

import pytest
import torch

from mdtheory.testing import (RoundAuditError, assert_round_law, first_step_count, round_rule, run_until_stopped,
                              scripted_model)


def llada_like_generate(model, x, *, steps, mask_id, generator=None, off_by_one=False):
    """A LLaDA-style loop: the model's logits, sampled candidates, the ⌈N/S⌉ most confident revealed per step."""
    n = int((x == mask_id).sum(dim=1)[0])
    for s in range(steps):
        masked = x == mask_id
        lp = torch.log_softmax(model(x), dim=-1)
        B, L, V = lp.shape
        x0 = torch.multinomial(lp.exp().reshape(-1, V), 1, generator=generator).view(B, L)
        conf = torch.gather(lp, -1, x0[..., None])[..., 0].masked_fill(~masked, -torch.inf)
        conf = conf + 1e-9 * torch.rand(conf.shape, generator=generator, dtype=conf.dtype)  # uniform ties
        k = n // steps + (1 if s < n % steps else 0) + (1 if off_by_one else 0)
        pos = torch.topk(conf, k, dim=1).indices
        x = x.scatter(1, pos, x0.gather(1, pos))
    return x


def audited_first_step(log_probs, *, k, generator=None, off_by_one=False):
    B, N, V = log_probs.shape
    steps = first_step_count(lambda s: -(-N // s), k, "the LLaDA-style schedule", limit=N)
    model = scripted_model([lambda x: log_probs])
    x = torch.full((B, N), V, dtype=torch.long)  # mask id V, outside the vocabulary
    out = run_until_stopped(llada_like_generate, model, x, steps=steps, mask_id=V, generator=generator,
                            off_by_one=off_by_one)
    assert model.calls == 1 and torch.equal(model.inputs[0], x)  # one call, on the all-masked sequence
    revealed = out != V
    pos = torch.nonzero(revealed)[:, 1].view(B, -1)
    return pos, out.gather(1, pos)


def test_the_first_step_of_a_loop_is_audited_through_the_loop():
    assert_round_law(audited_first_step, round_rule("low_confidence"), forward=(), cases=["peaked", "flat", "zeros"],
                     n_samples=20_000)


def test_a_schedule_count_off_by_one_in_the_loop_fails():
    def wrong(log_probs, *, k, generator=None):
        return audited_first_step(log_probs, k=k, generator=generator, off_by_one=True)

    with pytest.raises(RoundAuditError, match="positions must have shape \\(256, 2\\); got \\(256, 3\\)"):
        assert_round_law(wrong, round_rule("low_confidence"), forward=(), cases=["flat"], n_samples=20_000)


def test_schedule_arithmetic_and_its_refusal():
    assert first_step_count(lambda s: -(-10 // s), 4, "x") == 3  # ⌈10/3⌉ = 4
    with pytest.raises(ValueError, match="no number of steps up to 5 makes x reveal k=7"):
        first_step_count(lambda s: -(-5 // s), 7, "x", limit=5)
