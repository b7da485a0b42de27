"""Drivers of ``mdtheory simulate``: the smoke preset's data, checked against the
theory with margins from the fitted intervals, and resume after a kill equals one uninterrupted run."""

import json
import signal
import subprocess
import sys
import time

import pytest

CLI = [sys.executable, "-m", "mdtheory.cli"]


def test_smoke_data_follow_theorem2(smoke):
    s = json.loads((smoke / "summary.json").read_text())
    rows = json.loads((smoke / "results.json").read_text())
    assert (smoke / "results.csv").exists() and len(rows) == 2 * 8 * 2 + 2
    mc = s["monte_carlo"]
    assert len(mc) == 2 and all(r["k"] == 4 and 0 <= r["inclusion_tv"] < r["inclusion_half"] + 0.05 for r in mc)
    rows = [r for r in rows if not r.get("mc")]
    # exact numbers: quadrature errors are tiny next to the TVs they qualify
    assert all(r["quad_error"] < 1e-9 for r in rows if not r["skipped"])
    # Theorem 2 bound with the synthetic regression constant holds on every real round
    assert s["real_C"] <= 0.06
    # TV falls with N along each trajectory: the fitted slope is negative by more than 3 standard errors
    for f in s["fits"]:
        assert f["slope_in_n"] + 3 * f["slope_stderr"] < 0, f
    # and grows with k no faster than k² (§4.2)
    assert all(0 < k["slope_in_k"] <= 2 for k in s["k_slopes"])
    # Theorem 1 on real logits: the exact position-law error of the implicit-temperature prediction (vs
    # m_i/Σm) falls with N, the fitted slope negative by more than 3 standard errors; the token-law error
    # (vs p^β/m) is noisier over the 8 rounds of one trajectory (text: −0.45 ± 0.27), so only its sign
    assert {t["model"] for t in s["temperature_fits"]} == {"digits", "text"}
    for t in s["temperature_fits"]:
        assert t["position_slope_in_n"] + 3 * t["position_slope_stderr"] < 0, t
        assert t["token_slope_in_n"] < 0, t


@pytest.mark.slow  # about 50 s; the sweep runner's resume after a kill is tested by test_cli.py and test_executors.py
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


@pytest.fixture(scope="module")
def quality_smoke(tmp_path_factory):
    from mdtheory.montecarlo.drivers import run_driver

    out = tmp_path_factory.mktemp("quality")
    return out, run_driver("quality", out, preset="smoke", progress=False)


def test_quality_smoke_follows_the_implicit_temperature(quality_smoke):
    """Per-sequence entropy is a mean over 400 samples with its standard error; the theory (§4.1: token
    temperature τ = α/(1+α)) says lower α samples colder, so entropy must rise from α = 0.5 to 4 by more
    than 3 combined standard errors, and the untempered uniform sampler must beat tempered U-moment(0.5)."""
    out, summary = quality_smoke
    for t in summary["temperature_trends"]:
        assert t["entropy_gain"] > 3 * t["se"], t
    rows = json.loads((out / "results.json").read_text())
    uni = next(r for r in rows if r["sampler"] == "uniform")
    um = next(r for r in rows if r["sampler"] == "umoment" and r["alpha"] == 0.5)
    assert uni["entropy"] - um["entropy"] > 3 * (uni["entropy_se"] ** 2 + um["entropy_se"] ** 2) ** 0.5
    cached = next(r for r in rows if r["cache_r"] == 4)
    assert cached["nfe"] < 8 * 4  # fewer full-pass equivalents than 4 full passes per coarse step
    assert all(r["fid"] > 0 and 1 <= r["inception_score"] <= 10 for r in rows)
    assert (out / "quality.md").read_text().count("| digits |") == len(rows)


