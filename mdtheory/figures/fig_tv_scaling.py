"""The TV-scaling sweep: exact TV(MaskGIT, moment) in N at k = 2 and k = 3, and in k on the homogeneous route.

Message: at fixed k the exact TV decays like 1/N (fitted slopes ≈ −1 up to N = 4096 at k = 2 and N = 256
at k = 3), and at fixed N = 4096 it grows with k like k^1.4, slower than the k² that [H] Theorem 2
allows for N ≫ k² (§3.5, §4.2), and saturates near 1 only as k approaches N (V = 2 reaches k = N; V = 4
stops at the largest k whose memory estimate fits). Solid lines V = 4, dashed V = 2; the fitted slope is in each label
(in the right panel, fitted over k ≤ √N). Data: ``mdtheory sweep tv --preset scaling`` (any executor).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..sweeps.fits import fit_loglog_slope
from .plot import finish_figure, loglog_with_fit, new_figure

NAME = "tv_scaling"


def plot(data_dir, out_dir) -> Path:
    """Draw the figure from the output folder of ``mdtheory sweep tv --preset scaling``."""
    rows = json.loads((Path(data_dir) / "results.json").read_text())
    fig, axes = new_figure(3)
    panels = [(axes[0], "dirichlet", 2, "n_masked"), (axes[1], "dirichlet", 3, "n_masked"),
              (axes[2], "homogeneous", None, "k")]
    for ax, family, k, x in panels:
        sel = [r for r in rows if r["family"] == family and (k is None or r["k"] == k)]
        for i, V in enumerate(sorted({r["vocab_size"] for r in sel}, reverse=True)):
            for j, a in enumerate(sorted({r["alpha"] for r in sel})):
                # each TV with its quadrature error: points it does not resolve stay out of the fits
                pts = sorted((r[x], r["tv"], r.get("quad_error", 0.0)) for r in sel
                             if r["vocab_size"] == V and r["alpha"] == a)
                if len(pts) < 2:
                    continue
                style = dict(color=f"C{j}", linestyle="-" if i == 0 else "--", markersize=3)
                if x == "k":  # the slope of the regime k² ≤ N, the whole curve drawn
                    n = sel[0]["n_masked"]
                    xs, ys, es = zip(*[q for q in pts if q[0] ** 2 <= n])
                    fit = fit_loglog_slope(xs, ys, error=es)
                    ax.loglog([q[0] for q in pts], [q[1] for q in pts], marker="o",
                              label=f"V={V} α={a:g} (slope {fit.slope:.2f})", **style)
                else:
                    loglog_with_fit(ax, [q[0] for q in pts], [q[1] for q in pts], label=f"V={V} α={a:g}",
                                    error=[q[2] for q in pts], **style)
        if family == "homogeneous" and sel:
            n = sel[0]["n_masked"]
            ks = sorted({r["k"] for r in sel})
            tv1 = min(r["tv"] for r in sel if r["k"] == ks[0])
            ref = [(kk, tv1 * (kk / ks[0]) ** 2) for kk in ks if tv1 * (kk / ks[0]) ** 2 <= 1.0]
            ax.loglog(*zip(*ref), "k:", label="∝ k² (reference)")
            ax.axvline(n ** 0.5, color="0.6", linewidth=0.8, label="k = √N")
            ax.set(xlabel="k (positions revealed)", title=f"homogeneous rows, N = {n}")
        else:
            ax.set(xlabel="N (masked positions)", title=f"Dirichlet rows, k = {k}")
        ax.set_ylabel("exact TV(MaskGIT, moment)")
        ax.legend(fontsize=6)
    return finish_figure(fig, out_dir, NAME)
