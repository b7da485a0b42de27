"""Sample quality of a sampler on a real model (issue #6 groundwork; the analogue of [H]'s image and text
results, THEORY.md §2, §4.1).

:func:`sampler_by_name` builds MaskGIT, moment, U-moment, uniform, Halton and hybrid(γ) samplers for a
model's geometry; :func:`generate` runs one of them (optionally with partial caching, §4.6) and times it;
:func:`quality_metrics` scores the samples with the in-project evaluators:

* digits: Fréchet distance to the training digits (FID analogue) and the Inception-Score analogue;
* text: generative perplexity under the character LM;
* every model: the mean per-sequence unigram entropy with its standard error (the temperature
  signature: the implicit temperature τ = α/(1+α) of MaskGIT and the moment sampler lowers it).
"""

from __future__ import annotations

import time

import numpy as np
import torch

__all__ = ["SAMPLER_CHOICES", "sampler_by_name", "generate", "quality_metrics", "sequence_entropies"]

SAMPLER_CHOICES = ("maskgit", "moment", "umoment", "uniform", "halton", "hybrid")


def _exploration_order(seq_len: int, grid):
    from .orders import halton_order, van_der_corput_order

    order = halton_order(*grid) if grid is not None else van_der_corput_order(seq_len)
    return tuple(int(i) for i in order)


def sampler_by_name(name: str, *, alpha: float = 1.0, gamma: float = 0.5, seq_len: int, grid=None):
    """A sampler of :data:`SAMPLER_CHOICES`; Halton (2-D grids) or van der Corput (1-D) orders for the
    fixed-order and hybrid samplers."""
    from .sampling import make_sampler

    if name not in SAMPLER_CHOICES:
        raise ValueError(f"unknown sampler {name!r}; allowed: {', '.join(SAMPLER_CHOICES)}")
    order = _exploration_order(seq_len, grid) if name in ("halton", "hybrid") else None
    return make_sampler(name, alpha=alpha, gamma=gamma, order=order)


def generate(model, sampler, *, n_samples: int, n_steps: int, schedule: str = "cosine", seed: int = 0,
             device="cpu", caching=None, batch_size: int = 500) -> tuple[np.ndarray, dict]:
    """(samples (n, N), timing) from a :class:`~mdtheory.real_predictions.PredictionModel`; with
    ``caching`` (a PartialCaching) the denoiser runs the cached choose-then-sample loop instead."""
    from .sampling import sample

    gen = torch.Generator(device=device).manual_seed(seed)
    out, nfe = [], 0.0
    t0 = time.perf_counter()
    for lo in range(0, n_samples, batch_size):
        b = min(batch_size, n_samples - lo)
        if caching is None:
            res = sample(model.predict, seq_len=model.seq_len, schedule=schedule, n_steps=n_steps, sampler=sampler,
                         batch_size=b, mask_id=model.mask_id, generator=gen, device=device)
            nfe = float(n_steps)
        else:
            from .partial_caching import sample_partial_caching

            res = sample_partial_caching(model.module, sampler=sampler, caching=caching, schedule=schedule,
                                         n_steps=n_steps, batch_size=b, generator=gen, device=device)
            nfe = res.nfe
        out.append(res.tokens.cpu().numpy())
    sec = time.perf_counter() - t0
    return np.concatenate(out), {"seconds": sec, "samples_per_s": n_samples / sec,
                                 "rounds_per_s": n_steps * -(-n_samples // batch_size) / sec, "nfe": nfe}


def sequence_entropies(x: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each sequence's empirical token distribution."""
    from scipy.special import entr

    x = np.asarray(x)
    V = int(x.max()) + 1
    return entr(np.stack([np.bincount(r, minlength=V) for r in x]) / x.shape[1]).sum(axis=1)


def quality_metrics(model_name: str, x: np.ndarray) -> dict:
    """Evaluator scores of samples ``x`` from the model ``model_name`` (module doc)."""
    from .evaluators import (digits_features, frechet_distance, generative_perplexity, inception_score,
                             load_evaluator)

    h = sequence_entropies(x)
    out = {"entropy": float(h.mean()), "entropy_se": float(h.std(ddof=1) / np.sqrt(len(h)))}
    if model_name == "digits":
        from .datasets import load_dataset

        clf = load_evaluator("digits_classifier")
        out["fid"] = frechet_distance(digits_features(clf, x), digits_features(clf, load_dataset("digits").train))
        out["inception_score"] = inception_score(clf, x)
    elif model_name == "text":
        out["gen_ppl"] = generative_perplexity(load_evaluator("text_char_lm"), x)
    return out
