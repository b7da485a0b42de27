"""Finite-precision noise checks (§9). References: the pairwise-kink quadrature
(an independent integration route) on small vocabularies, and softmax, the exact law of untruncated
Gumbel-max, when the noise range is wide enough (float64)."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from ...exact.finite_precision_noise import truncated_gumbel_max_law, zipf_logits
from ...sampling.rounds import gumbel_noise_range
from ..registry import register


@register("noise.large_vocab_route", "§9",
          "The O(V) common-node law of Gumbel-max under float32 noise equals the pairwise quadrature on "
          "random vocabularies with V ≤ 40 (max abs error ≤ 1e-12), and under float64 noise equals softmax on "
          "Zipf(1.1) with V = 50,257 (≤ 1e-10).", expression="1e-10")
def _check_large_vocab(*, n_cases: int = 12, seed: int = 0, vocab_size: int = 50_257, tol_small: float = 1e-12,
                       tol: float = 1e-10, large_dtype: str = "float64"):
    """``large_dtype="float32"`` compares the float32-noise law with softmax (a wrong reference), which the
    check must catch."""
    rng = np.random.default_rng(seed)
    lo, hi = gumbel_noise_range("float32")
    small = 0.0
    for c in range(n_cases):
        a = rng.normal(0.0, [1.0, 5.0, 12.0][c % 3], size=int(rng.integers(2, 41)))
        ref, _ = truncated_gumbel_max_law(a, lo, hi, method="pairwise")
        got, _ = truncated_gumbel_max_law(a, lo, hi, method="common")
        small = max(small, float(np.abs(ref - got).max()))
    a = zipf_logits(vocab_size, 1.1)
    law, err = truncated_gumbel_max_law(a, *gumbel_noise_range(large_dtype), method="common")
    large = float(np.abs(law - softmax(a)).max())
    # scaled so that one number carries both tolerances
    return max(small * tol / tol_small, large), tol, {"small_vocab_max_err": small, "float64_vs_softmax": large,
                                                      "quadrature_error": err}
