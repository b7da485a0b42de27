"""Run the benchmarks (seeded, warmed, medians): the same as ``mdtheory bench``.

Usage: ``python benchmarks/run_benchmarks.py [--quick] [--only NAME ...] [--device cpu|cuda] [--out DIR]``.
Results: one ``NAME.json`` per benchmark, named after what it measures (kept out of pytest on purpose).
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
