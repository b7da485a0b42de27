"""The ``mdtheory`` command line: a thin layer over the library.

One set of conventions, declared once in parent parsers:

* ``--out DIR`` is always a directory, under one default root (``mdtheory-out/<command>``), checked for
  writing before any work starts;
* ``--json`` on every command that prints a result; JSON is strict (no NaN or Infinity: an undefined
  number is null and listed under ``"undefined"``; ±inf is the string "inf");
* ``--seed`` wherever randomness enters; ``--device {cpu,cuda,cuda:N,mps}`` wherever torch runs, validated
  up front and part of every resume key;
* lists are comma-separated (``--n 16,32,64``);
* ``--n-steps`` is a schedule's number of steps K, ``--train-steps`` the optimiser's;
* ``--no-progress`` hides progress bars and ``--quiet`` everything but the result;
* ``mdtheory --version``.

Errors: a user error prints one line naming the argument and the rule and exits with status 2; an
unexpected error prints one line and where its full traceback was written (``--debug`` shows it instead)
and exits with status 3. Failed checks or audits exit with status 1. Start-up imports nothing heavy: each
command imports what it uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser", "UsageError"]

OUT_ROOT = Path("mdtheory-out")


class UsageError(ValueError):
    """A user error: the message names the argument and the rule it breaks."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line and exit status 2."""

    def error(self, message):  # noqa: D401
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


# ---------------------------------------------------------------------------------------------
# argument types: each names the rule it enforces
def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if value != value:
        raise argparse.ArgumentTypeError(f"must be a number, not NaN; got {text!r}")
    return value


def _alpha(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"alpha must be >= 0 (a number or 'inf'); got {text!r}")
    return value


def _int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _positive_finite(text: str) -> float:
    value = _number(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0 and finite; got {text!r}")
    return value


def _open_unit(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1); got {text!r}")
    return value


def _list(item):
    def parse(text: str) -> list:
        parts = [t.strip() for t in text.split(",")]
        if not parts or any(not t for t in parts):
            raise argparse.ArgumentTypeError(f"must be a comma-separated list with no empty entries; got {text!r}")
        return [item(t) for t in parts]

    return parse


def _cluster(text: str) -> str:
    from .sweeps.executors import parse_cluster

    try:
        parse_cluster(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be local:N with N >= 1 workers; got {text!r}") from None
    return text


def _scheduler(text: str) -> str:
    from .sweeps.executors import check_scheduler_address

    try:
        return check_scheduler_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("scheduler must be", "must be", 1)) from None


def _names(text: str) -> list[str]:
    return _list(str)(text)


def _device(text: str) -> str:
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and (kind != "cuda" or not index.isdigit())):
        raise argparse.ArgumentTypeError(f"must be one of cpu, cuda, cuda:N, mps; got {text!r}")
    return text


# ---------------------------------------------------------------------------------------------
# shared helpers of the commands
def _say(args, *lines) -> None:
    """Informational output, silenced by --quiet and --json."""
    if not (getattr(args, "quiet", False) or getattr(args, "json", False)):
        print(*lines, sep="\n")


def _emit(args, obj, text: str) -> None:
    """The command's result: strict JSON with --json, else ``text``."""
    from ._io import to_json

    print(to_json(obj) if args.json else text)


def _progress(args) -> bool:
    return not (args.no_progress or args.quiet or getattr(args, "json", False))


def _out_dir(args, default: str) -> Path:
    """The --out directory, created and checked for writing before any work starts."""
    import os
    import tempfile

    out = Path(args.out) if args.out else OUT_ROOT / default
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-check-")
        os.close(fd)
        os.unlink(probe)
    except (OSError, FileExistsError) as exc:
        raise UsageError(f"--out {out}: must be a writable directory ({exc.strerror or exc})") from None
    return out


def _executor(args):
    """The executor that --workers, --cluster or --scheduler names (in-process by default)."""
    from .sweeps.executors import executor_from_options

    return executor_from_options(workers=args.workers, cluster=args.cluster, scheduler=args.scheduler,
                                 threads=args.threads, connect_timeout=args.connect_timeout)


def _device_available(args) -> str:
    from .sampling.primitives import check_device

    return check_device(args.device, name="--device")


