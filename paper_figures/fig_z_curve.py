"""The [CCL] information curve Z_j and its left-endpoint step approximation for a schedule.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_z_curve`, the same as
``mdtheory figures --only z_curve``. Usage: ``python paper_figures/fig_z_curve.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "z_curve", *sys.argv[1:]]))
