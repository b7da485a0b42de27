"""mdtheory — exact laws, bounds and Monte-Carlo verification for masked-diffusion samplers.

The mathematics is in docs/theory.md; every "§" in the code cites one of its sections.

Glossary (one vocabulary, fixed; §1)
-----------------------------------------------
probs, log_probs   per-position predictions p_i(·), shape (n_masked, vocab_size) or (B, N, V)
n_masked           N, the number of masked positions in a round
vocab_size         V = |S|
seq_len            D, the sequence length
n_steps            K, the number of steps of a schedule
k                  positions revealed in one round (1 ≤ k ≤ N)
alpha              MaskGIT's Gumbel scale α ≥ 0 (0 and ∞ are limits)
beta               β = 1 + 1/α;  tau = τ = 1/β = α/(1+α), the implicit token temperature
m, log_m           moments m_i = Σ_s p_i(s)^β (position weights of the moment sampler)
gamma              hybrid mixing γ ∈ [0, 1]
schedule           a composition (k_1, …, k_K) of D
_bruteforce, _quadrature, _closed_form   suffixes naming the computational route

Module map
----------
laws (§3.2–3.3) · race (the §3.2 quadrature) · plackett_luce (§3.1) · oracle (§3.4) ·
homogeneous (§3.5) · distances (§3.6) · temperature (§4.1) · targets (§6) · profiles (§5.2–5.3, §7) ·
closed_form_profiles (§6 at large N) · gaussian (§6) · bounds (§5.4, §5.5, §7) ·
optimal_schedules (§2.4, §5.5, §5.6) · learning_error (§5.1, §5.3) · profile_estimation (Monte Carlo, §9) ·
output_laws (exact output laws of whole samplers, §4.3–§4.6, §8; torch) · audit (peer harness) ·
interop (diffusers-style scheduler adapter and peer samplers) · finite_precision_noise (float32 Gumbel) ·
samplers (§2.1–2.3, torch) ·
orders (§2.3) · schedules (§2.4) · sampling (the loop, torch) · montecarlo (§9, torch) ·
denoiser · training · datasets · evaluators · hf_models (real models) ·
real_predictions (§4 on real predictions) · sample_quality · model_kl (§5.1, §5.3 with trained models) ·
partial_caching (§4.6) · sweeps · registry/checks (``mdtheory verify``) · plot (matplotlib; not imported here) · cli.

``import mdtheory`` loads numpy/scipy only; the torch-based names are imported on first use.
"""

from __future__ import annotations

import importlib

from .exact.distances import (
    TVResult,
    kl_divergence,
    maskgit_moment_ordered_tv,
    maskgit_moment_tv,
    position_inclusion,
    token_law_given_position,
    tv_distance,
)
from .exact.homogeneous import homogeneous_maskgit_moment_tv, homogeneous_round_laws
from .exact.round_laws import (
    LawSizeError,
    RoundLaw,
    maskgit_ordered_law,
    maskgit_round_law,
    moment_ordered_law,
    moment_round_law,
    round_law,
    sample_then_choose_law,
)
from .exact.oracle import (
    maskgit_round_law_bruteforce,
    moment_round_law_bruteforce,
    output_law_bruteforce,
    sample_then_choose_law_bruteforce,
)
from .sampling.orders import halton_order, hybrid_select, raster_order, van_der_corput_order
from .exact.plackett_luce import pl_ordered_log_prob, pl_set_log_prob
from .profiles.enumeration import (
    InformationProfile,
    block_cost,
    efact,
    efact_bruteforce,
    entropy_profile,
    information_profile,
    profile_from_entropy,
    profile_from_g,
)
from .profiles.closed_forms import (
    FAMILIES,
    beta_bernoulli_profile,
    family_profile,
    gaussian_ar1_profile,
    hidden_subset_parity_profile,
    markov_profile,
    markov_transition_profile,
    noisy_repeated_bit_profile,
    parity_profile,
    repeated_bit_profile,
)
from .profiles.bounds import (
    BOUND_EXPRESSIONS,
    bound_expression,
    ccl_expected_kl,
    geometric_decreasing_bound,
    geometric_increasing_bound,
    kmax_bound,
    lag_conditioning,
    partial_caching_schedule,
    stale_expected_kl,
)
from .exact.finite_precision_noise import (NoiseTemperatureRow, effective_temperature,
                                     noise_temperature_table, truncated_gumbel_max_law, zipf_logits)
