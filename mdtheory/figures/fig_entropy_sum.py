"""Entropy-sum decoding: exact KL against E[#iterations] over a sweep of thresholds (§10.6).

Message: raising the threshold τ trades iterations for error along a curve that depends on the family; the
product E[#iterations]·KL/H(X) stays O(1) across families whose entropy per token differs sevenfold, as the
Õ(H(X)/ε) claim says. Exact values by the path formula of §8 (N = 8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..multiround.entropy_sum import ENTROPY_SUM_THRESHOLDS, entropy_sum_families, entropy_sum_table
from .plot import finish_figure, new_figure

NAME = "entropy_sum"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    taus = np.array(ENTROPY_SUM_THRESHOLDS[::2] if quick else ENTROPY_SUM_THRESHOLDS)
    fig, axes = new_figure(2)
    rows = entropy_sum_table(thresholds=taus)
    for name, marker in zip(entropy_sum_families(), "osv^D"):
        rs = [r for r in rows if r["family"] == name]
        its = np.array([r["iterations"] for r in rs])
        kl = np.array([r["kl"] for r in rs])
        label = f"{name} (H/N = {rs[0]['entropy_per_token']:.2f})"
        axes[0].semilogy(its, np.maximum(kl, 1e-12), marker + "-", ms=4, label=label)
        axes[1].semilogx(taus, [r["ratio"] for r in rs], marker + "-", ms=4, label=label)
    axes[0].set(xlabel="E[#iterations]", ylabel="KL(π ‖ ν) (nats; 1e-12 floor)", title="error against iterations")
    axes[1].set(xlabel="threshold τ (nats)", ylabel="E[#iterations] · KL / H(X)", title="the Õ(H/ε) trend")
    axes[0].legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