@pytest.mark.slow  # about 30 s; the shipped kl_bounds smoke results are checked by the figure tests
def test_kl_bounds_smoke(tmp_path):
    """Every (model, schedule) row: the bound B = Σ k_t CE_θ(s_{t−1}) − H(π) is not exceeded by the upper KL
    estimate beyond 2.576 combined standard errors, and the path KL matches B within its 99% interval."""
    from mdtheory.montecarlo.drivers import run_driver

    s = run_driver("kl_bounds", tmp_path, preset="smoke", progress=False)
    assert s["all_hold"] and s["all_path_match"] and s["min_margin_in_se"] > -2.576
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {(r["model"], r["schedule"]) for r in rows} == {(m, sc) for m in ("markov", "ising") for sc in ("cosine", "data-driven")}
    assert all(sum(r["sizes"]) == (32 if r["model"] == "markov" else 16) for r in rows)


@pytest.mark.antiberty
@pytest.mark.slow  # about 70 s: the real AntiBERTy forward passes
def test_antiberty_quality_metrics():
    """AntiBERTy samples (8 from scratch, 8 moment steps): PLL per residue above the uniform log(1/20), pairwise
    identity between chance (~0.05) and 1; masked-residue recovery of the 12 held-out domains (30% masked,
    moment sampler α = 1) far above chance: mean minus 3 standard errors > 0.3."""
    pytest.importorskip("antiberty")
    import numpy as np

    from mdtheory.models.hf import HELD_OUT_ANTIBODIES
    from mdtheory.montecarlo.real_predictions import load_prediction_model
    from mdtheory.montecarlo.sample_quality import generate, masked_recovery, quality_metrics, sampler_by_name

    m = load_prediction_model("antiberty")
    smp = sampler_by_name("moment", alpha=1.0, seq_len=m.seq_len)
    x, timing = generate(m, smp, n_samples=8, n_steps=8, seed=0)
    q = quality_metrics("antiberty", x)
    assert q["pll"] > np.log(1 / 20) and 0.05 < q["pairwise_identity"] < 1.0 and timing["samples_per_s"] > 0
    r = masked_recovery(m, smp, [m.predict.encode(s) for s in HELD_OUT_ANTIBODIES.values()], seed=0)
    assert r["recovery"] - 3 * r["recovery_se"] > 0.3, r


def test_pseudo_log_likelihood_against_a_known_law():
    # with the exact conditionals of the Markov chain as the "model", PLL is Σ_i log π(x_i | x_−i) / N exactly;
    # the subset estimator over all positions must equal the full mean
    import numpy as np

    from mdtheory.models.datasets import known_law_target
    from mdtheory.models.predictors import target_predictor
    from mdtheory.montecarlo.sample_quality import pairwise_identity, pseudo_log_likelihood

    t = known_law_target("markov")
    x = np.asarray(t.sample(5, seed=0))
    pred = target_predictor(t)
    full = pseudo_log_likelihood(pred, x, mask_id=3)
    ref = np.zeros(5)
    for i in range(32):
        rev = np.ones_like(x, dtype=bool)
        rev[:, i] = False
        ref += np.log(t.conditionals_batch(x, rev)[np.arange(5), i, x[:, i]])
    assert np.allclose(full, ref / 32, atol=1e-12)
    assert np.allclose(pseudo_log_likelihood(pred, x, mask_id=3, n_positions=32), full)
    assert pairwise_identity(np.zeros((3, 4), dtype=int)) == 1.0


def test_schedule_ordering_smoke(tmp_path):
    """Digits, K = 4: every pair of schedules whose loss-curve quantities differ by more than 3 combined
    standard errors is ordered the same way by the FID analogue (no violations), and at least one such pair
    exists (the geometric schedule's quantity is far above the others')."""
    from mdtheory.montecarlo.drivers import run_driver

    s = run_driver("schedules", tmp_path, preset="smoke", progress=False)
    (o,) = s["orderings"]
    assert o["significant_pairs"] >= 1 and o["violations"] == 0, o
    assert o["by_quantity"][-1] == o["by_quality"][-1] == "geometric"


