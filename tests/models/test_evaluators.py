"""Evaluators: each must score held-out real data better than shuffled or noised data.
Sample sizes are the full held-out splits (180 digits, 726 text windows, 2,000 known-law draws); the
separations asserted are many times the sampling spread (stated per test)."""

import numpy as np
import pytest

from mdtheory.models.datasets import load_dataset
from mdtheory.models.evaluators import (exact_log_prob, frechet_distance, generative_perplexity, inception_score,
                                 load_evaluator, digits_features, reconstruction_accuracy, unigram_entropy)


def _noised(x, V, frac, seed):
    rng = np.random.default_rng(seed)
    y = x.copy()
    hit = rng.random(x.shape) < frac
    y[hit] = rng.integers(0, V, hit.sum())
    return y


def test_digits_fid_and_is_separate_real_from_corrupted():
    clf = load_evaluator("digits_classifier")
    d = load_dataset("digits")
    train_f = digits_features(clf, d.train)
    real = frechet_distance(digits_features(clf, d.held_out), train_f)
    noisy = frechet_distance(digits_features(clf, _noised(d.held_out, 17, 0.3, 0)), train_f)
    shuffled = frechet_distance(digits_features(clf, np.random.default_rng(1).permuted(d.held_out, axis=1)), train_f)
    assert real < 0.5 * noisy and real < 0.5 * shuffled, (real, noisy, shuffled)
    is_real = inception_score(clf, d.held_out)
    assert is_real > 8.0  # near the maximum of 10 for a balanced, well-classified set
    assert is_real > inception_score(clf, _noised(d.held_out, 17, 0.3, 0)) + 1.0
    with pytest.raises(ValueError, match="grey levels"):
        digits_features(clf, np.full((2, 64), 20))
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(np.zeros((3, 2)), np.zeros((3, 4)))


def test_classifier_accuracy_on_held_out_digits():
    from sklearn.datasets import load_digits
    import torch

    clf = load_evaluator("digits_classifier")
    d = load_digits()
    x = torch.as_tensor(d.images.reshape(-1, 64)[1617:].astype(np.int64))
    acc = float((clf(x).argmax(-1).numpy() == d.target[1617:]).mean())
    assert acc > 0.9, acc


def test_text_gen_ppl_and_entropy_separate_real_from_corrupted():
    lm = load_evaluator("text_char_lm")
    d = load_dataset("text")
    real = generative_perplexity(lm, d.held_out)
    shuffled = generative_perplexity(lm, np.random.default_rng(0).permuted(d.held_out, axis=1))
    noisy = generative_perplexity(lm, _noised(d.held_out, 96, 0.2, 1))
    assert real < 0.5 * shuffled and real < 0.7 * noisy, (real, shuffled, noisy)
    assert real < 8.0  # a character model well below the 96-way uniform
    repeated = np.tile(d.held_out[:, :1], (1, 64))
    assert unigram_entropy(repeated) == 0.0 and unigram_entropy(d.held_out) > 2.0


@pytest.mark.parametrize("name", ["markov", "ising"])
def test_exact_log_prob_separates_real_from_noised(name):
    d = load_dataset(name, n_samples=2000)
    real = exact_log_prob(d.target, d.held_out)
    noised = exact_log_prob(d.target, _noised(d.held_out, d.vocab_size, 0.5, 2))
    se = np.sqrt(real.var() / len(real) + noised.var() / len(noised))
    assert real.mean() - noised.mean() > 5 * se  # a 5-standard-error separation of the two means


def test_reconstruction_accuracy_on_a_known_law():
    # the exact conditionals of the Markov chain as the predictor: accuracy far above chance
    import torch

    from mdtheory.models.predictors import target_predictor

    d = load_dataset("markov", n_samples=200)
    pred = target_predictor(d.target)
    r = reconstruction_accuracy(lambda t, m: pred(t.clamp(max=2), m), d.held_out[:20], mask_id=3, seed=0)
    assert r["chance"] == pytest.approx(1 / 3) and r["interval"][0] > 0.5
    with pytest.raises(ValueError, match="mask_fraction"):
        reconstruction_accuracy(pred, d.held_out[:2], mask_id=3, mask_fraction=0.0)
    del torch


def test_frechet_distance_closed_form():
    # b = 2a + 1 on the same sample: Σ_b = 4Σ_a, so FD = |μ_a − μ_b|² + tr(Σ_a + 4Σ_a − 2·2Σ_a) = |μ_a − μ_b|² + tr Σ_a
    a = np.random.default_rng(0).normal(size=(400, 5)) @ np.diag([1.0, 2.0, 0.5, 1.0, 0.0])  # one singular axis
    b = 2 * a + 1
    mu = a.mean(0) - b.mean(0)
    ref = mu @ mu + np.trace(np.cov(a, rowvar=False))
    assert abs(frechet_distance(a, b) - ref) < 1e-9 * ref


def test_frechet_distance_stderr_matches_the_delta_method():
    """1-D features: FID = (μ_a − μ_b)² + (σ_a − σ_b)². With a ~ N(1, 1) (n = 2,000) against a fixed N(0, 1)
    reference the mean term dominates, and the delta method gives se ≈ 2|Δμ|·σ_a/√n = 2/√2000 = 0.0447;
    200 bootstrap replicates estimate an se to about ±5% (sd of a sample sd ≈ 1/√(2·200)), so ±20% is ≥ 4σ."""
    from mdtheory.models.evaluators import frechet_distance_stderr

    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, (2000, 1)), rng.normal(0.0, 1.0, (50_000, 1))
    se = frechet_distance_stderr(a, b, n_boot=200, seed=2)
    assert abs(se / (2 / np.sqrt(2000)) - 1) < 0.2, se
    with pytest.raises(ValueError, match="n_boot"):
        frechet_distance_stderr(a, b, n_boot=1)


def test_generative_perplexity_stderr_by_hand():
    """Per-sequence NLL 1, 2, 3, 4: gen-PPL = e^2.5, se = e^2.5 · sd(1, 2, 3, 4)/√4 = e^2.5 · 0.6455 (hand)."""
    import torch

    class FakeLM:
        def nll(self, x):
            return torch.tensor([1.0, 2.0, 3.0, 4.0])

    ppl, se = generative_perplexity(FakeLM(), np.zeros((4, 3), dtype=int), return_stderr=True)
    assert ppl == pytest.approx(np.exp(2.5), rel=1e-12)
    assert se == pytest.approx(np.exp(2.5) * np.sqrt(5 / 3) / 2, rel=1e-12)
    assert generative_perplexity(FakeLM(), np.zeros((4, 3), dtype=int)) == pytest.approx(np.exp(2.5), rel=1e-12)
