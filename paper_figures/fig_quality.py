"""Sample quality against α on the shipped digits model (issue #6 groundwork; the analogue of [H]'s
image results).

Message: MaskGIT, the moment sampler and U-moment sample at the implicit token temperature
τ = α/(1+α): at small α the digits are colder (lower per-sequence entropy) and, for this small model,
worse (higher FID analogue); as α grows all three approach the untempered uniform sampler. Data:
``mdtheory simulate quality`` (smoke preset, run into ``out_dir/quality`` unless results exist there).
"""

from __future__ import annotations

import json
from pathlib import Path

from mdtheory.plot import finish_figure, new_figure

NAME = "quality"


def main(out_dir, *, quick: bool = False, rng: int = 0) -> Path:
    from ._smoke import smoke_data

    return plot(smoke_data(NAME, rng), out_dir)


def plot(data_dir, out_dir) -> Path:
    """Draw the figure from a driver output directory (any preset)."""
    data_dir = Path(data_dir)
    rows = [r for r in json.loads((data_dir / "results.json").read_text())
            if r["model"] == "digits" and not r.get("recovery") and r["steps"] == 8]
    fig, axes = new_figure(2)
    for name, marker in (("maskgit", "o-"), ("moment", "s-"), ("umoment", "^-")):
        sel = sorted((r["alpha"], r["fid"], r["entropy"], r["entropy_se"]) for r in rows
                     if r["sampler"] == name and r["cache_r"] is None)
        a, fid, h, se = zip(*sel)
        axes[0].plot(a, fid, marker, label=name)
        axes[1].errorbar(a, h, yerr=[3 * s for s in se], fmt=marker, capsize=3, label=name)
    for name, style in (("uniform", "--"), ("halton", ":")):
        r = next(r for r in rows if r["sampler"] == name)
        axes[0].axhline(r["fid"], ls=style, color="grey", label=f"{name} (untempered)")
        axes[1].axhline(r["entropy"], ls=style, color="grey", label=f"{name} (untempered)")
    axes[0].set(xscale="log", xlabel="α", ylabel="Fréchet distance (classifier features)",
                title="digits, 8 cosine steps")
    axes[1].set(xscale="log", xlabel="α", ylabel="per-sequence entropy (nats, ± 3 se)",
                title="implicit temperature τ = α/(1+α)")
    for ax in axes:
        ax.legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
