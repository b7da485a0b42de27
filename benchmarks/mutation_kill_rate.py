"""Mutation kill rate of the tests over the mathematical stages, from a seeded random sample of the mutants
that a mutation-testing tool (cosmic-ray's operators) generates: nobody picks the mutants.

What it measures: the fraction of non-equivalent sampled mutants that the tests kill. The stages are
``rules``, ``exact``, ``targets``, ``multiround``, ``profiles``, the test kit (``testing/``: its rules, cases,
statistics, conventions and engine) and the numerical checks they share (``_validation``: arguments and the
alpha range; ``_postconditions``: the checks on every exact answer).

How:

1. **Snapshot.** The working tree (tracked and untracked, not ignored) is copied into one folder per worker
   under ``--work``, so the checkout itself is never mutated and can be edited while this runs.
2. **Coverage.** The default test run (``-m 'not slow and not gpu'``, doctests included) runs once under
   ``coverage`` with the running test's node id as the coverage context (``_coverage_contexts.py``), which
   maps each line of the stages to the tests that execute it, and records each test's duration.
3. **Mutants.** Every mutation point of cosmic-ray's core operators (the ones that take no arguments) in
   the stages' files is listed; ``--sample`` of them are drawn with ``random.Random(--seed)``.
4. **Runs.** Each mutant is applied in a worker's copy and the tests that cover its lines run with ``-x``
   (a line executed only at import, such as a default argument or a constant, is covered by every test
   that covers its file, and by the record of public signatures). Exit 1 or 2 (a failing test, an import error) or the time limit (3 × the tests'
   recorded duration + 60 s) kills it; exit 0 lets it survive.
5. **Triage.** Survivors are looked up in ``benchmarks/mutation_triage.json`` (key → verdict and reason): a
   survivor marked ``equivalent`` leaves the denominator.

The kill rate is ``killed / (applied − equivalent)``. Results go to ``--out/NAME.json`` (atomically), with
one row per mutant (file, line, operator, the line before and after, tests run, outcome, seconds) and the
rate by stage and by operator family. Each finished mutant is appended to ``--work/NAME.jsonl`` first, so a
killed run resumes where it stopped (same seed and sample) and loses nothing.

Cost on 2 cores: the coverage pass about 5 minutes (two shards at once), then a median 2.4 s per mutant (a
fork of a server that has torch, scipy and matplotlib imported; a survivor runs every test that covers it, up
to a few minutes); 300 mutants took 31.5 minutes in all. A draw of size n is the first n of any larger draw
with the same seed and the same population (``random.Random.sample``), so a smaller sample is a prefix of a
larger one; an edit to the mutated files changes the population, hence the draw (see ``--same-mutants``).

Usage::

    python benchmarks/mutation_kill_rate.py [--sample 150] [--seed 0] [--workers 2] [--name mutation_kill_rate]
        [--out benchmarks/results/cpu-2core] [--work .mutation-work] [--fresh-coverage] [--list-survivors]
        [--deadline MINUTES] [--reuse-trees]

``--carry NAME --extend-coverage TESTS`` measures the tests again after new ones were written, without
running everything twice: the new test files join the cached coverage map, a mutant that run NAME killed is
taken as killed when its line is unchanged (its key is the same), and the rest (NAME's survivors, and mutants
it did not run) are run against the new tests.

``--same-mutants NAME`` runs the mutants of the earlier result NAME again instead of a fresh draw (each found
by its key, so edits that moved lines do not change the set; those whose text is gone are listed as ``gone``):
the before/after comparison of one set of mutants, with ``--carry NAME`` to skip the ones NAME killed.

A mutant that is not valid Python (an operator can turn the ``*`` of keyword-only arguments into ``+``) is
"not applied". A test id that a mutant renames (a test parametrised by the mutated constant) makes pytest
exit 4; the mutant's test files are then run whole.

``--resummarise`` runs nothing: it applies the current triage file to the rows of an existing ``NAME.json``
(for survivors triaged after the run).

``--deadline`` stops starting mutants after that many minutes (the rest of the sample is reported as
``not run``, and the rate is over the mutants run); ``--reuse-trees`` resumes against the copies already
made, so a resumed measurement is of the same snapshot of the tests.

Not a test: the slow-marked
``tests/test_mutation.py`` checks the committed result and the triage file instead.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import difflib
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mdtheory._io import append_jsonl, atomic_write_text, drop_torn_tail, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("mdtheory/rules", "mdtheory/exact", "mdtheory/targets", "mdtheory/multiround", "mdtheory/profiles")
KIT_FILES = tuple(f"mdtheory/testing/{m}.py" for m in ("rules", "cases", "audit", "conventions", "kit"))
# the numerical checks every stage calls: argument validation (the alpha range among it) and postconditions
SHARED_FILES = ("mdtheory/_validation.py", "mdtheory/_postconditions.py")
TRIAGE = ROOT / "benchmarks" / "mutation_triage.json"
PENDING = ".mutation-in-flight.json"  # in a copy: the file being mutated and its original
# tests of facts fixed at import (signatures, defaults), which run no line of the module they check: they
# join the tests of every mutant on a line that only import executes
IMPORT_TIME_TESTS = ("tests/test_public_signatures.py::test_public_signatures_match_the_record",
                     "tests/test_moved_names.py::test_the_glossary_lists_every_renamed_keyword",
                     "tests/multiround/test_output_laws.py::test_the_state_limit_is_the_documented_one",
                     "tests/rules/test_rules_apart.py::test_eb_default_budget_is_the_documented_one")
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def stage_files(root: Path) -> list[str]:
    """The mutated files, relative to the root: every module of the stages except the lazy ``__init__``s."""
    files = [str(p.relative_to(root)) for s in STAGES for p in sorted((root / s).glob("*.py"))
             if p.name != "__init__.py"]
    return files + [f for f in KIT_FILES + SHARED_FILES if (root / f).exists()]


def snapshot(dest: Path) -> None:
    """Copy the working tree (tracked and untracked files that git does not ignore) into ``dest``."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    if dest.exists():
        shutil.rmtree(dest)
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def restore_interrupted(tree: Path) -> None:
    """Undo the mutation a killed run left in a copy (its original was saved beside the copy first)."""
    pending = tree / PENDING
    if pending.exists():
        saved = json.loads(pending.read_text())
        atomic_write_text(tree / saved["file"], saved["original"])
        _drop_bytecode(tree / saved["file"])
        pending.unlink()


