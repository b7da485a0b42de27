"""Finite-precision Gumbel noise: the truncated-Gumbel law against softmax, an
independent inverse-CDF Monte Carlo and torch's float32 Gumbel-max.

Monte Carlo: Pearson χ² at false-alarm 1e-6 (cells with expected count < 5 pooled); fixed seeds."""

import math

import numpy as np
import pytest
from scipy.special import softmax

from mdtheory.exact.finite_precision_noise import (effective_temperature, noise_temperature_table,
                                             truncated_gumbel_max_law, zipf_logits)
from mdtheory.sampling.rounds import gumbel_noise_range
from mdtheory.montecarlo.statistics import chisquare_test


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
        truncated_gumbel_max_law(np.zeros(1000), -3.0, 16.0, method="pairwise")
    with pytest.raises(ValueError, match="method"):
        truncated_gumbel_max_law(np.zeros(3), -3.0, 16.0, method="fast")
    with pytest.raises(ValueError, match="panel"):
        truncated_gumbel_max_law(np.zeros(100), -3.0, 16.0, method="common", panel=0.0)
    with pytest.raises(ValueError, match="inf"):
        truncated_gumbel_max_law([0.0, np.inf], -3.0, 16.0)
    with pytest.raises(ValueError, match="vocab_size"):
        zipf_logits(0)
    with pytest.raises(ValueError, match="temperatures"):
        noise_temperature_table(vocab_sizes=(10,), temperatures=(-1.0,))
    with pytest.raises(ValueError, match="NaN"):
        truncated_gumbel_max_law([0.0, np.nan], -3.0, 16.0)


# ---- the large-vocabulary (common-node) route ----

@pytest.mark.parametrize("seed", range(4))
def test_common_route_matches_the_pairwise_quadrature(seed):
    rng = np.random.default_rng(seed)
    lo, hi = gumbel_noise_range("float32")
    for scale in (0.5, 4.0, 15.0):
        a = rng.normal(0.0, scale, size=int(rng.integers(2, 30)))
        a[0] = a.max()  # a tie at the top
        for g in ((lo, hi), (-6.5, 36.7)):  # float32 and float64 ranges: the kinks at g_max are tiny
            ref, _ = truncated_gumbel_max_law(a, *g, method="pairwise")
            got, err = truncated_gumbel_max_law(a, *g, method="common")
            assert np.abs(ref - got).max() < 1e-12 and err < 1e-10
        # a narrow range has strong kinks at a_t + g_max, which the common panels do not resolve:
        # the error is larger, and the reported estimate must cover it
        ref, _ = truncated_gumbel_max_law(a, -1.0, 0.5, method="pairwise")
        got, err = truncated_gumbel_max_law(a, -1.0, 0.5, method="common")
        assert np.abs(ref - got).sum() <= max(err, 1e-13)


def test_common_route_at_gpt2_vocabulary_size():
    V = 50_257
    a = zipf_logits(V, 1.1)
    law64, err = truncated_gumbel_max_law(a, *gumbel_noise_range("float64"))
    assert np.abs(law64 - softmax(a)).max() < 1e-10 and err < 1e-12
    flat, _ = truncated_gumbel_max_law(np.zeros(V), *gumbel_noise_range("float32"))
    assert np.abs(flat - 1.0 / V).max() < 1e-15  # symmetry: exact uniform
    lo, hi = gumbel_noise_range("float32")
    cold = a / 0.5
    law32, err = truncated_gumbel_max_law(cold, lo, hi)
    assert abs(law32.sum() - 1.0) < 1e-12 and err < 1e-10
    dead = cold[0] - cold >= hi - lo  # needs more noise than float32 can draw
    assert dead.sum() > 0 and (law32[dead] == 0).all() and (law32[~dead] > 0).all()
    assert np.isfinite(law32).all()


