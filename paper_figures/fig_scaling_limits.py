"""Scaling limits of the factorization error on a Markov chain (ε = 0.05).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_scaling_limits`, the same as
``mdtheory figures --only scaling_limits``. Usage: ``python paper_figures/fig_scaling_limits.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "scaling_limits", *sys.argv[1:]]))
