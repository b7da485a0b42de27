"""CLI contract (tv, law, sweep tv with resume, figures, verify)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mdtheory import maskgit_moment_tv, maskgit_round_law, moment_round_law
from mdtheory.cli import main

from .cases import ZEROS, random_rows

CLI = [sys.executable, "-m", "mdtheory.cli"]


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr()


@pytest.fixture
def probs_file(tmp_path):
    path = tmp_path / "P.npy"
    np.save(path, ZEROS)
    return path


def test_tv_json_contract(capsys, probs_file):
    code, out = _run(capsys, ["tv", "--probs", str(probs_file), "--k", "2", "--alpha", "0.5", "--json"])
    assert code == 0
    d = json.loads(out.out)
    assert {"tv", "quad_error"} <= set(d)
    assert abs(d["tv"] - maskgit_moment_tv(ZEROS, k=2, alpha=0.5).tv) < 1e-15


@pytest.mark.parametrize("sampler", ["maskgit", "moment"])
@pytest.mark.parametrize("alpha", ["0.7", "0", "inf"])
def test_law_json_contract(capsys, probs_file, sampler, alpha):
    code, out = _run(capsys, ["law", "--sampler", sampler, "--probs", str(probs_file), "--k", "2", "--alpha", alpha,
                              "--json"])
    assert code == 0
    cells = json.loads(out.out)["cells"]
    law = (maskgit_round_law if sampler == "maskgit" else moment_round_law)(ZEROS, k=2, alpha=float(alpha))
    assert abs(sum(c["prob"] for c in cells) - 1) < 1e-12
    for c in cells:
        assert c["positions"] == sorted(c["positions"])
        assert all(ZEROS[i, s] > 0 for i, s in zip(c["positions"], c["tokens"]))
        row = [tuple(s) for s in law.sets].index(tuple(c["positions"]))
        assert c["prob"] == law.probs[row, np.ravel_multi_index(c["tokens"], (3, 3))]


@pytest.mark.parametrize("argv,msg", [
    (["--k", "0", "--alpha", "1"], "argument --k: must be an integer >= 1"),
    (["--k", "1", "--alpha", "-1"], "argument --alpha: alpha must be >= 0"),
    (["--k", "9", "--alpha", "1"], "1 <= k <= n_masked"),
])
def test_cli_bad_input_exit_code(capsys, probs_file, argv, msg):
    code, out = _run(capsys, ["tv", "--probs", str(probs_file), *argv, "--json"])
    assert code == 2 and msg in out.err


def test_cli_rejects_unnormalised_file(capsys, tmp_path):
    np.save(tmp_path / "bad.npy", np.array([[0.5, 0.6], [0.5, 0.5]]))
    code, out = _run(capsys, ["tv", "--probs", str(tmp_path / "bad.npy"), "--k", "1", "--alpha", "1"])
    assert code == 2 and "sum to 1" in out.err


def test_help_everywhere():
    for argv in (["--help"], ["verify", "--help"], ["tv", "--help"], ["law", "--help"], ["sweep", "--help"],
                 ["sweep", "tv", "--help"], ["figures", "--help"], ["bench", "--help"]):
        r = subprocess.run(CLI + argv, capture_output=True, text=True)
        assert r.returncode == 0 and "usage" in r.stdout


SWEEP = ["sweep", "tv", "--family", "dirichlet", "--n", "16,32,64,128", "--k", "1,2", "--alpha", "0.5,2",
         "--vocab", "3", "--no-progress"]


def _table(path):
    rows = json.loads((path / "results.json").read_text())
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_sweep_resume_after_kill_equals_uninterrupted(tmp_path):
    full = tmp_path / "full"
    subprocess.run(CLI + SWEEP + ["--out", str(full)], check=True, capture_output=True)
    part = tmp_path / "part"
    proc = subprocess.Popen(CLI + SWEEP + ["--out", str(part)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = part / "results.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_done = len(log.read_text().splitlines())
    assert 3 <= n_done < 16, "the kill must land midway"
    r = subprocess.run(CLI + SWEEP + ["--out", str(part)], check=True, capture_output=True, text=True)
    assert _table(part) == _table(full)
    slopes = json.loads((part / "slopes.json").read_text())
    assert all(-1.3 < s["slope"] < -0.7 for s in slopes["in_n"])  # Theorem 2: TV ~ 1/N
    assert "slope in N" in r.stdout


def test_sweep_homogeneous(tmp_path):
    code = main(["sweep", "tv", "--family", "homogeneous", "--n", "200,400", "--k", "1,2,4", "--alpha", "1",
                 "--vocab", "3", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert len(rows) == 6 and (tmp_path / "results.csv").exists()
    assert all(r["route"] == "homogeneous" for r in rows)


def test_sweep_preset_fixes_the_grid(capsys, tmp_path):
    code = main(["sweep", "tv", "--preset", "scaling", "--n", "16", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "--preset scaling fixes the grid; drop --n" in err
    code = main(["sweep", "tv", "--out", str(tmp_path)])
    assert code == 2 and "give --family" in capsys.readouterr().err


def test_scaling_preset_grid():
    from math import comb

    from mdtheory.exact import tv_scaling_tasks

    tasks, refused = tv_scaling_tasks()
    dirichlet = {(t["n_masked"], t["k"]) for t in tasks if t["family"] == "dirichlet"}
    assert dirichlet == {(2 ** e, 2) for e in range(4, 13)} | {(2 ** e, 3) for e in range(4, 9)}
    hom = {t["vocab_size"]: max(u["k"] for u in tasks if u["family"] == "homogeneous" and u["vocab_size"] ==
                                t["vocab_size"]) for t in tasks if t["family"] == "homogeneous"}
    limit = 2 * 1024 ** 3

    def fits(k, V):  # the estimate, written out: compositions × (V + 12) float64 + the 128 MB block
        return comb(k + V - 1, V - 1) * (V + 12) * 8 + 128_000_000 <= limit

    assert hom[2] == 4096 and fits(4096, 2)  # V = 2: every k up to N
    assert fits(hom[4], 4) and not fits(2 * hom[4], 4) and hom[4] == 256
    assert refused == [dict(vocab_size=4, k=512, bytes=comb(515, 3) * 16 * 8 + 128_000_000, max_bytes=limit)]
    assert {t["alpha"] for t in tasks} == {0.5, 1.0, 2.0} and {t["vocab_size"] for t in tasks} == {2, 4}
    # a smaller limit stops the homogeneous route earlier, and says where
    _, refused = tv_scaling_tasks(max_bytes=150 * 2 ** 20)
    assert [(r["vocab_size"], r["k"]) for r in refused] == [(4, 128)]


@pytest.mark.slow  # about 80 s; every figure module is run by tests/figures/test_figures.py
def test_figures_quick(tmp_path, capsys):
    code, out = _run(capsys, ["figures", "--quick", "--out", str(tmp_path)])
    assert code == 0
    for name in ("tv_vs_n", "tv_vs_k", "implicit_temperature"):
        assert (tmp_path / f"fig_{name}.png").stat().st_size > 10_000


@pytest.mark.slow  # about 80 s; the CI entry point runs `mdtheory verify` itself before the tests
def test_verify_writes_report(tmp_path):
    r = subprocess.run(CLI + ["verify", "--out", str(tmp_path / "rep"), "--no-figures", "--no-progress"],
                       capture_output=True, text=True, env={**os.environ})
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert data["meta"]["n_failed"] == 0 and len(data["checks"]) >= 10
    assert "PASS" in (tmp_path / "rep" / "report.md").read_text()


def test_tv_matches_library_on_random_cases(capsys, tmp_path):
    for seed in range(3):
        P = random_rows(seed, 9, 4)
        np.save(tmp_path / "p.npy", P)
        code, out = _run(capsys, ["tv", "--probs", str(tmp_path / "p.npy"), "--k", "3", "--alpha", "1.3", "--json"])
        assert json.loads(out.out)["tv"] == maskgit_moment_tv(P, k=3, alpha=1.3).tv


def test_cli_noise(capsys):
    assert main(["noise", "--vocab", "2000", "--temperature", "0.5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["dtype"], r["vocab_size"]) for r in rows] == [("float32", 2000), ("float64", 2000)]
    assert rows[0]["effective_temperature"] < 0.5 and abs(rows[1]["effective_temperature"] - 0.5) < 1e-6
    assert main(["noise", "--vocab", "10", "--temperature", "-1"]) == 2
    assert "temperatures must be positive" in capsys.readouterr().err


def test_law_states_its_rounding_error_and_refuses_a_law_float64_cannot_resolve(capsys, tmp_path):
    up, a, down = np.nextafter(0.6, 1), 0.6, np.nextafter(0.6, 0)
    np.save(tmp_path / "near.npy", np.array([[up, 1 - up], [a, 1 - a], [down, 1 - down]]))
    argv = ["law", "--sampler", "moment", "--probs", str(tmp_path / "near.npy"), "--k", "1"]
    code, out = _run(capsys, [*argv, "--alpha", "1e-8", "--json"])
    d = json.loads(out.out)
    assert code == 0 and 1e-9 < d["rounding_error"] < 1e-6  # rows one ulp apart at α = 1e-8: stated, not hidden
    code, out = _run(capsys, [*argv, "--alpha", "1e-14"])
    assert code == 2 and out.out == "" and "4 ulps" in out.err and len(out.err.strip().splitlines()) == 1
