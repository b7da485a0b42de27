"""Oracle-posterior correctness: the samplers on the exact conditionals of a known chain (§10.4).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_oracle_posterior`, the same as
``mdtheory figures --only oracle_posterior``. Usage: ``python paper_figures/fig_oracle_posterior.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "oracle_posterior", *sys.argv[1:]]))
