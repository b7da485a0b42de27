"""mdtheory: exact laws, bounds and Monte-Carlo verification for the samplers of masked diffusion models.

The mathematics is in docs/theory.md; every "§" in the code cites one of its sections, and the choices
the theory leaves open are listed in docs/conventions.md. ``import mdtheory`` loads nothing heavy: every
public name below is imported from its stage on first use.

Two levels
----------
``mdt.*`` holds the names of the README's "I want to…" table (``mdtheory.__all__``); every public name,
those included, lives under its stage (``mdtheory.exact.homogeneous_maskgit_moment_tv``), whose ``__all__``
lists it. An engine name read at the first level still works, with a ``DeprecationWarning`` naming its stage.

Stages (subpackages, lowest first; a stage imports only the stages before it)
-----------------------------------------------------------------------------
sweeps         below every stage: the resumable sweep runner, executors (in process, processes, Dask), log-log fits
rules          what a round does: token laws, position rules, round shapes, samplers, schedules, orders, the
               one table of names (numpy, §2, §2.5, §8)
exact          exact one-round laws, race quadrature, Plackett–Luce, homogeneous reduction, distances,
               implicit temperature, finite-precision noise, the brute-force oracles, the TV sweep tasks (numpy,
               §3, §4.1–§4.2, §9)
targets        targets with exact conditionals: joint tables, Markov chains, the §6 families (numpy)
sampling       the rules executed in torch on any device, the sampling loop, partial caching (§2, §4.6)
multiround     exact output laws of whole samplers on those targets (§4.3–§4.5, §8)
profiles       information profiles, closed forms, bounds, schedule costs, shapes and optima, continuum limits,
               learning error (§5, §7)
models         the transformer denoiser, training, data, Hugging Face loaders, evaluators, predictors
montecarlo     statistics, schedule ordering, real-model predictions, sample quality, model KL, the drivers (§9)
testing        the exact-law test kit for any round function: stated rules, cases, χ² audits, a pytest plugin (§9)
peers          the audit of installed sampler implementations, and adapters both ways
figures        one module per figure, and the plot helpers (matplotlib)
verification   the theorem registry, its checks, and the report of ``mdtheory verify``

Glossary (one vocabulary; §1)
-----------------------------
probs, log_probs   per-position predictions p_i(·), shape (n_masked, vocab_size) or (B, N, V)
n_masked           N, the number of masked positions in a round
vocab_size         V = |S|
seq_len            D, the sequence length
n_steps            K, the number of steps of a schedule
k                  positions revealed in one round (1 ≤ k ≤ N)
alpha              MaskGIT's Gumbel scale α ≥ 0 (0 and ∞ are limits)
beta               β = 1 + 1/α;  tau = τ = 1/β = α/(1+α), the implicit token temperature
m, log_m           moments m_i = Σ_s p_i(s)^β (position weights of the moment sampler)
gamma              hybrid mixing γ ∈ [0, 1] (or the EB entropy budget)
schedule           a composition (k_1, …, k_K) of D
_bruteforce, _quadrature, _closed_form   suffixes naming the computational route

Constants
---------
SCHEDULE_NAMES       the named schedules of §2.4: cosine, arccos, linear, constant
SCHEDULE_METHODS     the profile-driven schedule methods of §5.5–§5.6 (dp, sqrt, constant, geometric-…)
FAMILIES             the closed-form target families of §6 and their parameters
BOUND_EXPRESSIONS    the registered bounds of §5.4–§5.5 and §7 as sympy-parsable strings
TRAIN_PRESETS        the training configurations of the shipped denoisers
SHIPPED_CHECKPOINTS  the folder of the shipped checkpoints (package data)
HELD_OUT_ANTIBODIES  the held-out antibody variable domains used with AntiBERTy
COHERENCE_MODELS     the real models whose coherence of conditionals is measured (§10.7)
ROUNDING_LIMIT       the rounding error (TV) beyond which an exact law is refused as ill-conditioned (§3.4a)
MOMENT_EQUIVALENCE_C_REGRESSION  the regression value of the fitted moment-equivalence constant C (Theorem 2, §4.2)
"""

from __future__ import annotations

from ._namespace import lazy_attributes

__version__ = "0.1.0"

