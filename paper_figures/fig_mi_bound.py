"""The mutual-information bound against the exact expected KL (§10.2).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_mi_bound`, the same as
``mdtheory figures --only mi_bound``. Usage: ``python paper_figures/fig_mi_bound.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "mi_bound", *sys.argv[1:]]))
