"""Exact KL against the chain-rule bound, per sampler and schedule, on an Ising chain and a 3×3 grid.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_kl_vs_bound`, the same as
``mdtheory figures --only kl_vs_bound``. Usage: ``python paper_figures/fig_kl_vs_bound.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "kl_vs_bound", *sys.argv[1:]]))
