"""The full sampling loop: contract, schedules, final-step convention."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from mdtheory.rules.orders import halton_order
from mdtheory.sampling.loop import CTS, MaskGIT, Moment, UMoment, annealed_alpha, make_sampler, sample
from mdtheory.sampling.rounds import ConfidenceRule, EntropyRule, FixedOrderRule, HybridRule, UniformRule

D, V = 8, 3
P_ROW = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)


def product_predict(tokens, masked):
    """Every position predicts the same p, whatever is revealed (a product target)."""
    return torch.log(P_ROW).expand(tokens.shape[0], tokens.shape[1], -1)


SAMPLERS = [
    MaskGIT(alpha=1.0), MaskGIT(alpha=2.0, anneal=True), Moment(alpha=0.5), Moment(alpha=1.0, anneal=True),
    UMoment(alpha=1.0), CTS(UniformRule()), CTS(ConfidenceRule()), CTS(EntropyRule(noise=1.0)),
    CTS(FixedOrderRule(tuple(halton_order(2, 4)))), CTS(HybridRule(ConfidenceRule(), UniformRule(), gamma=0.5)),
]


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("schedule", ["cosine", "arccos", "linear", "constant", [1, 3, 4]])
def test_loop_contract(sampler, schedule):
    g = torch.Generator().manual_seed(0)
    res = sample(product_predict, seq_len=D, schedule=schedule, n_steps=4, sampler=sampler, batch_size=5,
                 output="log_probs", generator=g)
    steps = res.reveal_step.numpy()
    assert (steps >= 0).all()  # fully revealed, each position once
    counts = np.array([(steps == t).sum(axis=1) for t in range(len(res.schedule))]).T
    assert (counts == res.schedule[None, :]).all()  # per-step counts follow the schedule
    again = sample(product_predict, seq_len=D, schedule=schedule, n_steps=4, sampler=sampler, batch_size=5,
                   output="log_probs", generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(res.tokens, again.tokens)  # deterministic under a seed
    assert res.tokens.min() >= 0 and res.tokens.max() < V


def test_prompt_positions_are_kept():
    init = torch.tensor([[2, 0, 0, 1, 0, 0, 0, 0]])
    m = torch.tensor([[False, True, True, False, True, True, True, True]])
    res = sample(product_predict, seq_len=D, schedule="constant", n_steps=3, sampler=Moment(1.0), output="log_probs",
                 init_tokens=init, init_masked=m, generator=torch.Generator().manual_seed(0))
    assert res.tokens[0, 0] == 2 and res.tokens[0, 3] == 1
    assert res.reveal_step[0, 0] == -1 and int(res.schedule.sum()) == 6


@pytest.mark.parametrize("sampler,tempered", [(Moment(alpha=1.0), False), (MaskGIT(alpha=1.0), False),
                                              (UMoment(alpha=1.0), False)])
def test_final_step_is_untempered(sampler, tempered):
    # one step revealing everything: tokens ~ p exactly (§2.2 final-step convention).
    # Estimator: token histogram of 20 000 × 8 draws; χ² against p at false-alarm 1e-6.
    res = sample(product_predict, seq_len=D, schedule=[D], sampler=sampler, batch_size=20_000, output="log_probs",
                 generator=torch.Generator().manual_seed(1))
    obs = np.bincount(res.tokens.numpy().ravel(), minlength=V)
    stat, p = chisquare(obs, P_ROW.numpy() * obs.sum())
    assert p > 1e-6, f"chi2={stat:.1f} p={p:.2e}"


def test_non_final_steps_are_tempered():
    # power check for the test above: with 2 steps, the first step's tokens follow p^β/m, not p
    res = sample(product_predict, seq_len=D, schedule=[4, 4], sampler=Moment(alpha=1.0), batch_size=20_000,
                 output="log_probs", generator=torch.Generator().manual_seed(2))
    first = res.tokens[res.reveal_step == 0].numpy()
    obs = np.bincount(first, minlength=V)
    q = P_ROW.numpy() ** 2 / (P_ROW.numpy() ** 2).sum()
    assert chisquare(obs, q * obs.sum()).pvalue > 1e-6
    assert chisquare(obs, P_ROW.numpy() * obs.sum()).pvalue < 1e-6


def test_annealed_alpha():
    assert annealed_alpha(2.0, 0, 4) == 2.0 and annealed_alpha(2.0, 3, 4) == 0.5


def test_make_sampler_and_errors():
    assert isinstance(make_sampler("hybrid", alpha=1.0, share=0.3, order=list(range(D))), CTS)
    with pytest.raises(ValueError, match="unknown parameter"):
        make_sampler("hybrid", alpha=1.0, gamma=0.3)  # the hybrid's share is `share`; `gamma` is EB's budget
    with pytest.raises(ValueError, match="allowed values"):
        make_sampler("nope")
    with pytest.raises(ValueError, match="needs order"):
        make_sampler("halton")
    with pytest.raises(TypeError, match="Sampler"):
        sample(product_predict, seq_len=D, schedule="cosine", n_steps=2, sampler="maskgit")
    with pytest.raises(ValueError, match="must sum to 8"):
        sample(product_predict, seq_len=D, schedule=[1, 2], sampler=MaskGIT())
    with pytest.raises(ValueError, match="predict must return"):
        sample(lambda t, m: torch.zeros(1, 3, 2), seq_len=D, schedule=[D], sampler=MaskGIT())
    with pytest.raises(ValueError, match="alpha >= 0"):
        MaskGIT(alpha=-1.0)


def test_logits_output_kind():
    logits = lambda t, m: 5.0 * torch.log(P_ROW).expand(t.shape[0], t.shape[1], -1)  # noqa: E731
    res = sample(logits, seq_len=D, schedule="cosine", n_steps=3, sampler=MaskGIT(math.inf), batch_size=3,
                 generator=torch.Generator().manual_seed(0))
    assert (res.reveal_step >= 0).all()


@pytest.mark.parametrize("bad, error, message", [
    (lambda t, m: torch.zeros(t.shape[0], D, 3, dtype=torch.long), TypeError, "real floating tensor of logits; got dtype torch.int64"),
    (lambda t, m: torch.zeros(t.shape[0], D, 3, dtype=torch.complex64), TypeError, "real floating tensor"),
    (lambda t, m: torch.zeros(t.shape[0], D, 3, dtype=torch.bool), TypeError, "dtype torch.bool"),
    (lambda t, m: np.zeros((t.shape[0], D, 3)), TypeError, "must return a torch.Tensor .* got ndarray"),
    (lambda t, m: torch.zeros(t.shape[0], D, 3, device="meta"), ValueError, "on meta, but sample runs on device=cpu"),
])
def test_predictions_are_checked_before_torch_uses_them(bad, error, message):
    with pytest.raises(error, match=message):
        sample(bad, seq_len=D, schedule="constant", n_steps=2, sampler=MaskGIT(1.0), generator=0)


def test_masks_tokens_and_noise_dtypes_are_checked_before_use():
    init = torch.tensor([[2, 0, 0, 1, 0, 0, 0, 0]])
    m = torch.tensor([[False, True, True, False, True, True, True, True]])
    ok = dict(seq_len=D, schedule="constant", n_steps=3, sampler=Moment(1.0), output="log_probs", generator=0)
    with pytest.raises(TypeError, match="init_masked must be a bool tensor; got dtype torch.int64"):
        sample(product_predict, init_tokens=init, init_masked=m.long(), **ok)  # 0/1 ints: never guessed
    with pytest.raises(TypeError, match="init_masked must be a bool tensor; got dtype torch.float32"):
        sample(product_predict, init_tokens=init, init_masked=m.float() * 0.5, **ok)
    with pytest.raises(TypeError, match="init_tokens must be an integer tensor; got dtype torch.float32"):
        sample(product_predict, init_tokens=init.float(), init_masked=m, **ok)
    with pytest.raises(TypeError, match="init_masked must be a bool tensor; got list"):
        sample(product_predict, init_tokens=init, init_masked=m.tolist(), **ok)
    for bad in (torch.int64, "float64", np.float64, None):
        with pytest.raises(TypeError, match="noise_dtype must be a floating torch dtype"):
            sample(product_predict, noise_dtype=bad, **ok)
    assert sample(product_predict, init_tokens=init, init_masked=m, **ok).tokens[0, 0] == 2  # the valid call runs
