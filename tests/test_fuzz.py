"""Fuzzing the public API and the command line with bad and extreme inputs (hypothesis, deterministic profile).

The contract: every call either refuses with a one-line error naming the argument (ValueError / TypeError
from the API; exit status 2 from the CLI, never a traceback) or returns a finite, valid result: laws are
non-negative and sum to 1, distances lie in [0, 1], JSON is strict. ``OUTCOMES`` counts the cases tried and
refused, for the record.
"""

import json
import math
from collections import Counter

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdtheory as mdt
from mdtheory.cli import main

OUTCOMES: Counter = Counter()
REFUSALS = (ValueError, TypeError)

# ---------------------------------------------------------------------------------------------
# strategies: valid, edge and invalid values in fixed proportions
FLOATS = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, -0.1, 1.5, math.nan, math.inf, -math.inf, 1e-300]))
ALPHAS = st.one_of(st.floats(1e-3, 50), st.sampled_from([0.0, math.inf, -1.0, math.nan, 1e-6, 1e6, 1e300]))
KS = st.one_of(st.integers(-1, 7), st.sampled_from([1.5, True, "2", None]))


@st.composite
def tables(draw):
    """(N, V) arrays: mostly valid rows, sometimes malformed (NaN, inf, negative, unnormalised, wrong shape,
    complex, integer, empty)."""
    kind = draw(st.sampled_from(["valid", "valid", "valid", "zeros", "nan", "inf", "negative", "unnormalised",
                                 "shape", "complex", "empty", "one_token"]))
    n, v = draw(st.integers(1, 5)), draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    P = rng.dirichlet(np.ones(v) * draw(st.sampled_from([0.1, 1.0, 50.0])), size=n)
    if kind == "zeros":
        P[0] = 0.0
        P[0, 0] = 1.0
    elif kind == "nan":
        P[0, 0] = math.nan
    elif kind == "inf":
        P[0, 0] = math.inf
    elif kind == "negative":
        P[0, :2] = [1.2, -0.2] + list(P[0, 2:] * 0)[:0]
    elif kind == "unnormalised":
        P = P * 1.1
    elif kind == "shape":
        P = P.ravel()
    elif kind == "complex":
        P = P.astype(np.complex128)
    elif kind == "empty":
        P = np.zeros((0, v))
    elif kind == "one_token":
        P = np.ones((n, 1))
    return P


def _refused(exc: BaseException, *names: str) -> None:
    """The refusal is one line and names one of the arguments."""
    msg = str(exc)
    assert "\n" not in msg, msg
    assert any(name in msg for name in names), f"{type(exc).__name__}: {msg!r} names none of {names}"
    OUTCOMES["refused"] += 1


def _valid_law(probs: np.ndarray) -> None:
    assert np.all(np.isfinite(probs)) and np.all(probs >= 0), probs
    assert abs(probs.sum() - 1.0) < 1e-9, probs.sum()
    OUTCOMES["accepted"] += 1


SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@SETTINGS
@given(P=tables(), k=KS, alpha=ALPHAS, which=st.sampled_from(["maskgit", "moment"]))
def test_round_laws(P, k, alpha, which):
    OUTCOMES["tried"] += 1
    fn = mdt.maskgit_round_law if which == "maskgit" else mdt.moment_round_law
    try:
        law = fn(P, k=k, alpha=alpha)
    except REFUSALS as exc:
        _refused(exc, "probs", "k", "alpha")
    else:
        _valid_law(law.probs)


@SETTINGS
@given(P=tables(), k=KS, alpha=ALPHAS)
def test_maskgit_moment_tv(P, k, alpha):
    OUTCOMES["tried"] += 1
    try:
        r = mdt.maskgit_moment_tv(P, k=k, alpha=alpha)
    except REFUSALS as exc:
        _refused(exc, "probs", "k", "alpha", "cells")
    else:
        assert 0.0 <= r.tv <= 1.0 and math.isfinite(r.quad_error)
        OUTCOMES["accepted"] += 1


@SETTINGS
@given(p=st.one_of(tables(), st.just(np.array([0.7, 0.2, 0.1]))), n=st.integers(-1, 60), k=KS, alpha=ALPHAS)
def test_homogeneous_tv(p, n, k, alpha):
    OUTCOMES["tried"] += 1
    try:
        r = mdt.exact.homogeneous_maskgit_moment_tv(p, n_masked=n, k=k, alpha=alpha)
    except REFUSALS as exc:
        _refused(exc, "p", "n_masked", "k", "alpha")
    else:
        assert 0.0 <= r.tv <= 1.0
        OUTCOMES["accepted"] += 1


@SETTINGS
@given(P=tables(), k=KS, alpha=ALPHAS, which=st.sampled_from(["maskgit", "moment"]),
       dtype=st.sampled_from([torch.float64, torch.float32]))
