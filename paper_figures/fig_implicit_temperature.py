"""Implicit temperature: MaskGIT's position and token laws converge to Eq. 2 as N grows.

Message: at k = 1 the exact MaskGIT law P(i, x) approaches p_i(x)^β / Σ_j m_j: the position law tends
to m_i/Σm and the token law at a chosen position to p_i^β/m_i (temperature α/(1+α)); both errors decay
like 1/N ([H] Theorem 1, THEORY.md §4.1). Dirichlet(1) rows over V = 4 tokens.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from mdtheory.plot import loglog_with_fit, new_figure, save_figure
from mdtheory.temperature import implicit_temperature_errors

NAME = "implicit_temperature"


def main(out_dir, *, quick: bool = False, rng: int = 0) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_values = [8, 16, 32, 64] if quick else [8, 16, 32, 64, 128, 256, 512, 1024]
    alphas = [0.5, 1.0, 2.0]
    rows = []
    for a in alphas:
        for n in n_values:
            P = np.random.default_rng([rng, n]).dirichlet(np.ones(4), size=n)
            e = implicit_temperature_errors(P, alpha=a)
            rows.append(dict(alpha=a, n_masked=n, position_tv=e.position_tv, token_tv=e.token_tv_weighted,
                             quad_error=e.quad_error, seed=rng))
    with open(out / f"{NAME}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    fig, axes = new_figure(2)
    for a in alphas:
        sel = [r for r in rows if r["alpha"] == a]
        loglog_with_fit(axes[0], [r["n_masked"] for r in sel], [r["position_tv"] for r in sel], label=f"α={a}")
        loglog_with_fit(axes[1], [r["n_masked"] for r in sel], [r["token_tv"] for r in sel], label=f"α={a}")
    axes[0].set_title("position law vs m_i / Σm")
    axes[1].set_title("token law vs p^β / m (weighted TV)")
    for ax in axes:
        ax.set_xlabel("N (masked positions)")
        ax.set_ylabel("exact TV")
        ax.legend(fontsize=8)
    path = out / f"fig_{NAME}.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    print(main(Path("figures")))