def _load_probs(path: str):
    """An (N, V) real array from a .npy file, refused with a one-line reason otherwise."""
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise UsageError(f"--probs {path}: no such file")
    if not p.is_file():
        raise UsageError(f"--probs {path}: must be a .npy file, not a directory")
    with open(p, "rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            raise UsageError(f"--probs {path}: not a NumPy .npy array file (no .npy header); save one with "
                             "numpy.save")
    from ._io import check_npy_size

    check_npy_size(p, flag="--probs")
    try:
        arr = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise UsageError(f"--probs {path}: holds pickled objects, which are refused; save a numeric array "
                             "with numpy.save") from None
        raise UsageError(f"--probs {path}: not a NumPy .npy array file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise UsageError(f"--probs {path}: not a NumPy .npy array file ({exc})") from None
    if not isinstance(arr, np.ndarray) or not (np.issubdtype(arr.dtype, np.floating)
                                              or np.issubdtype(arr.dtype, np.integer)):
        raise UsageError(f"--probs {path}: must hold real numbers; got dtype {getattr(arr, 'dtype', type(arr))}")
    return arr


# ---------------------------------------------------------------------------------------------
# commands
def _cmd_tv(args) -> int:
    from .exact.distances import maskgit_moment_tv

    r = maskgit_moment_tv(_load_probs(args.probs), k=args.k, alpha=args.alpha, max_cells=args.max_cells)
    _emit(args, r.to_dict(), f"TV(MaskGIT, moment) = {r.tv:.15g}  (quad_error ≤ {r.quad_error:.2e}, N={r.n_masked}, "
                             f"k={r.k}, V={r.vocab_size}, alpha={r.alpha}, route={r.route})")
    return 0


def _cmd_law(args) -> int:
    from .exact.round_laws import maskgit_ordered_law, moment_ordered_law, round_law

    P = _load_probs(args.probs)
    if args.ordered:
        law = (maskgit_ordered_law if args.sampler == "maskgit" else moment_ordered_law)(P, k=args.k, alpha=args.alpha)
    else:
        law = round_law(args.sampler, P, k=args.k, alpha=args.alpha)
    cells = [{"positions": list(pos), "tokens": list(tok), "prob": pr} for pos, tok, pr in law.cells()
             if all(P[i, s] > 0 for i, s in zip(pos, tok))]  # the support of the round
    out = {"sampler": args.sampler, "alpha": law.alpha, "k": law.k, "n_masked": law.n_masked,
           "vocab_size": law.vocab_size, "ordered": law.ordered, "quad_error": law.quad_error,
           "rounding_error": law.rounding_error, "cells": cells}
    text = "\n".join([f"{c['positions']} {c['tokens']} {c['prob']:.15g}" for c in cells]
                     + [f"# {len(cells)} cells, total {sum(c['prob'] for c in cells):.15f}, "
                        f"quad_error {law.quad_error:.2e}, rounding_error {law.rounding_error:.2e}"])
    _emit(args, out, text)
    return 0


def _cmd_sweep_tv(args) -> int:
    from ._io import atomic_write_text, to_json
    from .exact.tv_sweeps import tv_scaling_tasks, tv_sweep_slopes, tv_sweep_task, tv_sweep_tasks
    from .sweeps.runner import run_sweep

    grid = {"--family": args.family, "--n": args.n, "--k": args.k, "--alpha": args.alpha, "--vocab": args.vocab,
            "--reps": args.reps, "--concentration": args.concentration}
    if args.preset is not None:
        given = [flag for flag, value in grid.items() if value is not None]
        if given:
            raise ValueError(f"--preset {args.preset} fixes the grid; drop {', '.join(given)}")
        out = _out_dir(args, f"sweep-tv/{args.preset}-seed{args.seed}")
        tasks, refused = tv_scaling_tasks(seed=args.seed)
    else:
        if args.family is None:
            raise ValueError("give --family (dirichlet or homogeneous) or --preset scaling")
        out = _out_dir(args, "sweep-tv")
        tasks, refused = tv_sweep_tasks(
            family=args.family, n_values=args.n or [16, 32, 64, 128], k_values=args.k or [1, 2, 3],
            alpha_values=args.alpha or [0.5, 1.0, 2.0], vocab_values=args.vocab or [4], reps=args.reps or 1,
            concentration=1.0 if args.concentration is None else args.concentration, seed=args.seed), []
    with _executor(args) as executor:
        rows = run_sweep(tasks, tv_sweep_task, out, progress=_progress(args), desc="sweep tv", executor=executor)
    slopes = tv_sweep_slopes(rows)
    atomic_write_text(out / "slopes.json", to_json({**slopes, "refused": refused}, indent=1))
    result = {**slopes, "refused": refused, "out": str(out.resolve())}
    if args.preset is not None:
        from .figures import driver_figure

        result["figure"] = str(driver_figure(f"tv_{args.preset}", out, out))

    def fmt(s, where):
        se = "undefined (2 points)" if s["stderr"] != s["stderr"] else f"{s['stderr']:.3f}"
        return f"{s['family']}: slope in {where}: {s['slope']:.3f} ± {se}"

    lines = [fmt(s, f"N (k={s['k']} alpha={s['alpha']} V={s['vocab_size']})") for s in slopes["in_n"]]
    lines += [fmt(s, f"k (N={s['n_masked']} alpha={s['alpha']} V={s['vocab_size']})") for s in slopes["in_k"]]
    lines += [f"homogeneous route refused at k={r['k']}, V={r['vocab_size']}: needs {r['bytes'] / 2 ** 20:.0f} MiB "
              f"> {r['max_bytes'] / 2 ** 20:.0f} MiB" for r in refused]
    _emit(args, result, "\n".join(lines))
    _say(args, f"results: {out.resolve()} (results.csv, results.json, slopes.json, run.json"
               f"{', fig_tv_' + args.preset + '.png' if args.preset else ''})")
    return 0


def _target_profile(args):
    """The information profile of the target named by the shared target options."""
    if (args.joint is None) == (args.target is None):
        raise UsageError("give exactly one of --joint J.npy and --target FAMILY")
    if args.joint is not None:
        from .targets import joint_table
        from .profiles.enumeration import information_profile

        path = Path(args.joint)
        if not path.is_file():
            raise UsageError(f"--joint {args.joint}: no such file")
        import numpy as np

        from ._io import check_npy_size

        check_npy_size(path, flag="--joint")
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise UsageError(f"--joint {args.joint}: not a NumPy .npy array file ({exc})") from None
        if arr.ndim > 1 and args.vocab is not None and arr.shape[0] != args.vocab:
            raise UsageError(f"--vocab {args.vocab} does not match the joint's shape {arr.shape}")
        return information_profile(joint_table(arr, vocab_size=args.vocab, name="--joint"),
                                   max_seconds=args.max_seconds)
    from .profiles.closed_forms import family_profile

    return family_profile(args.target, dict(n=args.n, eps=args.eps, vocab_size=args.vocab, a=args.a, b=args.b, eta=args.eta,
                                            m=args.m, rho=args.corr), max_seconds=args.max_seconds)


def _cmd_profile(args) -> int:
    pr = _target_profile(args)
    out = {"H": pr.H, "f": pr.f, "Z": pr.Z, "tc": pr.tc, "dtc": pr.dtc, "error": pr.error}
    text = "\n".join([f"N={pr.n}  H(pi)={pr.entropy:.12g}  TC={pr.tc:.12g}  DTC={pr.dtc:.12g}  "
                      f"sum_j I(x_j;x_-j)={pr.sum_mutual_info:.12g}  truncation error <= {pr.error:.1e}"]
                     + [f"f({i}) = {fi:.12g}" for i, fi in enumerate(pr.f, start=1)])
    _emit(args, out, text)
    return 0


def _cmd_efact(args) -> int:
    from .profiles.bounds import kmax_bound
    from .profiles.enumeration import efact

    pr = _target_profile(args)
    out = {"efact": efact(pr, args.schedule), "bound_kmax": kmax_bound(pr, args.schedule)}
    _emit(args, out, f"E_fact = {out['efact']:.12g}  (k_max bound {out['bound_kmax']:.12g})")
    return 0


def _cmd_schedule(args) -> int:
    from .profiles.enumeration import efact
    from .profiles.schedule_shapes import geometric_schedule
    from .profiles.optimal_schedules import profile_schedule

    pr = _target_profile(args)
    if args.rho is not None:
        if not args.method.startswith("geometric"):
            raise UsageError(f"--rho applies to the geometric methods only; got --method {args.method}")
        if args.n_steps is not None:
            raise UsageError("give --n-steps or --rho, not both")
        sizes = geometric_schedule(pr.n, rho=args.rho,
                                   direction="increasing" if args.method == "geometric-inc" else "decreasing")
    else:
        if args.n_steps is None:
            raise UsageError("--n-steps K is required (or --rho with a geometric method)")
        sizes = profile_schedule(pr, args.n_steps, args.method)
    out = {"sizes": sizes, "efact": efact(pr, sizes)}
    _emit(args, out, f"sizes = {sizes.tolist()}\nE_fact = {out['efact']:.12g}")
    return 0


def _param(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"must be KEY=VALUE; got {text!r}")
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


def _load_step(spec: str, *, scheduler: bool = False):
    """``package.module:function`` (or ``Class.method``), imported with the working directory on the path."""
    import importlib
    import os

    module, sep, qualname = spec.partition(":")
    if not sep or not module or not qualname:
        raise ValueError(f"--round must be MODULE:FUNCTION (e.g. mypkg.sampling:maskgit_step); got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module or module.startswith(f"{exc.name}."):
            raise ValueError(f"--round: no module {module!r} (on the path or in the working directory)") from None
        raise _user_code_error(exc, f"importing {module}") from exc
    except Exception as exc:  # the user's module raised while it was imported
        raise _user_code_error(exc, f"importing {module}") from exc
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"--round: {module} has no {qualname!r}")
        obj = getattr(obj, part)
    if scheduler:  # a scheduler object, or a class / factory that makes one
        if isinstance(obj, type) or not hasattr(obj, "set_timesteps"):
            obj = obj() if callable(obj) else obj
        if not (callable(getattr(obj, "set_timesteps", None)) and callable(getattr(obj, "step", None))):
            raise ValueError(f"--round: {spec} is not a scheduler (set_timesteps and step) nor makes one")
        return obj
    if not callable(obj):
        raise ValueError(f"--round: {spec} is not callable")
    return obj


def _cmd_audit_round(args) -> int:
    import warnings

    from .testing import check_round_law, round_rule, stated_rule

    params = dict(args.param or [])
    if args.alpha is not None:
        if "alpha" in params and params["alpha"] != args.alpha:
            raise ValueError(f"--alpha {args.alpha:g} and --param alpha={params['alpha']!r} disagree; give alpha once")
        params["alpha"] = args.alpha
    if args.law is not None:  # a rule stated by its exact law
        law = _load_step(args.law)
        rule = stated_rule(args.law.rsplit(":", 1)[-1], law, variable=args.variable, **params)
    else:
        if args.variable:
            raise UsageError("--variable belongs to --law (a built-in rule knows its size)")
        rule = round_rule(args.rule, **params)
    forward = () if args.forward == ["none"] else tuple(args.forward or ("alpha",))
    step = _load_step(args.round, scheduler=args.convention == "diffusers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped cases are listed below
        audit = check_round_law(step, rule, cases=args.case, n_samples=args.n_samples, seed=args.seed,
                                false_alarm=args.false_alarm, convention=args.convention, forward=forward,
                                step_name=args.round, adversarial=args.adversarial or 0)
    lines = [f"{args.round} against {rule.describe()} ({args.convention} convention, false alarm "
             f"{args.false_alarm:g} per case)"]
    lines += [f"  {r.case:12s} k={r.k}  chi2={r.chi2.statistic:9.2f} (critical {r.chi2.critical_value:7.2f})  "
              f"TV={r.tv:.4f} (<= {r.tv_upper:.4f})  {'PASS' if r.passed else 'FAIL'}" for r in audit.results]
    lines += [f"  skipped {why}" for why in audit.skipped]
    failure = audit.invariant or ("\n".join(audit.failures) if audit.failures else None)
    if failure:
        lines.append(failure)
    lines.append("PASS" if audit.passed else "FAIL")
    _emit(args, {"step": args.round, "rule": rule.describe(), "convention": args.convention,
                 "passed": audit.passed, "results": [r.to_dict() for r in audit.results], "failure": failure,
                 "skipped": audit.skipped}, "\n".join(lines))
    return 0 if audit.passed else 1


def _cmd_audit(args) -> int:
    from .peers.audit import audit_all, audit_peer, peer_table

    if args.round is not None:
        if (args.rule is None) == (args.law is None):
            raise ValueError("--round needs one of --rule NAME and --law MODULE:FUNCTION (the rule the function "
                             "states it draws)")
        if args.peer is not None or args.all:
            raise ValueError("give either --round or a peer (or --all), not both")
        return _cmd_audit_round(args)
    for flag, value in (("--rule", args.rule), ("--law", args.law), ("--param", args.param), ("--case", args.case),
                        ("--forward", args.forward), ("--adversarial", args.adversarial)):
        if value is not None:
            raise ValueError(f"{flag} belongs to --round")
    if args.convention != "round":
        raise ValueError("--convention belongs to --round")
    args.alpha = 1.0 if args.alpha is None else args.alpha
    if args.all or args.peer is None:
        out = _out_dir(args, "audit")
        audits, path = audit_all(out, alpha=args.alpha, n_samples=args.n_samples, seed=args.seed,
                                 false_alarm=args.false_alarm)
        _emit(args, {"peers": [a.to_dict() for a in audits], "report": str(Path(path).resolve())},
              "\n".join(peer_table(audits)))
        _say(args, f"report: {Path(path).resolve()}")
        return 0 if all(a.passed for a in audits if a.audit is not None) else 1
    a = audit_peer(args.peer, alpha=args.alpha, n_samples=args.n_samples, seed=args.seed,
                   false_alarm=args.false_alarm)
    if a.audit is None:
        raise ValueError(f"{args.peer}: {a.skipped}")
    lines = [f"{args.peer} ({a.peer.distribution} {a.version}, {a.peer.entry}) against {a.rule.describe()}; "
             f"false alarm {args.false_alarm:g} per case"]
    lines += [f"  {r.case:12s} k={r.k}  chi2={r.chi2.statistic:9.2f} (critical {r.chi2.critical_value:7.2f})  "
              f"TV={r.tv:.4f} (<= {r.tv_upper:.4f} at 99%)  {'PASS' if r.passed else 'FAIL'}" for r in a.audit.results]
    lines += [f"  skipped {why}" for why in a.audit.skipped]
    lines += [f"  {f}" for f in a.audit.failures] + ([f"  {a.audit.invariant}"] if a.audit.invariant else [])
    lines.append(a.verdict)
    _emit(args, a.to_dict(), "\n".join(lines))
    return 0 if a.passed else 1


def _cmd_noise(args) -> int:
    from .exact.finite_precision_noise import noise_temperature_table

    rows = noise_temperature_table(vocab_sizes=args.vocab, exponents=args.exponent, temperatures=args.temperature,
                                   dtypes=args.dtype, max_vocab=args.max_vocab)
    lines = [f"{'V':>7} {'zipf':>5} {'tau':>6} {'noise':>8} {'tau_eff':>9} {'dead':>7} {'dead mass':>10} "
             f"{'TV':>9} {'dH nats':>10} {'quad err':>9}"]
    lines += [f"{r.vocab_size:7d} {r.exponent:5.2f} {r.temperature:6.3f} {r.dtype:>8} "
              f"{_tau_text(r.effective_temperature):>9} {r.dead_tokens:7d} {r.dead_mass:10.2e} {r.tv:9.2e} "
              f"{r.entropy_change:10.2e} {r.quadrature_error:9.1e}" for r in rows]
    _emit(args, [r.to_dict() for r in rows], "\n".join(lines))
    return 0


def _tau_text(tau) -> str:
    return "unresolved" if tau is None else f"{tau:.5f}"


def _cmd_train(args) -> int:
    from dataclasses import replace

    from .models.training import TRAIN_PRESETS, train

    out = _out_dir(args, f"train/{args.data}")
    device = _device_available(args)
    fields = {"train_steps": "steps", "batch_size": "batch_size", "lr": "lr", "seed": "seed",
              "checkpoint_every": "checkpoint_every", "seq_len": "seq_len", "d_model": "d_model",
              "n_layers": "n_layers", "n_heads": "n_heads", "d_ff": "d_ff"}
    overrides = {cfg: getattr(args, opt) for opt, cfg in fields.items() if getattr(args, opt) is not None}
    cfg = replace(TRAIN_PRESETS[args.data], **overrides)
    summary = train(cfg, out, device=device, progress=_progress(args), max_memory_gib=args.max_memory_gib)
    _emit(args, {**summary, "out": str(out.resolve())}, "\n".join(f"{k}: {v}" for k, v in summary.items()))
    _say(args, f"model: {out.resolve()}")
    return 0


def _cmd_train_evaluator(args) -> int:
    from .models.evaluators import save_evaluator, train_char_lm, train_digits_classifier

    out = _out_dir(args, f"train-evaluator/{args.name}")
    model = (train_digits_classifier if args.name == "digits_classifier" else train_char_lm)(progress=_progress(args))
    path = save_evaluator(model, args.name, out)
    _emit(args, {"evaluator": args.name, "out": str(Path(path).resolve())}, f"evaluator: {Path(path).resolve()}")
    return 0


def _cmd_simulate(args) -> int:
    from .figures import driver_figure
    from .montecarlo.drivers import run_driver

    out = _out_dir(args, f"simulate/{args.name}-{args.preset}-seed{args.seed}")
    device = _device_available(args)
    with _executor(args) as executor:
        summary = run_driver(args.name, out, preset=args.preset, seed=args.seed, device=device,
                             progress=_progress(args), executor=executor)
    summary["figure"] = str(driver_figure(args.name, out, out))
    from ._io import to_json

    _emit(args, summary, to_json(summary, indent=1))
    _say(args, f"results: {out.resolve()}")
    return 0


def _cmd_figures(args) -> int:
    from .figures import run_figures

    out = _out_dir(args, "figures")
    paths = run_figures(out, quick=args.quick, only=args.only, seed=args.seed, progress=_progress(args))
    _emit(args, {"figures": [str(p) for p in paths]}, "\n".join(str(p) for p in paths))
    return 0


def _cmd_verify(args) -> int:
    from .verification.report import format_table, verify

    out = _out_dir(args, "verify")
    results, path = verify(out, full=args.full, figures=not args.no_figures, progress=_progress(args), seed=args.seed)
    failed = [r.name for r in results if not r.passed]
    _emit(args, {"report": str(Path(path).resolve()), "passed": len(results) - len(failed), "failed": failed,
                 "checks": [r.to_dict() for r in results]}, format_table(results))
    if not args.json:
        print(f"report: {Path(path).resolve()} ({len(results) - len(failed)} passed, {len(failed)} failed)")
    return 1 if failed else 0


def _cmd_bench(args) -> int:
    from .bench import run_benchmarks

    out = _out_dir(args, "bench")
    device = _device_available(args)
    results = run_benchmarks(quick=args.quick, out_dir=out, only=args.only, device=device,
                             echo=not (args.quiet or args.json))
    _emit(args, results, f"results: {out.resolve()} (one NAME.json per benchmark)")
    return 0


# ---------------------------------------------------------------------------------------------
# the parser
def _parents() -> dict[str, argparse.ArgumentParser]:
    """The shared options, each declared once."""
    def parent(*specs):
        p = argparse.ArgumentParser(add_help=False)
        for flags, kw in specs:
            p.add_argument(*flags, **kw)
        return p

    quiet = (("--quiet",), dict(action="store_true", help="print only the result"))
    executor = argparse.ArgumentParser(add_help=False)
    group = executor.add_argument_group("where the tasks run (default: in this process; the rows are the same "
                                        "everywhere)")
    group.add_argument("--threads", type=_int(1), default=1, metavar="T",
                       help="BLAS and torch threads per task (default 1; pinned, so that rows do not depend on where "
                            "they ran: add workers, not threads, to go faster)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_int(1), metavar="N", help="N local worker processes")
    where.add_argument("--cluster", type=_cluster, metavar="local:N",
                       help="a Dask LocalCluster of N workers (pip install \"mdtheory[dask]\")")
    where.add_argument("--scheduler", type=_scheduler, metavar="URL",
                       help="a running Dask scheduler, e.g. tcp://HOST:8786 (dask-jobqueue: the scheduler address "
                            "of its SLURM or PBS cluster)")
    group.add_argument("--connect-timeout", type=_positive_finite, default=30.0, metavar="SECONDS",
                       help="seconds to reach --scheduler, handshake included (default 30)")
    no_progress = (("--no-progress",), dict(action="store_true", help="hide progress bars"))
    return {
        "json": parent((("--json",), dict(action="store_true", help="print the result as strict JSON"))),
        "out": parent((("--out",), dict(metavar="DIR", help="output directory (default: mdtheory-out/<command>/…); "
                                        "it must be writable, and a rerun into it resumes"))),
        "seed": parent((("--seed",), dict(type=_int(0), default=0, help="random seed, an integer >= 0 (default 0)"))),
        "device": parent((("--device",), dict(type=_device, default="cpu",
                                              help="cpu, cuda, cuda:N or mps (checked before any work)"))),
        "quiet": parent(quiet, no_progress),
        "executor": executor,
        # default SUPPRESS: given after the command it sets args.debug, and never resets the top-level default
        "debug": parent((("--debug",), dict(action="store_true", default=argparse.SUPPRESS,
                                            help="show the full traceback of an unexpected error"))),
    }


def _add_target_options(p: argparse.ArgumentParser) -> None:
    families = ("markov", "beta-bernoulli", "noisy-repeated-bit", "repeated-bit", "parity", "hidden-parity",
                "gaussian-ar1")  # the keys of mdtheory.profiles.FAMILIES (a test keeps them equal)
    g = p.add_argument_group("target (one of --joint or --target)")
    g.add_argument("--joint", help=".npy joint law: a flat C-order vector of length V**N (needs --vocab) or an "
                   "array of shape (V,)*N")
    g.add_argument("--target", choices=families, help="closed-form family (§6)")
    g.add_argument("--vocab", type=_int(2), help="vocabulary size V (flat --joint; markov / repeated-bit states, "
                   "default 2)")
    g.add_argument("--q", type=_int(2), dest="vocab", help=argparse.SUPPRESS)  # its earlier spelling
    g.add_argument("--n", type=_int(1), help="number of positions N")
    g.add_argument("--eps", type=_number, help="markov: flip probability in [0, 1]")
    g.add_argument("--a", type=_number, help="beta-bernoulli: a > 0")
    g.add_argument("--b", type=_number, help="beta-bernoulli: b > 0")
    g.add_argument("--eta", type=_number, help="noisy-repeated-bit: noise in [0, 1]")
    g.add_argument("--m", type=_int(1), help="hidden-parity: size of the hidden subset")
    g.add_argument("--corr", type=_number, help="gaussian-ar1: correlation ρ in (-1, 1) of neighbours")
    g.add_argument("--max-seconds", type=_positive_finite, default=60.0,
                   help="refuse (before any work) a profile, closed form or --joint enumeration, estimated to take "
                        "longer (default 60)")


def build_parser() -> argparse.ArgumentParser:
    """The ``mdtheory`` argument parser (no heavy import happens here)."""
    from . import __version__

    P = _parents()
    ap = _Parser(prog="mdtheory", description="Exact laws, bounds and Monte-Carlo verification for masked-diffusion "
                 "samplers. Sections (§) refer to docs/theory.md.")
    ap.add_argument("--version", action="version", version=f"mdtheory {__version__}")
    ap.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name, help, *parents, **kw):
        return sub.add_parser(name, help=help, description=help, parents=[P[p] for p in (*parents, "debug")], **kw)

    v = command("verify", "run the registered theorem checks, draw the figures and write the report "
                "(report.html, report.md, report.json)", "out", "json", "seed", "quiet")
    v.add_argument("--full", action="store_true", help="every check (not only the fast set) and full-size figures")
    v.add_argument("--no-figures", action="store_true", help="skip the figures")
    v.set_defaults(fn=_cmd_verify)

    t = command("tv", "exact TV(MaskGIT, moment) of one round (§3.6, §4.2)", "json")
    t.add_argument("--probs", required=True, help="(N, V) .npy file whose rows are distributions")
    t.add_argument("--k", type=_int(1), required=True, help="positions revealed, 1 <= k <= N")
    t.add_argument("--alpha", type=_alpha, required=True, help="Gumbel scale alpha >= 0 ('inf' allowed)")
    t.add_argument("--max-cells", type=_positive_finite, default=5e8,
                   help="refuse (before any work) a sum over more cells C(N,k)·V^k than this (default 5e8, ~40 s)")
    t.set_defaults(fn=_cmd_tv)

    law = command("law", "exact one-round law on (set, tokens) cells (§3)", "json")
    law.add_argument("--sampler", choices=("maskgit", "moment"), required=True)
    law.add_argument("--probs", required=True, help="(N, V) .npy file whose rows are distributions")
    law.add_argument("--k", type=_int(1), required=True, help="positions revealed, 1 <= k <= N")
    law.add_argument("--alpha", type=_alpha, required=True, help="Gumbel scale alpha >= 0 ('inf' allowed)")
    law.add_argument("--ordered", action="store_true", help="ordered tuples (reveal order) instead of sets")
    law.set_defaults(fn=_cmd_law)

    sw = command("sweep", "resumable parameter sweeps")
    swsub = sw.add_subparsers(dest="sweep", required=True, metavar="SWEEP", parser_class=_Parser)
    st = swsub.add_parser("tv", help="TV(MaskGIT, moment) over grids of N, k, alpha, V with log-log slopes (§4.2)",
                          description="TV(MaskGIT, moment) over grids of N, k, alpha, V with log-log slopes (§4.2); "
                          "a rerun into the same --out resumes",
                          parents=[P["out"], P["json"], P["seed"], P["quiet"], P["executor"], P["debug"]])
    st.add_argument("--preset", choices=("scaling",), help="scaling: k = 2 up to N = 4096, k = 3 up to N = 256, "
                    "V in {2, 4}, alpha in {0.5, 1, 2}, and the homogeneous route at N = 4096 up to the largest k "
                    "whose memory estimate fits (2 GiB); draws fig_tv_scaling")
    st.add_argument("--family", choices=("dirichlet", "homogeneous"), help="the rows (required without --preset)")
    st.add_argument("--n", type=_list(_int(1)), help="comma list of N (default 16,32,64,128)")
    st.add_argument("--k", type=_list(_int(1)), help="comma list of k (default 1,2,3)")
    st.add_argument("--alpha", type=_list(_alpha), help="comma list of alpha (default 0.5,1,2)")
    st.add_argument("--vocab", type=_list(_int(2)), help="comma list of V (default 4)")
    st.add_argument("--reps", type=_int(1), help="random instances per grid point (default 1)")
    st.add_argument("--concentration", type=_number, help="Dirichlet concentration of the rows (> 0, default 1)")
    st.set_defaults(fn=_cmd_sweep_tv)

    pp = command("profile", "entropy/information profile, Z curve, TC, DTC (§5.2, §7)", "json")
    _add_target_options(pp)
    pp.set_defaults(fn=_cmd_profile)

    pe = command("efact", "exact factorization error of a schedule (§5.3, §5.4)", "json")
    _add_target_options(pe)
    pe.add_argument("--schedule", type=_list(_int(1)), required=True, help="comma-separated sizes summing to N")
    pe.set_defaults(fn=_cmd_efact)

    ps = command("schedule", "profile-driven schedules (§2.4, §5.5, §5.6)", "json")
    _add_target_options(ps)
    ps.add_argument("--n-steps", type=_int(1), help="number of steps K (1 <= K <= N)")
    ps.add_argument("--method", choices=("optimal", "sqrt", "constant", "geometric-inc", "geometric-dec"), required=True,
                    help="optimal: exact optimum; sqrt: equal sqrt(f)-mass; geometric-*: smallest rho with K steps "
                         "(or the given --rho)")
    ps.add_argument("--rho", type=_number, help="geometric-*: the ratio rho > 0 (instead of --n-steps)")
    ps.set_defaults(fn=_cmd_schedule)

    au = command("audit", "test a sampler's round function, or the installed peer samplers, against the exact laws "
                 "they state (§9); exit 1 when one fails", "out", "json", "seed", "quiet")
    peers = ("amused", "entropy-bound", "block-refinement", "maskgit", "dlmserve", "dllm-reason",
             "dllm-reason-cosine", "dllm-reason-cosine-topk", "bitnet-dllm", "bitnet-dllm-last", "hedgehog-dlm",
             "dfastllm", "dfastllm-float32")  # mdtheory.peers.audit.PEERS (a test keeps them equal)
    au.add_argument("peer", nargs="?", choices=peers, metavar="PEER",
                    help="one installed peer sampler to audit against the rule it states (" + ", ".join(peers)
                         + "); omit it (or give --all) to audit every peer and write the report to --out")
    au.add_argument("--all", action="store_true", help="audit every peer; write audit.md and audit.json to --out")
    au.add_argument("--alpha", type=_positive_finite,
                    help="the peer's temperature / Gumbel scale (> 0, finite; default 1), or the rule's alpha")
    au.add_argument("--n-samples", type=_int(1), help="seeded draws per case (default 100,000 or what the case "
                    "needs to resolve a TV of 0.05)")
    from .rules.registry import RULE_NAMES as rules  # the one table of names (imports nothing heavy)
    g = au.add_argument_group("your own round function (mdtheory.testing)")
    g.add_argument("--round", metavar="MODULE:FUNCTION", help="the function to audit, e.g. mypkg.sampling:step")
    g.add_argument("--rule", choices=rules, help="the rule it states it draws")
    g.add_argument("--law", metavar="MODULE:FUNCTION",
                   help="a rule of your own, stated by its exact law: FUNCTION(probs, *, k, **params) -> "
                        "{(positions, tokens): probability} (mdtheory.testing.stated_rule)")
    g.add_argument("--variable", action="store_true",
                   help="the --law rule reveals a random number of positions (FUNCTION(probs, **params))")
    g.add_argument("--param", type=_param, action="append", metavar="KEY=VALUE",
                   help="a parameter of the rule (repeat): alpha=0.5, temperature=0.7, ties=first, m=2, …")
    g.add_argument("--case", action="append", metavar="CASE",
                   help="run only this case (repeat; default all five): peaked, flat, zeros, ties, large_vocab, or an "
                        "adversarial one such as straddle#0")
    g.add_argument("--adversarial", type=_int(1), metavar="D",
                   help="add D seeded draws of adversarial tables per kind (straddle, many_above, crossing, "
                        "near_ties, two_left)")
    g.add_argument("--convention", choices=("round", "logits", "sequence", "diffusers"), default="round",
                   help="how the function is called: round (default) fn(log_probs, k=k, generator=g, alpha=…), logits "
                        "(unnormalised), sequence fn(tokens, logits, k=k, mask_id=…, generator=g), diffusers (a "
                        "scheduler object, or a class or factory called without arguments: set_timesteps(2), then "
                        "step(logits, timesteps[0], tokens, generator=g))")
    g.add_argument("--forward", type=_names, metavar="NAMES",
                   help="the rule parameters passed to the function by name (default alpha; 'none' for none)")
    au.add_argument("--false-alarm", type=_open_unit, default=1e-6, help="false-alarm rate of the χ² test, in (0, 1)")
    au.set_defaults(fn=_cmd_audit)

    nz = command("noise", "effective temperature of Gumbel-max under float32/float64 noise (§9)", "json")
    nz.add_argument("--vocab", type=_list(_int(2)), default=[1000, 10_000, 50_257], help="comma list of V")
    nz.add_argument("--exponent", type=_list(_number), default=[1.1], help="comma list of Zipf exponents (> 0)")
    nz.add_argument("--temperature", type=_list(_number), default=[0.5, 1.0], help="comma list of temperatures")
    nz.add_argument("--dtype", type=_list(str), default=["float32", "float64"], help="comma list: float32, float64")
    nz.add_argument("--max-vocab", type=_int(2), default=5_000_000,
                    help="refuse (before any work) a larger vocabulary (default 5,000,000: ~45 s, 2 GB)")
    nz.set_defaults(fn=_cmd_noise)

    tr = command("train", "train a masked-diffusion denoiser (a rerun resumes from its checkpoint)",
                 "out", "json", "device", "quiet")
    tr.add_argument("--data", required=True, choices=("digits", "text", "markov", "ising"))
    overrides = (("train-steps", _int(1), "optimiser steps"), ("batch-size", _int(1), "batch size"),
                 ("lr", _number, "learning rate"), ("seed", _int(0), "seed"),
                 ("checkpoint-every", _int(1), "steps between checkpoints"), ("seq-len", _int(2), "text window"),
                 ("d-model", _int(1), "model width"), ("n-layers", _int(1), "layers"), ("n-heads", _int(1), "heads"),
                 ("d-ff", _int(1), "feed-forward width"))
    for name, typ, what in overrides:
        tr.add_argument(f"--{name}", type=typ, help=f"{what} (overrides the preset, mdtheory.models.TRAIN_PRESETS)")
    tr.add_argument("--max-memory-gib", type=_positive_finite, default=8.0, metavar="GIB",
                    help="refuse (before anything is allocated) a configuration estimated to need more memory "
                         "(default 8)")
    tr.set_defaults(fn=_cmd_train)

    te = command("train-evaluator", "train a sample-quality evaluator (digits classifier, character LM)",
                 "out", "json", "quiet")
    te.add_argument("name", choices=("digits_classifier", "text_char_lm"))
    te.set_defaults(fn=_cmd_train_evaluator)

    drivers = ("real_asymptotics", "quality", "kl_bounds", "schedules")  # mdtheory.montecarlo.drivers.DRIVERS
    sm = command("simulate", "Monte-Carlo drivers on real models; results go to --out (default "
                 "mdtheory-out/simulate/NAME-PRESET-seedS), and a rerun resumes", "out", "json", "seed", "device", "quiet",
                 "executor")
    sm.add_argument("name", choices=drivers, help="real_asymptotics: Theorems 1-2 on real predictions; "
                    "quality: sample quality vs alpha, steps, gamma and caching; kl_bounds: KL chain-rule bounds "
                    "with trained known-law models; schedules: loss-curve quantity vs sample quality")
    sm.add_argument("--preset", choices=("smoke", "paper"), default="smoke")
    sm.set_defaults(fn=_cmd_simulate)

    f = command("figures", "draw the figures", "out", "json", "seed", "quiet")
    f.add_argument("--quick", action="store_true", help="small grids and the shipped Monte-Carlo results (seconds)")
    f.add_argument("--only", type=_names, help="comma list of figure names (e.g. tv_vs_n,z_curve)")
    f.set_defaults(fn=_cmd_figures)

    b = command("bench", "performance benchmarks (medians of warmed runs); one NAME.json per benchmark in --out",
                "out", "json", "device", "quiet")
    b.add_argument("--quick", action="store_true", help="smaller sizes")
    b.add_argument("--only", type=_names, help="comma list of benchmark names")
    b.set_defaults(fn=_cmd_bench)
    _either_separator(ap)
    return ap


def _either_separator(parser: argparse.ArgumentParser) -> None:
    """Let every choice value of several words be typed with ``-`` or ``_`` (``low-confidence`` and
    ``low_confidence`` name the same rule): the value is mapped to the spelling of its table, which help and
    output show. The tables' spellings are the library's, where a name may also be a folder or a key."""
    for action in parser._actions:  # argparse has no public walk of its actions
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _either_separator(sub)
        elif action.choices is not None and all(isinstance(c, str) for c in action.choices):
            canon = {c.replace("-", "_"): c for c in action.choices}
            before = action.type

            def normalise(text, canon=canon, before=before):
                value = before(text) if before is not None else text
                return canon.get(value.replace("-", "_"), value) if isinstance(value, str) else value

            action.type = normalise


def _user_code_error(exc: BaseException, what: str):
    from .testing.conventions import UserCodeError

    return UserCodeError(f"{what} raised {type(exc).__name__}: {' '.join(str(exc).split())}")


def _user_errors() -> tuple[type, ...]:
    """The exceptions that are the user's to fix (bad values, files, sizes, missing extras)."""
    errors = [ValueError, TypeError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
              ImportError]
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a check or audit failed, 2 a usage error, 3 an
    unexpected error in mdtheory, 4 an error raised by the user's own code)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed in one line
        return int(exc.code or 0)
    try:
        return int(args.fn(args))
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume where it stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`| head`): nothing left to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        return _report(exc, args)


def _report(exc: Exception, args) -> int:
    """The one-line report and exit status of an exception that ended a command."""
    from .testing.conventions import UserCodeError

    if isinstance(exc, UserCodeError):
        if args.debug:
            raise exc
        print(f"error in your code: {' '.join(str(exc).split())} (rerun with --debug for its traceback)",
              file=sys.stderr)
        return 4
    if isinstance(exc, _user_errors()):
        if args.debug:
            raise exc
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    # an unexpected error: one line, the traceback kept for a bug report
    if args.debug:
        raise exc
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="mdtheory-error-", suffix=".txt")
    with open(fd, "w") as fh:
        fh.write(traceback.format_exc())
    print(f"error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())} "
          f"(traceback in {path}; rerun with --debug to see it)", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