from .profiles.gaussian import gaussian_factorized_kl, gaussian_factorized_kl_chain_rule, gaussian_profile
from .profiles.learning_error import (
    LearningCurves,
    TemperedConditionals,
    cross_entropy_curve,
    learning_error,
    path_kl_bruteforce,
)
from .profiles.optimal_schedules import (
    SCHEDULE_METHODS,
    ContinuumLimits,
    constant_schedule,
    continuum_limits,
    data_driven_schedule,
    geometric_rho,
    geometric_schedule,
    markov_scaling_function,
    optimal_schedule,
    optimal_schedule_exhaustive,
    profile_schedule,
    schedule_comparison,
    ScheduleOrdering,
    schedule_cost,
    schedule_cost_stderr,
    schedule_ordering,
    sqrt_schedule,
)
from .profiles.estimation import CurveEstimate, estimate_loss_curve, estimate_profile
from .sampling.schedules import SCHEDULE_NAMES, block_starts, schedule_sizes
from .montecarlo.sweeps import fit_loglog_slope, run_sweep
from .multiround.targets import JointTable, MarkovChain, joint_table
from .exact.temperature import implicit_temperature_errors, implicit_temperature_prediction, implicit_temperature_tau

__version__ = "0.1.0"

_LAZY = {
    # torch-based: one-round samplers (§2) and the loop
    "maskgit_round": "sampling.rounds",
    "gumbel_noise_range": "sampling.rounds",
    "moment_round": "sampling.rounds",
    "cts_round": "sampling.rounds",
    "RoundOutput": "sampling.rounds",
    "UniformRule": "sampling.rounds",
    "MomentRule": "sampling.rounds",
    "ConfidenceRule": "sampling.rounds",
    "MarginRule": "sampling.rounds",
    "EntropyRule": "sampling.rounds",
    "FixedOrderRule": "sampling.rounds",
    "HybridRule": "sampling.rounds",
    "Identity": "sampling.rounds",
    "Temperature": "sampling.rounds",
    "sample": "sampling.loop",
    "SampleResult": "sampling.loop",
    "MaskGIT": "sampling.loop",
    "Moment": "sampling.loop",
    "UMoment": "sampling.loop",
    "CTS": "sampling.loop",
    "make_sampler": "sampling.loop",
    "empirical_round_counts": "montecarlo.statistics",
    "chisquare_test": "montecarlo.statistics",
    "tv_estimate": "montecarlo.statistics",
    "EB": "sampling.loop",
    # exact output laws of whole samplers (§4, §8): they take the sampler objects above
    "OutputLaw": "multiround.output_laws",
    "output_law": "multiround.output_laws",
    "target_predictor": "models.predictors",
    "PredictorModel": "models.predictors",
    # peer harness
    "audit_round": "peers.audit",
    "audit_cases": "peers.audit",
    "amused_round": "peers.audit",
    "audit_peer": "peers.audit",
    "MdtheoryScheduler": "peers.interop",
    "PeerSampler": "peers.interop",
    "amused_peer_round": "peers.interop",
    "PeerAdaptiveSampler": "peers.interop",
    "entropy_bound_peer_select": "peers.interop",
    "block_refinement_peer_select": "peers.interop",
    "audit_all": "peers.audit",
    "AdaptiveSampler": "sampling.loop",
    "hybrid_decomposition_bound": "multiround.output_laws",
    "sampler_comparison": "multiround.output_laws",
}
# real models (issues #5, #6): denoisers, training, data, evaluators, predictions and quality on them
_LAZY.update({name: module for module, names in {
    "models.denoiser": ("DenoiserConfig", "MaskedDenoiser", "save_denoiser", "load_denoiser"),
    "models.training": ("TrainConfig", "TRAIN_PRESETS", "train", "held_out_loss"),
    "sampling.partial_caching": ("PartialCaching", "CachedSampleResult", "sample_partial_caching"),
    "models.datasets": ("Dataset", "load_dataset", "known_law_target"),
    "models.evaluators": ("frechet_distance", "inception_score", "generative_perplexity", "load_evaluator"),
    "models.hf": ("load_hf_masked_lm", "antiberty_predictor", "HELD_OUT_ANTIBODIES"),
    "montecarlo.real_predictions": ("PredictionModel", "load_prediction_model", "record_trajectory_predictions",
                         "round_tv_record", "round_temperature_record", "marginal_tv_exact", "marginal_tv_mc",
                         "model_loss_curve"),
    "montecarlo.sample_quality": ("sampler_by_name", "generate", "quality_metrics", "schedule_quality", "order_schedule_rows",
                       "pseudo_log_likelihood", "pairwise_identity", "masked_recovery"),
    "montecarlo.model_kl": ("order_log_likelihood", "exact_entropy", "kl_bound_check"),
}.items() for name in names})


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'mdtheory' has no attribute {name!r}")


