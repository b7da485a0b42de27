"""The hybrid exploration/exploitation trade-off on a 3×3 Ising grid: exact KL against γ.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_hybrid_gamma`, the same as
``mdtheory figures --only hybrid_gamma``. Usage: ``python paper_figures/fig_hybrid_gamma.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "hybrid_gamma", *sys.argv[1:]]))
