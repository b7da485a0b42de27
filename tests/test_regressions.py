"""Named regression tests: bad or extreme inputs that once gave a silent wrong answer, NaN, a traceback or an
ignored option. Each must now give a correct finite answer or a one-line refusal naming the argument."""

import json
import math

import numpy as np
import pytest
import torch

import mdtheory as mdt
from mdtheory.cli import main


def _cli_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------------------------------------
# silent wrong answers and NaN
def test_homogeneous_route_refuses_a_table_whose_rows_differ():
    P = np.random.default_rng(0).dirichlet(np.ones(3), size=4)
    with pytest.raises(ValueError, match="rows differ"):
        mdt.exact.homogeneous_maskgit_moment_tv(P, n_masked=4, k=2, alpha=1.0)


@pytest.mark.parametrize("alpha", [1e-3, 3e-4, 1e-5])
def test_homogeneous_route_is_finite_and_correct_at_small_alpha(alpha):
    p = np.random.default_rng(0).dirichlet(np.ones(3))
    h = mdt.exact.homogeneous_maskgit_moment_tv(p, n_masked=16, k=2, alpha=alpha).tv
    g = mdt.maskgit_moment_tv(np.tile(p, (16, 1)), k=2, alpha=alpha).tv
    assert math.isfinite(h) and abs(h - g) < 1e-10


def test_output_law_kl_is_finite_for_cold_moment_tokens():
    g = mdt.ising_grid(2, 3, coupling=0.5, field=0.1)
    kls = [mdt.output_law(g, mdt.Moment(a), [2, 2, 2]) for a in (1e-3, 2e-3)]
    assert all(math.isfinite(law.kl) and math.isfinite(law.path_kl) for law in kls)
    # the tempering term grows like 1/α: halving α about doubles the KL
    assert 1.9 < kls[0].kl / kls[1].kl < 2.1


def test_noise_reports_the_true_effective_temperature_far_from_one():
    rows = mdt.exact.noise_temperature_table(vocab_sizes=(1000,), temperatures=(1000.0, 0.1, 0.01), dtypes=("float64",))
    assert abs(rows[0].effective_temperature - 1000.0) < 1e-3 and abs(rows[1].effective_temperature - 0.1) < 1e-6
    # at τ = 0.01 every token but the first lies beyond the float64 noise range: the law is a point mass
    assert rows[2].dead_tokens == 999 and rows[2].effective_temperature == 0.0


def test_noise_refuses_one_token(capsys):
    assert "--vocab" in _cli_error(capsys, ["noise", "--vocab", "1"])


@pytest.mark.parametrize("argv,match", [(["--n-samples", "0"], "--n-samples"), (["--false-alarm", "0"], "--false-alarm"),
                                        (["--false-alarm", "2"], "--false-alarm"), (["--alpha", "0"], "--alpha"),
                                        (["--alpha", "inf"], "--alpha")])
def test_audit_never_passes_on_no_evidence(capsys, argv, match):
    assert match in _cli_error(capsys, ["audit", "amused", *argv])


def test_audit_refuses_too_few_draws_in_the_library():
    case = mdt.testing.audit_cases()[0]
    law = mdt.maskgit_round_law(case.probs, k=case.k, alpha=1.0)
    with pytest.raises(ValueError, match="n_samples must be an integer >= "):
        mdt.testing.audit_round(lambda lp, *, k, generator: mdt.sampling.maskgit_round(lp, k=k, alpha=1.0, generator=generator),
                        case, law, n_samples=10)


def test_training_stops_on_a_non_finite_loss_and_saves_nothing_non_finite(tmp_path, capsys):
    err = _cli_error(capsys, ["train", "--data", "ising", "--train-steps", "20", "--lr", "1e10",
                              "--checkpoint-every", "5", "--out", str(tmp_path / "m"), "--quiet"])
    assert "diverged" in err or "not finite" in err
    assert not (tmp_path / "m" / "model.safetensors").exists()
    from safetensors.torch import load_file

    for state in (tmp_path / "m" / "checkpoint").glob("state*.safetensors"):
        assert all(torch.isfinite(v).all() for v in load_file(str(state)).values())


@pytest.mark.parametrize("fill", [math.nan, math.inf, -math.inf])
def test_sample_and_rounds_refuse_broken_predictions(fill):
    lp = torch.log(torch.tensor([[[0.5, 0.5], [0.9, 0.1]]], dtype=torch.float64))
    lp[0, 1, :] = fill if fill == -math.inf else lp[0, 1, :]
    lp[0, 1, 0] = fill
    with pytest.raises(ValueError, match="log_probs must be finite"):
        mdt.sampling.maskgit_round(lp, k=1, alpha=1.0)
    with pytest.raises(ValueError, match="log_probs must be finite"):
        mdt.sample(lambda t, m: lp.expand(t.shape[0], -1, -1), seq_len=2, schedule=[2], sampler=mdt.Moment(1.0),
                   output="log_probs")


