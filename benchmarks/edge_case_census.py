"""A census of the edge cases, by class: how many were tried, refused, and accepted and checked.

Each case is an input a demanding user would try at an edge (a tiny or huge α, a corrupted log, a scheduler that
never answers, work that would take days, an exception in the user's own code, an argument that means
"nothing"), run through the public API or the command line in this process. Its outcome is classified:

* **refused** — a one-line error of a documented kind (``ValueError`` and its subclasses, ``TypeError``,
  ``PostconditionError``, ``UserCodeError``; exit 2, 3 or 4 with one ``error…`` line from the command line);
* **accepted and checked** — an answer, and the case's own check of it passed (a law that sums to 1, a value
  within its stated error of a 60-digit reference, a resumed table equal to the uninterrupted one, …);
* **mishandled** — anything else: a traceback, a multi-line error, a refusal where an answer was due or an
  answer where a refusal was due, a check that failed, or a wait past the case's deadline.

Run ``python benchmarks/edge_case_census.py [--out FILE]``; it prints the table by class and writes it as JSON
(``benchmarks/results/cpu-2core/edge_case_census.json`` by default). Exit status 1 if any case is mishandled.
The differential fuzz suite (``tests/exact/test_differential_fuzz.py``) adds its own counts in the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

CASES: list = []
DEADLINE_S = 60


def case(cls: str, name: str, expect: str = "either"):
    """Register ``fn() -> bool`` (the answer's check) as a case of class ``cls``; ``expect`` in answer/refuse/either."""
    def wrap(fn):
        CASES.append((cls, name, expect, fn))
        return fn
    return wrap


class Refused(Exception):
    """A documented one-line refusal, from the command line."""


def cli(*argv: str) -> tuple[int, str]:
    """Run the command line in-process: (exit code, stdout); a refusal (exit 2–4, one error line) raises Refused."""
    from mdtheory.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    e = err.getvalue()
    if code in (2, 3, 4):
        lines = [ln for ln in e.strip().splitlines() if ln.startswith("error")]
        if len(lines) == 1 and "Traceback" not in e:
            raise Refused(lines[0])
        raise AssertionError(f"exit {code} without one error line: {e[-300:]!r}")
    if "Traceback" in e:
        raise AssertionError(f"a traceback on stderr: {e[-300:]!r}")
    return code, out.getvalue()


def _documented(exc: BaseException) -> bool:
    from mdtheory._postconditions import PostconditionError
    from mdtheory.testing.conventions import UserCodeError

    return isinstance(exc, (Refused, ValueError, TypeError, PostconditionError, UserCodeError)) and \
        "\n" not in str(exc).strip()


def _alarm(signum, frame):
    raise TimeoutError(f"no answer within {DEADLINE_S} s")


def run_case(expect: str, fn) -> tuple[str, str]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(DEADLINE_S)
    try:
        ok = fn()
    except BaseException as exc:  # noqa: BLE001 - every outcome is classified
        signal.alarm(0)
        if isinstance(exc, KeyboardInterrupt):
            raise
        if _documented(exc) and expect != "answer":
            return "refused", f"{type(exc).__name__}: {str(exc)[:160]}"
        return "mishandled", f"{type(exc).__name__}: {str(exc)[:200]}"
    signal.alarm(0)
    if expect == "refuse":
        return "mishandled", "answered where a refusal was due"
    return ("accepted and checked", "") if ok else ("mishandled", "the answer's check failed")


# ---------------------------------------------------------------------------------------------------------
# inputs
_A = 0.6
_UP, _DOWN = np.nextafter(_A, 1), np.nextafter(_A, 0)
NEAR = np.array([[_UP, 1 - _UP], [_A, 1 - _A], [_DOWN, 1 - _DOWN]])
HARD = np.array([[0.5, 0.5, 0.0], [1 - 1e-300, 1e-300 / 2, 1e-300 / 2], [0.2, 0.3, 0.5], [5e-324, 0.4, 0.6]])
HARD = HARD / HARD.sum(axis=1, keepdims=True)
TMP = Path(tempfile.mkdtemp(prefix="mdt-census-"))


def _is_law(law, tol=1e-9) -> bool:
    p = law.probs
    err = law.quad_error + law.truncation + 2 * getattr(law, "rounding_error", 0.0)
    return bool(np.all(np.isfinite(p)) and p.min() >= 0 and abs(p.sum() - 1) <= tol + err)


def _moment_mp(P, alpha):
    import mpmath as mp

    mp.mp.dps = 60
    beta = 1 + 1 / mp.mpf(alpha)
    m = [sum(mp.mpf(float(x)) ** beta for x in row) for row in P]
    return np.array([float(x / sum(m)) for x in m])


# ---- class 1: postconditions and log-space arithmetic on nearly tied rows -----------------------------------
for _alpha in (1.0, 1e-3, 1e-6, 1e-8, 1e-9, 1e-10, 1e-12, 1e-16, 1e-18, 1e-300):
    @case("nearly tied rows: accurate within the stated error, or refused", f"moment law, rows 1 ulp apart, α={_alpha:g}")
    def _(alpha=_alpha):
        from mdtheory import moment_round_law

        law = moment_round_law(NEAR, k=1, alpha=alpha)
        tv = 0.5 * np.abs(law.probs.sum(axis=1) - _moment_mp(NEAR, alpha)).sum()
        return _is_law(law) and tv <= max(law.rounding_error, 1e-13)

for _alpha in (1.0, 1e-3, 1e-6, 1e-16):
    @case("nearly tied rows: accurate within the stated error, or refused", f"MaskGIT law, rows 1 ulp apart, α={_alpha:g}")
    def _(alpha=_alpha):
        from mdtheory import maskgit_round_law
        from mdtheory.exact.oracle import maskgit_round_law_bruteforce

        law = maskgit_round_law(NEAR, k=1, alpha=alpha)
        ref = maskgit_round_law_bruteforce(NEAR, k=1, alpha=alpha)
        return _is_law(law) and 0.5 * np.abs(law.probs - ref.probs).sum() <= 1e-10 + 4 * law.rounding_error + \
            10 * law.quad_error

for _alpha in (1e-3, 1e-9, 1e-16):
    @case("nearly tied rows: accurate within the stated error, or refused", f"moment output law, 2×2 Ising, α={_alpha:g}")
    def _(alpha=_alpha):
        from mdtheory import Moment, ising_grid, output_law

        out = output_law(ising_grid(2, 2, coupling=0.6), Moment(alpha), "cosine", n_steps=2)
        return abs(out.table.sum() - 1) <= 1e-12 + 2 * out.rounding_error and out.tv <= math.sqrt(out.kl / 2) + 1e-12

for _alpha in (1e-16, 1e-7):
    @case("nearly tied rows: accurate within the stated error, or refused", f"moment ordered law, α={_alpha:g}")
    def _(alpha=_alpha):
        from mdtheory.exact import moment_ordered_law

        law = moment_ordered_law(NEAR, k=2, alpha=alpha)
        return _is_law(law)

# ---- class 2: the α range ----------------------------------------------------------------------------------
_ROUTES = ("maskgit_round_law", "moment_round_law", "maskgit_moment_tv")
for _alpha, _expect in ((1e-320, "refuse"), (5e-324, "refuse"), (1e-306, "refuse"), (-1.0, "refuse"),
                        (float("nan"), "refuse"), (1e-300, "either"), (1e-18, "either"), (1e300, "answer"),
                        (math.inf, "answer"), (0.0, "answer")):
    for _route in _ROUTES:
        @case("the α range, decided once", f"{_route} on hard rows, α={_alpha:g}", _expect)
        def _(alpha=_alpha, route=_route):
            import mdtheory

            r = getattr(mdtheory, route)(HARD, k=2, alpha=alpha)
            return (0 <= r.tv <= 1 and math.isfinite(r.tv)) if route.endswith("_tv") else _is_law(r)
    @case("the α range, decided once", f"torch moment round, α={_alpha:g}", _expect)
    def _(alpha=_alpha):
        import torch

        from mdtheory.sampling import moment_round

        out = moment_round(torch.log(torch.tensor(HARD))[None], k=2, alpha=alpha,
                           generator=torch.Generator().manual_seed(0))
        pos, tok = out.positions[0].tolist(), out.tokens[0].tolist()
        return all(HARD[i, t] > 0 for i, t in zip(pos, tok))  # never a token of probability 0

# ---- class 3: logs validated before reuse ------------------------------------------------------------------
def _square(task):
    return {"y": float(task["x"]) ** 2}


_CORRUPTIONS = {"a NaN in a valid row": lambda ln: ln.replace('"y": 1.0', '"y": NaN'),
                "Infinity in a valid row": lambda ln: ln.replace('"y": 1.0', '"y": Infinity'),
                "a foreign line": lambda ln: "hello world",
                "a list": lambda ln: "[1, 2, 3]",
                "a row without its key": lambda ln: '{"y": 1.0}',
                "a truncated row": lambda ln: ln[: len(ln) // 2],
                "a field that contradicts its key": lambda ln: ln.replace('"x": 1', '"x": 77'),
                "a string where a number is promised": lambda ln: ln.replace('"y": 1.0', '"y": "1.0"')}
for _what, _corrupt in _CORRUPTIONS.items():
    @case("resumed logs validated row by row", f"resume after {_what}", "answer")
    def _(corrupt=_corrupt, what=_what):
        from mdtheory.sweeps.runner import run_sweep

        folder = TMP / f"resume-{abs(hash(what))}"
        tasks = [{"x": i} for i in range(4)]
        run_sweep(tasks, _square, folder, progress=False)
        log = folder / "results.jsonl"
        lines = log.read_text().splitlines()
        i = next(j for j, ln in enumerate(lines) if '"x": 1' in ln)
        lines[i] = corrupt(lines[i])
        log.write_text("\n".join(lines) + "\n")
        with contextlib.redirect_stderr(io.StringIO()) as err:
            again = run_sweep(tasks, _square, folder, progress=False)
        return [r["y"] for r in again] == [0.0, 1.0, 4.0, 9.0] and f"{log}:" in err.getvalue()


@case("resumed logs validated row by row", "a second writer on the same folder", "refuse")
def _():
    from mdtheory.sweeps.runner import _FolderLock, run_sweep

    with _FolderLock(TMP / "locked"):
        run_sweep([{"x": 0}], _square, TMP / "locked", progress=False)
    return True


# ---- class 4: bounded waits and loops ------------------------------------------------------------------------
def _peer(reply: bytes | None):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            if reply is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(reply)
            time.sleep(5)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, f"tcp://127.0.0.1:{srv.getsockname()[1]}"


for _label, _reply in (("a scheduler that accepts and never replies", None),
                       ("a scheduler that sends garbage", b"\xff" * 64 + b"\x00" * 4096)):
    @case("bounded waits and bounded loops", _label, "refuse")
    def _(reply=_reply):
        srv, address = _peer(reply)
        try:
            cli("sweep", "tv", "--family", "dirichlet", "--out", str(TMP / "dask"), "--scheduler", address,
                "--connect-timeout", "2", "--no-progress")
        finally:
            srv.close()
        return True

for _address in ("tcp://h:0", "tcp://h:70000", "http://h:8786", "tcp://:8786", "nonsense"):
    @case("bounded waits and bounded loops", f"--scheduler {_address}", "refuse")
    def _(address=_address):
        cli("sweep", "tv", "--family", "dirichlet", "--out", str(TMP / "dask2"), "--scheduler", address,
            "--no-progress")
        return True


@case("bounded waits and bounded loops", "effective temperature at T = 1e300", "either")
def _():
    from mdtheory.exact.finite_precision_noise import effective_temperature

    a = np.log([0.6, 0.3, 0.1])
    t = effective_temperature(a, np.full(3, 1 / 3) + np.array([1e-17, 0, -1e-17]))
    return math.isfinite(t) and t > 0


# ---- class 5: work guards ------------------------------------------------------------------------------------
@case("work refused up front with its estimate", "the plain DP at N = 10^6", "refuse")
def _():
    from mdtheory.profiles.optimal_schedules import optimal_schedule

    optimal_schedule(np.abs(np.random.default_rng(0).normal(size=10 ** 6)), 10)
    return True


@case("work refused up front with its estimate", "a random step-size law at K·N = 10^12", "refuse")
def _():
    from mdtheory.profiles import repeated_bit_profile
    from mdtheory.profiles.random_sizes import expected_kl_random_sizes, size_law

    expected_kl_random_sizes(repeated_bit_profile(10 ** 6), size_law("multinomial", n_steps=10 ** 6))
    return True


@case("work refused up front with its estimate", "profiles of a 2^22 joint with --max-seconds 1", "refuse")
def _():
    path = TMP / "big.npy"
    np.save(path, np.full(2 ** 22, 2.0 ** -22))
    cli("profile", "--joint", str(path), "--vocab", "2", "--max-seconds", "1")
    return True


@case("work refused up front with its estimate", "a .npy header that declares 8 TB", "refuse")
def _():
    bad = TMP / "huge.npy"
    with open(bad, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (1_000_000, 1_000_000)})
    cli("law", "--sampler", "maskgit", "--probs", str(bad), "--k", "1", "--alpha", "1")
    return True


@case("work refused up front with its estimate", "a round law of 10^40 cells", "refuse")
def _():
    from mdtheory import maskgit_round_law

    maskgit_round_law(np.full((400, 4), 0.25), k=20, alpha=1.0)
    return True


@case("work refused up front with its estimate", "a 48-layer model at batch 4096 in 1 GiB", "refuse")
def _():
    from mdtheory.models.training import TrainConfig, train

    cfg = TrainConfig("markov", steps=1, batch_size=4096, d_model=2048, n_layers=48, n_heads=16, d_ff=8192)
    train(cfg, TMP / "train", progress=False)
    return True


# ---- class 6: the user's code named as the user's --------------------------------------------------------------
sys.path.insert(0, str(TMP))
(TMP / "census_user.py").write_text(
    "def raises(log_probs, *, k, alpha, generator):\n    raise KeyError('oops')\n"
    "def wrong_shape(log_probs, *, k, alpha, generator):\n    return log_probs\n")
(TMP / "census_broken.py").write_text("raise ImportError('a broken dependency')\n")
@case("the user's code named as the user's", "audit of a round that returns the wrong type", "answer")
def _():
    code, out = cli("audit", "--round", "census_user:wrong_shape", "--rule", "maskgit", "--alpha", "1", "--case",
                    "flat", "--n-samples", "10000", "--out", str(TMP / "audit"))
    return code == 1 and "it returned Tensor" in out and "FAIL" in out  # the audit fails, naming why


for _fn in ("census_user:raises", "census_broken:f", "census_user:absent"):
    @case("the user's code named as the user's", f"audit --round {_fn}", "refuse")
    def _(fn=_fn):
        cli("audit", "--round", fn, "--rule", "maskgit", "--alpha", "1", "--case", "flat", "--n-samples", "10000",
            "--out", str(TMP / "audit"))
        return True


# ---- class 7: arguments mean what they say ---------------------------------------------------------------------
@case("arguments mean what they say", "n_samples=0 in the test kit", "refuse")
def _():
    from mdtheory.sampling import maskgit_round
    from mdtheory.testing import check_round_law, round_rule

    check_round_law(maskgit_round, round_rule("maskgit", alpha=1.0), cases=["flat"], n_samples=0)
    return True


@case("arguments mean what they say", "--alpha 1 with --param alpha=2", "refuse")
def _():
    cli("audit", "--round", "mdtheory.sampling:maskgit_round", "--rule", "maskgit", "--alpha", "1", "--param",
        "alpha=2", "--case", "flat", "--n-samples", "1000", "--out", str(TMP / "a2"))
    return True


for _label, _make in (("float16 predictions", lambda t: t.half()), ("integer predictions", lambda t: t.long()),
                      ("NaN predictions", lambda t: t * float("nan")), ("predictions of the wrong rank", lambda t: t[0])):
    @case("arguments mean what they say", f"sample() with {_label}", "refuse")
    def _(make=_make):
        import torch

        from mdtheory import make_sampler, sample

        logp = torch.log(torch.full((1, 4, 3), 1 / 3, dtype=torch.float64))
        sample(lambda x, m: make(logp), make_sampler("maskgit", alpha=1.0), batch=1, seq_len=4, vocab_size=3,
               n_steps=2, generator=torch.Generator().manual_seed(0))
        return True


@case("arguments mean what they say", "a round that ignores its generator", "answer")
def _():
    import torch

    from mdtheory.sampling import maskgit_round
    from mdtheory.testing import check_round_law, round_rule

    def unseeded(log_probs, *, k, alpha, generator):
        return maskgit_round(log_probs, k=k, alpha=alpha, generator=torch.Generator().manual_seed(
            int(time.perf_counter_ns() % 2 ** 31)))

    audit = check_round_law(unseeded, round_rule("maskgit", alpha=1.0), cases=["flat"], n_samples=2000)
    return not audit.passed and "not a function of its generator" in audit.invariant  # flagged, with the fix


# ---- class 8: fits use only resolved points ----------------------------------------------------------------------
@case("fits and figures use only resolved points", "a slope over a point below its own error", "answer")
def _():
    from mdtheory.sweeps.fits import fit_loglog_slope

    f = fit_loglog_slope([8, 16, 32, 64], [0.1, 0.05, 0.025, 1e-13], error=[1e-11] * 4)
    return f.n_unresolved == 1 and abs(f.slope + 1.0) < 1e-12


@case("fits and figures use only resolved points", "a slope over points all below their errors", "either")
def _():
    from mdtheory.sweeps.fits import fit_loglog_slope

    f = fit_loglog_slope([8, 16, 32], [1e-13, 1e-14, 1e-15], error=[1e-11] * 3)
    return f.n_unresolved == 3 and not (isinstance(f.slope, float) and math.isfinite(f.slope) and f.n_points > 1)


# ---------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "cpu-2core" / "edge_case_census.json"))
    args = ap.parse_args(argv)
    by_class: dict = defaultdict(Counter)
    rows = []
    t0 = time.perf_counter()
    for cls, name, expect, fn in CASES:
        outcome, detail = run_case(expect, fn)
        by_class[cls][outcome] += 1
        rows.append({"class": cls, "case": name, "expect": expect, "outcome": outcome, "detail": detail})
        if outcome == "mishandled":
            print(f"MISHANDLED  [{cls}] {name}: {detail}")
    total = Counter()
    print(f"\n{'class':<68} {'tried':>5} {'refused':>8} {'checked':>8} {'mishandled':>10}")
    for cls, c in by_class.items():
        total.update(c)
        print(f"{cls:<68} {sum(c.values()):>5} {c['refused']:>8} {c['accepted and checked']:>8} {c['mishandled']:>10}")
    print(f"{'all':<68} {sum(total.values()):>5} {total['refused']:>8} {total['accepted and checked']:>8} "
          f"{total['mishandled']:>10}   ({time.perf_counter() - t0:.0f} s)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"by_class": {k: dict(v) for k, v in by_class.items()}, "total": dict(total),
                               "cases": rows}, indent=1, allow_nan=False) + "\n")
    tmp.replace(out)
    return 1 if total["mishandled"] else 0


if __name__ == "__main__":
    sys.exit(main())
