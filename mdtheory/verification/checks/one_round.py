"""One-round checks: exact laws, limits, implicit temperature and Theorem 2 asymptotics (§2–§4.2).

Each check takes keyword parameters (with defaults used by ``mdtheory verify``) and returns
(value, bound, details); it passes when value ≤ bound. Reference values come from the brute-force
oracle, closed forms or limits — never from the route under test.
"""

from __future__ import annotations

import numpy as np

from ...exact.distances import maskgit_moment_tv, tv_distance
from ...exact.homogeneous import homogeneous_maskgit_moment_tv
from ...exact.round_laws import maskgit_round_law, moment_round_law
from ...exact.oracle import maskgit_round_law_bruteforce, moment_round_law_bruteforce
from ..registry import register
from ...sweeps.fits import fit_loglog_slope
from ...exact.temperature import implicit_temperature_task


def _perturbed(probs: np.ndarray, perturb: float) -> np.ndarray:
    """A copy of a law's table with ``perturb`` added to its first cell (a wrong law, for can-fail tests)."""
    out = np.array(probs, dtype=np.float64)
    out.flat[0] += perturb
    return out


def random_cases(n_cases: int, *, seed: int = 0, max_n: int = 5, max_k: int = 3):
    """Seeded small cases: peaked, near-uniform and zero-containing rows, α from 0.02 to 50."""
    rng = np.random.default_rng(seed)
    for c in range(n_cases):
        n = int(rng.integers(2, max_n + 1))
        V = int(rng.integers(2, 4))
        k = int(rng.integers(1, min(max_k, n) + 1))
        conc = [0.2, 1.0, 50.0][c % 3]
        P = rng.dirichlet(np.full(V, conc), size=n)
        if c % 4 == 0:
            P[0] = 0.0
            P[0, int(rng.integers(V))] = 1.0
        if c % 5 == 1:
            P[-1, 0] = 0.0
            P[-1] /= P[-1].sum()
        alpha = float(rng.choice([0.02, 0.2, 0.7, 1.0, 3.0, 50.0]))
        yield P, k, alpha


@register("laws.quadrature_vs_bruteforce", "§3.2, §3.4",
          "The quadrature MaskGIT law and the closed-form moment law equal the brute-force oracle (max abs "
          "cell error ≤ 1e-10) on random cases with N ≤ 5, k ≤ 3.", expression="1e-10")
def _check_quadrature(*, n_cases: int = 25, seed: int = 0, tol: float = 1e-10, perturb: float = 0.0):
    """``perturb`` adds to one cell of every quadrature law: a wrong law, which the check must catch."""
    worst = 0.0
    for P, k, a in random_cases(n_cases, seed=seed):
        worst = max(worst,
                    float(np.abs(_perturbed(maskgit_round_law(P, k=k, alpha=a).probs, perturb)
                                 - maskgit_round_law_bruteforce(P, k=k, alpha=a).probs).max()),
                    float(np.abs(moment_round_law(P, k=k, alpha=a).probs
                                 - moment_round_law_bruteforce(P, k=k, alpha=a).probs).max()))
    return worst, tol, {"n_cases": n_cases}


@register("laws.normalised", "§3",
          "Every exact one-round law sums to 1 (|Σ − 1| ≤ 1e-12), for both samplers and the α = 0, ∞ limits.")
def _check_normalised(*, n_cases: int = 20, seed: int = 1, tol: float = 1e-12, perturb: float = 0.0):
    """``perturb`` adds to one cell of every law: an unnormalised law, which the check must catch."""
    worst = 0.0
    for P, k, a in random_cases(n_cases, seed=seed):
        for alpha in (a, 0.0, np.inf):
            for fn in (maskgit_round_law, moment_round_law):
                worst = max(worst, abs(float(_perturbed(fn(P, k=k, alpha=alpha).probs, perturb).sum()) - 1.0))
    return worst, tol, {}


@register("theorem1.k_equals_n_untempered", "§4.1",
          "At k = N MaskGIT reveals every candidate, so its tokens follow p exactly (no tempering).")
