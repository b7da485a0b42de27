"""Does the data-driven loss-curve quantity order schedules by sample quality?

Entry script: runs the driver :mod:`mdtheory.montecarlo.drivers.schedules`, the same as
``mdtheory simulate schedules``. Usage: ``python simulations/schedules.py [--preset smoke|paper] [--device cpu|cuda]
[--seed S] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["simulate", "schedules", *sys.argv[1:]]))