def _env(tree: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, **THREAD_ENV, **extra)
    # the copy comes first on the path, ahead of the editable install's finder (which sits after PathFinder)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(ROOT / "benchmarks")])
    env.pop("PYTEST_ADDOPTS", None)
    return env


def coverage_map(trees: list[Path], work: Path, files: list[str], fresh: bool, tests: list[str],
                 extend: list[str] = ()) -> tuple[dict, dict]:
    """``({file: {line: [node ids]}}, {node id: seconds})`` from one covered run of the default tests, split
    over the copies in ``trees`` (one shard of test files each, run at once).

    With ``extend`` (test paths added since the cached map was made), only those run under coverage and
    their lines join the cached map: the older tests and the stage files are unchanged, so their map is too.
    """
    cache = work / "coverage_map.json"
    old = json.loads(cache.read_text()) if cache.exists() else None
    if old is not None and not fresh:
        lines = {f: {int(k): v for k, v in by.items()} for f, by in old["lines"].items()}
        if not extend:
            return lines, old["durations"]
        new_lines, new_durations = _covered_run(trees, work, files, list(extend), old["durations"])
        for f, by in new_lines.items():
            for ln, ids in by.items():
                lines.setdefault(f, {})[ln] = sorted(set(lines.get(f, {}).get(ln, [])) | set(ids))
        durations = {**old["durations"], **new_durations}
        atomic_write_text(cache, json.dumps({"lines": lines, "durations": durations}))
        return lines, durations
    lines, durations = _covered_run(trees, work, files, tests, old["durations"] if old else {})
    atomic_write_text(cache, json.dumps({"lines": lines, "durations": durations}))
    return lines, durations


def shards(tree: Path, tests: list[str], n: int, hint: dict) -> list[list[str]]:
    """The test paths (default: every test file, and the package for its doctests) in ``n`` shards of about
    equal cost, by longest-first greedy assignment; the cost of a path is its tests' seconds in ``hint`` (an
    earlier covered run) or, for a path never timed, its size in bytes over 2000 (about a second per 2 kB)."""
    paths = list(tests) or sorted(str(p.relative_to(tree)) for p in (tree / "tests").rglob("test_*.py")) + ["mdtheory"]
    timed = collections.defaultdict(float)
    for node, secs in hint.items():
        timed[node.split("::")[0]] += secs

    def cost(path: str) -> float:
        if path in timed:
            return timed[path]
        p = tree / path
        if p.is_dir():
            return sum(v for k, v in timed.items() if k.startswith(path.rstrip("/") + "/")) or 60.0
        return p.stat().st_size / 2000 if p.exists() else 1.0

    out, load = [[] for _ in range(max(1, min(n, len(paths))))], [0.0] * max(1, min(n, len(paths)))
    for path in sorted(paths, key=cost, reverse=True):
        i = load.index(min(load))
        out[i].append(path)
        load[i] += cost(path)
    return [sorted(s) for s in out]


