"""Sample quality of a sampler on a real model (the analogue of [H]'s image and text
results, §2, §4.1).

:func:`sampler_by_name` builds MaskGIT, moment, U-moment, uniform, Halton and hybrid(γ) samplers for a
model's geometry; :func:`generate` runs one of them (optionally with partial caching, §4.6) and times it;
:func:`quality_metrics` scores the samples with the in-project evaluators:

* digits: Fréchet distance to the training digits (FID analogue; ``fid_se``: bootstrap over the samples,
  reference fixed) and the Inception-Score analogue;
* text: generative perplexity under the character LM (``gen_ppl_se``: delta method over sequences);
* AntiBERTy: the pseudo-log-likelihood per residue under AntiBERTy itself (:func:`pseudo_log_likelihood`;
  **convention**: averaged over 24 seeded random positions of each sequence, an unbiased estimate),
  the mean pairwise identity between samples (:func:`pairwise_identity`, diversity), and the recovery of
  masked residues of held-out sequences (:func:`masked_recovery`);
* every model: the mean per-sequence unigram entropy with its standard error (the temperature
  signature: the implicit temperature τ = α/(1+α) of MaskGIT and the moment sampler lowers it).
"""

from __future__ import annotations

import time

import numpy as np
import torch

__all__ = ["SAMPLER_CHOICES", "sampler_by_name", "generate", "quality_metrics", "sequence_entropies",
           "pseudo_log_likelihood", "pairwise_identity", "masked_recovery", "QUALITY_METRIC", "schedule_quality",
           "order_schedule_rows"]

SAMPLER_CHOICES = ("maskgit", "moment", "umoment", "uniform", "halton", "hybrid")
#: the lower-is-better quality score of each shipped model's samples
QUALITY_METRIC = {"digits": "fid", "text": "gen_ppl"}


def _exploration_order(seq_len: int, grid):
    from ..sampling.orders import halton_order, van_der_corput_order

    order = halton_order(*grid) if grid is not None else van_der_corput_order(seq_len)
    return tuple(int(i) for i in order)


def sampler_by_name(name: str, *, alpha: float = 1.0, gamma: float = 0.5, seq_len: int, grid=None):
    """A sampler of :data:`SAMPLER_CHOICES`; Halton (2-D grids) or van der Corput (1-D) orders for the
    fixed-order and hybrid samplers."""
    from ..sampling.loop import make_sampler

    if name not in SAMPLER_CHOICES:
        raise ValueError(f"unknown sampler {name!r}; allowed: {', '.join(SAMPLER_CHOICES)}")
    order = _exploration_order(seq_len, grid) if name in ("halton", "hybrid") else None
    return make_sampler(name, alpha=alpha, gamma=gamma, order=order)


def generate(model, sampler, *, n_samples: int, n_steps: int, schedule: str = "cosine", seed: int = 0,
             device="cpu", caching=None, batch_size: int = 500) -> tuple[np.ndarray, dict]:
    """(samples (n, N), timing) from a :class:`~mdtheory.montecarlo.real_predictions.PredictionModel`; with
    ``caching`` (a PartialCaching) the denoiser runs the cached choose-then-sample loop instead."""
    from ..sampling.loop import sample

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
            from ..sampling.partial_caching import sample_partial_caching

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


def quality_metrics(model_name: str, x: np.ndarray, *, pll_positions: int = 24) -> dict:
    """Evaluator scores of samples ``x`` from the model ``model_name`` (module doc); AntiBERTy's
    pseudo-log-likelihood averages over ``pll_positions`` seeded positions per sequence."""
    from ..models.evaluators import (digits_features, frechet_distance, frechet_distance_stderr, generative_perplexity,
                             inception_score, load_evaluator)

    h = sequence_entropies(x)
    out = {"entropy": float(h.mean()), "entropy_se": float(h.std(ddof=1) / np.sqrt(len(h)))}
    if model_name == "digits":
        from ..models.datasets import load_dataset

        clf = load_evaluator("digits_classifier")
        fa, fb = digits_features(clf, x), digits_features(clf, load_dataset("digits").train)
        out["fid"] = frechet_distance(fa, fb)
        out["fid_se"] = frechet_distance_stderr(fa, fb)
        out["inception_score"] = inception_score(clf, x)
    elif model_name == "text":
        out["gen_ppl"], out["gen_ppl_se"] = generative_perplexity(load_evaluator("text_char_lm"), x,
                                                                  return_stderr=True)
    elif model_name == "antiberty":
        from .real_predictions import load_prediction_model

        m = load_prediction_model("antiberty")
        pll = pseudo_log_likelihood(m.predict, x, mask_id=m.mask_id, n_positions=pll_positions)
        out.update(pll=float(pll.mean()), pll_se=float(pll.std(ddof=1) / np.sqrt(len(pll))),
                   pairwise_identity=pairwise_identity(x))
    return out


def pseudo_log_likelihood(predict, x: np.ndarray, *, mask_id: int, n_positions: int | None = None,
                          seed: int = 0) -> np.ndarray:
    """Per-sequence mean over positions of log p(x_i | x_−i), masking one position at a time. With
    ``n_positions`` the mean runs over that many seeded random positions (an unbiased estimate of the
    full mean at a fraction of the N model passes)."""
    xt = torch.as_tensor(np.asarray(x), dtype=torch.long)
    n, N = xt.shape
    positions = range(N) if n_positions is None or n_positions >= N else \
        np.sort(np.random.default_rng(seed).choice(N, size=int(n_positions), replace=False))
    total = torch.zeros(n, dtype=torch.float64)
    for i in positions:
        masked = torch.zeros_like(xt, dtype=torch.bool)
        masked[:, i] = True
        lp = torch.log_softmax(predict(torch.where(masked, mask_id, xt), masked).double(), dim=-1)
        total += lp[:, i].gather(1, xt[:, i:i + 1])[:, 0].cpu()
    return (total / len(positions)).numpy()


