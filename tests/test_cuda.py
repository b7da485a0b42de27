"""The CUDA path: the same sampler code, on a GPU, draws the same laws as on the CPU (§9).

Every test here is marked ``gpu`` and skips without CUDA. Monte-Carlo tests use Pearson χ² at false-alarm
1e-6 against exact laws (the references never come from the code under test); equality tests compare the
CUDA result with the CPU one.
"""

import numpy as np
import pytest
import torch

from mdtheory import CTS, MaskGIT, Moment, maskgit_round_law, moment_round_law, output_law, sample
from mdtheory.models import target_predictor
from mdtheory.exact.finite_precision_noise import truncated_gumbel_max_law
from mdtheory.models import SHIPPED_CHECKPOINTS
from mdtheory.models.training import TRAIN_PRESETS, load_trained
from mdtheory.montecarlo.statistics import chisquare_test, empirical_round_counts
from mdtheory.multiround.targets import dirichlet_joint
from mdtheory.sampling.partial_caching import PartialCaching, cache_consistency_error, sample_partial_caching
from mdtheory.rules.positions import ConfidenceRule, UniformRule
from mdtheory.sampling.rounds import gumbel_noise_range, maskgit_round, moment_round

from .cases import PEAKED, ZEROS

pytestmark = pytest.mark.gpu
N_SAMPLES = 200_000
FALSE_ALARM = 1e-6


def _assert_fits(counts, law, case):
    r = chisquare_test(counts, law, false_alarm=FALSE_ALARM)
    assert r.off_support == 0, f"{case}: {r.off_support} draws outside the support"
    assert r.passed, f"{case}: chi2={r.statistic:.1f} > {r.critical_value:.1f} (dof={r.dof}, p={r.p_value:.2e})"


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.0])
def test_cuda_moment_round_matches_exact_law(alpha):
    counts = empirical_round_counts(moment_round, ZEROS, k=2, n_samples=N_SAMPLES, seed=11, alpha=alpha, device="cuda")
    _assert_fits(counts, moment_round_law(ZEROS, k=2, alpha=alpha), f"moment cuda alpha={alpha}")


@pytest.mark.parametrize("alpha", [0.05, 0.0, float("inf")])
def test_cuda_maskgit_small_alpha_and_limits_match_exact_law(alpha):
    """Small α (float64 noise on the GPU), and the α = 0 and α = ∞ limits, fit the exact law."""
    law = maskgit_round_law(PEAKED, k=2, alpha=alpha)
    counts = empirical_round_counts(maskgit_round, PEAKED, k=2, n_samples=N_SAMPLES, seed=12, alpha=alpha,
                                    device="cuda")
    _assert_fits(counts, law, f"maskgit cuda alpha={alpha}")


def test_cuda_gumbel_max_under_float32_noise_matches_truncated_law():
    """argmax(a + G) with G from the GPU's float32 uniforms follows the truncated-Gumbel law of §9: logits
    more than g_max − g_min ≈ 20.5 below the top are never drawn, the rest follow the exact law."""
    from scipy.stats import chi2

    a = -np.array([0.0, 1.0, 2.0, 4.0, 8.0, 12.0, 25.0])
    lo, hi = gumbel_noise_range("float32")
    law, _ = truncated_gumbel_max_law(a, lo, hi)
    assert law[-1] == 0.0  # unreachable under float32 noise
    g = torch.Generator(device="cuda").manual_seed(13)
    u = torch.rand(N_SAMPLES, a.size, generator=g, device="cuda", dtype=torch.float32)
    noise = -torch.log((-torch.log(u.clamp(1e-20))).clamp(1e-20))
    draws = torch.argmax(torch.as_tensor(a, device="cuda", dtype=torch.float32) + noise, dim=1).cpu().numpy()
    counts = np.bincount(draws, minlength=a.size)
    assert counts[law == 0].sum() == 0
    keep = N_SAMPLES * law >= 5
    pooled_obs = np.append(counts[keep], counts[~keep].sum())
    pooled_exp = np.append(N_SAMPLES * law[keep], N_SAMPLES * law[~keep].sum())
    stat = float(((pooled_obs - pooled_exp) ** 2 / np.maximum(pooled_exp, 1e-300))[pooled_exp > 0].sum())
    assert stat <= chi2.isf(FALSE_ALARM, int((pooled_exp > 0).sum()) - 1), f"chi2={stat:.1f}"


@pytest.mark.parametrize("sampler", [MaskGIT(1.0), Moment(0.5), CTS(ConfidenceRule(noise=0.5))],
                         ids=["maskgit", "moment", "confidence"])
