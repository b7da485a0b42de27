"""Drivers of ``mdtheory simulate`` (issue #6 groundwork): the smoke preset's data, checked against the
theory with margins from the fitted intervals, and resume after a kill equals one uninterrupted run."""

import json
import signal
import subprocess
import sys
import time

import pytest

CLI = [sys.executable, "-m", "mdtheory.cli"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("real_asymptotics")
    r = subprocess.run(CLI + ["simulate", "real_asymptotics", "--preset", "smoke", "--out", str(out), "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def test_smoke_data_follow_theorem2(smoke):
    s = json.loads((smoke / "summary.json").read_text())
    rows = json.loads((smoke / "results.json").read_text())
    assert (smoke / "results.csv").exists() and len(rows) == 2 * 8 * 2
    # exact numbers: quadrature errors are tiny next to the TVs they qualify
    assert all(r["quad_error"] < 1e-9 for r in rows if not r["skipped"])
    # Theorem 2 bound with the synthetic regression constant holds on every real round
    assert s["real_C"] <= 0.06
    # TV falls with N along each trajectory: the fitted slope is negative by more than 3 standard errors
    for f in s["fits"]:
        assert f["slope_in_n"] + 3 * f["slope_stderr"] < 0, f
    # and grows with k no faster than k² (§4.2)
    assert all(0 < k["slope_in_k"] <= 2 for k in s["k_slopes"])


def test_resume_after_kill_equals_uninterrupted(smoke, tmp_path):
    part = tmp_path / "part"
    cmd = CLI + ["simulate", "real_asymptotics", "--preset", "smoke", "--out", str(part), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = part / "results.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 5):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_done = len(log.read_text().splitlines())
    assert 5 <= n_done < 32, "the kill must land midway"
    subprocess.run(cmd, check=True, capture_output=True)

    def table(d):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads((d / "results.json").read_text())]

    assert table(part) == table(smoke)


def test_simulate_rejects_unknown_names():
    r = subprocess.run(CLI + ["simulate", "nope"], capture_output=True, text=True)
    assert r.returncode != 0 and "invalid choice" in r.stderr