def pairwise_identity(x: np.ndarray, *, n_pairs: int = 500, seed: int = 0) -> float:
    """Mean fraction of identical positions over random distinct pairs of samples (1 = all samples equal)."""
    x = np.asarray(x)
    if len(x) < 2:
        raise ValueError("pairwise_identity needs at least two samples")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(x), n_pairs)
    b = (a + rng.integers(1, len(x), n_pairs)) % len(x)
    return float((x[a] == x[b]).mean())


def masked_recovery(model, sampler, sequences, *, mask_fraction: float = 0.3, n_steps: int = 8, seed: int = 0,
                    device="cpu") -> dict:
    """Mask ``mask_fraction`` of each held-out sequence (seeded; any lengths), regenerate the masked residues
    with ``sampler`` and return the fraction recovered exactly: mean and standard error over sequences."""
    from ..sampling.loop import sample

    if not 0.0 < mask_fraction < 1.0:
        raise ValueError(f"mask_fraction must be in (0, 1); got {mask_fraction!r}")
    g = torch.Generator().manual_seed(seed)
    hits = []
    for seq in sequences:
        x = torch.as_tensor(np.asarray(seq), dtype=torch.long).view(1, -1)
        N = x.shape[1]
        k = max(1, int(round(mask_fraction * N)))
        masked = torch.zeros(1, N, dtype=torch.bool)
        masked[0, torch.randperm(N, generator=g)[:k]] = True
        res = sample(model.predict, seq_len=N, schedule="cosine", n_steps=min(n_steps, k), sampler=sampler,
                     batch_size=1, mask_id=model.mask_id, init_tokens=x, init_masked=masked, device=device,
                     generator=torch.Generator(device=device).manual_seed(seed + len(hits)))
        hits.append(float(((res.tokens.cpu() == x) & masked).sum()) / k)
    h = np.asarray(hits)
    return {"recovery": float(h.mean()), "recovery_se": float(h.std(ddof=1) / np.sqrt(len(h))) if len(h) > 1
            else float("nan"), "n_sequences": len(h)}


def schedule_quality(model_name: str, schedule: str, *, n_steps: int, n_samples: int, n_per_m: int,
                     seed: int = 0, device="cpu") -> dict:
    """One schedule on a shipped model (digits or text; §5.3, §5.6): its loss-curve cost
    Q = Σ_t k_t·CE_θ(s_{t−1}) (= E_learn + E_fact + H(π) for random order) with standard error, and the
    quality of ``n_samples`` random-order untempered CTS samples (the sampler Q describes) drawn on it.

    ``schedule`` is a name of :func:`mdtheory.sampling.schedules.as_schedule`, ``"geometric"`` (increasing, §5.5)
    or ``"dp"``: the minimiser of Q on an *independent* curve estimate (seed (seed, 1); Q itself uses
    (seed, 0)), so that the DP schedule is not scored on the noise it was fitted to."""
    from ..profiles.optimal_schedules import data_driven_schedule, geometric_schedule, schedule_cost_stderr
    from .real_predictions import load_prediction_model, model_loss_curve
    from ..sampling.schedules import as_schedule

    if model_name not in QUALITY_METRIC:
        raise ValueError(f"model_name must be one of {', '.join(QUALITY_METRIC)}; got {model_name!r}")
    m = load_prediction_model(model_name, device)
    N = m.seq_len
    if schedule == "dp":
        sizes = data_driven_schedule(model_loss_curve(model_name, n_per_m=n_per_m, seed=(seed, 1),
                                                      device=str(device)), n_steps)
    elif schedule == "geometric":
        sizes = geometric_schedule(N, n_steps=n_steps)
    else:
        sizes = as_schedule(schedule, seq_len=N, n_steps=n_steps)
    sizes = [int(k) for k in sizes]
    q, q_se = schedule_cost_stderr(model_loss_curve(model_name, n_per_m=n_per_m, seed=(seed, 0),
                                                    device=str(device)), sizes)
    x, timing = generate(m, sampler_by_name("uniform", seq_len=N), n_samples=n_samples, n_steps=n_steps,
                         schedule=sizes, seed=seed, device=device)
    return {"sizes": sizes, "loss_curve_quantity": q, "loss_curve_quantity_se": q_se,
            **quality_metrics(model_name, x), "samples_per_s": timing["samples_per_s"]}


def order_schedule_rows(rows, model_name: str, names=None):
    """:func:`mdtheory.profiles.optimal_schedules.schedule_ordering` of :func:`schedule_quality` rows of one model:
    their costs Q and quality scores, both with standard errors (``names`` default to the rows' schedules)."""
    from ..profiles.optimal_schedules import schedule_ordering

    metric = QUALITY_METRIC[model_name]
    return schedule_ordering([r["schedule"] for r in rows] if names is None else names,
                             [r["loss_curve_quantity"] for r in rows], [r["loss_curve_quantity_se"] for r in rows],
                             [r[metric] for r in rows], [r[f"{metric}_se"] for r in rows])
