"""Information-profile shapes f(i) of the §6 families, and the scaling N·f(⌈tN⌉) → φ(t).

Message: the families put their dependence at different revealed fractions — the repeated-bit-like laws
(Beta–Bernoulli, noisy repeated bit) at the start, parities at the end, Markov chains spread out — and
for a Markov chain N·f(tN) converges to the continuum profile φ of §5.6 (§5.2, §5.6, §6).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..profiles.closed_forms import (beta_bernoulli_profile, hidden_subset_parity_profile, markov_profile,
                                           noisy_repeated_bit_profile)
from ..profiles.continuum import markov_scaling_function
from .plot import finish_figure, new_figure

NAME = "profile_shapes"


def main(out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    out = Path(out_dir)
    n = 64
    fig, axes = new_figure(2)
    fams = {"Markov ε=0.1": markov_profile(n, 0.1), "Beta–Bernoulli(½,½)": beta_bernoulli_profile(n, 0.5, 0.5),
            "noisy repeated bit η=0.1": noisy_repeated_bit_profile(n, 0.1),
            "hidden parity m=8": hidden_subset_parity_profile(n, 8)}
    i = np.arange(1, n)
    for label, pr in fams.items():
        axes[0].semilogy(i, np.maximum(pr.f, 1e-18), label=label)
    axes[0].set_ylim(1e-8, 1.0)
    axes[0].set(xlabel="i (f[0] is f(1))", ylabel="f(i)", title=f"information profiles, N = {n}")
    axes[0].legend(fontsize=7)
    eps = 0.05
    phi = markov_scaling_function(eps)
    for N in ([100, 400] if quick else [100, 400, 1600, 6400]):
        pr = markov_profile(N, eps)
        t = np.arange(1, N) / N
        axes[1].plot(t, N * pr.f, label=f"N = {N}")
    tt = np.linspace(0.01, 0.99, 99)
    axes[1].plot(tt, [phi(x) for x in tt], "k--", label="φ(t) (limit)")
    axes[1].set(xlabel="t = i / N", ylabel="N·f(tN)", title=f"Markov ε = {eps}: N·f(tN) → φ(t)")
    axes[1].legend(fontsize=7)
    return finish_figure(fig, out, NAME)


if __name__ == "__main__":
    print(main(Path("figures")))
