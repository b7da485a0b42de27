"""Sample 1,000 digits with 8 MaskGIT steps (cosine) from the shipped model.

Run with ``mdtheory bench --only sample_digits``; the result is ``sample_digits.json``."""

from __future__ import annotations

from mdtheory.bench import median_time, shipped_model, sync_device


def run(quick: bool, device: str = "cpu") -> dict:
    from mdtheory.rules.samplers import MaskGIT
    from mdtheory.sampling.loop import sample

    model = shipped_model("digits").to(device)
    n = 200 if quick else 1000

    def run():
        sample(model.predictor(), seq_len=64, schedule="cosine", n_steps=8, sampler=MaskGIT(1.0), batch_size=n,
               mask_id=model.config.mask_id, generator=0, device=device)
        sync_device(device)

    med, times = median_time(run, repeats=3)
    return {"name": "sample_digits", "device": device, "n_samples": n, "n_steps": 8, "median_s": med,
            "times_s": times, "target_s": 30.0}
