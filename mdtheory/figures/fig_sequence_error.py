"""Per-token against whole-sequence error on a bigram chain with forbidden transitions (§10.3).

Message: the per-token KL(π‖ν)/N of parallel unmasking is Θ(1/K) whatever N (left: the curves for N = 10 to
10⁴ lie on each other), so per-token quality needs O(1) steps; but the sequence error rate — a forbidden
transition somewhere — needs K close to N (middle: exact by enumeration, with TV and √(KL/2) above it), and
the K that keeps the total KL ≤ 0.5 nats grows linearly in N (right). Every KL is KL(π ‖ ν), data law first;
KL(ν ‖ π) is infinite wherever SER > 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..targets import bigram_chain, forbidden_bigram_transition
from ..profiles.sequence_error import per_token_curve, sequence_error_table, steps_for_sequence_kl
from .plot import finish_figure, new_figure

NAME = "sequence_error"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    P = forbidden_bigram_transition(3)
    fig, axes = new_figure(3, width=4.0)
    steps = np.unique(np.round(np.logspace(0, 3, 13)).astype(int))
    for n, marker in zip((10, 100, 1000, 10_000), "osv^"):
        rows = [r for r in per_token_curve(P, [n], [K for K in steps if K < n]) if r["kl_per_token"] > 0]
        axes[0].loglog([r["K"] for r in rows], [r["kl_per_token"] for r in rows], marker + "-", ms=4, label=f"N = {n}")
    axes[0].set(xlabel="K (equal blocks)", ylabel="E·KL(π ‖ ν_σ) / N (nats)", title="per token: flat in N")
    axes[0].legend(fontsize=7)
    for n, marker in zip((4, 6) if quick else (4, 6, 8), "osv"):
        rows = sequence_error_table(bigram_chain(n), range(1, n + 1))
        K = [r["K"] for r in rows]
        line = axes[1].plot(K, [r["ser"] for r in rows], marker + "-", ms=4, label=f"SER, N = {n}")[0]
        axes[1].plot(K, [r["pinsker"] for r in rows], ":", color=line.get_color(), label=f"√(KL/2), N = {n}")
    axes[1].set(xlabel="K", ylabel="probability", title="whole sequence: SER ≤ TV ≤ √(KL/2)", ylim=(0, 1.05))
    axes[1].legend(fontsize=6)
    sizes = np.array([250, 500, 1000, 2000] if quick else [250, 500, 1000, 2000, 4000, 8000])
    need = np.array([steps_for_sequence_kl(P, int(n), 0.5) for n in sizes])
    axes[2].loglog(sizes, need, "o-", ms=4, label=f"K for E·KL ≤ 0.5 (K/N ≈ {np.mean(need / sizes):.2f})")
    axes[2].loglog(sizes, sizes, "k:", label="K = N")
    axes[2].set(xlabel="N", ylabel="K", title="whole sequence: K = Θ(N)")
    axes[2].legend(fontsize=7)
    return finish_figure(fig, out_dir, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
