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
    from ..rules.orders import halton_order, van_der_corput_order

    order = halton_order(*grid) if grid is not None else van_der_corput_order(seq_len)
    return tuple(int(i) for i in order)


def sampler_by_name(name: str, *, alpha: float = 1.0, gamma: float = 0.5, seq_len: int, grid=None):
    """A sampler of the quality experiments by name, with Halton (2-D) or van der Corput (1-D) fixed orders.

    Spec: §2.1–§2.3.

    Parameters
    ----------
    name : str
        ``maskgit``, ``moment``, ``umoment``, ``uniform``, ``halton`` or ``hybrid``.
    alpha : float
        α.
    gamma : float
        γ of ``hybrid``.
    seq_len : int
        D.
    grid : tuple of int, optional
        (H, W) for images.

    Returns
    -------
    Sampler

    Raises
    ------
    ValueError
        If the name is unknown.

    Examples
    --------
    >>> sampler_by_name("moment", alpha=0.5, seq_len=64)
    Moment(alpha=0.5, anneal=False)
    """
    from ..rules.registry import REGISTRY, make_sampler

    if name not in SAMPLER_CHOICES:
        raise ValueError(f"unknown sampler {name!r}; allowed: {', '.join(SAMPLER_CHOICES)}")
    order = _exploration_order(seq_len, grid) if name in ("halton", "hybrid") else None
    given = {"alpha": alpha, "share": gamma, "order": order}  # the hybrid's exploitation share is its `share`
    return make_sampler(name, **{k: v for k, v in given.items() if k in REGISTRY[name].params and v is not None})


def generate(model, sampler, *, n_samples: int, n_steps: int, schedule: str = "cosine", seed: int = 0,
             device="cpu", caching=None, batch_size: int = 500) -> tuple[np.ndarray, dict]:
    """Samples and timing of a sampler on a real model (with partial caching when asked).

    Spec: §2, §4.6.

    Parameters
    ----------
    model : PredictionModel
        The model.
    sampler : Sampler
        The sampler.
    n_samples : int
        How many sequences.
    n_steps : int
        K.
    schedule : str
        The schedule's name.
    seed : int
        Seed.
    device : str
        Where it runs.
    caching : PartialCaching, optional
        Run the cached choose-then-sample loop.
    batch_size : int
        Sequences per batch.

    Returns
    -------
    tuple
        (samples (n, N) int array, timing dict with ``seconds``, ``samples_per_s``, ``rounds_per_s``, ``nfe``).

    Examples
    --------
    >>> from mdtheory import MaskGIT
    >>> from mdtheory.montecarlo import load_prediction_model
    >>> x, timing = generate(load_prediction_model("digits"), MaskGIT(1.0), n_samples=4, n_steps=4)
    >>> x.shape, timing["nfe"]
    ((4, 64), 4.0)
    """
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
    """The evaluator scores of samples from a shipped model, each with a standard error.

    Spec: §9. Digits: FID and IS analogues; text: generative perplexity; both: per-sequence entropy; AntiBERTy:
    pseudo-log-likelihood over ``pll_positions`` seeded positions and pairwise identity.

    Parameters
    ----------
    model_name : str
        ``digits``, ``text`` or ``antiberty``.
    x : numpy.ndarray, shape (n, N)
        Samples.
    pll_positions : int
        AntiBERTy's positions per sequence.

    Returns
    -------
    dict

    Examples
    --------
    >>> from mdtheory.models import load_dataset
    >>> q = quality_metrics("digits", load_dataset("digits").held_out[:100])
    >>> sorted(k for k in q if k.startswith("fid"))
    ['fid', 'fid_se']
    """
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
    """The per-sequence mean of log p(x_i | x_−i), masking one position at a time.

    Spec: §9 (AntiBERTy's quality score). With ``n_positions`` the mean runs over that many seeded random positions:
    an unbiased estimate at a fraction of the N model passes.

    Parameters
    ----------
    predict : callable
        A prediction function.
    x : numpy.ndarray, shape (n, N)
        Sequences.
    mask_id : int
        The mask token.
    n_positions : int, optional
        Positions per sequence.
    seed : int
        Seed.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> from mdtheory.models import known_law_target, target_predictor
    >>> t = known_law_target("markov")
    >>> pll = pseudo_log_likelihood(target_predictor(t), t.sample(3, seed=0), mask_id=0, n_positions=4)
    >>> pll.shape, bool(np.all(pll <= 0))
    ((3,), True)
    """
    xt = torch.as_tensor(np.asarray(x), dtype=torch.long)
    n, N = xt.shape
    positions = range(N) if n_positions is None or n_positions >= N else \
        np.sort(np.random.default_rng(seed).choice(N, size=int(n_positions), replace=False))
    total = torch.zeros(n, dtype=torch.float64)
    for i in positions:
        masked = torch.zeros_like(xt, dtype=torch.bool)
        masked[:, i] = True
        lp = torch.log_softmax(predict(torch.where(masked, mask_id, xt), masked)[:, i].double(), dim=-1).cpu()
        total += lp.gather(1, xt[:, i:i + 1])[:, 0]
    return (total / len(positions)).numpy()


