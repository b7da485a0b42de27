"""Samples from the shipped digits denoiser: MaskGIT and the moment sampler, 8 cosine steps.

Message: the trained model generates recognisable digits with both samplers; the FID and IS analogues
from the in-project classifier are printed in the titles (held-out real digits for reference).
"""

from __future__ import annotations

from pathlib import Path


from ..models.datasets import load_dataset
from ..models.evaluators import digits_features, frechet_distance, inception_score, load_evaluator
from .plot import digit_grid, finish_figure, new_figure
from ..rules.samplers import MaskGIT, Moment
from ..sampling.loop import sample
from ..models.training import load_trained
from ..models import SHIPPED_CHECKPOINTS

NAME = "digits_samples"
CKPT = SHIPPED_CHECKPOINTS


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    model, _ = load_trained(CKPT / "digits")
    clf = load_evaluator("digits_classifier")
    data = load_dataset("digits")
    ref = digits_features(clf, data.train)
    n = 180 if quick else 1000
    fig, axes = new_figure(3, width=3.6, height=4.3)
    panels = [("held-out real", data.held_out)]
    for name, smp in (("MaskGIT α=1", MaskGIT(1.0)), ("moment α=1", Moment(1.0))):
        x = sample(model.predictor(), seq_len=64, schedule="cosine", n_steps=8, sampler=smp, batch_size=n,
                   mask_id=model.config.mask_id, generator=seed).tokens.numpy()
        panels.append((name, x))
    for ax, (name, x) in zip(axes, panels):
        digit_grid(ax, x[:36], grid=(8, 8), cols=6, vmax=16)
        fid = frechet_distance(digits_features(clf, x), ref)
        ax.set(title=f"{name}\nFID* {fid:.1f}, IS* {inception_score(clf, x):.2f}", xticks=[], yticks=[])
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
