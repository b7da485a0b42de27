"""The rules stage: what a round of a masked-diffusion sampler does, written once, in numpy (§2, §2.5, §8).

The bottom of the package: every other stage reads these objects, and this stage imports only numpy and the
private validation helpers. Its modules, in the order a round uses them:

* :mod:`~mdtheory.rules.tokens` — token laws (identity, temperature, truncation);
* :mod:`~mdtheory.rules.positions` — position rules (uniform, moment, confidence, margin, entropy, fixed
  orders, hybrid) and the tie grid;
* :mod:`~mdtheory.rules.rounds` — the five shapes of a round (choose-then-sample, sample-then-choose, entropy
  prefix, threshold, Bernoulli) and the final-step convention;
* :mod:`~mdtheory.rules.samplers` — samplers: the rule of each step, annealing, adaptive loops;
* :mod:`~mdtheory.rules.schedules` and :mod:`~mdtheory.rules.orders` — step sizes and fixed reveal orders;
* :mod:`~mdtheory.rules.registry` — the one table of names (``make_sampler``, the test kit, the CLI).

Names load on first use, so ``import mdtheory.rules.registry`` stays cheap.
"""

from __future__ import annotations

from .._namespace import lazy_attributes

_PUBLIC = {
    "tokens": ("TokenTransform", "Identity", "Temperature", "Truncated", "moment_token_transform", "tempered",
               "truncated", "log_normalise"),
    "positions": ("PositionRule", "UniformRule", "MomentRule", "ConfidenceRule", "MarginRule", "EntropyRule",
                  "FixedOrderRule", "HybridRule", "tie_keys", "TIE_SCALE"),
    "rounds": ("Rule", "ChooseThenSample", "SampleThenChoose", "EntropyPrefix", "Threshold", "Bernoulli",
               "shannon_entropy"),
    "samplers": ("Sampler", "MaskGIT", "Moment", "UMoment", "CTS", "EB", "EntropySum", "RuleSampler", "MDLM",
                 "annealed_alpha"),
    "schedules": ("SCHEDULE_NAMES", "schedule_sizes", "as_schedule", "block_starts", "masked_fraction"),
    "orders": ("halton_order", "raster_order", "van_der_corput_order", "hybrid_select", "radical_inverse"),
    "registry": ("SAMPLER_NAMES", "RULE_NAMES", "REGISTRY", "make_sampler", "check_params"),
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
