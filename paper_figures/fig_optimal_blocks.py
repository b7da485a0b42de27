"""Optimal block sizes: the DP optimum against the square-root rule k(i) ∝ f(i)^{−1/2}.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_optimal_blocks`, the same as
``mdtheory figures --only optimal_blocks``. Usage: ``python paper_figures/fig_optimal_blocks.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "optimal_blocks", *sys.argv[1:]]))
