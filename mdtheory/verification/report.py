"""``mdtheory verify``: run the registered checks, draw the figures, and write the report.

The report comes three ways, written atomically into one folder: ``report.json`` (strict JSON, for
machines), ``report.md``, and ``report.html``, a self-contained page (no external assets; figures inline)
with the table of checks (value, bound, slack, status), each statement with its spec section, each figure
with a caption saying what it shows and what to look for, and the environment (versions, device, seed).
Every phase (checks, figures, report) shows progress.
"""

from __future__ import annotations

import base64
import html
import importlib
import platform
import time
from pathlib import Path

from .._io import atomic_write_text, to_json
from ..figures import figure_caption, run_figures  # their home is the figures stage
from .checks import all_checks
from .registry import REGISTRY, CheckResult

__all__ = ["run_checks", "run_figures", "figure_caption", "environment", "write_report", "format_table", "verify"]


def run_checks(*, full: bool = False, progress: bool = True) -> list[CheckResult]:
    """Run every registered check (the fast set unless ``full``); a check that raises fails with its message."""
    from tqdm.auto import tqdm

    results = []
    for c in tqdm(all_checks(full=full), desc="checks", disable=not progress):
        try:
            results.append(c.check())
        except Exception as exc:  # a crash is a failure, reported with its message
            results.append(CheckResult(name=c.name, section=c.section, value=float("nan"), bound=float("nan"),
                                       slack=float("nan"), passed=False, seconds=0.0,
                                       details={"error": f"{type(exc).__name__}: {exc}"}))
    return results


def environment(*, seed: int, full: bool) -> dict:
    """Versions, machine and settings of a verification run."""
    import sys

    env = {"mdtheory": importlib.import_module("mdtheory").__version__, "python": platform.python_version(),
           "platform": platform.platform(), "set": "full" if full else "fast", "seed": seed,
           "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    for mod in ("numpy", "scipy", "torch", "sympy", "matplotlib"):
        if mod in sys.modules:
            env[mod] = getattr(sys.modules[mod], "__version__", "?")
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        env["device"] = "cpu (checks run on the CPU)"
        env["cuda_available"] = bool(torch.cuda.is_available())
        env["torch_threads"] = torch.get_num_threads()
    return env


def _fmt(x: float) -> str:
    return f"{x:.3e}" if x == x else "nan"


def format_table(results: list[CheckResult]) -> str:
    """The checks as a plain-text table."""
    head = f"{'check':44s} {'section':12s} {'value':>11s} {'bound':>11s} {'slack':>11s}  status"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.name:44s} {r.section:12s} {_fmt(r.value):>11s} {_fmt(r.bound):>11s} {_fmt(r.slack):>11s}  "
                     f"{'PASS' if r.passed else 'FAIL'}")
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:70rem;
color:#1d2330;line-height:1.45}h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d8dee9}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.3rem .5rem;border-bottom:1px solid #e5e9f0;
text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;font-family:ui-monospace,monospace}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:700}figure{margin:1.5rem 0}
figure img{max-width:100%;border:1px solid #e5e9f0}figcaption{font-size:.9rem;color:#4c566a}
code{background:#f3f4f6;padding:0 .2rem}.summary{font-size:1.1rem}"""


def _html(results: list[CheckResult], figures: list[Path], env: dict, seconds: float) -> str:
    n_failed = sum(not r.passed for r in results)
    esc = html.escape
    rows = "\n".join(
        f"<tr><td><code>{esc(r.name)}</code></td><td>{esc(r.section)}</td><td class=num>{_fmt(r.value)}</td>"
        f"<td class=num>{_fmt(r.bound)}</td><td class=num>{_fmt(r.slack)}</td>"
        f"<td class={'pass' if r.passed else 'fail'}>{'PASS' if r.passed else 'FAIL'}</td></tr>" for r in results)
    statements = "\n".join(
        f"<li><b>{esc(r.name)}</b> ({esc(r.section)}): {esc(REGISTRY[r.name].statement)}"
        + (f"<br><span class=fail>error: {esc(r.details['error'])}</span>" if "error" in r.details else "")
        + "</li>" for r in results)
    figs = "\n".join(
        f"<figure><img alt='{esc(p.stem)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode('ascii')}'><figcaption><b>{esc(p.stem)}</b>: "
        f"{esc(figure_caption(p.stem))}</figcaption></figure>" for p in figures)
    env_rows = "\n".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in env.items())
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>mdtheory verification report</title>"
            f"<style>{_CSS}</style></head><body><h1>mdtheory verification report</h1>"
            f"<p class=summary>{len(results)} checks, <span class={'fail' if n_failed else 'pass'}>{n_failed} failed"
            f"</span>, {seconds:.1f} s ({esc(env['set'])} set). A check passes when its value is at most its bound; "
            f"the slack is bound − value. Sections (§) refer to docs/theory.md.</p>"
            f"<h2>Checks</h2><table><tr><th>check</th><th>spec</th><th>value</th><th>bound</th><th>slack</th>"
            f"<th>status</th></tr>{rows}</table><h2>Statements</h2><ul>{statements}</ul>"
            f"<h2>Figures</h2>{figs or '<p>No figures in this run.</p>'}"
            f"<h2>Environment</h2><table>{env_rows}</table></body></html>\n")