def pairwise_identity(x: np.ndarray, *, n_pairs: int = 500, seed: int = 0) -> float:
    """The mean fraction of identical positions over random pairs of distinct samples (1: all samples equal).

    Spec: §9 (a diversity score).

    Parameters
    ----------
    x : numpy.ndarray, shape (n, N)
        Samples.
    n_pairs : int
        Pairs drawn.
    seed : int
        Seed.

    Returns
    -------
    float

    Examples
    --------
    >>> pairwise_identity(np.zeros((5, 4), int))
    1.0
    """
    x = np.asarray(x)
    if len(x) < 2:
        raise ValueError("pairwise_identity needs at least two samples")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(x), n_pairs)
    b = (a + rng.integers(1, len(x), n_pairs)) % len(x)
    return float((x[a] == x[b]).mean())


def masked_recovery(model, sampler, sequences, *, mask_fraction: float = 0.3, n_steps: int = 8, seed: int = 0,
                    device="cpu") -> dict:
    """Mask a fraction of each held-out sequence, regenerate it with a sampler, and score the exact recoveries.

    Spec: §9.

    Parameters
    ----------
    model : PredictionModel
        The model.
    sampler : Sampler
        The sampler.
    sequences : sequence of arrays
        Held-out sequences (any lengths up to the model's).
    mask_fraction : float
        The masked fraction.
    n_steps : int
        K.
    seed : int
        Seed.
    device : str
        Where it runs.

    Returns
    -------
    dict
        ``recovery`` (mean) and ``recovery_se``.

    Examples
    --------
    >>> from mdtheory import MaskGIT
    >>> from mdtheory.models import load_dataset
    >>> from mdtheory.montecarlo import load_prediction_model
    >>> r = masked_recovery(load_prediction_model("text"), MaskGIT(1.0), load_dataset("text").held_out[:8])
    >>> bool(0 <= r["recovery"] <= 1)
    True
    """
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
    """One schedule on a shipped model: its loss-curve cost Q with standard error, and its samples' quality.

    Spec: §5.3, §5.6. Q = Σ_t k_t·CE_θ(s_{t−1}) = E_learn + E_fact + H(π) for random order. ``data-driven`` is chosen on an
    independent curve estimate (seed (seed, 1)) and scored on (seed, 0), so it is not scored on its own noise.

    Parameters
    ----------
    model_name : str
        ``digits`` or ``text``.
    schedule : str
        A named schedule, ``geometric`` or ``data-driven`` (the optimum of the loss curve).
    n_steps : int
        K.
    n_samples : int
        Samples for the quality scores.
    n_per_m : int
        Loss-curve draws per m.
    seed : int
        Seed.
    device : str
        Where it runs.

    Returns
    -------
    dict
        ``loss_curve_quantity`` and its ``_se``, the sizes and the quality metrics.

    Examples
    --------
    >>> r = schedule_quality("digits", "constant", n_steps=4, n_samples=50, n_per_m=20)
    >>> r["sizes"]
    [16, 16, 16, 16]
    """
    from ..profiles.optimal_schedules import data_driven_schedule
    from ..profiles.schedule_shapes import geometric_schedule
    from ..profiles.schedule_costs import schedule_cost_stderr
    from .real_predictions import load_prediction_model, model_loss_curve
    from ..rules.schedules import as_schedule

    if model_name not in QUALITY_METRIC:
        raise ValueError(f"model_name must be one of {', '.join(QUALITY_METRIC)}; got {model_name!r}")
    m = load_prediction_model(model_name, device)
    N = m.seq_len
    if schedule == "data-driven":
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
    """:func:`schedule_ordering` of :func:`schedule_quality` rows of one model (costs and qualities with errors).

    Spec: §5.3, §5.6, §9.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`schedule_quality`.
    model_name : str
        Which model's rows.
    names : sequence of str, optional
        The schedules to order (default: all in the rows).

    Returns
    -------
    ScheduleOrdering

    Examples
    --------
    >>> rows = [{"model": "digits", "schedule": s, "steps": 4, "loss_curve_quantity": q, "loss_curve_quantity_se": 0.1,
    ...          "fid": f, "fid_se": 1.0} for s, q, f in (("a", 1.0, 10.0), ("b", 2.0, 20.0))]
    >>> order_schedule_rows(rows, "digits").agreements
    1
    """
    from .schedule_ordering import schedule_ordering

    metric = QUALITY_METRIC[model_name]
    return schedule_ordering([r["schedule"] for r in rows] if names is None else names,
                             [r["loss_curve_quantity"] for r in rows], [r["loss_curve_quantity_se"] for r in rows],
                             [r[metric] for r in rows], [r[f"{metric}_se"] for r in rows])
