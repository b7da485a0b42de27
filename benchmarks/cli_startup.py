"""``mdtheory --help`` and ``mdtheory profile --target markov --n 10000 --eps 0.05 --json`` in fresh
processes (targets 0.5 s and 1 s); medians of 5 runs.

Run with ``mdtheory bench --only cli_startup``; the result is ``cli_startup.json``."""

from __future__ import annotations

from mdtheory.bench import median_time


def run(quick: bool, device: str = "cpu") -> dict:
    import subprocess
    import sys

    def run(argv):
        return median_time(lambda: subprocess.run([sys.executable, "-m", "mdtheory", *argv], capture_output=True,
                                                   check=True), repeats=3 if quick else 5)

    help_s, help_times = run(["--help"])
    prof_s, prof_times = run(["profile", "--target", "markov", "--n", "10000", "--eps", "0.05", "--json"])
    return {"name": "cli_startup", "median_s": help_s, "times_s": help_times, "target_s": 0.5,
            "profile_median_s": prof_s, "profile_times_s": prof_times, "profile_target_s": 1.0}
