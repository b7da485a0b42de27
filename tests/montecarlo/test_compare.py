"""Runs on two devices are compared within their Monte-Carlo error, or on the claims they support (§9)."""

import json
import math
import shutil

from mdtheory.montecarlo.drivers import SHIPPED_SMOKE
from mdtheory.montecarlo.drivers.compare import compare_runs


def _copy(name, tmp_path):
    return shutil.copytree(SHIPPED_SMOKE / name, tmp_path / name)


def test_identical_runs_agree_and_a_shifted_statistic_is_caught(tmp_path):
    other = _copy("kl_bounds", tmp_path)
    same = compare_runs("kl_bounds", SHIPPED_SMOKE / "kl_bounds", other)
    assert same["agree"] and same["compared"] == 12 and same["max_abs_z"] == 0.0
    # critical value: the two-sided normal quantile at 1e-3 / (2 · 12) (Bonferroni)
    assert abs(same["critical_z"] - 3.9346) < 1e-3
    rows = json.loads((other / "results.json").read_text())
    rows[1]["path_kl"] += 5 * math.sqrt(2) * rows[1]["path_kl_se"]  # z = 5 against its own copy
    (other / "results.json").write_text(json.dumps(rows))
    shifted = compare_runs("kl_bounds", SHIPPED_SMOKE / "kl_bounds", other)
    assert not shifted["agree"] and abs(shifted["max_abs_z"] - 5.0) < 1e-9 and shifted["worst"].endswith("path_kl")
    (other / "results.json").write_text(json.dumps(rows[:-1]))  # a row missing from one run
    missing = compare_runs("kl_bounds", SHIPPED_SMOKE / "kl_bounds", other)
    assert not missing["agree"] and len(missing["missing"]) == 3


def test_trajectory_slopes_are_compared_on_their_claims(tmp_path):
    other = _copy("real_asymptotics", tmp_path)
    same = compare_runs("real_asymptotics", SHIPPED_SMOKE / "real_asymptotics", other)
    assert same["agree"] and same["failed"] == [] and same["compared"] >= 8
    summary = json.loads((other / "summary.json").read_text())
    summary["fits"][0]["slope_in_n"] = -0.5 * summary["fits"][0]["slope_stderr"]  # no longer falls by 3 se
    summary["real_C"] = 0.07  # above the regression constant 0.06
    (other / "summary.json").write_text(json.dumps(summary))
    broken = compare_runs("real_asymptotics", SHIPPED_SMOKE / "real_asymptotics", other)
    assert not broken["agree"] and len(broken["failed"]) == 2
    assert any("TV falls with N" in c for c in broken["failed"]) and any("0.06" in c for c in broken["failed"])
