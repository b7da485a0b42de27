"""[LZ]/[CCL] checks: profiles, exact factorization error, bounds and optimal schedules
(§5, §6, §7).

Each check returns (value, bound, details) and passes when value ≤ bound. References come from
enumeration, brute force over orders or compositions, or independent closed forms — never from the
route under test.
"""

from __future__ import annotations

import numpy as np

from ...profiles.bounds import ccl_expected_kl, geometric_decreasing_bound, geometric_increasing_bound, kmax_bound
from ...profiles.closed_forms import (beta_bernoulli_profile, hidden_subset_parity_profile, markov_profile,
                                    noisy_repeated_bit_profile,
                                    parity_profile, repeated_bit_profile)
from ...profiles.gaussian import gaussian_factorized_kl, gaussian_factorized_kl_chain_rule, gaussian_profile
from ...profiles.learning_error import TemperedConditionals, cross_entropy_curve, learning_error, path_kl_bruteforce
from ...profiles.schedule_shapes import constant_schedule, geometric_rho, geometric_schedule
from ...profiles.continuum import continuum_limits, markov_scaling_function
from ...profiles.optimal_schedules import optimal_schedule, optimal_schedule_exhaustive
from ...profiles.schedule_costs import schedule_cost
from ...profiles.estimation import estimate_profile
from ...profiles.enumeration import efact, efact_bruteforce, information_profile, subset_entropies
from ..registry import register
from ...targets import (MarkovChain, beta_bernoulli, binary_markov_chain, dirichlet_joint, global_parity,
                       hidden_subset_parity, noisy_repeated_bit, repeated_bit)


def _random_schedule(rng: np.random.Generator, n: int) -> np.ndarray:
    cuts = np.sort(rng.choice(np.arange(1, n), size=int(rng.integers(0, n)), replace=False))
    return np.diff(np.concatenate([[0], cuts, [n]]))


@register("profiles.identities", "§5.2, §7",
          "f ≥ 0, Σf = ΣI/N ≤ log q, Σ(N−i)f = TC, Σ i f = DTC, TC + DTC = ΣI, f(i) = Z_{i+1} − Z_i, ΣZ = TC, "
          "Σ(Z_N − Z_j) = DTC hold to 1e-10 on random Dirichlet joints.", expression="1e-10")
def _check_identities(*, n_cases: int = 6, seed: int = 0, tol: float = 1e-10, perturb: float = 0.0):
    """``perturb`` shifts the profile's H_1 (a wrong entropy profile), which breaks the identities."""
    from ...profiles.enumeration import profile_from_entropy

    worst = 0.0
    for c in range(n_cases):
        n, q = (4, 3) if c % 2 else (6, 2)
        t = dirichlet_joint(n, q, concentration=0.5, seed=[seed, c])
        pr = information_profile(t)
        if perturb:
            H = pr.H.copy()
            H[1] += perturb
            pr = profile_from_entropy(H, vocab_size=q)
        i = np.arange(1, n)
        # TC, DTC and Σ_j I(x_j; x_−j) from their definitions, by subset entropies
        ents = subset_entropies(t)
        full = frozenset(range(n))
        singles = sum(ents[frozenset([j])] for j in range(n))
        rest = sum(ents[full - {j}] for j in range(n))
        tc_def = singles - ents[full]
        dtc_def = rest - (n - 1) * ents[full]
        mi_def = singles + rest - n * ents[full]
        devs = [max(0.0, -pr.f.min()), abs(pr.f.sum() - mi_def / n), max(0.0, pr.f.sum() - np.log(q)),
                abs(((n - i) * pr.f).sum() - tc_def), abs((i * pr.f).sum() - dtc_def), abs(tc_def + dtc_def - mi_def),
                abs(pr.sum_mutual_info - mi_def), float(np.abs(pr.f - np.diff(pr.Z)).max()),
                abs(pr.Z.sum() - tc_def), abs((pr.Z[-1] - pr.Z).sum() - dtc_def), abs(pr.tc - tc_def),
                abs(pr.dtc - dtc_def)]
        worst = max(worst, *devs)
    return worst, tol, {"n_cases": n_cases}


