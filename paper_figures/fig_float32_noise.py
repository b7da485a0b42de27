"""Floating-point Gumbel noise as an implicit temperature (§9).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_float32_noise`, the same as
``mdtheory figures --only float32_noise``. Usage: ``python paper_figures/fig_float32_noise.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "float32_noise", *sys.argv[1:]]))