def test_monte_carlo_marginal_tv_matches_the_exact_statistics():
    """A real digits round restricted to 12 positions: the Monte-Carlo inclusion and (position, token) TVs
    (50,000 draws of the project's maskgit_round and moment_round) lie within their 99% half-widths of the
    exact values from the materialised laws, for k = 1, 2, 3; at k = 1 the pair TV is the full TV."""
    import numpy as np

    from mdtheory.montecarlo.real_predictions import (load_prediction_model, marginal_tv_exact, marginal_tv_mc,
                                           record_trajectory_predictions, round_tv_record)
    from mdtheory.rules.samplers import MaskGIT

    recs = record_trajectory_predictions(load_prediction_model("digits"), sampler=MaskGIT(1.0), n_steps=8, seed=0)
    P = recs[-2].probs[:12]
    P = P / P.sum(axis=1, keepdims=True)
    for k in (1, 2, 3):
        e, mc = marginal_tv_exact(P, k=k, alpha=1.0), marginal_tv_mc(P, k=k, alpha=1.0, n_draws=50_000, seed=k)
        assert abs(mc["inclusion_tv"] - e["inclusion_tv"]) <= mc["inclusion_half"]
        assert abs(mc["pair_tv"] - e["pair_tv"]) <= mc["pair_half"]
        assert e["pair_tv"] <= round_tv_record(P, k=k, alpha=1.0)["tv"] + 1e-12  # a lower bound on the full TV
    assert np.isclose(marginal_tv_exact(P, k=1, alpha=1.0)["pair_tv"], round_tv_record(P, k=1, alpha=1.0)["tv"])


def test_quality_paper_grid_and_figure_panels(quality_smoke, tmp_path):
    """The paper grid: every (sampler, α) at every step count for digits and text, AntiBERTy's thinner grid
    with its PLL positions in the task key; the figure grows a panel per paper axis (text, AntiBERTy,
    steps, γ, caching) when those rows exist (here: the smoke rows relabelled, since only layout is tested)."""
    from mdtheory.figures.fig_quality import plot
    from mdtheory.montecarlo.drivers.quality import tasks

    t = tasks("paper", 0)
    assert sum(r["model"] == "digits" for r in t) == sum(r["model"] == "text" for r in t) == 60
    ab = [r for r in t if r["model"] == "antiberty"]
    assert all(r["pll_positions"] == 12 and r["n"] == 64 for r in ab)
    assert {r["alpha"] for r in ab if r["sampler"] == "maskgit" and r["steps"] == 8} == {0.25, 0.5, 1.0, 2.0, 4.0}
    assert {r["alpha"] for r in ab if r["sampler"] == "maskgit" and r["steps"] != 8} == {1.0}
    out, _ = quality_smoke
    rows = json.loads((out / "results.json").read_text())
    fake = list(rows)
    fake += [{**r, "model": "text", "gen_ppl": r["fid"]} for r in rows if r["cache_r"] is None]
    fake += [{**r, "steps": 4} for r in rows if r["cache_r"] is None]
    fake += [{**r, "gamma": 1.0} for r in rows if r["sampler"] == "hybrid"]
    fake += [{**r, "cache_r": 8, "nfe": 14.0} for r in rows if r["cache_r"]]
    (tmp_path / "results.json").write_text(json.dumps(fake))
    import matplotlib.image

    path = plot(tmp_path, tmp_path)
    h, w = matplotlib.image.imread(path).shape[:2]
    assert h > 700 and w > 2000  # wrapped onto two rows of up to four panels


def test_quality_task_honours_gamma_zero(monkeypatch):
    """γ = 0 (pure exploration order) is a real hybrid parameter, not "unset": it must reach the sampler."""
    import mdtheory.montecarlo.drivers.quality as q

    seen = {}

    def capture(name, **kw):
        seen.update(kw)
        raise RuntimeError("captured")

    monkeypatch.setattr(q, "sampler_by_name", capture)
    task = {"model": "digits", "n": 2, "seed": 0, "sampler": "hybrid", "alpha": 1.0, "gamma": 0.0, "steps": 4,
            "cache_r": None}
    with pytest.raises(RuntimeError, match="captured"):
        q.run_task(task)
    assert seen["gamma"] == 0.0 and seen["alpha"] == 1.0