@register("profiles.efact_bruteforce", "§5.3, §7",
          "E_fact = Σ_t Σ_i (s_t − i) f(i) and [CCL]'s Σ Z_j − Σ k_t Z_{s_{t−1}+1} equal the path error averaged "
          "over all N! orders (N ≤ 6, random joints and schedules) to 1e-10.", expression="1e-10")
def _check_efact_bruteforce(*, n_cases: int = 6, seed: int = 2, tol: float = 1e-10, perturb: float = 0.0):
    rng = np.random.default_rng(seed)
    worst = 0.0
    for c in range(n_cases):
        n, q = (5, 2) if c % 2 else (4, 3)
        t = dirichlet_joint(n, q, concentration=0.5, seed=[seed, c])
        pr = information_profile(t)
        sizes = _random_schedule(rng, n)
        ref = efact_bruteforce(t, sizes) + perturb
        worst = max(worst, abs(efact(pr, sizes) - ref), abs(ccl_expected_kl(pr, sizes) - ref))
    return worst, tol, {"n_cases": n_cases}


@register("profiles.closed_forms", "§6",
          "Closed-form profiles (binary/ternary Markov, Beta–Bernoulli, noisy repeated bit, repeated bit, parity, "
          "hidden-subset parity) equal enumeration at N = 7 to 1e-10.", expression="1e-10")
def _check_closed_forms(*, n: int = 7, tol: float = 1e-10, eps: float = 0.15, eps_shift: float = 0.0):
    """``eps_shift`` enumerates the binary chain at a different ε (a wrong law), which the check must catch."""
    from ...targets import markov_chain

    P3 = (1 - eps) * np.eye(3) + eps / 2 * (np.ones((3, 3)) - np.eye(3))
    pairs = [(markov_profile(n, eps), binary_markov_chain(n, eps + eps_shift)),
             (markov_profile(5, eps, vocab_size=3), markov_chain(5, P3, initial=np.ones(3) / 3)),
             (beta_bernoulli_profile(n, 0.7, 1.6), beta_bernoulli(n, 0.7, 1.6)),
             (noisy_repeated_bit_profile(n, 0.2), noisy_repeated_bit(n, 0.2)),
             (repeated_bit_profile(n), repeated_bit(n)), (parity_profile(n), global_parity(n)),
             (hidden_subset_parity_profile(n, 3), hidden_subset_parity(n, [1, 3, 6]))]
    worst = 0.0
    for closed, target in pairs:
        ref = information_profile(target)
        worst = max(worst, float(np.abs(closed.H - ref.H).max()), float(np.abs(closed.f - ref.f).max()))
    return worst, tol, {"families": len(pairs)}


@register("profiles.kmax_bound", "§5.4",
          "Dimension-free bound E_fact ≤ (k_max − 1)·Σ_i f(i) on random joints and schedules, tight for the "
          "repeated bit (value = max of E_fact − bound, must be ≤ 0).", expression="(k_max - 1)*Sum(f(i), (i, 1, N - 1))")
def _check_kmax(*, n_cases: int = 8, seed: int = 1, bound_factor: float = 1.0):
    rng = np.random.default_rng(seed)
    worst = -np.inf
    for c in range(n_cases):
        n = 6
        pr = information_profile(dirichlet_joint(n, 2, concentration=0.3, seed=[seed, c]))
        sizes = _random_schedule(rng, n)
        worst = max(worst, efact(pr, sizes) - bound_factor * kmax_bound(pr, sizes))
    pr = repeated_bit_profile(8)  # tightness: the largest block first
    gap = kmax_bound(pr, [4, 2, 2]) - efact(pr, [4, 2, 2])
    return max(worst, -1.0 if gap < 1e-12 else gap), 0.0, {"n_cases": n_cases, "repeated_bit_gap": gap}


@register("profiles.uneven_schedule_counterexample", "§5.4",
          "No bound in the average block size N/K alone: global parity with blocks (1, …, 1, 2) has "
          "E_fact = log 2 although N/K ≈ 1 (value = |E_fact − log 2|).", expression="log(2)")
