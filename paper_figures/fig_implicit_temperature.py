"""Implicit temperature: MaskGIT's position and token laws converge to Eq. 2 as N grows.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_implicit_temperature`, the same as
``mdtheory figures --only implicit_temperature``. Usage: ``python paper_figures/fig_implicit_temperature.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "implicit_temperature", *sys.argv[1:]]))