def test_torch_float32_gumbel_max_at_large_vocabulary():
    """Estimator: counts of argmax(a + G_float32) over 60,000 seeded draws, pooled into 12 rank bands
    (so the χ² sees the tail, where truncation acts); Pearson χ² at false-alarm 1e-6 against the
    exact truncated law. Power: the same counts must reject the law at a 3% colder temperature (the
    test can fail). At this size the truncation itself (TV to softmax ~1e-4) is below Monte-Carlo
    resolution, which is why the exact law is needed. Tokens out of reach are never drawn."""
    torch = pytest.importorskip("torch")
    V, n = 4096, 60_000
    a = zipf_logits(V, 1.1) / 0.3
    lo, hi = gumbel_noise_range("float32")
    law, _ = truncated_gumbel_max_law(a, lo, hi)
    gen = torch.Generator().manual_seed(5)
    at = torch.as_tensor(a, dtype=torch.float32)
    draws = []
    for _ in range(n // 5000):
        u = torch.rand(5000, V, generator=gen, dtype=torch.float32)
        draws.append(torch.argmax(at - torch.log((-torch.log(u.clamp(1e-20))).clamp(1e-20)), dim=1).numpy())
    x = np.concatenate(draws)
    assert law[x].min() > 0  # never a token with exact probability 0
    edges = np.unique(np.geomspace(1, V + 1, 13).astype(int)) - 1
    band = np.searchsorted(edges, np.arange(V), side="right") - 1
    counts = np.bincount(band[x], minlength=band.max() + 1)
    pool = lambda p: np.bincount(band, weights=p, minlength=band.max() + 1)  # noqa: E731
    assert chisquare_test(counts, pool(law), false_alarm=1e-6).passed
    colder, _ = truncated_gumbel_max_law(a / 0.97, lo, hi)
    assert not chisquare_test(counts, pool(colder), false_alarm=1e-6).passed


def test_noise_temperature_table():
    rows = noise_temperature_table(vocab_sizes=(1000, 50_257), temperatures=(0.5, 1.0))
    for r in rows:
        if r.dtype == "float64":
            assert abs(r.effective_temperature - r.temperature) < 1e-6 and r.dead_tokens == 0 and r.tv < 1e-10
        else:
            assert r.effective_temperature < r.temperature and r.entropy_change < 0
    cold = [r for r in rows if r.dtype == "float32" and r.vocab_size == 50_257 and r.temperature == 0.5][0]
    assert cold.dead_tokens > 0 and cold.dead_mass > 0


def test_noise_range_reads_the_dtype_name_by_value():
    # a name built at run time (from a config, a CLI flag, numpy) is not the interned literal
    built = "".join(["float", "32"])
    assert gumbel_noise_range(built) == gumbel_noise_range("float32")
    assert gumbel_noise_range(str(np.dtype(np.float32))) == gumbel_noise_range("float32")


def test_the_vocabulary_refusal_states_its_time_and_memory_estimates():
    from mdtheory.exact.finite_precision_noise import noise_temperature_table

    with pytest.raises(ValueError) as info:
        noise_temperature_table(vocab_sizes=(10_000_000,), max_vocab=1_000_000)
    # 2.2e-6 s × 4 per token and 400 bytes per token: 88 s and 4 GB for 10⁷ tokens
    assert "needs about 88 s and 4 GB per row" in str(info.value), str(info.value)


def test_a_large_vocabulary_under_a_coarse_clamp_keeps_the_whole_law():
    """V = 5000 with a clamp of 0.05 (noise in [−1.10, 3.00]): every token's band correction counts, so the law
    sums to 1 within its own error estimate (a correction dropped for some tokens loses about 2 % of the mass)."""
    from mdtheory.exact.finite_precision_noise import gumbel_noise_range, truncated_gumbel_max_law

    g_min, g_max = gumbel_noise_range("float32", clamp=0.05)
    logits = np.random.default_rng(0).normal(0.0, 0.5, 5000)
    law, err = truncated_gumbel_max_law(logits, g_min, g_max, method="common")
    assert err < 1e-4 and abs(law.sum() - 1.0) <= err and law.min() >= 0.0
    order = np.argsort(logits)
    assert np.all(np.diff(law[order]) >= -err)  # a larger logit never wins less often


def test_a_bracket_that_overflows_at_one_end_is_refused_with_its_reason():
    """Gaps of 1e-300: the doubling of log θ reaches θ = e^1024 = inf (NaN there) while the other end is finite;
    that is refused in one line, never handed to the root finder."""
    from mdtheory.exact.finite_precision_noise import effective_temperature

    with pytest.raises(ValueError, match="the fitted temperature lies outside float64's range"):
        effective_temperature([0.0, -1e-300], [1 - 1e-10, 1e-10])
