"""KL chain-rule bounds with trained models on known laws.

Entry script: runs the driver :mod:`mdtheory.montecarlo.drivers.kl_bounds`, the same as
``mdtheory simulate kl_bounds``. Usage: ``python simulations/kl_bounds.py [--preset smoke|paper] [--device cpu|cuda]
[--seed S] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["simulate", "kl_bounds", *sys.argv[1:]]))