def test_round_functions(P, k, alpha, which, dtype):
    OUTCOMES["tried"] += 1
    fn = mdt.sampling.maskgit_round if which == "maskgit" else mdt.sampling.moment_round
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = torch.as_tensor(np.log(np.atleast_2d(P)))[None].to(dtype) if not np.iscomplexobj(P) else \
                torch.as_tensor(P)[None]
        out = fn(lp, k=k, alpha=alpha, generator=torch.Generator().manual_seed(0))
    except REFUSALS as exc:
        _refused(exc, "log_probs", "k", "alpha")
    else:
        probs = np.atleast_2d(P)
        pos, tok = out.positions[0].numpy(), out.tokens[0].numpy()
        assert len(set(pos.tolist())) == k and np.all(probs[pos, tok] > 0)  # never a zero-probability token
        OUTCOMES["accepted"] += 1


@SETTINGS
@given(name=st.sampled_from(["cosine", "arccos", "linear", "constant", "nope"]), d=st.integers(-1, 40),
       K=st.one_of(st.integers(-1, 45), st.just(2.5)))
def test_schedules(name, d, K):
    OUTCOMES["tried"] += 1
    try:
        s = mdt.rules.schedule_sizes(name, seq_len=d, n_steps=K)
    except REFUSALS as exc:
        _refused(exc, "name", "seq_len", "n_steps")
    else:
        assert s.sum() == d and np.all(s >= 1) and len(s) == K
        OUTCOMES["accepted"] += 1


@SETTINGS
@given(family=st.sampled_from(["markov", "parity", "beta-bernoulli", "gaussian-ar1", "noisy-repeated-bit", "x"]),
       n=st.sampled_from([None, -3, 0, 1, 2, 7, 30]), eps=FLOATS, a=st.sampled_from([None, -1.0, 0.5, math.inf]),
       extra=st.sampled_from([{}, {"m": 3}, {"epsilon": 0.1}]))
def test_family_profiles(family, n, eps, a, extra):
    OUTCOMES["tried"] += 1
    params = {"n": n, "eps": eps if family == "markov" else None, "a": a, "b": a, "rho": eps if family ==
              "gaussian-ar1" else None, "eta": eps if family == "noisy-repeated-bit" else None, **extra}
    try:
        pr = mdt.profiles.family_profile(family, params)
    except REFUSALS as exc:
        _refused(exc, "family", "target", "n", "eps", "a", "b", "rho", "eta", "take")
    else:
        assert np.all(np.isfinite(pr.f)) and np.all(pr.f >= -1e-12) and math.isfinite(pr.tc)
        OUTCOMES["accepted"] += 1


@SETTINGS
@given(h=st.integers(-1, 3), w=st.integers(-1, 3), coupling=FLOATS, field=FLOATS)
def test_targets(h, w, coupling, field):
    OUTCOMES["tried"] += 1
    try:
        g = mdt.ising_grid(h, w, coupling=coupling, field=field)
    except REFUSALS as exc:
        _refused(exc, "height", "width", "coupling", "field")
    else:
        _valid_law(g.table.ravel())


def _predict_with(fill):
    def predict(tokens, masked):
        out = torch.zeros(tokens.shape[0], tokens.shape[1], 3, dtype=torch.float64)
        out[:, 0, 0] = fill
        return out
    return predict


@SETTINGS
@given(fill=st.sampled_from([0.0, math.nan, math.inf, -math.inf, 1e308]), batch=st.integers(-1, 3),
       sampler=st.sampled_from([mdt.MaskGIT(1.0), mdt.Moment(0.5), mdt.EB(0.2), mdt.CTS()]))
def test_sampling_loop(fill, batch, sampler):
    OUTCOMES["tried"] += 1
    try:
        res = mdt.sample(_predict_with(fill), seq_len=4, schedule=[2, 2], sampler=sampler, batch_size=batch,
                         generator=0)
    except REFUSALS as exc:
        _refused(exc, "log_probs", "batch_size", "predict")
    else:
        assert bool((res.reveal_step >= 0).all()) and int(res.tokens.max()) < 3
        OUTCOMES["accepted"] += 1


# ---------------------------------------------------------------------------------------------
# the command line
def _strict(text: str):
    def refuse(token):
        raise AssertionError(f"non-strict JSON constant {token}")

    return json.loads(text, parse_constant=refuse)


def _cli(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, out.err)  # 3 would be an unexpected error
    if code == 2:
        assert out.err.startswith("error: ") and out.err.count("\n") == 1, (argv, out.err)
        OUTCOMES["cli_refused"] += 1
    elif "--json" in argv:
        _strict(out.out)
    OUTCOMES["cli_tried"] += 1
    return code, out


