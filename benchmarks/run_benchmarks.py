"""Run the issue-#2 benchmarks (seeded, warmed, medians) and write benchmarks/results/<host>.json.

Usage: python benchmarks/run_benchmarks.py [--quick] [--only NAME ...]
(the same code is behind ``mdtheory bench``; kept out of pytest on purpose).
"""

import argparse
import platform
from pathlib import Path

from mdtheory.bench import BENCHMARKS, run_benchmarks

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS))
    args = ap.parse_args()
    out = Path(__file__).parent / "results" / f"{platform.node() or 'host'}{'-quick' if args.quick else ''}.json"
    run_benchmarks(quick=args.quick, out=str(out), only=args.only)
    print(f"written to {out}")
