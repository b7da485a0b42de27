"""E_learn, the loss-curve identity (§5.1, §5.3) and the Monte-Carlo estimators (§5.2, §9).

Monte-Carlo tests: estimator = sample mean of per-draw values, CI = mean ± z·se with z at a
family-wise false-alarm rate of 1e-6 (Bonferroni over the N values of m); fixed seeds."""

import numpy as np
import pytest
from scipy.stats import norm

from mdtheory.profiles.closed_forms import markov_profile
from mdtheory.profiles.learning_error import TemperedConditionals, cross_entropy_curve, learning_error, path_kl_bruteforce
from mdtheory.profiles.schedule_costs import schedule_cost
from mdtheory.profiles.estimation import estimate_loss_curve, estimate_profile
from mdtheory.profiles.enumeration import efact, efact_bruteforce, information_profile
from mdtheory.multiround.targets import MarkovChain, dirichlet_joint

FALSE_ALARM = 1e-6


def _z(n):
    return norm.ppf(1 - FALSE_ALARM / (2 * n))


@pytest.mark.parametrize("schedule", [[1, 1, 1, 1, 1], [2, 3], [5], [1, 3, 1], [4, 1]])
def test_loss_curve_identity_and_path_kl(schedule):
    t = dirichlet_joint(5, 2, concentration=0.6, seed=3)
    model = TemperedConditionals(t, beta=0.7, mix=0.1)
    curves = cross_entropy_curve(t, model)
    pr = information_profile(t)
    np.testing.assert_allclose(curves.g, pr.g, atol=1e-12)
    assert np.all(curves.kl >= -1e-15)
    lhs = learning_error(curves, schedule) + efact(pr, schedule)
    assert abs(lhs - (schedule_cost(curves.ce, schedule) - pr.entropy)) < 1e-10
    assert abs(lhs - path_kl_bruteforce(t, model, schedule)) < 1e-10


def test_exact_model_has_no_learning_error():
    t = dirichlet_joint(4, 3, concentration=0.5, seed=4)
    curves = cross_entropy_curve(t, TemperedConditionals(t))
    assert np.abs(curves.kl).max() < 1e-12
    for s in ([2, 2], [1, 3], [4]):
        assert abs(path_kl_bruteforce(t, t, s) - efact_bruteforce(t, s)) < 1e-12


def test_profile_estimator_covers_closed_form():
    n, eps = 20, 0.15
    est = estimate_profile(MarkovChain(np.array([[1 - eps, eps], [eps, 1 - eps]]), n), 2000, seed=11)
    ref = markov_profile(n, eps)
    z = _z(n)
    assert np.all(np.abs(est.values - ref.g) <= z * est.stderr + 1e-12)
    assert abs(est.tc - ref.tc) <= norm.ppf(1 - FALSE_ALARM / 2) * est.tc_stderr
    assert abs(est.dtc - ref.dtc) <= norm.ppf(1 - FALSE_ALARM / 2) * est.dtc_stderr
    lo, hi = est.interval(0.95)
    assert np.all(lo <= est.values) and np.all(est.values <= hi)


def test_profile_estimator_detects_a_wrong_chain():
    # power: the estimator separates ε = 0.15 from ε = 0.25 at the same sample size
    n = 20
    est = estimate_profile(MarkovChain(np.array([[0.85, 0.15], [0.15, 0.85]]), n), 2000, seed=11)
    wrong = markov_profile(n, 0.25)
    assert np.any(np.abs(est.values - wrong.g) > _z(n) * est.stderr + 1e-12)


def test_loss_curve_estimator_covers_exact_cross_entropy():
    t = dirichlet_joint(5, 2, concentration=0.6, seed=5)
    model = TemperedConditionals(t, beta=0.6, mix=0.05)
    exact = cross_entropy_curve(t, model).ce
    est = estimate_loss_curve(model, t.sample(50_000, seed=6), n_per_m=4000, seed=7)
    assert np.all(np.abs(est.ce - exact) <= _z(5) * est.stderr)


def test_loss_curve_estimator_with_a_torch_prediction_function():
    torch = pytest.importorskip("torch")
    t = dirichlet_joint(4, 2, concentration=0.8, seed=8)

    def predict(tokens, masked):  # the sampling loop's interface, backed by the exact conditionals
        out = [t.conditionals(x.numpy(), ~m.numpy()) for x, m in zip(tokens, masked)]
        return torch.log(torch.as_tensor(np.array(out)))

    exact = cross_entropy_curve(t, t).ce
    from mdtheory.models.predictors import PredictorModel

    est = estimate_loss_curve(PredictorModel(predict, n=4), t.sample(20_000, seed=9), n_per_m=3000, seed=10)
    assert np.all(np.abs(est.ce - exact) <= _z(4) * est.stderr)


def test_bad_inputs():
    t = dirichlet_joint(3, 2, seed=0)
    with pytest.raises(ValueError, match="beta"):
        TemperedConditionals(t, beta=0.0)
    with pytest.raises(ValueError, match="mix"):
        TemperedConditionals(t, mix=1.5)
    with pytest.raises(ValueError, match="data"):
        estimate_loss_curve(t, np.zeros((0, 3), dtype=int))
    with pytest.raises(ValueError, match="n_samples"):
        estimate_profile(t, 1)
    with pytest.raises(ValueError, match="must sum to 3"):
        learning_error(cross_entropy_curve(t, t), [1, 1])


def test_path_kl_bruteforce_conditioning_is_keyword_only():
    # a positional fourth argument would silently be read as the conditioning schedule
    from mdtheory.multiround.targets import dirichlet_joint

    t = dirichlet_joint(3, 2, concentration=0.7, seed=1)
    with pytest.raises(TypeError):
        path_kl_bruteforce(t, t, [1, 2], [0, 1])
    assert path_kl_bruteforce(target=t, model=t, schedule=[1, 2]) == path_kl_bruteforce(t, t, [1, 2])


def test_a_mix_of_one_is_allowed_and_above_one_is_not():
    from mdtheory.targets import repeated_bit

    assert TemperedConditionals(repeated_bit(3), mix=1.0).mix == 1.0  # all uniform: the end of the range
    with pytest.raises(ValueError, match="0 <= mix <= 1"):
        TemperedConditionals(repeated_bit(3), mix=1.01)
