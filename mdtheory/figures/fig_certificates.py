"""Confidence certificates on random joints (§10.5).

Message: TV(π, ⊗p) ≤ Σ_j (1 − c_j) and π(x*) ≥ 1 − Σ_j (1 − c_j) hold on every joint, and both are reached:
the TV bound by deviations that always coincide (as δ → 0), the Fréchet bound by deviations that never do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exact.certificates import certificate, confident_joint, frechet_witness, tv_witness
from .plot import finish_figure, new_figure

NAME = "certificates"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    gen = np.random.default_rng(seed)
    certs = [certificate(confident_joint(gen, int(gen.integers(2, 5)), int(gen.integers(2, 4))))
             for _ in range(200 if quick else 1500)]
    s = np.array([c.tv_bound for c in certs])
    fig, axes = new_figure(2)
    ax = axes[0]
    ax.scatter(s, [c.tv_product for c in certs], s=6, alpha=0.5, label="random joints")
    d = np.linspace(1e-4, 0.25, 60)
    ax.plot(4 * d, [certificate(tv_witness(4, x)).tv_product for x in d], "C3-", label="witness: errors coincide (n = 4)")
    ax.plot([0, s.max()], [0, s.max()], "k:", label="bound Σ(1 − c_j)")
    ax.set(xlabel="Σ_j (1 − c_j)", ylabel="TV(π, ⊗ p_j)", title="TV bound")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.scatter(1 - s, [c.p_argmax for c in certs], s=6, alpha=0.5, label="random joints")
    w = [certificate(frechet_witness([x, x, x])) for x in d[d <= 1 / 3]]
    ax.plot([c.frechet_bound for c in w], [c.p_argmax for c in w], "C3-", label="witness: errors never coincide")
    ax.plot([1 - s.max(), 1], [1 - s.max(), 1], "k:", label="bound 1 − Σ(1 − c_j)")
    ax.set(xlabel="1 − Σ_j (1 − c_j)", ylabel="π(X_S = x*_S)", title="Fréchet lower bound")
    ax.legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
