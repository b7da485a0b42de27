"""Sample quality against α, steps, hybrid γ and partial caching on the shipped models.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_quality`, the same as
``mdtheory figures --only quality``. Usage: ``python paper_figures/fig_quality.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "quality", *sys.argv[1:]]))