def test_target_constructors_validate_their_parameters():
    with pytest.raises(ValueError, match="coupling must be a finite number"):
        mdt.ising_grid(2, 2, coupling=math.nan)
    with pytest.raises(ValueError, match="height must be >= 1"):
        mdt.ising_grid(0, 3, coupling=1.0)


def test_checkpoint_without_a_recorded_hash_is_refused(tmp_path):
    import shutil

    shutil.copytree(mdt.models.SHIPPED_CHECKPOINTS / "ising", tmp_path / "ising")
    cfg = json.loads((tmp_path / "ising" / "config.json").read_text())
    del cfg["sha256"]
    (tmp_path / "ising" / "config.json").write_text(json.dumps(cfg))
    for loader in (mdt.models.load_denoiser, mdt.models.load_trained):
        with pytest.raises(ValueError, match="records no SHA-256"):
            loader(tmp_path / "ising")
    model, _ = mdt.models.load_denoiser(tmp_path / "ising", verify_hash=False)  # explicitly asked for
    assert model.config.seq_len == 16


# ---------------------------------------------------------------------------------------------
# errors that were tracebacks
@pytest.mark.parametrize("argv", [["sweep", "tv", "--family", "dirichlet", "--n", "8", "--k", "1"],
                                  ["simulate", "kl_bounds"], ["train", "--data", "ising"], ["audit", "--all"],
                                  ["bench", "--only", "crossover"]])
def test_unwritable_out_is_refused_before_the_work(capsys, tmp_path, argv):
    (tmp_path / "file").write_text("")
    assert "writable" in _cli_error(capsys, [*argv, "--out", str(tmp_path / "file" / "x")])


@pytest.mark.parametrize("device,match", [("tpu", "must be one of"), ("cuda:x", "must be one of")])
def test_bad_devices_are_refused(capsys, device, match):
    assert match in _cli_error(capsys, ["simulate", "kl_bounds", "--device", device])


def test_a_directory_as_probs_is_refused(capsys, tmp_path):
    assert "not a directory" in _cli_error(capsys, ["tv", "--probs", str(tmp_path), "--k", "1", "--alpha", "1"])


# ---------------------------------------------------------------------------------------------
# other defects
def test_a_text_file_as_probs_is_named_correctly(capsys, tmp_path):
    (tmp_path / "p.npy").write_text("0.5 0.5\n")
    assert "no .npy header" in _cli_error(capsys, ["tv", "--probs", str(tmp_path / "p.npy"), "--k", "1", "--alpha", "1"])


def test_complex_arrays_are_refused():
    with pytest.raises(TypeError, match="real numbers"):
        mdt.maskgit_round_law(np.full((2, 2), 0.5 + 0j), k=1, alpha=1.0)


@pytest.mark.parametrize("argv,match", [(["--n", "0"], "--n"), (["--reps", "0"], "--reps"),
                                        (["--concentration", "-1"], "concentration")])
def test_empty_or_invalid_sweeps_are_refused(capsys, argv, match, tmp_path):
    assert match in _cli_error(capsys, ["sweep", "tv", "--family", "dirichlet", *argv, "--out", str(tmp_path)])


