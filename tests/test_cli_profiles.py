"""CLI contract of ``profile``, ``efact`` and ``schedule``, checked against enumeration and
closed-form values computed independently of the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mdtheory.cli import main
from mdtheory.profiles.enumeration import information_profile
from mdtheory.multiround.targets import beta_bernoulli, binary_markov_chain, dirichlet_joint

LOG2 = np.log(2.0)


def _json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _check_profile(d, ref):
    assert set(d) == {"H", "f", "Z", "tc", "dtc", "error"}
    n = ref.n
    assert len(d["H"]) == n + 1 and len(d["f"]) == n - 1 and len(d["Z"]) == n
    np.testing.assert_allclose(d["H"], ref.H, atol=1e-10)
    np.testing.assert_allclose(d["f"], ref.f, atol=1e-10)
    np.testing.assert_allclose(d["Z"], ref.Z, atol=1e-10)
    assert abs(d["tc"] - ref.tc) < 1e-10 and abs(d["dtc"] - ref.dtc) < 1e-10


def test_profile_markov_and_beta_bernoulli(capsys):
    _check_profile(_json(capsys, ["profile", "--target", "markov", "--n", "7", "--eps", "0.2", "--json"]),
                   information_profile(binary_markov_chain(7, 0.2)))
    _check_profile(_json(capsys, ["profile", "--target", "beta-bernoulli", "--n", "6", "--a", "0.5", "--b", "2",
                                  "--json"]), information_profile(beta_bernoulli(6, 0.5, 2.0)))


@pytest.mark.parametrize("flat", [True, False])
def test_profile_from_joint_file(capsys, tmp_path, flat):
    t = dirichlet_joint(4, 3, seed=1)
    path = tmp_path / "J.npy"
    np.save(path, t.table.ravel() if flat else t.table)
    argv = ["profile", "--joint", str(path), "--json"] + (["--vocab", "3"] if flat else [])
    _check_profile(_json(capsys, argv), information_profile(t))


def test_profile_large_markov_is_fast_and_complete(capsys):
    d = _json(capsys, ["profile", "--target", "markov", "--n", "10000", "--eps", "0.05", "--json"])
    assert len(d["H"]) == 10_001 and len(d["f"]) == 9_999 and all(np.isfinite(d["f"]))
    assert d["f"][0] > d["f"][-1] > 0


def test_efact_contract(capsys):
    d = _json(capsys, ["efact", "--target", "parity", "--n", "6", "--schedule", "1,1,1,1,2", "--json"])
    assert set(d) == {"efact", "bound_kmax"}
    assert abs(d["efact"] - LOG2) < 1e-12 and abs(d["bound_kmax"] - LOG2) < 1e-12  # Σf = log 2 for parity
    d = _json(capsys, ["efact", "--target", "repeated-bit", "--n", "6", "--schedule", "4,2", "--json"])
    assert abs(d["efact"] - 3 * LOG2) < 1e-12


@pytest.mark.parametrize("method", ["optimal", "sqrt", "constant", "geometric-inc", "geometric-dec"])
def test_schedule_contract(capsys, method):
    d = _json(capsys, ["schedule", "--target", "markov", "--n", "60", "--eps", "0.1", "--n-steps", "7",
                       "--method", method, "--json"])
    assert set(d) == {"sizes", "efact"}
    assert len(d["sizes"]) == 7 and sum(d["sizes"]) == 60 and min(d["sizes"]) >= 1
    e = _json(capsys, ["efact", "--target", "markov", "--n", "60", "--eps", "0.1", "--schedule",
                       ",".join(map(str, d["sizes"])), "--json"])
    assert abs(e["efact"] - d["efact"]) < 1e-15
    dp = _json(capsys, ["schedule", "--target", "markov", "--n", "60", "--eps", "0.1", "--n-steps", "7",
                        "--method", "optimal", "--json"])
    assert dp["efact"] <= d["efact"] + 1e-12


def test_schedule_geometric_given_rho(capsys):
    d = _json(capsys, ["schedule", "--target", "markov", "--n", "50", "--eps", "0.1", "--rho", "0.5",
                       "--method", "geometric-inc", "--json"])
    s = np.array(d["sizes"])
    assert s[0] == 1 and s.sum() == 50 and np.all(s[1:] - 1 <= 0.5 * np.cumsum(s)[:-1])


@pytest.mark.parametrize("argv,match", [
    (["profile", "--target", "markov", "--n", "5", "--eps", "1.5"], "eps must satisfy"),
    (["profile", "--target", "markov", "--n", "5"], "needs eps"),
    (["profile", "--target", "beta-bernoulli", "--n", "5", "--a", "-1", "--b", "1"], "a and b"),
    (["efact", "--target", "markov", "--n", "5", "--eps", "0.1", "--schedule", "2,2"], "must sum to 5"),
    (["efact", "--target", "markov", "--n", "5", "--eps", "0.1", "--schedule", "3,0,2"], ">= 1"),
    (["schedule", "--target", "markov", "--n", "5", "--eps", "0.1", "--n-steps", "6", "--method", "optimal"], "n_steps"),
    (["schedule", "--target", "markov", "--n", "5", "--eps", "0.1", "--method", "optimal"], "--n-steps"),
    (["schedule", "--target", "markov", "--n", "5", "--eps", "0.1", "--method", "optimal", "--rho", "1"], "geometric"),
    (["profile", "--n", "5"], "exactly one of --joint"),
])
def test_bad_input_exits_2_with_a_message(capsys, argv, match):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_bad_joint_files(capsys, tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full(8, 0.2))
    assert main(["profile", "--joint", str(bad), "--vocab", "2"]) == 2
    assert "sum to 1" in capsys.readouterr().err
    neg = tmp_path / "neg.npy"
    np.save(neg, np.array([1.2, -0.2, 0.0, 0.0]))
    assert main(["profile", "--joint", str(neg), "--vocab", "2"]) == 2
    assert "non-negative" in capsys.readouterr().err
    assert main(["profile", "--joint", str(tmp_path / "missing.npy")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_runs_as_a_module():
    r = subprocess.run([sys.executable, "-m", "mdtheory.cli", "efact", "--target", "parity", "--n", "4",
                        "--schedule", "1,1,2", "--json"], capture_output=True, text=True, check=True)
    assert abs(json.loads(r.stdout)["efact"] - LOG2) < 1e-12


def test_float32_joint_is_accepted(capsys, tmp_path):
    t = dirichlet_joint(6, 3, seed=2)
    path = tmp_path / "J32.npy"
    np.save(path, t.table.astype(np.float32).ravel())
    d = _json(capsys, ["profile", "--joint", str(path), "--vocab", "3", "--json"])
    ref = information_profile(t)
    assert abs(d["tc"] - ref.tc) < 1e-5  # float32 input precision
