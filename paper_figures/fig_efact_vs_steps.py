"""E_fact against the number of steps K for constant, geometric, √f and DP-optimal schedules.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_efact_vs_steps`, the same as
``mdtheory figures --only efact_vs_steps``. Usage: ``python paper_figures/fig_efact_vs_steps.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "efact_vs_steps", *sys.argv[1:]]))