__all__ = [
    "RoundLaw", "LawSizeError", "maskgit_round_law", "moment_round_law", "round_law", "maskgit_ordered_law",
    "moment_ordered_law", "maskgit_round_law_bruteforce", "moment_round_law_bruteforce",
    "homogeneous_round_laws", "homogeneous_maskgit_moment_tv", "TVResult", "tv_distance", "kl_divergence",
    "position_inclusion", "token_law_given_position", "maskgit_moment_tv", "maskgit_moment_ordered_tv",
    "pl_ordered_log_prob", "pl_set_log_prob", "halton_order", "raster_order", "van_der_corput_order",
    "hybrid_select", "SCHEDULE_NAMES", "schedule_sizes", "block_starts", "fit_loglog_slope", "run_sweep",
    "implicit_temperature_errors", "implicit_temperature_prediction", "implicit_temperature_tau",
    "JointTable", "joint_table", "InformationProfile", "entropy_profile", "information_profile",
    "profile_from_entropy", "profile_from_g", "block_cost", "efact", "efact_bruteforce",
    "beta_bernoulli_profile", "gaussian_ar1_profile", "hidden_subset_parity_profile", "markov_profile",
    "markov_transition_profile", "noisy_repeated_bit_profile", "parity_profile", "repeated_bit_profile",
    "FAMILIES", "family_profile", "MarkovChain", "BOUND_EXPRESSIONS", "bound_expression", "ccl_expected_kl",
    "geometric_decreasing_bound", "geometric_increasing_bound", "kmax_bound", "gaussian_factorized_kl",
    "gaussian_factorized_kl_chain_rule", "gaussian_profile", "LearningCurves", "TemperedConditionals",
    "cross_entropy_curve", "learning_error", "path_kl_bruteforce", "SCHEDULE_METHODS", "ContinuumLimits",
    "constant_schedule", "continuum_limits", "data_driven_schedule", "geometric_rho", "geometric_schedule",
    "markov_scaling_function", "optimal_schedule", "optimal_schedule_exhaustive", "profile_schedule",
    "schedule_comparison", "schedule_cost", "schedule_cost_stderr", "ScheduleOrdering", "schedule_ordering",
    "sqrt_schedule", "CurveEstimate", "estimate_loss_curve",
    "estimate_profile", "lag_conditioning", "partial_caching_schedule", "stale_expected_kl", "output_law_bruteforce",
    "sample_then_choose_law", "sample_then_choose_law_bruteforce", "effective_temperature",
    "NoiseTemperatureRow", "noise_temperature_table", "zipf_logits",
    "truncated_gumbel_max_law",
    *_LAZY,
]