def test_cuda_loop_follows_the_exact_output_law(sampler):
    """The whole loop on CUDA with a target's exact conditionals follows the exact output law."""
    t = dirichlet_joint(4, 2, concentration=0.7, seed=21)
    law = output_law(t, sampler, [1, 2, 1]).table.ravel()
    res = sample(target_predictor(t), seq_len=4, schedule=[1, 2, 1], sampler=sampler, batch_size=N_SAMPLES,
                 output="log_probs", generator=22, device="cuda")
    assert res.tokens.is_cuda
    x = res.tokens.cpu().numpy()
    counts = np.bincount(np.ravel_multi_index(tuple(x.T), (2,) * 4), minlength=16)
    expected = N_SAMPLES * law
    from scipy.stats import chi2

    stat = float(((counts - expected) ** 2 / expected).sum())
    assert stat <= chi2.isf(FALSE_ALARM, 15), f"chi2={stat:.1f}"


def test_cuda_partial_caching_r1_equals_the_loop_and_rows_pass_is_exact():
    model, _ = load_trained(SHIPPED_CHECKPOINTS / "text", device="cuda")
    ref = sample(model.predictor(), seq_len=64, schedule=[8] * 8, sampler=Moment(1.0), batch_size=32,
                 mask_id=model.config.mask_id, generator=3, device="cuda")
    got = sample_partial_caching(model, sampler=Moment(1.0), caching=PartialCaching(r=1), schedule=[8] * 8,
                                 batch_size=32, generator=3, device="cuda")
    assert torch.equal(ref.tokens, got.tokens)
    assert cache_consistency_error(model, ref.tokens, stride=3) <= 1e-4


def test_cuda_uniform_cts_reveals_every_position_once():
    model, _ = load_trained(SHIPPED_CHECKPOINTS / "digits", device="cuda")
    res = sample(model.predictor(), seq_len=64, schedule="cosine", n_steps=8, sampler=CTS(UniformRule()),
                 batch_size=256, mask_id=model.config.mask_id, generator=4, device="cuda")
    steps = res.reveal_step.cpu().numpy()
    counts = np.stack([(steps == t).sum(axis=1) for t in range(8)], axis=1)
    assert np.all(counts == np.asarray(res.schedule)[None]), "per-step counts must follow the schedule"
    assert int((res.tokens == model.config.mask_id).sum()) == 0


def test_cuda_training_steps_are_finite_and_learn():
    from dataclasses import replace
    import tempfile

    from mdtheory.models.training import train

    cfg = replace(TRAIN_PRESETS["markov"], steps=60)
    with tempfile.TemporaryDirectory() as d:
        summary = train(cfg, d, device="cuda", progress=False)
    assert np.isfinite(summary["held_out_loss"])
    assert summary["held_out_loss"] < np.log(3)  # better than the uniform predictor


def _cuda_model_serves_numpy_side_callers(device: str):
    from mdtheory.models.datasets import known_law_target
    from mdtheory.models.predictors import PredictorModel
    from mdtheory.montecarlo.model_kl import kl_bound_check
    from mdtheory.montecarlo.real_predictions import _shipped_denoiser
    from mdtheory.rules.schedules import as_schedule

    cpu, dev = _shipped_denoiser("markov", "cpu"), _shipped_denoiser("markov", device)
    target = known_law_target("markov")
    x = np.asarray(target.sample(64, seed=0))
    revealed = np.random.default_rng(1).random(x.shape) < 0.5

    def conditionals(m):
        return PredictorModel(m.predictor(), n=m.config.seq_len, mask_id=m.config.mask_id).conditionals_batch(
            x, revealed)

    np.testing.assert_allclose(conditionals(dev), conditionals(cpu), atol=1e-4)
    from mdtheory.montecarlo.sample_quality import pseudo_log_likelihood

    pll = [pseudo_log_likelihood(m.predictor(), x[:8], mask_id=m.config.mask_id, n_positions=4) for m in (dev, cpu)]
    np.testing.assert_allclose(pll[0], pll[1], atol=1e-4)
    sizes = as_schedule("cosine", seq_len=dev.config.seq_len, n_steps=4)
    r = kl_bound_check(target, dev.predictor(), mask_id=dev.config.mask_id, sizes=sizes, n_samples=200, n_orders=2,
                       n_per_m=50, seed=0)
    assert np.isfinite(r["bound"]) and np.isfinite(r["path_kl"])


def test_cuda_model_serves_numpy_side_callers():
    """The loss-curve estimator and the KL check hand CPU tensors to a model on the GPU: the model takes them
    where it runs, and its conditionals agree with the CPU model's."""
    _cuda_model_serves_numpy_side_callers("cuda")