NUMBERS = st.sampled_from(["0", "1", "2", "-1", "0.5", "inf", "-inf", "nan", "1e308", "abc", "", "3,4"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(P=tables(), k=NUMBERS, alpha=NUMBERS, cmd=st.sampled_from(["tv", "law"]))
def test_cli_one_round(tmp_path_factory, capsys, P, k, alpha, cmd):
    path = tmp_path_factory.mktemp("p") / "p.npy"
    np.save(path, P)
    argv = [cmd, "--probs", str(path), "--k", k, "--alpha", alpha, "--json"] + (["--sampler", "moment"] if cmd == "law" else [])
    code, out = _cli(argv, capsys)
    if code == 0:
        d = _strict(out.out)
        if cmd == "tv":
            assert 0 <= d["tv"] <= 1
        else:
            assert abs(sum(c["prob"] for c in d["cells"]) - 1) < 1e-9


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(target=st.sampled_from(["markov", "parity", "hidden-parity", "beta-bernoulli", "gaussian-ar1", "nope"]),
       n=NUMBERS, value=NUMBERS, cmd=st.sampled_from(["profile", "efact", "schedule"]),
       extra=st.sampled_from([[], ["--m", "2"], ["--corr", "0.5"], ["--vocab", "3"]]))
def test_cli_profiles(capsys, target, n, value, cmd, extra):
    argv = [cmd, "--target", target, "--n", n, "--eps", value, "--a", value, "--b", value, *extra, "--json"]
    if cmd == "efact":
        argv += ["--schedule", value]
    if cmd == "schedule":
        argv += ["--method", "optimal", "--n-steps", value]
    _cli(argv, capsys)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(vocab=st.sampled_from(["1", "2", "10,20", "abc", "10,", "100000000"]), tau=NUMBERS,
       dtype=st.sampled_from(["float32", "float16", "float32,float64"]))
def test_cli_noise(capsys, vocab, tau, dtype):
    _cli(["noise", "--vocab", vocab, "--temperature", tau, "--dtype", dtype, "--json"], capsys)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n=st.sampled_from(["0", "8", "8,16", "-4", "x"]), k=st.sampled_from(["1", "0", "9", "1,2"]),
       reps=st.sampled_from(["0", "1", "-1"]), conc=st.sampled_from(["1", "-1", "0", "nan"]),
       seed=st.sampled_from(["0", "-1", "x"]))
def test_cli_sweep(tmp_path_factory, capsys, n, k, reps, conc, seed):
    out = tmp_path_factory.mktemp("sweep")
    _cli(["sweep", "tv", "--family", "dirichlet", "--n", n, "--k", k, "--alpha", "1", "--reps", reps,
          "--concentration", conc, "--seed", seed, "--out", str(out), "--no-progress", "--json"], capsys)


@SETTINGS
@given(name=st.sampled_from(["multinomial", "poisson", "geometric", "binomial"]),
       steps=st.sampled_from([None, -1, 0, 1, 2, 5, 2.5, True]), mean=st.one_of(st.none(), FLOATS, st.floats(1, 40)),
       n=st.sampled_from([1, 2, 7, 40]))
def test_random_size_laws(name, steps, mean, n):
    OUTCOMES["tried"] += 1
    try:
        law = mdt.size_law(name, n_steps=steps, mean_size=mean)
        r = mdt.expected_kl_random_sizes(mdt.markov_profile(n, 0.1), law)
    except REFUSALS as exc:
        _refused(exc, "name", "n_steps", "mean_size", "direction")
    else:
        assert math.isfinite(r.expected_kl) and 0 <= r.expected_kl <= mdt.markov_profile(n, 0.1).tc + 1e-9
        assert math.isfinite(r.expected_steps) and 0 < r.expected_steps <= n + 1e-9
        OUTCOMES["accepted"] += 1


@SETTINGS
@given(P=tables(), threshold=st.one_of(FLOATS, st.floats(0, 5)))
def test_certificates_and_entropy_sum(P, threshold):
    OUTCOMES["tried"] += 1
    try:
        c = mdt.certificate(P.reshape((P.shape[1],) * 2) if P.ndim == 2 and P.shape[0] == P.shape[1] else P)
    except REFUSALS as exc:
        _refused(exc, "joint")
    else:
        assert 0 <= c.tv_product <= 1 and c.holds
        OUTCOMES["accepted"] += 1
    try:
        sampler = mdt.EntropySum(threshold)
    except REFUSALS as exc:
        _refused(exc, "threshold")
    else:
        law = mdt.output_law(mdt.targets.dirichlet_joint(3, 2, seed=1), sampler)
        _valid_law(law.table)


def test_fuzz_counts_are_recorded():
    """Runs last in this module: the fuzz tests above exercised both sides of the contract."""
    assert OUTCOMES["tried"] > 100 and OUTCOMES["refused"] > 20 and OUTCOMES["accepted"] > 20, OUTCOMES
    assert OUTCOMES["cli_tried"] > 100 and OUTCOMES["cli_refused"] > 20, OUTCOMES
    print(dict(OUTCOMES))
