"""The README's Python quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs(capsys):
    text = README.read_text()
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) <= 5
    exec(compile(block, "README quickstart", "exec"), {})
    out = capsys.readouterr().out.split()
    tv, kl, path_kl = (float(v) for v in out)
    assert 0 < tv < 0.05 and 0 < kl <= path_kl


def test_readme_timings_match_the_benchmark_files():
    import json

    text = README.read_text()
    results = README.parent / "benchmarks" / "results" / "cpu-2core"
    verify = json.loads((results / "verify_wall_time.json").read_text())
    startup = json.loads((results / "cli_startup.json").read_text())
    stated_verify = float(re.search(r"`mdtheory verify` takes (\d+) s", text).group(1))
    stated_help = float(re.search(r"`mdtheory --help` ([\d.]+) s", text).group(1))
    assert stated_verify == round(verify["median_s"]) and verify["median_s"] <= verify["target_s"]
    assert stated_help == round(startup["median_s"], 2) and startup["median_s"] <= startup["target_s"]
