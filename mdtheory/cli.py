"""The ``mdtheory`` command line (a thin layer over the library).

Subcommands: ``verify``, ``tv``, ``law``, ``sweep tv``, ``profile``, ``efact``, ``schedule``, ``audit``, ``noise``, ``train``, ``train-evaluator``, ``simulate``,
``figures``, ``bench``. Every subcommand has
``--help``. JSON output uses plain floats; infinite α is written as the string "inf".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

__all__ = ["main"]


def _alpha(text: str) -> float:
    try:
        a = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"alpha must be a number or 'inf'; got {text!r}") from exc
    return a


def _float_list(text: str) -> list[float]:
    return [_alpha(t) for t in text.split(",") if t]


def _int_list(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of integers; got {text!r}") from exc


def _json_alpha(a: float):
    return "inf" if math.isinf(a) else a


def _load_probs(path: str) -> np.ndarray:
    p = Path(path)
    if not p.exists():
        raise SystemExit(f"error: --probs file not found: {path}")
    return np.load(p, allow_pickle=False)


def _cmd_tv(args) -> int:
    from .exact.distances import maskgit_moment_tv

    r = maskgit_moment_tv(_load_probs(args.probs), k=args.k, alpha=args.alpha)
    d = r.to_dict()
    d["alpha"] = _json_alpha(d["alpha"])
    if args.json:
        print(json.dumps(d))
    else:
        print(f"TV(MaskGIT, moment) = {r.tv:.15g}  (quad_error ≤ {r.quad_error:.2e}, N={r.n_masked}, k={r.k}, "
              f"V={r.vocab_size}, alpha={r.alpha}, route={r.route})")
    return 0


def _cmd_law(args) -> int:
    from .exact.round_laws import maskgit_ordered_law, moment_ordered_law, round_law

    P = _load_probs(args.probs)
    if args.ordered:
        fn = maskgit_ordered_law if args.sampler == "maskgit" else moment_ordered_law
        law = fn(P, k=args.k, alpha=args.alpha)
    else:
        law = round_law(args.sampler, P, k=args.k, alpha=args.alpha)
    probs = np.asarray(P, dtype=np.float64)
    cells = []
    for positions, tokens, pr in law.cells():
        if all(probs[i, s] > 0 for i, s in zip(positions, tokens)):  # the support of the round
            cells.append({"positions": list(positions), "tokens": list(tokens), "prob": pr})
    out = {"sampler": args.sampler, "alpha": _json_alpha(law.alpha), "k": law.k, "n_masked": law.n_masked,
           "vocab_size": law.vocab_size, "ordered": law.ordered, "quad_error": law.quad_error, "cells": cells}
    if args.json:
        print(json.dumps(out))
    else:
        for c in cells:
            print(f"{c['positions']} {c['tokens']} {c['prob']:.15g}")
        print(f"# {len(cells)} cells, total {sum(c['prob'] for c in cells):.15f}, quad_error {law.quad_error:.2e}")
    return 0


def _cmd_sweep_tv(args) -> int:
    from .montecarlo.sweeps import run_sweep, tv_sweep_slopes, tv_sweep_task, tv_sweep_tasks
    from ._io import atomic_write_text

    tasks = tv_sweep_tasks(family=args.family, n_values=args.n, k_values=args.k, alpha_values=args.alpha,
                           vocab_values=args.vocab, reps=args.reps, concentration=args.concentration, seed=args.seed)
    out = Path(args.out)
    rows = run_sweep(tasks, tv_sweep_task, out, progress=not args.no_progress, desc=f"sweep tv ({args.family})")
    slopes = tv_sweep_slopes(rows)
    atomic_write_text(out / "slopes.json", json.dumps(slopes, indent=1))
    for s in slopes["in_n"]:
        print(f"slope in N: k={s['k']} alpha={s['alpha']} V={s['vocab_size']}: {s['slope']:.3f} ± {s['stderr']:.3f}")
    for s in slopes["in_k"]:
        print(f"slope in k: N={s['n_masked']} alpha={s['alpha']} V={s['vocab_size']}: {s['slope']:.3f} ± {s['stderr']:.3f}")
    print(f"results written to {out.resolve()} (results.csv, results.json, slopes.json)")
    return 0


def _target_profile(args):
    """The information profile of the target named by the shared target options."""
    if (args.joint is None) == (args.target is None):
        raise ValueError("give exactly one of --joint J.npy and --target FAMILY")
    if args.joint is not None:
        from .profiles.enumeration import information_profile
        from .multiround.targets import joint_table

        path = Path(args.joint)
        if not path.exists():
            raise ValueError(f"--joint file not found: {args.joint}")
        arr = np.load(path, allow_pickle=False)
        if arr.ndim > 1 and args.q is not None and arr.shape[0] != args.q:
            raise ValueError(f"--q {args.q} does not match the joint's shape {arr.shape}")
        return information_profile(joint_table(arr, q=args.q, name="--joint"))
    from .profiles.closed_forms import family_profile

    return family_profile(args.target, dict(n=args.n, eps=args.eps, q=args.q, a=args.a, b=args.b, eta=args.eta,
                                            m=args.m, rho=args.corr))


def _schedule_arg(text: str) -> list[int]:
    return _int_list(text)


def _cmd_profile(args) -> int:
    pr = _target_profile(args)
    out = {"H": pr.H.tolist(), "f": pr.f.tolist(), "Z": pr.Z.tolist(), "tc": pr.tc, "dtc": pr.dtc}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"N={pr.n}  H(pi)={pr.entropy:.12g}  TC={pr.tc:.12g}  DTC={pr.dtc:.12g}  "
              f"sum_j I(x_j;x_-j)={pr.sum_mutual_info:.12g}  truncation error <= {pr.error:.1e}")
        for i, fi in enumerate(pr.f, start=1):
            print(f"f({i}) = {fi:.12g}")
    return 0


def _cmd_efact(args) -> int:
    from .profiles.bounds import kmax_bound
    from .profiles.enumeration import efact

    pr = _target_profile(args)
    out = {"efact": efact(pr, args.schedule), "bound_kmax": kmax_bound(pr, args.schedule)}
    print(json.dumps(out) if args.json else f"E_fact = {out['efact']:.12g}  (k_max bound {out['bound_kmax']:.12g})")
    return 0


def _cmd_schedule(args) -> int:
    from .profiles.optimal_schedules import geometric_schedule, profile_schedule
    from .profiles.enumeration import efact

    pr = _target_profile(args)
    if args.rho is not None and args.method.startswith("geometric"):
        if args.steps is not None:
            raise ValueError("give --steps or --rho, not both")
        sizes = geometric_schedule(pr.n, rho=args.rho,
                                   direction="increasing" if args.method == "geometric-inc" else "decreasing")
    else:
        if args.steps is None:
            raise ValueError("--steps K is required (or --rho with a geometric method)")
        sizes = profile_schedule(pr, args.steps, args.method)
    out = {"sizes": sizes.tolist(), "efact": efact(pr, sizes)}
    print(json.dumps(out) if args.json else f"sizes = {out['sizes']}\nE_fact = {out['efact']:.12g}")
    return 0


def _add_target_options(p: argparse.ArgumentParser) -> None:
    from .profiles.closed_forms import FAMILIES

    g = p.add_argument_group("target (one of --joint or --target)")
    g.add_argument("--joint", help=".npy joint law: a flat C-order vector of length q**N (needs --q) or an "
                   "array of shape (q,)*N")
    g.add_argument("--target", choices=tuple(FAMILIES), help="closed-form family (§6)")
    g.add_argument("--q", type=int, help="alphabet size (flat --joint; markov / repeated-bit states, default 2)")
    g.add_argument("--n", type=int, help="number of positions N")
    g.add_argument("--eps", type=float, help="markov: flip probability in [0, 1]")
    g.add_argument("--a", type=float, help="beta-bernoulli: a > 0")
    g.add_argument("--b", type=float, help="beta-bernoulli: b > 0")
    g.add_argument("--eta", type=float, help="noisy-repeated-bit: noise in [0, 1]")
    g.add_argument("--m", type=int, help="hidden-parity: size of the hidden subset")
    g.add_argument("--corr", type=float, help="gaussian-ar1: correlation ρ in (-1, 1) of neighbours")


def _cmd_audit(args) -> int:
    from .peers.audit import PEERS, audit_all, audit_peer

    if args.all or args.peer is None:
        rows, path = audit_all(args.out, alpha=args.alpha, n_samples=args.n_samples, seed=args.seed,
                               false_alarm=args.false_alarm)
        print(Path(path).read_text())
        print(f"report: {Path(path).resolve()}")
        return 0 if all(r["passed"] for r in rows) else 1
    results = audit_peer(args.peer, alpha=args.alpha, n_samples=args.n_samples, seed=args.seed,
                         false_alarm=args.false_alarm)
    description = PEERS[args.peer][2]
    if args.json:
        print(json.dumps({"peer": args.peer, "law": description, "alpha": _json_alpha(args.alpha),
                          "results": [r.to_dict() for r in results]}))
    else:
        print(f"{args.peer}: {description}; alpha={args.alpha}, {args.n_samples} draws per case, "
              f"false alarm {args.false_alarm:g}")
        for r in results:
            print(f"  {r.case:8s} k={r.k}  chi2={r.chi2.statistic:9.2f} (critical {r.chi2.critical_value:7.2f})  "
                  f"TV={r.tv:.4f} (<= {r.tv_upper:.4f} at 99%)  {'PASS' if r.passed else 'FAIL'}")
    return 0 if all(r.passed for r in results) else 1


def _cmd_noise(args) -> int:
    from .exact.finite_precision_noise import noise_temperature_table

    rows = noise_temperature_table(vocab_sizes=args.vocab, exponents=args.exponent, temperatures=args.temperature,
                                   dtypes=args.dtype)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows]))
        return 0
    print(f"{'V':>7} {'zipf':>5} {'tau':>6} {'noise':>8} {'tau_eff':>9} {'dead':>7} {'dead mass':>10} "
          f"{'TV':>9} {'dH nats':>10} {'quad err':>9}")
    for r in rows:
        print(f"{r.vocab_size:7d} {r.exponent:5.2f} {r.temperature:6.3f} {r.dtype:>8} {r.effective_temperature:9.5f} "
              f"{r.dead_tokens:7d} {r.dead_mass:10.2e} {r.tv:9.2e} {r.entropy_change:10.2e} "
              f"{r.quadrature_error:9.1e}")
    return 0


def _cmd_train(args) -> int:
    from dataclasses import replace

    from .models.training import TRAIN_PRESETS, train

    cfg = TRAIN_PRESETS[args.data]
    overrides = {f: getattr(args, f) for f in ("steps", "batch_size", "lr", "seed", "checkpoint_every", "seq_len",
                                                "d_model", "n_layers", "n_heads", "d_ff") if getattr(args, f) is not None}
    cfg = replace(cfg, **overrides)
    out = args.out or f"mdtheory-out/models/{args.data}"
    summary = train(cfg, out, device=args.device, progress=not args.no_progress)
    print(json.dumps(summary))
    print(f"model: {Path(out).resolve()}")
    return 0


def _cmd_train_evaluator(args) -> int:
    from .models.evaluators import save_evaluator, train_char_lm, train_digits_classifier

    model = (train_digits_classifier if args.name == "digits_classifier" else train_char_lm)(
        progress=not args.no_progress)
    out = save_evaluator(model, args.name, args.out or f"mdtheory-out/models/{args.name}")
    print(f"evaluator: {Path(out).resolve()}")
    return 0


def _cmd_simulate(args) -> int:
    import importlib

    from .figures import driver_figure
    from .montecarlo.drivers import DRIVERS

    if args.name not in DRIVERS:
        raise ValueError(f"unknown driver {args.name!r}; allowed: {', '.join(DRIVERS)}")
    mod = importlib.import_module(f".montecarlo.drivers.{args.name}", __package__)
    out = args.out or f"mdtheory-out/simulations/{args.name}-{args.preset}-seed{args.seed}"
    summary = mod.main(out, preset=args.preset, seed=args.seed, device=args.device, progress=not args.no_progress)
    summary["figure"] = str(driver_figure(args.name, out, out))
    print(json.dumps(summary, indent=1, default=float))
    print(f"results: {Path(out).resolve()}")
    return 0


def _cmd_figures(args) -> int:
    from .verification.report import run_figures

    paths = run_figures(Path(args.out), quick=args.quick, only=args.only, rng=args.seed)
    for p in paths:
        print(p)
    return 0


def _cmd_verify(args) -> int:
    from .verification.report import format_table, verify

    results, path = verify(args.out, full=args.full, figures=not args.no_figures, progress=not args.no_progress)
    print(format_table(results))
    failed = [r.name for r in results if not r.passed]
    print(f"\nreport: {Path(path).resolve()}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _cmd_bench(args) -> int:
    from .bench import run_benchmarks

    from .sampling.rounds import check_device

    out = Path(args.out)
    run_benchmarks(quick=args.quick, out_dir=out, only=args.only, device=check_device(args.device, name="--device"))
    print(f"results: {out.resolve()} (one NAME.json per benchmark)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mdtheory", description="Exact laws, bounds and Monte-Carlo verification "
                                 "for masked-diffusion samplers (theory: docs/theory.md).")
    sub = ap.add_subparsers(dest="command", required=True)

    v = sub.add_parser("verify", help="run the registered theorem checks and write a report")
    v.add_argument("--out", default="mdtheory-report", help="report directory (default: ./mdtheory-report)")
    v.add_argument("--full", action="store_true", help="run every check (not only the fast set) and full figures")
    v.add_argument("--no-figures", action="store_true", help="skip figure generation")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.set_defaults(fn=_cmd_verify)

    t = sub.add_parser("tv", help="exact TV(MaskGIT, moment) of one round (§3.6, §4.2)")
    t.add_argument("--probs", required=True, help="(N, V) float64 .npy file whose rows are distributions")
    t.add_argument("--k", type=int, required=True, help="positions revealed, 1 <= k <= N")
    t.add_argument("--alpha", type=_alpha, required=True, help="Gumbel scale alpha >= 0 ('inf' allowed)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(fn=_cmd_tv)

    law = sub.add_parser("law", help="exact one-round law on (set, tokens) cells (§3)")
    law.add_argument("--sampler", choices=("maskgit", "moment"), required=True)
    law.add_argument("--probs", required=True, help="(N, V) float64 .npy file")
    law.add_argument("--k", type=int, required=True)
    law.add_argument("--alpha", type=_alpha, required=True)
    law.add_argument("--ordered", action="store_true", help="ordered tuples (reveal order) instead of sets")
    law.add_argument("--json", action="store_true")
    law.set_defaults(fn=_cmd_law)

    sw = sub.add_parser("sweep", help="resumable parameter sweeps")
    swsub = sw.add_subparsers(dest="sweep", required=True)
    st = swsub.add_parser("tv", help="TV(MaskGIT, moment) over grids of N, k, alpha, V with log-log slopes")
    st.add_argument("--family", choices=("dirichlet", "homogeneous"), required=True)
    st.add_argument("--n", type=_int_list, default=[16, 32, 64, 128], help="comma list of N")
    st.add_argument("--k", type=_int_list, default=[1, 2, 3], help="comma list of k")
    st.add_argument("--alpha", type=_float_list, default=[0.5, 1.0, 2.0], help="comma list of alpha")
    st.add_argument("--vocab", type=_int_list, default=[4], help="comma list of V")
    st.add_argument("--reps", type=int, default=1, help="random instances per grid point")
    st.add_argument("--concentration", type=float, default=1.0, help="Dirichlet concentration of the rows")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--out", default="mdtheory-out/sweep-tv", help="output directory (resumes if it exists)")
    st.add_argument("--no-progress", action="store_true")
    st.set_defaults(fn=_cmd_sweep_tv)

    pp = sub.add_parser("profile", help="entropy/information profile, Z curve, TC, DTC (§5.2, §7)")
    _add_target_options(pp)
    pp.add_argument("--json", action="store_true", help='print {"H", "f", "Z", "tc", "dtc"}; f[0] is f(1)')
    pp.set_defaults(fn=_cmd_profile)

    pe = sub.add_parser("efact", help="exact factorization error of a schedule (§5.3, §5.4)")
    _add_target_options(pe)
    pe.add_argument("--schedule", type=_schedule_arg, required=True, help="comma-separated sizes summing to N")
    pe.add_argument("--json", action="store_true", help='print {"efact", "bound_kmax"}')
    pe.set_defaults(fn=_cmd_efact)

    ps = sub.add_parser("schedule", help="profile-driven schedules (§2.4, §5.5, §5.6)")
    _add_target_options(ps)
    ps.add_argument("--steps", type=int, help="number of steps K (1 <= K <= N)")
    ps.add_argument("--method", choices=("dp", "sqrt", "constant", "geometric-inc", "geometric-dec"), required=True,
                    help="dp: exact optimum; sqrt: equal sqrt(f)-mass; geometric-*: smallest rho with K steps "
                         "(or the given --rho)")
    ps.add_argument("--rho", type=float, help="geometric-*: the ratio rho > 0 (instead of --steps)")
    ps.add_argument("--json", action="store_true", help='print {"sizes", "efact"}')
    ps.set_defaults(fn=_cmd_schedule)

    au = sub.add_parser("audit", help="test an installed peer sampler against the exact law it documents")
    au.add_argument("peer", nargs="?", choices=("amused", "entropy-bound"),
                    help="amused: diffusers AmusedScheduler (MaskGIT round); entropy-bound: EntropyBoundScheduler (EB); "
                         "omit it (or --all) to audit every peer and write the report")
    au.add_argument("--all", action="store_true", help="audit every peer; write audit.md / audit.json to --out")
    au.add_argument("--out", default="mdtheory-out/audit", help="report directory for --all")
    au.add_argument("--alpha", type=_alpha, default=1.0, help="the peer's temperature / Gumbel scale")
    au.add_argument("--n-samples", type=int, default=200_000, help="seeded draws per case")
    au.add_argument("--false-alarm", type=float, default=1e-6, help="false-alarm rate of the chi-square test")
    au.add_argument("--seed", type=int, default=0)
    au.add_argument("--json", action="store_true")
    au.set_defaults(fn=_cmd_audit)

    nz = sub.add_parser("noise", help="effective temperature of Gumbel-max under float32/float64 noise (§9)")
    nz.add_argument("--vocab", type=int, nargs="+", default=[1000, 10_000, 50_257], help="vocabulary sizes V")
    nz.add_argument("--exponent", type=float, nargs="+", default=[1.1], help="Zipf exponents of the logits")
    nz.add_argument("--temperature", type=float, nargs="+", default=[0.5, 1.0], help="nominal temperatures")
    nz.add_argument("--dtype", nargs="+", choices=("float32", "float64"), default=["float32", "float64"])
    nz.add_argument("--json", action="store_true")
    nz.set_defaults(fn=_cmd_noise)

    tr = sub.add_parser("train", help="train a masked-diffusion denoiser (resumes from its checkpoint)")
    tr.add_argument("--data", required=True, choices=("digits", "text", "markov", "ising"))
    tr.add_argument("--out", help="model directory (default mdtheory-out/models/DATA)")
    tr.add_argument("--device", default="cpu", help="cpu or cuda")
    tr.add_argument("--no-progress", action="store_true")
    for name, typ in (("steps", int), ("batch-size", int), ("lr", float), ("seed", int), ("checkpoint-every", int),
                      ("seq-len", int), ("d-model", int), ("n-layers", int), ("n-heads", int), ("d-ff", int)):
        tr.add_argument(f"--{name}", type=typ, help="override the preset (see mdtheory.models.training.TRAIN_PRESETS)")
    tr.set_defaults(fn=_cmd_train)

    te = sub.add_parser("train-evaluator", help="train a sample-quality evaluator (digits classifier, char LM)")
    te.add_argument("name", choices=("digits_classifier", "text_char_lm"))
    te.add_argument("--out", help="directory (default mdtheory-out/models/NAME)")
    te.add_argument("--no-progress", action="store_true")
    te.set_defaults(fn=_cmd_train_evaluator)

    from .montecarlo.drivers import DRIVERS

    sm = sub.add_parser("simulate", help="Monte-Carlo / real-model drivers: " + ", ".join(DRIVERS))
    sm.add_argument("name", choices=DRIVERS, help="real_asymptotics: Theorems 1-2 on real predictions; "
                    "quality: sample quality vs alpha, steps, gamma and caching; kl_bounds: KL chain-rule bounds "
                    "with trained known-law models; schedules: loss-curve quantity vs sample quality")
    sm.add_argument("--preset", choices=("smoke", "paper"), default="smoke")
    sm.add_argument("--device", default="cpu", help="cpu or cuda")
    sm.add_argument("--seed", type=int, default=0)
    sm.add_argument("--out", help="results directory (default mdtheory-out/simulations/NAME-PRESET); rerun to resume")
    sm.add_argument("--no-progress", action="store_true")
    sm.set_defaults(fn=_cmd_simulate)

    f = sub.add_parser("figures", help="regenerate the figures")
    f.add_argument("--out", default="mdtheory-out/figures")
    f.add_argument("--quick", action="store_true", help="small grids (seconds)")
    f.add_argument("--only", nargs="*", help="figure names to run (e.g. tv_vs_n)")
    f.add_argument("--seed", type=int, default=0)
    f.set_defaults(fn=_cmd_figures)

    b = sub.add_parser("bench", help="performance benchmarks (medians; see benchmarks/)")
    b.add_argument("--quick", action="store_true", help="smaller sizes")
    b.add_argument("--only", nargs="*", help="benchmark names")
    b.add_argument("--device", default="cpu", help="device of the torch benchmarks (cpu, cuda, cuda:N)")
    b.add_argument("--out", default="mdtheory-out/bench", help="directory; one NAME.json per benchmark")
    b.set_defaults(fn=_cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
