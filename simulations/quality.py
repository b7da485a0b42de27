"""Sample quality against α, steps, γ and partial caching on real models.

Entry script: runs the driver :mod:`mdtheory.montecarlo.drivers.quality`, the same as
``mdtheory simulate quality``. Usage: ``python simulations/quality.py [--preset smoke|paper] [--device cpu|cuda]
[--seed S] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["simulate", "quality", *sys.argv[1:]]))
