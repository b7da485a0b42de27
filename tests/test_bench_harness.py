"""The benchmark harness: every registered benchmark is a file of benchmarks/ with run(quick, device), a
folder without them is refused up front, and a quick benchmark writes its strict JSON result."""

import json
from pathlib import Path

import pytest

from mdtheory import bench

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_benchmark_is_a_file_with_a_run_function_and_a_docstring():
    files = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    assert set(bench.BENCHMARKS) <= files
    assert set(bench.DEVICE_BENCHMARKS) <= set(bench.BENCHMARKS)
    for name in bench.BENCHMARKS:
        m = bench.load_benchmark(name)
        assert callable(m.run) and m.__doc__ and name in m.__doc__


def test_a_folder_without_benchmarks_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("MDTHEORY_BENCHMARKS", str(tmp_path))
    with pytest.raises(ValueError, match="no benchmark files in"):
        bench.benchmarks_folder()
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        bench.load_benchmark("nope")


def test_a_quick_benchmark_writes_one_strict_json_file_named_after_it(tmp_path):
    (r,) = bench.run_benchmarks(quick=True, only=["exact_tv_k3"], out_dir=tmp_path, echo=False)
    written = json.loads((tmp_path / "exact_tv_k3.json").read_text(), parse_constant=lambda c: 1 / 0)
    assert written["name"] == r["name"] == "exact_tv_k3" and written["quick"] is True
    assert written["median_s"] > 0 and written["environment"]["device"] == "cpu"


def test_median_time_runs_the_warmups_untimed_and_returns_the_median():
    calls = []
    med, times = bench.median_time(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and len(times) == 3 and med == sorted(times)[1]