def _check_counterexample(*, n: int = 8, schedule=None, tol: float = 1e-12):
    sched = [1] * (n - 2) + [2] if schedule is None else schedule
    e = efact(information_profile(global_parity(n)), sched)
    return abs(e - np.log(2.0)), tol, {"efact": e, "average_block": n / len(sched)}


@register("profiles.geometric_bounds", "§5.5",
          "Geometric schedules: increasing E_fact ≤ ρΣ(i−1)f ≤ ρ·DTC and decreasing E_fact ≤ ρΣ(N−i−1)f ≤ ρ·TC, on "
          "random joints and the Markov chain at N = 400 (value = max of E_fact − bound).",
          expression="rho*DTC")
def _check_geometric(*, seed: int = 3, bound_factor: float = 1.0):
    profiles = [information_profile(dirichlet_joint(6, 2, concentration=0.3, seed=[seed, c])) for c in range(4)]
    profiles += [markov_profile(400, 0.05), beta_bernoulli_profile(400, 0.5, 0.5)]
    worst = -np.inf
    for pr in profiles:
        for K in sorted({2, 3, max(2, pr.n // 8), pr.n // 2}):
            inc = geometric_schedule(pr.n, n_steps=K)
            dec = geometric_schedule(pr.n, n_steps=K, direction="decreasing")
            b_inc, b_dec = geometric_increasing_bound(pr, inc), geometric_decreasing_bound(pr, dec)
            worst = max(worst, efact(pr, inc) - bound_factor * b_inc, efact(pr, dec) - bound_factor * b_dec,
                        b_inc - geometric_rho(inc) * pr.dtc - 1e-12 * pr.n,
                        b_dec - geometric_rho(dec, direction="decreasing") * pr.tc - 1e-12 * pr.n)
    return worst, 0.0, {"profiles": len(profiles)}


@register("schedules.dp_equals_exhaustive", "§5.6",
          "The O(K N log N) Monge optimum and the O(K N²) DP equal exhaustive search over all compositions, for "
          "profiles and for noisy (non-monotone) loss curves (value = max cost gap).", expression="1e-12")
def _check_dp(*, n_cases: int = 12, seed: int = 4, tol: float = 1e-12, use_constant: bool = False):
    rng = np.random.default_rng(seed)
    worst = 0.0
    for c in range(n_cases):
        n = int(rng.integers(3, 11))
        K = int(rng.integers(1, n + 1))
        pr = information_profile(dirichlet_joint(n, 2, concentration=0.4, seed=[seed, c])) if n <= 8 \
            else markov_profile(n, 0.1)
        ref = schedule_cost(pr, optimal_schedule_exhaustive(pr, K))
        got = [constant_schedule(n, K)] if use_constant else [optimal_schedule(pr, K, method=m) for m in ("monotone", "dp")]
        noisy = pr.g + rng.normal(0.0, 0.05, n)
        worst = max(worst, *(abs(schedule_cost(pr, s) - ref) for s in got),
                    abs(schedule_cost(noisy, optimal_schedule(noisy, K)) - schedule_cost(noisy, optimal_schedule_exhaustive(noisy, K))))
    return worst, tol, {"n_cases": n_cases}


@register("profiles.loss_curve_identity", "§5.1, §5.3",
          "For set-keyed learned conditionals, E_learn + E_fact = Σ_t k_t CE_θ(s_{t−1}) − H(π) = the path KL "
          "averaged over all N! orders (tempered, uniform-mixed conditionals; value = max abs gap).",
          expression="1e-10")
def _check_loss_curve(*, n_cases: int = 4, seed: int = 5, tol: float = 1e-10, beta: float = 0.7,
                      path_beta: float | None = None):
    """``path_beta`` ≠ β runs the path KL with another model than the curves (a wrong model)."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for c in range(n_cases):
        t = dirichlet_joint(5 if c % 2 else 4, 2 if c % 2 else 3, concentration=0.6, seed=[seed, c])
        model = TemperedConditionals(t, beta=beta, mix=0.1)
        curves = cross_entropy_curve(t, model)
        pr = information_profile(t)
        sizes = _random_schedule(rng, t.n)
        lhs = learning_error(curves, sizes) + efact(pr, sizes)
        worst = max(worst, abs(lhs - (schedule_cost(curves.ce, sizes) - pr.entropy)),
                    abs(lhs - path_kl_bruteforce(t, model if path_beta is None else
                                                 TemperedConditionals(t, beta=path_beta, mix=0.1), sizes)))
    return worst, tol, {"n_cases": n_cases}


@register("profiles.gaussian_factorized_kl", "§5.1, §6",
          "Gaussian targets: the closed-form KL of the fixed-order factorized (linear-Gaussian) sampler equals the "
          "chain rule Σ_t TC(x_B | x_R), and its average over all orders equals E_fact of the differential-"
          "entropy profile (value = max abs gap).", expression="1e-10")
def _check_gaussian(*, n: int = 5, seed: int = 6, tol: float = 1e-10, schedule=(2, 1, 2), perturb: float = 0.0):
    """``perturb`` adds to one variance of the covariance the chain rule sees (a wrong covariance)."""
    import itertools

    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    cov = A @ A.T + 0.5 * np.eye(n)
    kls = []
    worst = 0.0
    for order in itertools.permutations(range(n)):
        a = gaussian_factorized_kl(cov, order, schedule)
        worst = max(worst, abs(a - gaussian_factorized_kl_chain_rule(cov + perturb * np.eye(n)[:1].T @ np.eye(n)[:1],
                                                                      order, schedule)))
        kls.append(a)
    worst = max(worst, abs(float(np.mean(kls)) - efact(gaussian_profile(cov), schedule)))
    return worst, tol, {"mean_kl": float(np.mean(kls))}


@register("profiles.montecarlo_estimator", "§5.2, §9",
          "Monte-Carlo ĝ(m) (exact samples and conditionals of a Markov chain, N = 24, 3000 draws per m) lies "
          "within z·se of the closed form for every m, z at family-wise false-alarm 1e-6 (value = max |z|/z_crit).")
def _check_mc_profile(*, n: int = 24, eps: float = 0.1, n_samples: int = 3000, seed: int = 7,
                      false_alarm: float = 1e-6, model_eps: float | None = None):
    from scipy.stats import norm

    est = estimate_profile(MarkovChain(np.array([[1 - eps, eps], [eps, 1 - eps]]), n), n_samples, seed=seed)
    ref = markov_profile(n, eps if model_eps is None else model_eps).g
    z_crit = float(norm.ppf(1 - false_alarm / (2 * n)))  # Bonferroni over the N values of m
    z = np.abs(est.values - ref) / np.maximum(est.stderr, 1e-300)
    z[np.abs(est.values - ref) < 1e-12] = 0.0  # m with zero variance (g(0) = log 2 exactly)
    return float(z.max() / z_crit), 1.0, {"z_crit": z_crit, "n_samples": n_samples}


@register("schedules.scaling_limits", "§5.6",
          "Markov chain (ε = 0.05): (K/N)·E_fact at N = 3200, K = √N tends to ½∫φ (constant schedule) and to "
          "½(∫√φ)² (DP optimum), and E_fact with k = 2 per step to ½∫φ (value = max relative gap; bound 2%).",
          expression="Integral(sqrt(phi(t)), (t, 0, 1))**2/2")
def _check_scaling(*, n: int = 3200, eps: float = 0.05, rel_tol: float = 0.02):
    lim = continuum_limits(markov_scaling_function(eps))
    pr = markov_profile(n, eps)
    K = int(round(np.sqrt(n)))
    const = K / n * efact(pr, constant_schedule(n, K))
    opt = K / n * efact(pr, optimal_schedule(pr, K))
    two = efact(pr, [2] * (n // 2))
    gaps = [abs(const / lim.half_integral - 1), abs(opt / lim.half_sqrt_integral_sq - 1), abs(two / lim.bounded(2) - 1)]
    return max(gaps), rel_tol, {"constant": const, "optimal": opt, "k2": two, "half_integral": lim.half_integral,
                                "half_sqrt_integral_sq": lim.half_sqrt_integral_sq, "quad_error": lim.error}
