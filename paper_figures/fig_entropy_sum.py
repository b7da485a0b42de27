"""Entropy-sum decoding: exact KL against E[#iterations] over a sweep of thresholds (§10.6).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_entropy_sum`, the same as
``mdtheory figures --only entropy_sum``. Usage: ``python paper_figures/fig_entropy_sum.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "entropy_sum", *sys.argv[1:]]))