#: every public name and the module that defines it: the one source of the public API
_PUBLIC: dict[str, str] = {}
for _module, _names in {
    # rules: what a round does, torch-free (§2, §2.5, §8)
    "rules.positions": ("UniformRule", "MomentRule", "ConfidenceRule", "MarginRule", "EntropyRule", "FixedOrderRule",
                        "HybridRule"),
    "rules.tokens": ("Identity", "Temperature", "Truncated"),
    "rules.rounds": ("ChooseThenSample", "SampleThenChoose", "EntropyPrefix", "Threshold", "Bernoulli"),
    "rules.samplers": ("MaskGIT", "Moment", "UMoment", "CTS", "EB", "EntropySum", "MDLM", "RuleSampler"),
    "rules.registry": ("make_sampler",),
    "rules.orders": ("halton_order", "raster_order", "van_der_corput_order", "hybrid_select"),
    "rules.schedules": ("SCHEDULE_NAMES", "schedule_sizes", "block_starts"),
    # sampling: the rules executed in torch, and the loop (§2, §4.6)
    "sampling.rounds": ("maskgit_round", "moment_round", "cts_round"),
    "sampling.execute": ("run_round", "run_select"),
    "sampling.primitives": ("RoundOutput",),
    "sampling.loop": ("AdaptiveSampler", "CustomSampler", "SampleResult", "sample"),
    "sampling.partial_caching": ("PartialCaching", "CachedSampleResult", "sample_partial_caching"),
    # exact one-round laws (§3, §4.1–§4.2, §9)
    "exact.round_laws": ("RoundLaw", "LawSizeError", "maskgit_round_law", "moment_round_law", "round_law",
                         "maskgit_ordered_law", "moment_ordered_law", "sample_then_choose_law"),
    "exact.rule_laws": ("rule_law",),
    "exact.conditioning": ("IllConditioned", "ROUNDING_LIMIT", "amplification", "rounding_error"),
    "exact.plackett_luce": ("pl_ordered_log_prob", "pl_set_log_prob"),
    "exact.homogeneous": ("homogeneous_round_laws", "homogeneous_maskgit_moment_tv", "homogeneous_law_bytes"),
    "exact.variable_laws": ("eb_round_law", "threshold_round_law", "mdlm_round_law"),
    "exact.certificates": ("certificate", "frechet_witness", "tv_witness", "argmax_witness"),
    "exact.distances": ("TVResult", "tv_distance", "kl_divergence", "position_inclusion", "token_law_given_position",
                        "maskgit_moment_tv", "maskgit_moment_ordered_tv"),
    "exact.temperature": ("implicit_temperature_tau", "implicit_temperature_prediction",
                          "implicit_temperature_errors"),
    "exact.moment_equivalence": ("MOMENT_EQUIVALENCE_C_REGRESSION", "moment_equivalence_ratio",
                                 "moment_equivalence_constant_fit"),
    "exact.finite_precision_noise": ("gumbel_noise_range", "truncated_gumbel_max_law", "effective_temperature", "NoiseTemperatureRow",
                                     "noise_temperature_table", "zipf_logits"),
    "exact.oracle": ("maskgit_round_law_bruteforce", "moment_round_law_bruteforce",
                     "sample_then_choose_law_bruteforce", "output_law_bruteforce"),
    # whole samplers on known targets (§4.3–§4.5, §6, §8)
    # targets (§6)
    "targets.tables": ("JointTable", "joint_table"),
    "targets.chains": ("MarkovChain", "markov_chain", "binary_markov_chain", "potts_chain", "bigram_chain",
                       "forbidden_bigram_transition"),
    "targets.families": ("dirichlet_joint", "product_target", "repeated_bit", "global_parity", "hidden_subset_parity",
                         "ising_grid", "potts_grid", "beta_bernoulli", "noisy_repeated_bit"),
    "multiround.entropy_sum": ("entropy_sum_table",),
    "multiround.output_laws": ("OutputLaw", "output_law", "hybrid_decomposition_bound", "sampler_comparison"),
    # profiles, bounds and schedules (§5, §7)
    "profiles.enumeration": ("InformationProfile", "entropy_profile", "information_profile", "profile_from_entropy",
                             "profile_from_g", "block_cost", "efact", "efact_bruteforce"),
    "profiles.closed_forms": ("FAMILIES", "family_profile", "beta_bernoulli_profile", "gaussian_ar1_profile",
                              "hidden_subset_parity_profile", "markov_profile", "markov_transition_profile",
                              "noisy_repeated_bit_profile", "parity_profile", "repeated_bit_profile"),
    "profiles.gaussian": ("gaussian_profile", "gaussian_factorized_kl", "gaussian_factorized_kl_chain_rule"),
    "profiles.bounds": ("BOUND_EXPRESSIONS", "bound_expression", "ccl_expected_kl", "kmax_bound",
                        "geometric_increasing_bound", "geometric_decreasing_bound", "lag_conditioning",
                        "partial_caching_schedule", "stale_expected_kl", "mutual_information_bound"),
    "profiles.sequence_error": ("sequence_error_table", "per_token_curve", "steps_for_sequence_kl"),
    "profiles.random_sizes": ("size_law", "expected_kl_random_sizes", "expected_kl_over_compositions",
                              "random_sizes_bruteforce"),
    "profiles.schedule_costs": ("schedule_cost", "schedule_cost_stderr"),
    "profiles.schedule_shapes": ("constant_schedule", "geometric_rho", "geometric_schedule", "sqrt_schedule"),
    "profiles.optimal_schedules": ("SCHEDULE_METHODS", "data_driven_schedule", "optimal_schedule",
                                   "optimal_schedule_exhaustive", "profile_schedule", "schedule_comparison"),
    "profiles.continuum": ("ContinuumLimits", "continuum_limits", "markov_scaling_function"),
    "profiles.learning_error": ("LearningCurves", "TemperedConditionals", "cross_entropy_curve", "learning_error",
                                "path_kl_bruteforce"),
    "profiles.coherence": ("SwapCirculation", "swap_circulation", "order_log_prob", "sample_in_order", "OrderGap",
                           "order_gap", "order_pseudo_joint", "CoherenceReport", "coherence_exact",
                           "mean_swap_kl_exact", "PlantedIncoherence"),
    "profiles.estimation": ("CurveEstimate", "estimate_profile", "estimate_loss_curve"),
    # models
    "models": ("SHIPPED_CHECKPOINTS",),
    "models.denoiser": ("DenoiserConfig", "MaskedDenoiser", "save_denoiser", "load_denoiser"),
    "models.training": ("TrainConfig", "TRAIN_PRESETS", "train", "held_out_loss", "load_trained"),
    "models.datasets": ("Dataset", "load_dataset", "known_law_target"),
    "models.evaluators": ("frechet_distance", "inception_score", "generative_perplexity", "load_evaluator"),
    "models.hf": ("load_hf_masked_lm", "antiberty_predictor", "HELD_OUT_ANTIBODIES"),
    "models.predictors": ("PredictorModel", "target_predictor"),
    # Monte Carlo (§9)
    "montecarlo.statistics": ("empirical_round_counts", "chisquare_test", "tv_estimate"),
    "montecarlo.schedule_ordering": ("ScheduleOrdering", "schedule_ordering"),
    "exact.tv_sweeps": ("tv_scaling_tasks",),
    # the generic runner of resumable sweeps, where they run, and their fits
    "sweeps.runner": ("run_sweep",),
    "sweeps.fits": ("fit_loglog_slope",),
    "sweeps.executors": ("InProcess", "ProcessPool", "DaskExecutor", "executor_from_options"),
    "montecarlo.real_predictions": ("PredictionModel", "load_prediction_model", "record_trajectory_predictions",
                                    "round_tv_record", "round_temperature_record", "marginal_tv_exact",
                                    "marginal_tv_mc", "model_loss_curve"),
    "montecarlo.sample_quality": ("sampler_by_name", "generate", "quality_metrics", "schedule_quality",
                                  "order_schedule_rows", "pseudo_log_likelihood", "pairwise_identity",
                                  "masked_recovery"),
    "montecarlo.model_kl": ("order_log_likelihood", "exact_entropy", "kl_bound_check"),
    "montecarlo.coherence": ("CoherenceEstimate", "coherence_montecarlo", "model_coherence", "COHERENCE_MODELS"),
    # peers
    # the test kit (§9)
    "testing.kit": ("assert_round_law", "check_round_law"),
    "testing.loops": ("assert_sampler_law", "check_sampler_law", "LoopAudit", "LoopAuditError", "exact_predict"),
    "testing.conventions": ("RoundAuditError",),
    "testing.cases": ("round_cases", "audit_cases"),
    "testing.audit": ("audit_round",),
    "testing.rules": ("round_rule", "RoundRule", "truncated"),
    "peers.adapters": ("amused_round", "maskgit_jax_round"),
    "peers.audit": ("audit_peer", "audit_all", "block_refinement_rule"),
    "peers.interop": ("MdtheoryScheduler", "PeerSampler", "PeerAdaptiveSampler", "amused_peer_round",
                      "entropy_bound_peer_select", "block_refinement_peer_select"),
}.items():
    _PUBLIC.update(dict.fromkeys(_names, _module))
