"""Sampler round throughput, B = 64, N = 256, V = 1024, k = 16: the fused MaskGIT and moment rounds against
a plain multi-pass reference round (target ≥ 1.5×).

Run with ``mdtheory bench --only round_throughput``; the result is ``round_throughput.json``."""

from __future__ import annotations

import torch

from mdtheory.bench import median_time, sync_device


def reference_maskgit_round(logits: torch.Tensor, k: int, alpha: float, generator: torch.Generator):
    """Benchmark baseline only: the plain multi-pass MaskGIT round of common implementations
    (softmax → categorical → gather → log → add Gumbel → top-k), in the logits' dtype."""
    B, N, V = logits.shape
    probs = torch.softmax(logits, dim=-1)
    cand = torch.multinomial(probs.reshape(-1, V), 1, generator=generator).reshape(B, N)
    conf = torch.log(probs.gather(-1, cand.unsqueeze(-1)).squeeze(-1))
    u = torch.rand(B, N, generator=generator, dtype=logits.dtype, device=logits.device)
    conf = conf + alpha * -torch.log(-torch.log(u.clamp_min(1e-20)))
    pos = torch.topk(conf, k, dim=-1).indices
    return pos, cand.gather(1, pos)


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.sampling.rounds import maskgit_round, moment_round

    B, N, V = (16, 128, 512) if quick else (64, 256, 1024)
    g = torch.Generator(device=device).manual_seed(0)
    logits = torch.randn(B, N, V, generator=g, device=device) * 3.0
    k, alpha = 16, 1.0
    reps = 3 if quick else 15

    def timed(fn):
        return median_time(lambda: (fn(), sync_device(device)), repeats=reps, warmup=2)[0]

    t_ref = timed(lambda: reference_maskgit_round(logits, k, alpha, g))
    t_mg = timed(lambda: maskgit_round(logits, k=k, alpha=alpha, generator=g))
    t_mg32 = timed(lambda: maskgit_round(logits, k=k, alpha=alpha, generator=g, noise_dtype=torch.float32))
    t_mo = timed(lambda: moment_round(logits, k=k, alpha=alpha, generator=g))
    return {"name": "round_throughput", "device": device, "batch": B, "n_masked": N, "vocab_size": V, "k": k,
            "threads": torch.get_num_threads(),
            "reference_samples_per_s": B / t_ref, "maskgit_samples_per_s": B / t_mg,
            "maskgit_float32_noise_samples_per_s": B / t_mg32, "moment_samples_per_s": B / t_mo,
            "speedup_maskgit_vs_reference": t_ref / t_mg, "speedup_moment_vs_reference": t_ref / t_mo,
            "median_s": {"reference": t_ref, "maskgit": t_mg, "maskgit_f32": t_mg32, "moment": t_mo}}
