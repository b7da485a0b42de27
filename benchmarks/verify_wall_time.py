"""``mdtheory verify`` from a cold start (a fresh process, an empty output folder), figures included: the
wall time a new user waits for the README's first command. Target ≤ 90 s on 2 cores. Quick: the checks only.

Run with ``mdtheory bench --only verify_wall_time``; the result is ``verify_wall_time.json``."""

from __future__ import annotations

import json
import time


def run(quick: bool, device: str = "cpu") -> dict:
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "mdtheory", "verify", "--out", d, "--no-progress", "--json"]
        if quick:
            cmd.append("--no-figures")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        sec = time.perf_counter() - t0
    summary = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return {"name": "verify_wall_time", "figures": not quick, "median_s": sec, "times_s": [sec], "target_s": 90.0,
            "exit_code": proc.returncode, "passed": summary.get("passed"), "failed": summary.get("failed")}
