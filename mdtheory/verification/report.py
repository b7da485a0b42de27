"""``mdtheory verify``: run the registered checks and write a Markdown/JSON report with figures."""

from __future__ import annotations

import importlib
import json
import platform
import time
from pathlib import Path

from .checks import all_checks
from .registry import CheckResult
from .._io import atomic_write_text

__all__ = ["run_checks", "write_report", "run_figures", "verify"]


def run_checks(*, full: bool = False, progress: bool = True) -> list[CheckResult]:
    from tqdm.auto import tqdm

    checks = all_checks(full=full)
    results = []
    for c in tqdm(checks, desc="checks", disable=not progress):
        try:
            results.append(c.check())
        except Exception as exc:  # a crash is a failure, reported with its message
            results.append(CheckResult(name=c.name, section=c.section, value=float("nan"), bound=float("nan"),
                                       slack=float("nan"), passed=False, seconds=0.0,
                                       details={"error": f"{type(exc).__name__}: {exc}"}))
    return results


def run_figures(out_dir: Path, *, quick: bool, only: list[str] | None = None, rng: int = 0) -> list[Path]:
    from ..figures import FIGURES

    paths = []
    for name in FIGURES:
        if only and name not in only and name.removeprefix("fig_") not in only:
            continue
        mod = importlib.import_module(f"mdtheory.figures.{name}")
        paths.append(mod.main(out_dir, quick=quick, rng=rng))
    return paths


def _fmt(x: float) -> str:
    return f"{x:.3e}" if x == x else "nan"


def format_table(results: list[CheckResult]) -> str:
    head = f"{'check':44s} {'section':12s} {'value':>11s} {'bound':>11s} {'slack':>11s}  status"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.name:44s} {r.section:12s} {_fmt(r.value):>11s} {_fmt(r.bound):>11s} {_fmt(r.slack):>11s}  "
                     f"{'PASS' if r.passed else 'FAIL'}")
    return "\n".join(lines)


def write_report(out_dir: Path, results: list[CheckResult], figures: list[Path], *, full: bool,
                 seconds: float) -> Path:
    from .registry import REGISTRY

    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"full": full, "seconds": seconds, "python": platform.python_version(), "platform": platform.platform(),
            "n_checks": len(results), "n_failed": sum(not r.passed for r in results)}
    data = {"meta": meta, "checks": [{**r.to_dict(), "statement": REGISTRY[r.name].statement,
                                      "bound_expression": REGISTRY[r.name].expression} for r in results],
            "figures": [str(p.relative_to(out_dir)) for p in figures]}
    atomic_write_text(out_dir / "report.json", json.dumps(data, indent=1, default=str))
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
    md += ["", "## Figures", ""] + [f"![{p.stem}]({p.relative_to(out_dir)})" for p in figures]
    atomic_write_text(out_dir / "report.md", "\n".join(md) + "\n")
    return out_dir / "report.md"


def verify(out_dir: str | Path = "mdtheory-report", *, full: bool = False, figures: bool = True,
           progress: bool = True) -> tuple[list[CheckResult], Path]:
    out = Path(out_dir)
    t0 = time.perf_counter()
    results = run_checks(full=full, progress=progress)
    figs = run_figures(out / "figures", quick=not full) if figures else []
    path = write_report(out, results, figs, full=full, seconds=time.perf_counter() - t0)
    if full:
        _append_peer_audit(out, path)
    return results, path


def _append_peer_audit(out: Path, report: Path) -> None:
    """``--full``: the peer audit table (verdicts on the peers, not on mdtheory; they do not change the exit
    status), when the ``peers`` extra is installed."""
    from ..peers.audit import audit_all

    try:
        _, md = audit_all(out / "audit")
    except ImportError:
        note = "\n## Peer audit\n\nSkipped: install the `peers` extra to audit diffusers' samplers.\n"
    else:
        note = "\n" + md.read_text().replace("# Peer audit", "## Peer audit (verdicts on the peers)", 1)
    with open(report, "a", encoding="utf-8") as fh:
        fh.write(note)
