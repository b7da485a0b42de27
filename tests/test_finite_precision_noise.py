"""Finite-precision Gumbel noise (issue #7 groundwork): the truncated-Gumbel law against softmax, an
independent inverse-CDF Monte Carlo and torch's float32 Gumbel-max.

Monte Carlo: Pearson χ² at false-alarm 1e-6 (cells with expected count < 5 pooled); fixed seeds."""

import math

import numpy as np
import pytest
from scipy.special import softmax

from mdtheory.finite_precision_noise import effective_temperature, gumbel_noise_range, truncated_gumbel_max_law
from mdtheory.montecarlo import chisquare_test


def test_noise_ranges():
    lo32, hi32 = gumbel_noise_range("float32")
    lo64, hi64 = gumbel_noise_range("float64")
    # independent float64 evaluation of the extreme draws
    assert abs(hi32 - (-math.log(-math.log1p(-2.0 ** -24)))) < 1e-5
    assert abs(hi64 - (-math.log(-math.log1p(-2.0 ** -53)))) < 1e-9
    assert abs(lo32 - (-math.log(-math.log(1e-20)))) < 1e-5 and hi32 < hi64
    with pytest.raises(ValueError, match="dtype"):
        gumbel_noise_range("float16")


def test_wide_range_recovers_softmax():
    a = np.log(np.random.default_rng(0).dirichlet(np.full(8, 0.3)))
    law, err = truncated_gumbel_max_law(a, -40.0, 60.0)
    assert np.abs(law - softmax(a)).max() < 1e-13 and err < 1e-13


def test_truncated_law_against_inverse_cdf_monte_carlo():
    a = np.array([0.0, -0.5, -1.5, -2.5, -4.0])
    lo, hi = -1.0, 2.0
    law, err = truncated_gumbel_max_law(a, lo, hi)
    assert abs(law.sum() - 1) < 1e-13 and err < 1e-12 and law[-1] == 0.0  # gap 4 > g_max − g_min = 3
    rng = np.random.default_rng(1)
    F = lambda y: np.exp(-np.exp(-y))  # noqa: E731
    u = rng.random((200_000, a.size))
    g = -np.log(-np.log(F(lo) + u * (F(hi) - F(lo))))  # inverse CDF of the truncated Gumbel
    counts = np.bincount(np.argmax(a + g, axis=1), minlength=a.size)
    assert chisquare_test(counts, law, false_alarm=1e-6).passed


def test_torch_float32_gumbel_max_follows_the_truncated_law():
    torch = pytest.importorskip("torch")
    a = np.log(np.array([0.6, 0.25, 0.1, 0.04, 0.01]))
    lo, hi = gumbel_noise_range("float32")
    law, _ = truncated_gumbel_max_law(a, lo, hi)
    gen = torch.Generator().manual_seed(2)
    u = torch.rand(400_000, a.size, generator=gen, dtype=torch.float32)
    g = -torch.log((-torch.log(u.clamp(1e-20))).clamp(1e-20))
    x = torch.argmax(torch.as_tensor(a, dtype=torch.float32) + g, dim=1).numpy()
    assert chisquare_test(np.bincount(x, minlength=a.size), law, false_alarm=1e-6).passed


def test_float32_noise_cannot_reach_rare_tokens_and_lowers_temperature():
    lo, hi = gumbel_noise_range("float32")
    p = 1.0 / np.arange(1, 33) ** 1.1
    p /= p.sum()
    a = np.log(p)
    a[-1] = a[0] - (hi - lo) - 1.0  # needs more noise than float32 can draw
    law, _ = truncated_gumbel_max_law(a, lo, hi)
    assert law[-1] == 0.0 and softmax(a)[-1] > 0
    assert effective_temperature(a, law) < 1.0
    wide, _ = truncated_gumbel_max_law(a, -40.0, 60.0)
    assert abs(effective_temperature(a, wide) - 1.0) < 1e-6


def test_bad_inputs():
    with pytest.raises(ValueError, match="g_min < g_max"):
        truncated_gumbel_max_law([0.0, 1.0], 2.0, 1.0)
    with pytest.raises(ValueError, match="V <="):
        truncated_gumbel_max_law(np.zeros(1000), -3.0, 16.0)
    with pytest.raises(ValueError, match="NaN"):
        truncated_gumbel_max_law([0.0, np.nan], -3.0, 16.0)
