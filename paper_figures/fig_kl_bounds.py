"""KL chain rule with trained known-law models.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_kl_bounds`, the same as
``mdtheory figures --only kl_bounds``. Usage: ``python paper_figures/fig_kl_bounds.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "kl_bounds", *sys.argv[1:]]))