def test_a_two_point_slope_has_an_undefined_error(capsys, tmp_path):
    assert math.isnan(mdt.sweeps.fit_loglog_slope([1, 2], [1.0, 0.5]).stderr)
    assert main(["sweep", "tv", "--family", "dirichlet", "--n", "8,16", "--k", "1", "--alpha", "1",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "± 0.000" not in out and "undefined (2 points)" in out
    slopes = json.loads((tmp_path / "slopes.json").read_text())
    assert slopes["in_n"][0]["stderr"] is None and "undefined" in slopes


def test_json_written_is_strict(tmp_path):
    from mdtheory._io import to_json

    text = to_json({"a": math.nan, "b": [math.inf, 1.0]})
    assert json.loads(text) == {"a": None, "b": ["inf", 1.0], "undefined": {"a": "undefined (not a number)"}}


def test_a_torn_last_line_is_dropped_on_resume(tmp_path):
    tasks = [{"x": i} for i in range(3)]
    mdt.sweeps.run_sweep(tasks[:2], lambda t: {"y": t["x"]}, tmp_path, progress=False)
    log = tmp_path / "results.jsonl"
    log.write_text(log.read_text() + '{"x": 2, "y"')  # a kill in the middle of a write
    rows = mdt.sweeps.run_sweep(tasks, lambda t: {"y": t["x"]}, tmp_path, progress=False)
    assert [r["y"] for r in rows] == [0, 1, 2]
    assert all(json.loads(line) for line in log.read_text().splitlines())


def test_training_pairs_state_and_progress_atomically(tmp_path):
    from dataclasses import replace

    from mdtheory.models.training import TRAIN_PRESETS, train

    cfg = replace(TRAIN_PRESETS["ising"], steps=6, checkpoint_every=2)
    train(cfg, tmp_path, progress=False, stop_after=4)
    prog = json.loads((tmp_path / "checkpoint" / "progress.json").read_text())
    assert prog["step"] == 4 and (tmp_path / "checkpoint" / prog["state"]).exists()
    assert [p.name for p in (tmp_path / "checkpoint").glob("state*.safetensors")] == [prog["state"]]


@pytest.mark.parametrize("argv,match", [
    (["tv", "--probs", "P.npy", "--k", "3", "--alpha", "1", "--max-cells", "10"], "max_cells"),
    (["profile", "--target", "markov", "--n", "10000000", "--eps", "0.05"], "max_seconds"),
    (["noise", "--vocab", "100000000"], "max_vocab"),
])
def test_work_too_large_is_refused_up_front_with_its_estimate(capsys, tmp_path, argv, match):
    np.save(tmp_path / "P.npy", np.random.default_rng(0).dirichlet(np.ones(4), size=40))
    argv = [str(tmp_path / "P.npy") if a == "P.npy" else a for a in argv]
    err = _cli_error(capsys, argv)
    assert match in err and ("s on one core" in err or "would take about" in err or "GB" in err)


@pytest.mark.parametrize("argv,match", [
    (["profile", "--target", "parity", "--n", "8", "--m", "3"], "does not take m"),
    (["train", "--data", "ising", "--seq-len", "7"], "seq_len applies to the text data only"),
])
def test_unused_options_are_refused(capsys, tmp_path, argv, match):
    assert match in _cli_error(capsys, [*argv] + (["--out", str(tmp_path)] if argv[0] == "train" else []))


def test_family_profile_refuses_a_typo():
    with pytest.raises(ValueError, match="does not take epsilon"):
        mdt.profiles.family_profile("markov", {"n": 5, "eps": 0.1, "epsilon": 0.2})


def test_ar1_correlation_and_geometric_ratio_have_their_own_names(capsys):
    assert main(["schedule", "--target", "gaussian-ar1", "--n", "30", "--corr", "0.5", "--method", "geometric-inc",
                 "--rho", "1.0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sizes"][0] == 1


def test_small_edge_inputs():
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        mdt.sample(lambda t, m: torch.zeros(1, 2, 2), seq_len=2, schedule=[2], sampler=mdt.MaskGIT(1.0), batch_size=0)
    with pytest.raises(TypeError, match="target must be a JointTable"):
        mdt.output_law(np.ones(16) / 16, mdt.MaskGIT(1.0), [2, 2])


@pytest.mark.parametrize("argv,match", [(["figures", "--only", "nope"], "unknown figure"),
                                        (["bench", "--only", "nope"], "unknown benchmark"),
                                        (["sweep", "tv", "--family", "dirichlet", "--seed", "-1"], "argument --seed")])
def test_unknown_names_and_bad_seeds_are_refused(capsys, tmp_path, argv, match):
    assert match in _cli_error(capsys, [*argv, "--out", str(tmp_path)])


def test_a_tv_never_exceeds_one():
    # at k = N over 4096 positions the multiplicities' rounding once put the TV at 1 + 4e-12
    from scipy.special import gammaln

    p = [0.62, 0.38]
    r = mdt.exact.homogeneous_maskgit_moment_tv(p, n_masked=4096, k=4096, alpha=1.0)
    assert r.tv <= 1.0 and r.quad_error < 1e-9
    # the exact value: 1 − Σ_c C(N, c)·min(p₀^c p₁^(N−c), q₀^c q₁^(N−c)) with q = p^β / m, β = 2, in log space
    q = np.array(p) ** 2 / np.sum(np.array(p) ** 2)
    c = np.arange(4097)
    log_binom = gammaln(4097) - gammaln(c + 1) - gammaln(4097 - c)
    overlap = np.exp(log_binom + np.minimum(c * np.log(p[0]) + (4096 - c) * np.log(p[1]),
                                            c * np.log(q[0]) + (4096 - c) * np.log(q[1]))).sum()
    assert abs(r.tv - (1 - overlap)) <= r.quad_error + 1e-12