del _module, _names

#: the first level, ``mdt.*``: the names of the README's "I want to…" table. Every other public name lives
#: under its stage (``mdtheory.exact.rule_law`` is also here; ``mdtheory.exact.homogeneous_maskgit_moment_tv``
#: only there).
_TOP = ("maskgit_round_law", "moment_round_law", "rule_law", "maskgit_moment_tv", "output_law", "ising_grid",
        "markov_profile", "optimal_schedule", "assert_round_law", "check_round_law", "round_rule", "sample",
        "make_sampler", "MaskGIT", "Moment", "CTS", "EB", "EntropySum", "expected_kl_random_sizes", "size_law",
        "certificate")
_STAGES = ("sweeps", "rules", "exact", "targets", "sampling", "multiround", "profiles", "models", "montecarlo",
           "testing", "peers", "figures", "verification")

__all__ = list(_TOP)

_load, _ = lazy_attributes(__name__, {n: _PUBLIC[n] for n in _TOP})


def __getattr__(name: str):
    import importlib

    if name in _STAGES:  # ``mdt.exact.rule_law`` without an explicit ``import mdtheory.exact``
        return importlib.import_module(f"{__name__}.{name}")
    if name in _PUBLIC and name not in _TOP:
        # an engine name at the first level still works (its earlier path), with the path to use instead
        import warnings

        stage = _PUBLIC[name].split(".")[0]
        warnings.warn(f"mdtheory.{name} is a name of the {stage} stage: import it from mdtheory.{stage} "
                      f"(mdtheory.{_PUBLIC[name]}); the first level keeps the README's table", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    return _load(name)


def __dir__() -> list[str]:
    # the first level only: the lazy table and the module's own imports are not part of it
    return sorted((*_TOP, "__version__"))