def _check_k_equals_n(*, seed: int = 2, alpha: float = 0.5, tol: float = 1e-14, sampler: str = "maskgit"):
    """``sampler="moment"`` checks the moment sampler's one-round law instead, whose tokens are tempered at
    k = N (a wrong sampler for this statement)."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(3), size=4)
    oracle = {"maskgit": maskgit_round_law_bruteforce, "moment": moment_round_law_bruteforce}[sampler]
    law = oracle(P, k=4, alpha=alpha)
    expected = np.einsum("a,b,c,d->abcd", *P).ravel()
    return float(np.abs(law.probs[0] - expected).max()), tol, {"alpha": alpha}


@register("limits.alpha_infinity", "§2.1, §4.1",
          "As α → ∞ MaskGIT tends to uniform positions with untempered tokens: TV(law at α = 1e6, α = ∞ law) "
          "≤ 1e-4.")
def _check_alpha_inf(*, seed: int = 3, alpha: float = 1e6, tol: float = 1e-4):
    P = np.random.default_rng(seed).dirichlet(np.ones(3), size=5)
    tv = tv_distance(maskgit_round_law(P, k=2, alpha=alpha), maskgit_round_law(P, k=2, alpha=np.inf))
    return tv, tol, {"alpha": alpha}


@register("limits.alpha_zero", "§2.1",
          "As α → 0 MaskGIT tends to the deterministic top-k of the sampled tokens' probabilities: "
          "TV(law at α = 1e-3, α = 0 law) ≤ 1e-10 when distinct probabilities differ by ≥ 5 % relative.")
def _check_alpha_zero(*, alpha: float = 1e-3, tol: float = 1e-10):
    P = np.array([[0.6, 0.3, 0.1], [0.45, 0.35, 0.2], [0.8, 0.15, 0.05], [0.25, 0.5, 0.25]])
    tv = tv_distance(maskgit_round_law(P, k=2, alpha=alpha), maskgit_round_law(P, k=2, alpha=0.0))
    return tv, tol, {"alpha": alpha}


@register("laws.homogeneous_reduction", "§3.5",
          "The homogeneous (composition) reduction equals the general law: |TV_hom − TV_general| ≤ 1e-12.")
def _check_homogeneous(*, tol: float = 1e-12, perturb: float = 0.0):
    """``perturb`` moves mass between the first two tokens of one row of the general route's table (a
    perturbed table), which the check must catch."""
    worst = 0.0
    for p, n, k, a in [([0.6, 0.3, 0.1], 6, 2, 1.0), ([0.5, 0.5], 7, 3, 0.3), ([0.7, 0.2, 0.1], 5, 4, 2.5)]:
        h = homogeneous_maskgit_moment_tv(p, n_masked=n, k=k, alpha=a).tv
        table = np.tile(p, (n, 1))
        table[0, :2] += (perturb, -perturb)
        g = maskgit_moment_tv(table, k=k, alpha=a).tv
        worst = max(worst, abs(h - g))
    return worst, tol, {}


def _temperature_curve(n_values, alpha, seed, vocab=4, prediction_alpha=None):
    rows = [implicit_temperature_task(dict(alpha=alpha, n_masked=n, vocab_size=vocab, seed=seed,
                                           prediction_alpha=prediction_alpha)) for n in n_values]
    return np.array([r["position_tv"] for r in rows]), np.array([r["token_tv"] for r in rows])


@register("theorem1.implicit_temperature_rate", "§4.1",
          "Implicit temperature (Eq. 2): at k = 1 the exact errors of P(i) ≈ m_i/Σm and P(x|i) ≈ p_i^β/m_i "
          "decay like 1/N at token temperature τ = α/(1+α); the fitted log-log slope in N of both errors is ≤ −0.8.",
          expression="alpha/(1 + alpha)")
def _check_temperature(*, n_values=(16, 32, 64, 128, 256), alpha: float = 1.0, seed: int = 4,
                       bound: float = -0.8, prediction_alpha: float | None = None):
    """``prediction_alpha`` ≠ α compares MaskGIT with a prediction at the wrong temperature, whose error does
    not decay."""
    pos, tok = _temperature_curve(n_values, alpha, seed, prediction_alpha=prediction_alpha)
    s_pos = fit_loglog_slope(n_values, pos).slope
    s_tok = fit_loglog_slope(n_values, tok).slope
    return max(s_pos, s_tok), bound, {"slope_position": s_pos, "slope_token": s_tok,
                                      "position_tv": pos.tolist(), "token_tv": tok.tolist()}


@register("theorem2.tv_slope_in_n", "§4.2",
          "Theorem 2: TV(MaskGIT, moment) = O(k²/M_rest); on Dirichlet rows the log-log slope in N at fixed "
          "k = 2 is ≤ −0.8 (≈ −1).", expression="C*k**2*V**(1/alpha)/(N - k) + exp(-c*(N - k)*V**(-1/alpha))")
def _check_tv_slope_n(*, n_values=(32, 64, 128, 256), k: int = 2, alpha: float = 1.0, seed: int = 5,
                      bound: float = -0.8, moment_alpha: float | None = None):
    """``moment_alpha`` ≠ α compares MaskGIT with a moment sampler at another α (a wrong sampler), whose
    TV does not vanish with N."""
    rows = [np.random.default_rng([seed, n]).dirichlet(np.ones(4), size=n) for n in n_values]
    if moment_alpha is None:
        tvs = [maskgit_moment_tv(P, k=k, alpha=alpha).tv for P in rows]
    else:
        tvs = [tv_distance(maskgit_round_law(P, k=k, alpha=alpha), moment_round_law(P, k=k, alpha=moment_alpha))
               for P in rows]
    s = fit_loglog_slope(n_values, tvs).slope
    return s, bound, {"tv": tvs, "n_values": list(n_values)}


@register("theorem2.tv_growth_in_k", "§4.2",
          "Theorem 2: at fixed N ≫ k² the TV grows with k no faster than k² (homogeneous rows, N = 4000, "
          "k = 1..16): fitted log-log slope in k ≤ 2.", expression="2")
def _check_tv_growth_k(*, n_masked: int = 4000, k_values=(1, 2, 4, 8, 16), alpha: float = 1.0,
                       p=(0.4, 0.3, 0.2, 0.1), bound: float = 2.0):
    tvs = [homogeneous_maskgit_moment_tv(list(p), n_masked=n_masked, k=k, alpha=alpha).tv for k in k_values]
    s = fit_loglog_slope(k_values, tvs).slope
    return s, bound, {"tv": tvs, "k_values": list(k_values)}


@register("montecarlo.samplers_match_exact_laws", "§9",
          "Monte Carlo of the project's own maskgit_round and moment_round (2·10⁵ seeded draws each) fits the "
          "exact laws: Pearson χ² ≤ its critical value at false-alarm rate 1e-4 (value = max χ²/critical).",
          expression="1")
def _check_montecarlo(*, n_samples: int = 200_000, seed: int = 6, alpha: float = 0.7, k: int = 2,
                      false_alarm: float = 1e-4, probs=None):
    from ...montecarlo.statistics import chisquare_test, empirical_round_counts
    from ...sampling.rounds import maskgit_round, moment_round

    P = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05], [0.2, 0.2, 0.6], [1.0, 0.0, 0.0]]) if probs is None else probs
    ratios = {}
    for name, fn, law_fn in (("maskgit", maskgit_round, maskgit_round_law), ("moment", moment_round, moment_round_law)):
        counts = empirical_round_counts(fn, P, k=k, n_samples=n_samples, seed=seed, alpha=alpha)
        r = chisquare_test(counts, law_fn(P, k=k, alpha=alpha), false_alarm=false_alarm)
        ratios[name] = {"statistic": r.statistic, "critical": r.critical_value, "p_value": r.p_value,
                        "off_support": r.off_support}
    worst = max(v["statistic"] / v["critical"] + (1e9 if v["off_support"] else 0.0) for v in ratios.values())
    return worst, 1.0, ratios
