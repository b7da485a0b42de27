"""The mutation check (benchmarks/mutation_check.py): every planted one-line bug in the mathematics is caught
by the tests. Slow (about a minute); run with ``pytest -m slow``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_mutant_is_killed(tmp_path):
    r = subprocess.run([sys.executable, "benchmarks/mutation_check.py", "--out", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True)
    summary = json.loads((tmp_path / "mutation_check.json").read_text())
    survivors = [row["mutant"] for row in summary["rows"] if not row.get("killed")]
    assert r.returncode == 0 and summary["kill_rate"] == 1.0, (survivors, r.stdout[-2000:], r.stderr[-2000:])
