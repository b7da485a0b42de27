"""Theorem 2 and Theorem 1 on real predictions.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_real_asymptotics`, the same as
``mdtheory figures --only real_asymptotics``. Usage: ``python paper_figures/fig_real_asymptotics.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "real_asymptotics", *sys.argv[1:]]))
