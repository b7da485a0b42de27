"""A moment-sampler run on the shipped text model (N = 64) with 8 coarse steps of 8 tokens,
each split into r = 4 sub-steps: cached rows passes against 4 full passes per coarse step (the same
trajectory length). Reports both medians, the ratio and the NFE in full-pass equivalents.

Run with ``mdtheory bench --only partial_caching``; the result is ``partial_caching.json``."""

from __future__ import annotations

from mdtheory.bench import median_time, shipped_model, sync_device


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.sampling.partial_caching import PartialCaching, sample_partial_caching
    from mdtheory.rules.samplers import Moment

    model = shipped_model("text").to(device)
    B = 64 if quick else 256
    out = {"name": "partial_caching", "device": device, "batch_size": B, "seq_len": 64, "coarse_steps": 8, "r": 4, "target_ratio": 2.0}
    for label, caching in (("cached", PartialCaching(r=4)), ("uncached", PartialCaching(r=4, refresh_every=1))):
        res = {}

        def run():
            res["r"] = sample_partial_caching(model, sampler=Moment(1.0), caching=caching, schedule=[8] * 8,
                                              batch_size=B, generator=0, device=device)
            sync_device(device)

        out[f"median_s_{label}"], _ = median_time(run, repeats=3)
        out[f"nfe_{label}"] = res["r"].nfe
    out["speedup"] = out["median_s_uncached"] / out["median_s_cached"]
    out["median_s"] = out["median_s_cached"]
    return out
