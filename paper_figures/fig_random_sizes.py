"""Randomized step sizes: E·KL·E[K] against N for each size law on the diagnostic families (§10.1).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_random_sizes`, the same as
``mdtheory figures --only random_sizes``. Usage: ``python paper_figures/fig_random_sizes.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "random_sizes", *sys.argv[1:]]))
