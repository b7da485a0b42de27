"""Exact TV(MaskGIT, moment) in N at k = 2 and 3, and in k on the homogeneous route.

Entry script: runs (or resumes) the sweep behind the figure, ``mdtheory sweep tv --preset scaling``, which
draws :mod:`mdtheory.figures.fig_tv_scaling` into its output folder (about 3 min on a 2-worker cluster).
Usage: ``python paper_figures/fig_tv_scaling.py [--workers N | --cluster local:N] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["sweep", "tv", "--preset", "scaling", *sys.argv[1:]]))
