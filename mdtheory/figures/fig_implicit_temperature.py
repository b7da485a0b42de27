"""Implicit temperature: MaskGIT's position and token laws converge to Eq. 2 as N grows.

Message: at k = 1 the exact MaskGIT law P(i, x) approaches p_i(x)^β / Σ_j m_j: the position law tends
to m_i/Σm and the token law at a chosen position to p_i^β/m_i (temperature α/(1+α)); both errors decay
like 1/N ([H] Theorem 1, §4.1). Dirichlet(1) rows over V = 4 tokens.
"""

from __future__ import annotations

from pathlib import Path

from .plot import finish_figure, loglog_curves, new_figure
from ..sweeps.runner import run_sweep
from ..exact.temperature import implicit_temperature_task

NAME = "implicit_temperature"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    n_values = [8, 16, 32, 64] if quick else [8, 16, 32, 64, 128, 256, 512, 1024]
    tasks = [dict(alpha=a, n_masked=n, vocab_size=4, seed=seed) for a in (0.5, 1.0, 2.0) for n in n_values]
    rows = run_sweep(tasks, implicit_temperature_task, out / f"{NAME}_data", progress=False)
    fig, axes = new_figure(2)
    for ax, y, title in ((axes[0], "position_tv", "position law vs m_i / Σm"),
                         (axes[1], "token_tv", "token law vs p^β / m (weighted TV)")):
        loglog_curves(ax, rows, x="n_masked", y=y, group="alpha", label="α={}", xlabel="N (masked positions)",
                      error="quad_error", ylabel="exact TV", title=title)
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
