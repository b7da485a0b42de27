"""Information-profile shapes f(i) of the §6 families, and the scaling N·f(⌈tN⌉) → φ(t).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_profile_shapes`, the same as
``mdtheory figures --only profile_shapes``. Usage: ``python paper_figures/fig_profile_shapes.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "profile_shapes", *sys.argv[1:]]))
