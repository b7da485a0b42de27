"""Mutation check: plant plausible one-line bugs in the mathematics, one at a time, and run the tests that
should catch each. A mutant is killed when those tests fail. The goal is a kill rate of 100 %.

Usage: ``python benchmarks/mutation_check.py [--out DIR] [--only NAME ...]`` (minutes; the slow-marked test
``tests/test_mutation.py`` runs it). Each mutant edits one line of the working tree and restores it afterwards,
whatever happens; the script refuses to start on a tree whose mutated files have uncommitted changes.
Writes ``mutation_check.json`` (and prints a table) with, per mutant, the file, the line before and after, the
tests run, whether they failed, and the seconds taken.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name: (file, the exact line fragment to replace, its replacement, the tests that must catch it)
MUTANTS = {
    "maskgit noise α vs 1/α": (
        "mdtheory/sampling/rounds.py", "scores = conf + alpha * gumbel_noise(", "scores = conf + (1.0 / alpha) * gumbel_noise(",
        ["tests/sampling/test_rounds.py"]),
    "exact law α vs 1/α": (
        "mdtheory/exact/round_laws.py", "log_w = np.log(probs) / alpha", "log_w = np.log(probs) * alpha",
        ["tests/exact/test_round_laws.py"]),
    "moment positions untempered score": (
        "mdtheory/sampling/rounds.py", "return torch.logsumexp(beta * log_probs, dim=-1) - beta * log_z  # log m_i",
        "return torch.logsumexp(log_probs, dim=-1) - log_z  # log m_i", ["tests/sampling/test_rounds.py"]),
    "moment tokens untempered": (
        "mdtheory/sampling/rounds.py", "return Temperature(tau=alpha / (1.0 + alpha))", "return Temperature(tau=1.0)",
        ["tests/sampling/test_rounds.py"]),
    "Plackett–Luce as product weights": (
        "mdtheory/exact/plackett_luce.py", "denom = np.logaddexp(log_rest[:, None], suffix)",
        "denom = np.logaddexp(log_rest[:, None], suffix[:, :1])", ["tests/exact"]),
    "schedule rounding up": (
        "mdtheory/sampling/schedules.py", "masked = np.floor(D * masked_fraction(name, t) + 1e-9).astype(np.int64)",
        "masked = np.ceil(D * masked_fraction(name, t) - 1e-9).astype(np.int64)", ["tests/sampling/test_schedules_orders.py"]),
    "final step tempered": (
        "mdtheory/sampling/loop.py", "transform = Identity() if final else self.token_transform",
        "transform = self.token_transform", ["tests/sampling/test_loop.py", "tests/multiround"]),
    "E_fact index shift": (
        "mdtheory/profiles/enumeration.py", "return (ends[:-1] - np.arange(1, n)).astype(np.float64)",
        "return (ends[:-1] - np.arange(0, n - 1)).astype(np.float64)", ["tests/profiles/test_enumeration.py"]),
    "DP off by one": (
        "mdtheory/profiles/optimal_schedules.py", "a = np.arange(olo, min(ohi, mid - 1) + 1)",
        "a = np.arange(olo, min(ohi, mid - 1))", ["tests/profiles/test_optimal_schedules.py"]),
    "TV without the half": (
        "mdtheory/exact/distances.py", "return 0.5 * float(np.abs(p.probs - q.probs).sum())",
        "return float(np.abs(p.probs - q.probs).sum())", ["tests/exact/test_distances.py"]),
    "caching reads the wrong rows": (
        "mdtheory/sampling/partial_caching.py", "new = sample_categorical(transform(rows_lp[:, offset:offset + size]),",
        "new = sample_categorical(transform(rows_lp[:, :size]),",
        ["tests/sampling/test_partial_caching.py", "tests/models/test_denoiser.py"]),
    "homogeneous multiplicity without k!": (
        "mdtheory/exact/homogeneous.py",
        "log_mult = (gammaln(n + 1) - gammaln(n - k + 1)) - gammaln(counts + 1).sum(axis=1)",
        "log_mult = (gammaln(n + 1) - gammaln(n - k + 1) - gammaln(k + 1)) - gammaln(counts + 1).sum(axis=1)",
        ["tests/exact/test_distances.py"]),
    "first-index ties won by the later index": (
        "mdtheory/exact/round_laws.py", "out[c, j] = np.prod(q[j]) * np.prod(below + equal * (others > last))",
        "out[c, j] = np.prod(q[j]) * np.prod(below + equal * (others < last))", ["tests/testing/test_rules.py"]),
    "MDLM without the factor of the positions left masked": (
        "mdtheory/exact/variable_laws.py", "weight = rate ** size * (1 - rate) ** (n - size)",
        "weight = rate ** size", ["tests/testing/test_rules.py"]),
    "threshold rule counting the tempered confidence below θ": (
        "mdtheory/exact/variable_laws.py", "below = (q * (c <= threshold)).sum(axis=1)",
        "below = (q * (q <= threshold)).sum(axis=1)", ["tests/testing/test_rules.py"]),
    "multinomial split revealed-count law shifted by one step": (
        "mdtheory/profiles/random_sizes.py", "pmf = stats.binom.pmf(s[:-1], n, (t - 1) / K)",
        "pmf = stats.binom.pmf(s[:-1], n, t / K)", ["tests/profiles/test_random_sizes.py"]),
    "entropy-sum rule spending like the EB rule": (
        "mdtheory/sampling/rounds.py", "return _entropy_prefix(log_probs, masked, threshold, minus_max=False)",
        "return _entropy_prefix(log_probs, masked, threshold, minus_max=True)",
        ["tests/multiround/test_output_laws.py"]),
    "mutual-information bound without the minus one": (
        "mdtheory/profiles/bounds.py", "return float((sizes.max() - 1) * profile.sum_mutual_info / profile.n)",
        "return float(sizes.max() * profile.sum_mutual_info / profile.n)",
        ["tests/profiles/test_mutual_information_bound.py"]),
    "Fréchet bound with the largest deficit only": (
        "mdtheory/exact/certificates.py", "frechet_bound=float(1.0 - deficits.sum())",
        "frechet_bound=float(1.0 - deficits.max())", ["tests/exact/test_certificates.py"]),
    "low-confidence scored on the tempered law": (
        "mdtheory/testing/rules.py", 'base = p if self.get("confidence") == "untempered" else q', "base = q",
        ["tests/testing/test_rules.py"]),
    "top-p nucleus one token short": (
        "mdtheory/testing/rules.py", "keep_sorted = before < top_p - 1e-12",
        "keep_sorted = before + sorted_q < top_p - 1e-12", ["tests/testing/test_rules.py"]),
}


def _run_tests(tests: list[str]) -> tuple[bool, float, str]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header",
                        "-o", "addopts=", "-m", "not slow and not gpu", *tests], cwd=ROOT, capture_output=True, text=True)
    tail = (r.stdout.strip().splitlines() or [""])[-1]
    return r.returncode != 0, time.perf_counter() - t0, tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="benchmarks/results/cpu-2core", help="directory of mutation_check.json")
    ap.add_argument("--only", nargs="*", help="mutant names")
    args = ap.parse_args(argv)
    mutants = {k: v for k, v in MUTANTS.items() if not args.only or k in args.only}
    files = sorted({ROOT / m[0] for m in mutants.values()})
    dirty = subprocess.run(["git", "status", "--porcelain", *map(str, files)], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    if dirty:
        print(f"refusing to mutate files with uncommitted changes:\n{dirty}", file=sys.stderr)
        return 2
    rows = []
    for name, (rel, old, new, tests) in mutants.items():
        path = ROOT / rel
        original = path.read_text()
        if original.count(old) != 1:
            rows.append({"mutant": name, "file": rel, "error": f"the line to mutate occurs {original.count(old)} times"})
            print(f"{name:38s} NOT APPLIED (line found {original.count(old)} times)")
            continue
        try:
            path.write_text(original.replace(old, new))
            killed, seconds, tail = _run_tests(tests)
        finally:
            path.write_text(original)
        rows.append({"mutant": name, "file": rel, "before": old, "after": new, "tests": tests, "killed": killed,
                     "seconds": seconds, "pytest": tail})
        print(f"{name:38s} {'killed' if killed else 'SURVIVED':9s} {seconds:6.1f} s  ({tail})")
    applied = [r for r in rows if "killed" in r]
    killed = sum(r["killed"] for r in applied)
    summary = {"mutants": len(rows), "applied": len(applied), "killed": killed,
               "kill_rate": killed / len(rows) if rows else 1.0, "rows": rows}
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "mutation_check.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"kill rate {killed}/{len(rows)} = {summary['kill_rate']:.0%}; written to {out / 'mutation_check.json'}")
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
