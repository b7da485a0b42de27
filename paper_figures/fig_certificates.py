"""Confidence certificates on random joints (§10.5).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_certificates`, the same as
``mdtheory figures --only certificates``. Usage: ``python paper_figures/fig_certificates.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "certificates", *sys.argv[1:]]))
