"""The edge-case census runs in the default tests: every case is refused in one line or answered and checked."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "edge_case_census.py"


def test_no_edge_case_is_mishandled(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("edge_case_census", BENCH)
    census = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(census)
    code = census.main(["--out", str(tmp_path / "census.json")])
    record = json.loads((tmp_path / "census.json").read_text())
    bad = [r for r in record["cases"] if r["outcome"] == "mishandled"]
    assert code == 0 and not bad, bad
    assert record["total"]["refused"] > 0 and record["total"]["accepted and checked"] > 0
    assert len(record["by_class"]) >= 8
