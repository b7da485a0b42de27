"""Proposition 3: revealing one token per step, CTS samplers are exact while MaskGIT is biased.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_prop3_bias`, the same as
``mdtheory figures --only prop3_bias``. Usage: ``python paper_figures/fig_prop3_bias.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "prop3_bias", *sys.argv[1:]]))
