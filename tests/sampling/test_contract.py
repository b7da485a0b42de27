"""Sampler contract (in the spirit of diffusers' discrete-scheduler tests), parametrised over every
mdtheory sampler and every adapted peer: one reveal per position, revealed tokens never re-drawn,
zero-probability tokens never drawn, reproducible with a seeded generator, positions scored on the
untempered predictions, and the diffusers-style scheduler adapter reproduces the sampling loop draw
for draw."""

import numpy as np
import pytest
import torch

from mdtheory.peers.interop import (MdtheoryScheduler, PeerAdaptiveSampler, PeerSampler, amused_peer_round,
                              block_refinement_peer_select, entropy_bound_peer_select)
from mdtheory.rules.orders import halton_order
from mdtheory.rules.registry import example_params
from mdtheory.sampling.loop import SAMPLER_NAMES, MaskGIT, Moment, make_sampler, sample

D, V, K = 12, 5, 4
ORDER = tuple(int(i) for i in halton_order(3, 4))


def _samplers():
    out = {name: make_sampler(name, **example_params(name, D, loop=True)) for name in SAMPLER_NAMES}
    out["hybrid-halton"] = make_sampler("hybrid", alpha=1.0, order=ORDER)
    try:
        import diffusers  # noqa: F401

        out["peer:amused"] = PeerSampler(amused_peer_round(1.0), name="amused")
        out["peer:entropy-bound"] = PeerAdaptiveSampler(entropy_bound_peer_select(0.5), name="entropy-bound")
        out["peer:block-refinement"] = PeerAdaptiveSampler(block_refinement_peer_select(0.6),
                                                           name="block-refinement")
    except ImportError:
        pass
    return out


SAMPLERS = _samplers()
LOGITS = torch.log(torch.as_tensor(np.random.default_rng(0).dirichlet(np.full(V, 0.5), size=D)))
LOGITS[:, 0] = -torch.inf  # token 0 has probability 0 everywhere


class Recorder:
    """A prediction function that checks the contract on every call."""

    def __init__(self):
        self.seen = None

    def __call__(self, tokens, masked):
        if self.seen is not None:
            was_revealed = ~self.seen[1]
            assert torch.equal(tokens[was_revealed], self.seen[0][was_revealed]), "a revealed token was re-drawn"
            assert bool((masked <= self.seen[1]).all()), "a revealed position was masked again"
        self.seen = (tokens.clone(), masked.clone())
        return LOGITS.expand(tokens.shape[0], -1, -1).clone()


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sampler_contract(name):
    s = SAMPLERS[name]
    sched = None if s.adaptive else "cosine"
    res = sample(Recorder(), seq_len=D, schedule=sched, n_steps=None if sched is None else K, sampler=s,
                 batch_size=64, mask_id=V, generator=torch.Generator().manual_seed(1))
    toks, steps = res.tokens.numpy(), res.reveal_step.numpy()
    assert ((toks >= 1) & (toks < V)).all()  # never the mask id, never a zero-probability token
    assert (steps >= 0).all()  # every position revealed
    if sched is not None:
        counts = np.stack([np.bincount(r, minlength=K) for r in steps])
        assert (counts == np.asarray(res.schedule)).all()
    again = sample(Recorder(), seq_len=D, schedule=sched, n_steps=None if sched is None else K, sampler=s,
                   batch_size=64, mask_id=V, generator=torch.Generator().manual_seed(1))
    assert torch.equal(res.tokens, again.tokens)


@pytest.mark.parametrize("name", sorted(n for n, s in SAMPLERS.items() if not s.adaptive))
def test_scheduler_adapter_reproduces_the_loop(name):
    s = SAMPLERS[name]
    ref = sample(Recorder(), seq_len=D, schedule="cosine", n_steps=K, sampler=s, batch_size=8, mask_id=V,
                 generator=torch.Generator().manual_seed(2))
    sched = MdtheoryScheduler(s, mask_token_id=V, schedule="cosine")
    sched.set_timesteps(K)
    x = torch.full((8, D), V, dtype=torch.long)
    gen = torch.Generator().manual_seed(2)
    for t in sched.timesteps:
        x = sched.step(LOGITS.expand(8, -1, -1), t, x, generator=gen).prev_sample
    assert torch.equal(x, ref.tokens)


@pytest.mark.parametrize("sampler", [MaskGIT(1.0), Moment(1.0)], ids=["maskgit", "moment"])
def test_scheduler_never_draws_a_mask_id_inside_the_vocabulary(sampler):
    # V = 16 with mask id 15: once 5–7% of positions were left holding the mask token
    from scipy.stats import chi2

    B, N, V, mask = 4000, 6, 16, 15
    logits = torch.randn(N, V, generator=torch.Generator().manual_seed(3), dtype=torch.float64).expand(B, -1, -1)

    def run(n_steps):
        sched = MdtheoryScheduler(sampler, mask_token_id=mask, schedule="cosine")
        sched.set_timesteps(n_steps)
        x, gen = torch.full((B, N), mask, dtype=torch.long), torch.Generator().manual_seed(4)
        for t in sched.timesteps:
            x = sched.step(logits, t, x, generator=gen).prev_sample
        return x

    assert not bool((run(3) == mask).any())
    # one step reveals every position; its token follows p conditioned on not being the mask (MaskGIT's tokens
    # are untempered, and the moment sampler's last step is untempered by convention)
    p = torch.softmax(logits[0, :, :mask], -1).numpy()
    x = run(1).numpy()
    stat = sum((((np.bincount(x[:, i], minlength=mask) - B * p[i]) ** 2) / (B * p[i])).sum() for i in range(N))
    assert stat < chi2.isf(1e-6, N * (mask - 1))


