"""Sample quality against α, steps, hybrid γ and partial caching on the shipped models (the
analogue of [H]'s image and text results).

Message: MaskGIT, the moment sampler and U-moment sample at the implicit token temperature
τ = α/(1+α): at small α the digits are colder (lower per-sequence entropy) and, for this small model,
worse (higher FID analogue); as α grows all three approach the untempered uniform sampler. Data:
``mdtheory simulate quality`` (smoke preset, run into ``out_dir/quality`` unless results exist there).
"""

from __future__ import annotations

import json
from pathlib import Path

from .plot import finish_figure, new_figure

NAME = "quality"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    from ._smoke import driver_data

    return plot(driver_data(NAME, out_dir, quick=quick, seed=seed), out_dir)


_TEMPERED = (("maskgit", "o-"), ("moment", "s-"), ("umoment", "^-"))
_SCORE = {"digits": ("fid", "Fréchet distance (classifier features)"), "text": ("gen_ppl", "generative perplexity"),
          "antiberty": ("pll", "pseudo-log-likelihood / residue")}


def _band(r, key) -> float:
    """Three standard errors of an estimated score (0 where a run recorded none)."""
    se = r.get(f"{key}_se")
    return 3.0 * se if se is not None else 0.0


def _errorbar(ax, rows, x, key, fmt, *, label, scale=1.0, **kw):
    """Estimates of ``key`` against ``x`` with ± 3 se bars (rows sorted by x)."""
    rows = sorted(rows, key=lambda r: r[x])
    ax.errorbar([r[x] for r in rows], [r[key] / scale for r in rows], yerr=[_band(r, key) / scale for r in rows],
                fmt=fmt, capsize=3, label=label, **kw)


def _alpha_panel(ax, rows, model, steps):
    key, label = _SCORE[model]
    sel = [r for r in rows if r["model"] == model and r["steps"] == steps and r["cache_r"] is None]
    for name, marker in _TEMPERED:
        pts = [r for r in sel if r["sampler"] == name]
        if pts:
            _errorbar(ax, pts, "alpha", key, marker, label=name)
    for name, style in (("uniform", "--"), ("halton", ":")):
        for r in (r for r in sel if r["sampler"] == name):
            ax.axhline(r[key], ls=style, color="grey", label=f"{name} (untempered)")
            if _band(r, key):
                ax.axhspan(r[key] - _band(r, key), r[key] + _band(r, key), color="grey", alpha=0.12)
    ax.set(xscale="log", xlabel="α", ylabel=f"{label} (± 3 se)", title=f"{model}, {steps} cosine steps")
    _alpha_ticks(ax, sel)


def _alpha_ticks(ax, rows):
    alphas = sorted({r["alpha"] for r in rows if r["sampler"] in ("maskgit", "moment", "umoment")})
    ax.set_xticks(alphas, [f"{a:g}" for a in alphas])
    ax.minorticks_off()


def plot(data_dir, out_dir) -> Path:
    """Draw the figure from a driver output directory (any preset): quality and entropy against α on
    digits; with the paper preset also text and AntiBERTy against α, quality against steps, the hybrid γ
    sweep and partial caching (quality against NFE and wall-clock)."""
    data_dir = Path(data_dir)
    rows = [r for r in json.loads((data_dir / "results.json").read_text()) if not r.get("recovery")]
    models = [m for m in ("digits", "text", "antiberty") if any(r["model"] == m for r in rows)]
    digits = [r for r in rows if r["model"] == "digits" and r["steps"] == 8]
    many_steps = len({r["steps"] for r in rows if r["model"] == "digits"}) > 1
    panels = ["alpha:digits", "entropy"] + [f"alpha:{m}" for m in models if m != "digits"]
    panels += ["steps"] if many_steps else []
    steps_k = sorted({r["steps"] for r in rows if r["model"] == "digits"})
    panels += ["gamma"] if len({r["gamma"] for r in rows if r["sampler"] == "hybrid"}) > 1 else []
    panels += ["caching"] if len({r["cache_r"] for r in rows if r["cache_r"]}) > 1 else []
    fig, axes = new_figure(len(panels), max_cols=4)
    for ax, panel in zip(axes, panels):
        if panel.startswith("alpha:"):
            _alpha_panel(ax, rows, panel.split(":")[1], 8)
        elif panel == "entropy":
            for name, marker in _TEMPERED:
                _errorbar(ax, [r for r in digits if r["sampler"] == name and r["cache_r"] is None], "alpha",
                          "entropy", marker, label=name)
            for r in (r for r in digits if r["sampler"] == "uniform"):
                ax.axhline(r["entropy"], ls="--", color="grey", label="uniform (untempered)")
            ax.set(xscale="log", xlabel="α", ylabel="per-sequence entropy (nats, ± 3 se)",
                   title="digits: implicit temperature τ = α/(1+α)")
            _alpha_ticks(ax, digits)
        elif panel == "steps":
            for (name, marker), a in zip(_TEMPERED + (("uniform", "k--"),), (1.0, 1.0, 1.0, None)):
                pts = [r for r in rows if r["model"] == "digits" and r["sampler"] == name and r["alpha"] == a
                       and r["cache_r"] is None]
                _errorbar(ax, pts, "steps", "fid", marker, label=name + (" α = 1" if a else ""))
            ax.set(xscale="log", xlabel="steps K", ylabel="Fréchet distance (± 3 se)", title="digits: quality vs steps")
            ax.set_xticks(steps_k, [str(k) for k in steps_k])
            ax.minorticks_off()
        elif panel == "gamma":
            for m, marker in zip(("digits", "text"), ("o-", "s-")):
                key, _ = _SCORE[m]
                pts = sorted((r for r in rows if r["model"] == m and r["sampler"] == "hybrid"), key=lambda r: r["gamma"])
                ref = pts[0][key] if pts and pts[0][key] else 1.0
                _errorbar(ax, pts, "gamma", key, marker, label=f"{m} ({key} / value at γ = 0)", scale=ref)
            ax.set(xlabel="hybrid γ (0 = exploration order, 1 = moment)", ylabel="relative score (± 3 se)",
                   title="hybrid exploration / exploitation")
        else:  # partial caching: quality against NFE, wall-clock per sample on the twin axis
            sel = sorted((r for r in rows if r["model"] == "digits" and r["cache_r"]), key=lambda r: r["nfe"])
            nfe, fid, ms = ([r[k] for r in sel] for k in ("nfe", "fid", "samples_per_s"))
            ms = [1e3 / v for v in ms]
            _errorbar(ax, sel, "nfe", "fid", "o-", label="Fréchet distance (± 3 se)")
            for r in sel:
                ax.annotate(f"r = {r['cache_r']}", (r["nfe"], r["fid"]), fontsize=7)
            tw = ax.twinx()
            tw.plot(nfe, ms, "s:", color="tab:red", label="ms per sample")
            tw.set_ylabel("wall-clock ms / sample", color="tab:red")
            tw.legend(fontsize=7, loc="lower right")
            ax.set(xlabel="NFE (full-pass equivalents)", ylabel="Fréchet distance",
                   title="digits: partial caching (moment, α = 1)")
    for ax in axes:
        ax.legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
