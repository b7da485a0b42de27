"""TV(MaskGIT, moment) vs the number of masked positions N, for several k and α.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_tv_vs_n`, the same as
``mdtheory figures --only tv_vs_n``. Usage: ``python paper_figures/fig_tv_vs_n.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "tv_vs_n", *sys.argv[1:]]))