def test_scheduler_follows_the_discrete_scheduler_conventions():
    sched = MdtheoryScheduler(MaskGIT(1.0), mask_token_id=V, schedule="cosine")
    assert sched.step_index is None and sched.begin_index is None
    sched.set_timesteps(4)
    assert sched.timesteps.dtype == torch.float32 and sched.timesteps.tolist() == [1.0, 0.75, 0.5, 0.25]
    assert [sched.index_for_timestep(t) for t in sched.timesteps] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="not one of"):
        sched.index_for_timestep(0.3)
    x = torch.full((8, D), V, dtype=torch.long)
    gen = torch.Generator().manual_seed(5)
    raw = torch.softmax(LOGITS.expand(8, -1, -1).double(), -1)
    for i, t in enumerate(sched.timesteps):
        out = sched.step(LOGITS.expand(8, -1, -1), t, x, generator=gen)
        assert sched.step_index == i + 1
        assert torch.equal(out.committed_mask, (x == V) & (out.prev_sample != V))  # what this step revealed
        assert not bool(out.edited_mask.any()) and out.pred_logits.shape == (8, D, V)
        known = out.prev_sample != V
        assert torch.equal(out.pred_original_sample[known], out.prev_sample[known])
        expected = raw.gather(-1, out.pred_original_sample[..., None])[..., 0].float()
        assert out.sampled_probs.dtype == torch.float32 and torch.allclose(out.sampled_probs, expected)
        x = out.prev_sample
    assert not bool((x == V).any())
    # return_dict=False: the same fields, in the same order
    again = MdtheoryScheduler(MaskGIT(1.0), mask_token_id=V, schedule="cosine")
    again.set_timesteps(4)
    start = torch.full((8, D), V, dtype=torch.long)
    as_tuple = again.step(LOGITS.expand(8, -1, -1), 1.0, start, generator=torch.Generator().manual_seed(7),
                          return_dict=False)
    again.set_timesteps(4)
    as_dict = again.step(LOGITS.expand(8, -1, -1), 1.0, start, generator=torch.Generator().manual_seed(7))
    assert len(as_tuple) == 6
    assert all(torch.equal(a, b) for a, b in zip(as_tuple, as_dict.to_tuple()))
    with pytest.raises(ValueError, match="num_inference_steps"):
        sched.set_timesteps(0)


def test_scheduler_can_start_mid_schedule():
    sched = MdtheoryScheduler(Moment(1.0), mask_token_id=V, schedule="cosine")
    sched.set_timesteps(4)
    sched.set_begin_index(2)
    x = torch.full((8, D), V, dtype=torch.long)
    x[:, : D // 2] = 1  # half already revealed
    for t in sched.timesteps[2:]:
        x = sched.step(LOGITS.expand(8, -1, -1), t, x, generator=torch.Generator().manual_seed(6)).prev_sample
    assert not bool((x == V).any()) and bool((x[:, : D // 2] == 1).all())
    with pytest.raises(RuntimeError, match="all 4 steps are done"):
        sched.step(LOGITS.expand(8, -1, -1), sched.timesteps[-1], x)
    with pytest.raises(ValueError, match="begin_index"):
        sched.set_begin_index(4)


def test_scheduler_adapter_needs_timesteps():
    with pytest.raises(RuntimeError, match="set_timesteps"):
        MdtheoryScheduler(make_sampler("uniform"), mask_token_id=V).step(LOGITS[None], 0, torch.full((1, D), V))
    with pytest.raises(ValueError, match="num_inference_steps"):
        MdtheoryScheduler(make_sampler("uniform"), mask_token_id=V).set_timesteps(0)


@pytest.mark.parametrize("name", sorted(n for n, s in SAMPLERS.items() if type(s).__name__ == "CTS"))
def test_positions_use_the_untempered_predictions(name):
    # choose-then-sample rules score positions on the untempered law; tempering only touches the tokens
    from mdtheory.sampling.rounds import Temperature, cts_round

    s = SAMPLERS[name]
    lp = torch.log_softmax(LOGITS.to(torch.float64), dim=-1).expand(32, -1, -1)
    outs = [cts_round(lp, k=3, position_rule=s.position_rule, token_transform=tr,
                      generator=torch.Generator().manual_seed(3)).positions
            for tr in (Temperature(1.0), Temperature(0.3), Temperature(3.0))]
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], outs[2])


@pytest.mark.parametrize("mask_id", [0, 3, V - 1, V])
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_no_mask_token_survives_a_full_run(name, mask_id):
    # predictions that give the mask token real mass wherever it lies inside the vocabulary: the loop and the
    # scheduler adapter must still end with every position holding a vocabulary token other than the mask
    s = SAMPLERS[name]
    logits = torch.log(torch.as_tensor(np.random.default_rng(5).dirichlet(np.full(V, 0.7), size=D)))
    sched = None if s.adaptive else "cosine"
    res = sample(lambda tokens, masked: logits.expand(tokens.shape[0], -1, -1).clone(), seq_len=D, schedule=sched,
                 n_steps=None if sched is None else K, sampler=s, batch_size=256, mask_id=mask_id,
                 generator=torch.Generator().manual_seed(6))
    assert not bool((res.tokens == mask_id).any()) and bool((res.tokens < V).all())
    if sched is not None:
        sch = MdtheoryScheduler(s, mask_token_id=mask_id, schedule="cosine")
        sch.set_timesteps(K)
        x, gen = torch.full((256, D), mask_id, dtype=torch.long), torch.Generator().manual_seed(7)
        for t in sch.timesteps:
            x = sch.step(logits.expand(256, -1, -1), t, x, generator=gen).prev_sample
        assert not bool((x == mask_id).any()) and bool((x < V).all())
