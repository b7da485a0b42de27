"""TV(MaskGIT, moment) vs the number k of positions revealed per round, at fixed N.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_tv_vs_k`, the same as
``mdtheory figures --only tv_vs_k``. Usage: ``python paper_figures/fig_tv_vs_k.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "tv_vs_k", *sys.argv[1:]]))
