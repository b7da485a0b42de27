"""Real-model checks: the shipped checkpoints and partial caching on a trained transformer.
References: the recorded SHA-256 and held-out losses of the shipped files, log V (a uniform predictor),
and the uncached sampling loop (for r = 1 and for the cached rows pass)."""

from __future__ import annotations


import numpy as np

from ..registry import register
from ...models import SHIPPED_CHECKPOINTS

CHECKPOINTS = SHIPPED_CHECKPOINTS
MODELS = ("digits", "text", "markov", "ising")


@register("models.shipped_checkpoints", "§2",
          "Every shipped denoiser loads with its SHA-256 verified, and its recorded held-out masked "
          "cross-entropy is below log V (the uniform predictor): value = max_model loss / log V < 1.",
          expression="1")
def _check_shipped(*, names=MODELS, bound: float = 1.0):
    from ...models.training import load_trained

    ratios = {}
    for name in names:
        model, meta = load_trained(CHECKPOINTS / name)
        ratios[name] = float(meta["held_out_loss"] / np.log(model.config.vocab_size))
    return max(ratios.values()), bound, {"loss_over_log_v": ratios}


@register("models.partial_caching_r1", "§4.6",
          "Partial caching on the shipped text transformer: with r = 1 the cached sampler draws exactly the "
          "uncached loop's tokens (mismatches = 0), and a rows pass from a fresh cache equals the full pass "
          "(max |Δ logit| ≤ 1e-4 in float32).", expression="0")
def _check_caching(*, batch_size: int = 16, tol: float = 1e-4, bound: float = 0.0, r: int = 1):
    """``r`` > 1 splits each step into cached sub-steps, which no longer draw the loop's tokens (a wrong
    sampler for this statement)."""
    from ...sampling.partial_caching import PartialCaching, cache_consistency_error, sample_partial_caching
    from ...rules.samplers import Moment
    from ...sampling.loop import sample
    from ...models.training import load_trained

    model, _ = load_trained(CHECKPOINTS / "text")
    ref = sample(model.predictor(), seq_len=model.config.seq_len, schedule=[8] * 8, sampler=Moment(1.0),
                 batch_size=batch_size, mask_id=model.config.mask_id, generator=0)
    got = sample_partial_caching(model, sampler=Moment(1.0), caching=PartialCaching(r=r), schedule=[8] * 8,
                                 batch_size=batch_size, generator=0)
    mismatches = int((ref.tokens != got.tokens).sum())
    diff = cache_consistency_error(model, ref.tokens, stride=5)
    value = mismatches + (0.0 if diff <= tol else diff)
    return value, bound, {"token_mismatches": mismatches, "rows_pass_max_abs_diff": diff}
