"""Theorem 2 and Theorem 1 on real predictions.

Entry script: runs the driver :mod:`mdtheory.montecarlo.drivers.real_asymptotics`, the same as
``mdtheory simulate real_asymptotics``. Usage: ``python simulations/real_asymptotics.py [--preset smoke|paper] [--device cpu|cuda]
[--seed S] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["simulate", "real_asymptotics", *sys.argv[1:]]))