def write_report(out_dir: Path, results: list[CheckResult], figures: list[Path], *, full: bool, seconds: float,
                 seed: int = 0) -> Path:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out_dir``; returns the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment(seed=seed, full=full)
    meta = {"full": full, "seconds": seconds, "python": env["python"], "platform": env["platform"], "seed": seed,
            "n_checks": len(results), "n_failed": sum(not r.passed for r in results), "environment": env}
    data = {"meta": meta, "checks": [{**r.to_dict(), "statement": REGISTRY[r.name].statement,
                                      "bound_expression": REGISTRY[r.name].expression} for r in results],
            "figures": [{"path": str(p.relative_to(out_dir)), "caption": figure_caption(p.stem)} for p in figures]}
    atomic_write_text(out_dir / "report.json", to_json(data, indent=1))
    md = ["# mdtheory verification report", "",
          f"{meta['n_checks']} checks, {meta['n_failed']} failed, {seconds:.1f} s ({'full' if full else 'fast'} set).",
          "", "| check | spec | value | bound | slack | status |", "|---|---|---|---|---|---|"]
    for r in results:
        md.append(f"| `{r.name}` | {r.section} | {_fmt(r.value)} | {_fmt(r.bound)} | {_fmt(r.slack)} | "
                  f"{'PASS' if r.passed else '**FAIL**'} |")
    md += ["", "## Statements", ""]
    for r in results:
        md.append(f"* **{r.name}** ({r.section}): {REGISTRY[r.name].statement}")
        if "error" in r.details:
            md.append(f"  * error: `{r.details['error']}`")
    md += ["", "## Figures", ""]
    md += [f"![{p.stem}]({p.relative_to(out_dir)})\n\n*{figure_caption(p.stem)}*\n" for p in figures]
    atomic_write_text(out_dir / "report.md", "\n".join(md) + "\n")
    atomic_write_text(out_dir / "report.html", _html(results, figures, env, seconds))
    return out_dir / "report.html"


def _draw_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """The figures on one thread (the worker process of :func:`verify`; the checks keep the other core)."""
    from ..sweeps.runner import pinned_threads

    with pinned_threads(1):
        return run_figures(out_dir, quick=quick, seed=seed, progress=False)


def verify(out_dir: str | Path = "mdtheory-out/verify", *, full: bool = False, figures: bool = True,
           progress: bool = True, seed: int = 0) -> tuple[list[CheckResult], Path]:
    """Run the checks, draw the figures (quick ones unless ``full``) and write the report; returns the
    results and the path of ``report.html``. ``seed`` seeds the figures; the checks use their own fixed
    seeds, so their verdicts are reproducible."""
    import os

    out = Path(out_dir)
    t0 = time.perf_counter()
    pool = figs_job = None
    if figures and (os.cpu_count() or 1) >= 2:
        # the figures are drawn in a second process while the checks run: the two halves of `verify` take about
        # the same time, so on two cores the wall-clock is the longer of them, not their sum
        import concurrent.futures as cf
        import multiprocessing as mp

        pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
        figs_job = pool.submit(_draw_figures, out / "figures", quick=not full, seed=seed)
        if progress:
            print("figures … (in a second process)", flush=True)
    try:
        if figs_job is not None:  # one core each: two processes of two threads would only contend
            from ..sweeps.runner import pinned_threads

            with pinned_threads(1):
                results = run_checks(full=full, progress=progress)
        else:
            results = run_checks(full=full, progress=progress)
        if figs_job is not None:
            figs = figs_job.result()
        else:
            figs = run_figures(out / "figures", quick=not full, seed=seed, progress=progress) if figures else []
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if progress:
        print("report …", flush=True)
    path = write_report(out, results, figs, full=full, seconds=time.perf_counter() - t0, seed=seed)
    if full:
        _append_peer_audit(out, out / "report.md")
    return results, path


def _append_peer_audit(out: Path, report: Path) -> None:
    """``--full``: the table of every peer (verdicts on the peers, not on mdtheory; they do not change the exit
    status); peers that are not installed are listed with their install command."""
    from ..peers.audit import audit_all

    _, md = audit_all(out / "audit")
    note = "\n" + md.read_text().replace("# Peer audit", "## Peer audit (verdicts on the peers)", 1)
    with open(report, "a", encoding="utf-8") as fh:
        fh.write(note)
