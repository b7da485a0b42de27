"""Work that can explode is refused up front, with its estimate, the limit and the option that raises it; one
mechanism (``check_work``) for every guard, each tested on a case far beyond it and on one just inside."""

import math
import subprocess
import sys
import time

import numpy as np
import pytest

from mdtheory._validation import WorkTooLarge, check_work
from mdtheory.exact.round_laws import LawSizeError
from mdtheory.profiles import repeated_bit_profile
from mdtheory.profiles.enumeration import enumeration_seconds, information_profile
from mdtheory.profiles.optimal_schedules import optimal_schedule
from mdtheory.profiles.random_sizes import expected_kl_random_sizes, size_law
from mdtheory.targets import joint_table

CLI = [sys.executable, "-m", "mdtheory.cli"]


def _refused_fast(fn, *, match):
    t0 = time.perf_counter()
    with pytest.raises(WorkTooLarge, match=match) as info:
        fn()
    assert time.perf_counter() - t0 < 5.0, "a guard must act before the work, not after"
    message = str(info.value)
    assert "would" in message and "more than" in message and "raise" in message
    return message


def test_the_guard_reads_its_limit_and_refuses_nan_estimates():
    check_work(59.0, limit=60, what="x", option="max_seconds")
    check_work(1e300, limit=math.inf, what="x", option="max_seconds")  # inf turns the guard off
    with pytest.raises(WorkTooLarge, match="about 61 s on one core, more than max_seconds=60"):
        check_work(61.0, limit=60, what="x", option="max_seconds")
    with pytest.raises(WorkTooLarge, match="would need about 9 GiB"):
        check_work(9.0, limit=8, what="x", option="max_memory_gib", unit="GiB")
    with pytest.raises(WorkTooLarge):
        check_work(float("nan"), limit=60, what="x", option="max_seconds")
    for bad in (0, -1, float("nan"), True, "60"):
        with pytest.raises(ValueError, match="max_seconds must be a number > 0"):
            check_work(1.0, limit=bad, what="x", option="max_seconds")
    assert issubclass(LawSizeError, WorkTooLarge) and issubclass(WorkTooLarge, ValueError)


def test_the_plain_dp_at_a_million_positions_is_refused_with_its_cell_count():
    c = np.abs(np.random.default_rng(0).normal(size=10 ** 6))  # not monotone: auto takes the DP
    msg = _refused_fast(lambda: optimal_schedule(c, 10), match="dynamic program at N=1000000, K=10")
    assert "1e+13 cells" in msg
    _refused_fast(lambda: optimal_schedule(np.sort(c)[::-1], 10 ** 4), match="monotone route")
    # just inside: a small DP runs, and a larger one runs once the limit is raised
    c = np.abs(np.random.default_rng(1).normal(size=300))
    assert optimal_schedule(c, 5).sum() == 300
    with pytest.raises(WorkTooLarge):
        optimal_schedule(c, 5, max_seconds=1e-6)
    assert optimal_schedule(c, 5, max_seconds=math.inf).sum() == 300


@pytest.mark.parametrize("law, match", [(size_law("multinomial", n_steps=10 ** 6), "K·N = 1e\\+12 terms"),
                                        (size_law("poisson", mean_size=1e6), "Poisson size law")])
def test_random_size_laws_at_huge_k_are_refused(law, match):
    _refused_fast(lambda: expected_kl_random_sizes(repeated_bit_profile(10 ** 6), law), match=match)


def test_random_size_laws_inside_the_limit_still_run():
    r = expected_kl_random_sizes(repeated_bit_profile(6), size_law("multinomial", n_steps=6))
    assert abs(r.expected_kl / math.log(2) - 0.569059) < 1e-6  # E[k_first − 1]·log 2 (module doctest)
    with pytest.raises(WorkTooLarge):
        expected_kl_random_sizes(repeated_bit_profile(6), size_law("multinomial", n_steps=6), max_seconds=1e-9)


def test_profiles_of_a_large_joint_are_refused_before_enumeration():
    assert enumeration_seconds(22, 2) > 60 > enumeration_seconds(14, 2)
    assert enumeration_seconds(16, 3) > enumeration_seconds(16, 2)  # more tokens, more cells
    big = joint_table(np.full(2 ** 22, 2.0 ** -22), vocab_size=2)
    msg = _refused_fast(lambda: information_profile(big), match="enumerating the 2\\^22 subsets")
    assert "V=2, N=22" in msg
    small = joint_table(np.full(2 ** 4, 2.0 ** -4), vocab_size=2)
    assert information_profile(small).tc == pytest.approx(0.0, abs=1e-12)  # independent uniform bits


def test_the_command_line_passes_max_seconds_to_a_joint(tmp_path):
    path = tmp_path / "j.npy"
    np.save(path, np.full(2 ** 16, 2.0 ** -16))
    r = subprocess.run(CLI + ["profile", "--joint", str(path), "--vocab", "2", "--max-seconds", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "enumerating the 2^16 subsets" in r.stderr and "--max-seconds" not in r.stdout
    assert "Traceback" not in r.stderr


def test_a_training_configuration_too_large_for_memory_is_refused(tmp_path):
    torch = pytest.importorskip("torch")  # noqa: F841
    from mdtheory.models.training import TrainConfig, train

    cfg = TrainConfig("markov", steps=1, batch_size=4096, d_model=2048, n_layers=48, n_heads=16, d_ff=8192)
    msg = _refused_fast(lambda: train(cfg, tmp_path, progress=False), match="training [\\d,]+ parameters")
    assert "max_memory_gib=8" in msg and "GiB" in msg
    assert not (tmp_path / "checkpoint").exists()  # nothing was written
    r = subprocess.run(CLI + ["train", "--data", "markov", "--d-model", "2048", "--n-layers", "48", "--n-heads", "16",
                              "--d-ff", "8192", "--batch-size", "4096", "--max-memory-gib", "1", "--out",
                              str(tmp_path / "cli")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "max_memory_gib=1" in r.stderr and "Traceback" not in r.stderr, r.stderr[-500:]


def test_the_training_footprint_counts_parameters_exactly():
    torch = pytest.importorskip("torch")
    from mdtheory.models.denoiser import DenoiserConfig, MaskedDenoiser
    from mdtheory.models.training import training_footprint

    cfg = DenoiserConfig(vocab_size=5, seq_len=7, d_model=8, n_layers=2, n_heads=2, d_ff=16)
    real = sum(p.numel() for p in MaskedDenoiser(cfg).parameters())
    f = training_footprint(cfg, 3)
    assert f["parameters"] == real
    assert f["gib"] * 2 ** 30 >= 4 * 4 * real  # at least weights, gradients and two moments
    assert training_footprint(cfg, 6)["gib"] > f["gib"]  # activations grow with the batch
    del torch
