"""Schedules ordered by the data-driven loss-curve quantity and by sample quality.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_schedules`, the same as
``mdtheory figures --only schedules``. Usage: ``python paper_figures/fig_schedules.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "schedules", *sys.argv[1:]]))