def _covered_run(trees: list[Path], work: Path, files: list[str], tests: list[str],
                 hint: dict) -> tuple[dict, dict]:
    import coverage

    parts = shards(trees[0], tests, len(trees), hint)
    procs = []
    t0 = time.perf_counter()
    for i, (tree, part) in enumerate(zip(trees, parts)):
        db, durations_file = work / f"coverage{i}.db", work / f"durations{i}.json"
        include = ",".join(str(tree / f) for f in files)
        cmd = [sys.executable, "-m", "coverage", "run", f"--data-file={db}", f"--include={include}", "-m",
               "pytest", "-q", "-p", "no:cacheprovider", "-p", "_coverage_contexts", "-x", "--no-header", *part]
        log = (work / f"coverage{i}.log").open("w")
        procs.append((tree, db, durations_file, log, subprocess.Popen(
            cmd, cwd=tree, env=_env(tree, MDT_TEST_DURATIONS=str(durations_file)), stdout=log,
            stderr=subprocess.STDOUT)))
    lines, durations = {f: {} for f in files}, {}
    for i, (tree, db, durations_file, log, proc) in enumerate(procs):
        rc = proc.wait()
        log.close()
        if rc != 0:
            for *_, other in procs:
                other.kill()
            sys.exit(f"the covered test run (shard {i}) failed (exit {rc}); the tests must pass before mutating:\n"
                     + (work / f"coverage{i}.log").read_text()[-4000:])
        data = coverage.CoverageData(basename=str(db))
        data.read()
        for f in files:
            for k, v in (data.contexts_by_lineno(str(tree / f)) or {}).items():
                lines[f][int(k)] = sorted(set(lines[f].get(int(k), [])) | {c for c in v if c})
        durations.update(json.loads(durations_file.read_text()))
    print(f"coverage pass: {time.perf_counter() - t0:.0f} s in {len(procs)} shards", flush=True)
    return lines, durations


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every annotation, as (line, character column), in a module that defers them
    (``from __future__ import annotations``): a mutant there is never evaluated, so it is not drawn."""
    import ast

    tree = ast.parse(source)
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
               any(a.name == "annotations" for a in n.names) for n in tree.body):
        return []
    text = source.splitlines()

    def char_col(line: int, byte_col: int) -> int:
        return len(text[line - 1].encode()[:byte_col].decode(errors="ignore"))

    nodes = []
    for n in ast.walk(tree):
        if isinstance(n, ast.arg) and n.annotation is not None:
            nodes.append(n.annotation)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.returns is not None:
            nodes.append(n.returns)
        elif isinstance(n, ast.AnnAssign):
            nodes.append(n.annotation)
    return [((a.lineno, char_col(a.lineno, a.col_offset)), (a.end_lineno, char_col(a.end_lineno, a.end_col_offset)))
            for a in nodes]


def all_mutants(tree: Path, files: list[str]) -> list[dict]:
    """Every mutation point of cosmic-ray's argument-free core operators in ``files``, in a stable order
    (annotations that are never evaluated left out)."""
    from cosmic_ray.ast import ast_nodes, get_ast_from_path
    from cosmic_ray.plugins import get_operator, operator_names

    ops = [(n, get_operator(n)()) for n in operator_names() if not get_operator(n).arguments()]
    out = []
    for f in files:
        module = get_ast_from_path(tree / f)
        nodes = list(ast_nodes(module))
        spans = annotation_spans((tree / f).read_text())
        for name, op in ops:
            occurrence = 0
            for node in nodes:
                for start, end in op.mutation_positions(node):
                    if any(a <= tuple(start) < b for a, b in spans):
                        occurrence += 1
                        continue
                    out.append({"file": f, "operator": name, "occurrence": occurrence, "line": start[0],
                                "end_line": end[0]})
                    occurrence += 1
    return out


def mutate(tree: Path, m: dict) -> tuple[str, str | None]:
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    original = (tree / m["file"]).read_text()
    return original, mutate_code(original, get_operator(m["operator"])(), m["occurrence"])


def changed_lines(original: str, mutated: str) -> tuple[str, str]:
    a, b = original.splitlines(), mutated.splitlines()
    before, after = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            before += a[i1:i2]
            after += b[j1:j2]
    return "\n".join(x.strip() for x in before), "\n".join(x.strip() for x in after)


def mutant_key(m: dict, before: str, after: str) -> str:
    """Stable across unrelated edits: the file, the operator and the text changed (not line numbers)."""
    digest = hashlib.sha1(f"{before}\0{after}".encode()).hexdigest()[:12]
    return f"{m['file']}|{m['operator'].split('/')[-1]}|{digest}"


def tests_for(m: dict, lines: dict, durations: dict) -> list[str]:
    by_line = lines.get(m["file"], {})
    ids = {t for ln in range(m["line"], m["end_line"] + 1) for t in by_line.get(ln, [])}
    if not ids and any(ln in by_line for ln in range(m["line"], m["end_line"] + 1)):
        # executed, but only at import (a constant, a default, a decorator): every test of the file's code
        ids = {t for ts in by_line.values() for t in ts} | set(IMPORT_TIME_TESTS)
    # fastest files first; file order kept within a file so module fixtures are built once
    per_file = collections.defaultdict(list)
    for t in ids:
        per_file[t.split("::")[0]].append(t)
    # the files whose tests are cheapest on average come first: the most tests (chances to kill) per second
    order = sorted(per_file, key=lambda f: sum(durations.get(t, 0.0) for t in per_file[f]) / len(per_file[f]))
    return [t for f in order for t in sorted(per_file[f])]


class ForkServer:
    """The fork server (``_mutation_worker.py``) of one copy: started once, restarted if it ever dies."""

    def __init__(self, tree: Path):
        self.tree, self.proc = tree, None

    def _start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "_mutation_worker.py")],
                                     cwd=self.tree, env=_env(self.tree), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        if not json.loads(self.proc.stdout.readline() or "{}").get("ready"):
            raise RuntimeError(f"the fork server of {self.tree} did not start")

    def run(self, args: list[str], timeout: float, log: Path) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps({"args": args, "timeout": timeout, "log": str(log)}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:  # the server died mid-run: an error outcome, and a fresh server next time
            self.proc = None
            return {"rc": "server died", "seconds": 0.0}
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def _drop_bytecode(path: Path) -> None:
    """Remove the cached bytecode of ``path``: a mutant and its original can share size and mtime second,
    and Python would then run the stale one."""
    for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        pyc.unlink(missing_ok=True)


PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", "--doctest-modules",
               "-p", "no:randomly")


def _run_tests(tree: Path, tests: list[str], limit: float, server: ForkServer | None) -> tuple:
    """(exit code or "timeout", the last line of pytest's output) of ``tests`` in ``tree``."""
    if server is not None:
        log = tree / ".mutation-run.log"
        rc = server.run([*PYTEST_ARGS, *tests], limit, log)["rc"]
        text = log.read_text(errors="replace") if log.exists() else ""
        return rc, f"over {limit:.0f} s" if rc == "timeout" else (text.strip().splitlines() or [""])[-1][-300:]
    cmd = [sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests]
    try:
        r = subprocess.run(cmd, cwd=tree, env=_env(tree), capture_output=True, text=True, timeout=limit)
        return r.returncode, (r.stdout.strip().splitlines() or [""])[-1][-300:]
    except subprocess.TimeoutExpired:
        return "timeout", f"over {limit:.0f} s"


def run_one(tree: Path, m: dict, tests: list[str], durations: dict, server: ForkServer | None = None,
            triage: dict | None = None) -> dict:
    """Apply mutant ``m`` in ``tree``, run ``tests`` against it (in ``server`` when given, else in a fresh
    interpreter) and return its row. A mutant whose key ``triage`` marks equivalent is not run: it is the same
    program, so no test can kill it (``--check-equivalents`` runs them anyway)."""
    original, mutated = mutate(tree, m)
    row = dict(m)
    if mutated is None:
        return row | {"outcome": "not applied"}
    before, after = changed_lines(original, mutated)
    row |= {"key": mutant_key(m, before, after), "before": before, "after": after, "tests": len(tests)}
    try:  # an operator can make code that is not Python (a '*' of keyword-only arguments turned into '+')
        compile(mutated, m["file"], "exec")
    except SyntaxError as exc:
        return row | {"outcome": "not applied", "why": f"not valid Python: {exc.msg}", "seconds": 0.0}
    if not tests:
        return row | {"outcome": "survived", "why": "no test executes this line", "seconds": 0.0}
    if triage is not None and triage.get(row["key"], {}).get("verdict") == "equivalent":
        return row | {"outcome": "survived", "why": "triaged equivalent: not run", "seconds": 0.0}
    limit = min(1800.0, 60.0 + 3.0 * sum(durations.get(t, 0.0) for t in tests))
    path = tree / m["file"]
    t0 = time.perf_counter()
    # the original goes beside the copy first, so that a kill between the mutation and its undoing is undone
    # by the next run (restore_interrupted)
    atomic_write_text(tree / PENDING, json.dumps({"file": m["file"], "original": original}))
    try:
        path.write_text(mutated)
        _drop_bytecode(path)
        rc, tail = _run_tests(tree, tests, limit, server)
        if rc == 4:  # a node id the mutant renamed (a test parametrised by the mutated constant): run its files
            rc, tail = _run_tests(tree, sorted({t.split("::")[0] for t in tests}), limit, server)
    finally:
        path.write_text(original)
        _drop_bytecode(path)
        (tree / PENDING).unlink()
    outcome = {0: "survived", 1: "killed", 2: "killed", "timeout": "killed"}.get(rc, "error")
    return row | {"outcome": outcome, "rc": rc, "pytest": tail, "seconds": round(time.perf_counter() - t0, 2)}


def carried_rows(tree: Path, log: Path, chosen: list[dict]) -> dict:
    """Killed rows of an earlier run's log whose mutant is the same in ``tree`` (same file, operator and
    occurrence, and the same key: the same text mutated the same way). Tests only grow between the two runs,
    so a mutant one of them killed is still killed; a changed line is run again."""
    if not log.exists():
        sys.exit(f"--carry: no log {log}")
    old = {(r["file"], r["operator"], r["occurrence"]): r for r in read_jsonl(log) if r.get("outcome") == "killed"}
    out = {}
    for m in chosen:
        r = old.get((m["file"], m["operator"], m["occurrence"]))
        if r is None:
            continue
        original, mutated = mutate(tree, m)
        if mutated is not None and mutant_key(m, *changed_lines(original, mutated)) == r["key"]:
            out[(m["file"], m["operator"], m["occurrence"])] = dict(r, carried_from=log.stem)
    return out


def same_mutants(tree: Path, population: list[dict], result: Path) -> tuple[list[dict], list[dict]]:
    """The mutants of an earlier result, found again in ``tree`` by their key (file, operator and the text
    changed), so that a re-measurement after new tests runs the same mutants even where edits moved their
    lines; ``(found, gone)``, gone being the rows whose mutated text no longer exists."""
    if not result.exists():
        sys.exit(f"--same-mutants: no result {result}")
    by_op = collections.defaultdict(list)
    for m in population:
        by_op[(m["file"], m["operator"])].append(m)
    found, gone = [], []
    for r in json.loads(result.read_text())["rows"]:
        if "key" not in r:  # not applied before: nothing to find
            continue
        candidates = by_op.get((r["file"], r["operator"]), [])
        # the same occurrence first, then outwards: an edit elsewhere in the file shifts occurrences a little
        candidates = sorted(candidates, key=lambda m: abs(m["occurrence"] - r["occurrence"]))
        for m in candidates:
            original, mutated = mutate(tree, m)
            if mutated is not None and mutant_key(m, *changed_lines(original, mutated)) == r["key"]:
                found.append(m)
                break
        else:
            gone.append(r)
    return found, gone


def summarise(rows: list[dict], triage: dict, seed: int, sample: int, population: int) -> dict:
    applied = [r for r in rows if r["outcome"] in ("killed", "survived")]
    for r in applied:
        if r["outcome"] == "survived":
            verdict = triage.get(r["key"], {})
            # a survivor that the triage file says a test kills is not triaged: that test does not kill it
            r["triage"] = "equivalent" if verdict.get("verdict") == "equivalent" else "untriaged"
            if verdict.get("reason"):
                r["reason"] = verdict["reason"]
    equivalent = [r for r in applied if r.get("triage") == "equivalent"]
    killed = [r for r in applied if r["outcome"] == "killed"]
    denominator = len(applied) - len(equivalent)

    def rate(group):
        k = sum(r["outcome"] == "killed" for r in group)
        d = sum(r.get("triage") != "equivalent" for r in group)
        return {"killed": k, "non_equivalent": d, "kill_rate": k / d if d else None}

    def family(op):
        name = op.split("/")[-1]
        return name.split("_")[0] if name.startswith("Replace") and "_" in name else name

    by_stage = collections.defaultdict(list)
    by_family = collections.defaultdict(list)
    for r in applied:
        by_stage[r["file"].rsplit("/", 1)[0]].append(r)
        by_family[family(r["operator"])].append(r)
    return {
        "what": "mutation kill rate of the default tests over the mathematical stages (cosmic-ray operators)",
        "seed": seed, "sample": sample, "population": population, "applied": len(applied),
        "not_applied": sum(r["outcome"] == "not applied" for r in rows),
        "errors": sum(r["outcome"] == "error" for r in rows),
        "not_run": sum(r["outcome"] == "not run" for r in rows),
        "killed": len(killed), "carried": sum("carried_from" in r for r in rows), "equivalent": len(equivalent),
        "survived_untriaged": sum(r.get("triage") == "untriaged" for r in applied),
        "kill_rate": len(killed) / denominator if denominator else None,
        "by_stage": {k: rate(v) for k, v in sorted(by_stage.items())},
        "by_operator_family": {k: rate(v) for k, v in sorted(by_family.items())},
        "median_seconds_per_mutant": sorted(r.get("seconds", 0.0) for r in applied)[len(applied) // 2]
        if applied else None,
        "rows": rows,
    }


def resummarise(path: Path) -> int:
    """Apply the current triage file to a finished result (a survivor triaged after the run)."""
    if not path.exists():
        print(f"--resummarise: no result {path}", file=sys.stderr)
        return 2
    old = json.loads(path.read_text())
    rows = [{k: v for k, v in r.items() if k not in ("triage", "reason")} for r in old["rows"]]
    triage = json.loads(TRIAGE.read_text()) if TRIAGE.exists() else {}
    summary = summarise(rows, triage, old["seed"], old["sample"], old["population"])
    atomic_write_text(path, json.dumps(summary, indent=1, allow_nan=False) + "\n")
    print(f"killed {summary['killed']} of {summary['applied']} applied, {summary['equivalent']} equivalent, "
          f"{summary['survived_untriaged']} untriaged survivors: kill rate {summary['kill_rate']:.1%}; {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=300, help="mutants drawn (default 300)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    ap.add_argument("--workers", type=int, default=2, help="mutants run at once (default 2)")
    ap.add_argument("--name", default="mutation_kill_rate", help="result file name (default mutation_kill_rate)")
    ap.add_argument("--out", default="benchmarks/results/cpu-2core", help="folder of NAME.json")
    ap.add_argument("--work", default=".mutation-work", help="scratch folder: copies, coverage, resume log")
    ap.add_argument("--fresh-coverage", action="store_true", help="recompute the coverage map")
    ap.add_argument("--fresh", action="store_true", help="forget the resume log of NAME")
    ap.add_argument("--coverage-tests", nargs="*", default=[],
                    help="restrict the covered run to these test paths (a dry run; default: the whole default run)")
    ap.add_argument("--reuse-trees", action="store_true",
                    help="keep the copies already under --work (resume against the same snapshot)")
    ap.add_argument("--deadline", type=float, default=None,
                    help="minutes after which no new mutant starts; the rest of the sample is reported as not run")
    ap.add_argument("--extend-coverage", nargs="+", default=[], metavar="TEST",
                    help="add these new test paths to the cached coverage map (the rest of it is reused)")
    ap.add_argument("--carry", default=None, metavar="NAME",
                    help="take the killed mutants of the run NAME whose line is unchanged as killed (tests only grew)")
    ap.add_argument("--check-equivalents", action="store_true",
                    help="run the mutants that the triage file marks equivalent too (a check of the triage)")
    ap.add_argument("--no-fork-server", action="store_true",
                    help="run each mutant in a fresh interpreter instead of a fork of a preloaded one")
    ap.add_argument("--same-mutants", default=None, metavar="NAME",
                    help="run the mutants of the earlier result NAME again (found by their key), not a fresh draw")
    ap.add_argument("--list-survivors", action="store_true", help="print the survivors' diffs at the end")
    ap.add_argument("--resummarise", action="store_true",
                    help="run nothing: re-read the triage file and rewrite --out/NAME.json from its own rows")
    args = ap.parse_args(argv)
    if args.resummarise:
        return resummarise(ROOT / args.out / f"{args.name}.json")
    if args.sample < 1 or args.workers < 1:
        ap.error("--sample and --workers must be at least 1")
    work = (ROOT / args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    trees = [work / f"tree{i}" for i in range(args.workers)]
    for t in trees:
        if args.reuse_trees and (t / "mdtheory").is_dir():
            restore_interrupted(t)
        else:
            snapshot(t)
    started = time.monotonic()
    files = stage_files(trees[0])
    lines, durations = coverage_map(trees, work, files, args.fresh_coverage or args.fresh,
                                    args.coverage_tests, args.extend_coverage)
    population = all_mutants(trees[0], files)
    gone = []
    if args.same_mutants:
        chosen, gone = same_mutants(trees[0], population, ROOT / args.out / f"{args.same_mutants}.json")
    else:
        chosen = random.Random(args.seed).sample(population, min(args.sample, len(population)))
    log = work / f"{args.name}.jsonl"
    if args.fresh and log.exists():
        log.unlink()
    done = {}
    if log.exists():
        drop_torn_tail(log)  # a kill mid-append leaves a fragment: that mutant is run again
        for r in read_jsonl(log):
            done[(r["file"], r["operator"], r["occurrence"])] = r
    if args.carry:
        carried = carried_rows(trees[0], work / f"{args.carry}.jsonl", chosen)
        with log.open("a") as fh:
            for key, r in carried.items():
                if key not in done:
                    done[key] = r
                    append_jsonl(fh, r)
    todo = [m for m in chosen if (m["file"], m["operator"], m["occurrence"]) not in done]
    print(f"{len(population)} mutants in {len(files)} files; sample {len(chosen)} (seed {args.seed}); "
          f"{len(done)} done before, {len(todo)} to run", flush=True)
    triage = json.loads(TRIAGE.read_text()) if TRIAGE.exists() else {}
    skip = None if args.check_equivalents else triage
    servers = {t: None if args.no_fork_server else ForkServer(t) for t in trees}
    free = list(trees)
    with cf.ThreadPoolExecutor(args.workers) as pool, log.open("a") as fh:
        pending = {}
        queue = list(todo)
        while queue or pending:
            if args.deadline is not None and time.monotonic() - started > 60.0 * args.deadline:
                queue.clear()
            while queue and free:
                m, tree = queue.pop(0), free.pop()
                pending[pool.submit(run_one, tree, m, tests_for(m, lines, durations), durations, servers[tree],
                                    skip)] = tree
            finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                free.append(pending.pop(fut))
                r = fut.result()
                done[(r["file"], r["operator"], r["occurrence"])] = r
                append_jsonl(fh, r)
                print(f"[{len(done)}/{len(chosen)}] {r['outcome']:9s} {r['file']}:{r['line']} "
                      f"{r['operator'].split('/')[-1]} ({r.get('tests', 0)} tests, {r.get('seconds', 0):.0f} s)",
                      flush=True)
    for server in servers.values():
        if server is not None:
            server.close()
    rows = [done.get((m["file"], m["operator"], m["occurrence"]), dict(m, outcome="not run")) for m in chosen]
    summary = summarise(rows, triage, args.seed, len(chosen), len(population))
    if args.same_mutants:
        summary["same_mutants_as"] = args.same_mutants
        summary["gone"] = [{k: r.get(k) for k in ("file", "operator", "key", "before", "after")} for r in gone]
    out = (ROOT / args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{args.name}.json", json.dumps(summary, indent=1, allow_nan=False) + "\n")
    rate = summary["kill_rate"]
    print(f"killed {summary['killed']} of {summary['applied']} applied, {summary['equivalent']} equivalent, "
          f"{summary['survived_untriaged']} untriaged survivors: kill rate "
          f"{'n/a' if rate is None else f'{rate:.1%}'}; written to {out / (args.name + '.json')}")
    if args.list_survivors:
        for r in rows:
            if r.get("triage") == "untriaged":
                print(f"\n{r['key']}  ({r['file']}:{r['line']}, {r.get('why', r.get('pytest', ''))})\n"
                      f"- {r['before']}\n+ {r['after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
