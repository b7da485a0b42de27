"""The mutation benchmark (benchmarks/mutation_kill_rate.py): its triage file is well formed, its mutant
keys do not depend on line numbers, deferred annotations are not drawn, and (slow) a small seeded sample runs
end to end and writes a strict JSON summary."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mutation_kill_rate as mk  # noqa: E402


def test_triage_entries_have_a_verdict_and_a_reason():
    triage = json.loads(mk.TRIAGE.read_text())
    for key, entry in triage.items():
        assert key.count("|") == 2 and key.split("|")[0].startswith("mdtheory/"), key
        assert entry.get("verdict") in ("equivalent", "killed"), key
        assert isinstance(entry.get("reason"), str) and len(entry["reason"]) > 10, key
        if entry["verdict"] == "killed":  # the test named as the killer exists
            path, name = entry["test"].split("::")
            assert f"def {name}(" in (ROOT / path).read_text(), entry["test"]


def test_a_survivor_said_to_be_killed_stays_untriaged():
    rows = [{"file": "f", "operator": "o", "occurrence": i, "key": f"k{i}", "outcome": o}
            for i, o in enumerate(("survived", "survived", "killed"))]
    s = mk.summarise(rows, {"k0": {"verdict": "killed"}, "k1": {"verdict": "equivalent"}}, 0, 3, 3)
    assert (s["survived_untriaged"], s["equivalent"], s["kill_rate"]) == (1, 1, 0.5)


def test_killed_mutants_are_carried_only_while_their_line_is_unchanged(tmp_path):
    pytest.importorskip("cosmic_ray", reason="the 'mutation' extra applies the mutants")
    (tmp_path / "mdtheory").mkdir()
    (tmp_path / "mdtheory" / "m.py").write_text("def f(x):\n    return x + 1\n")
    m = {"file": "mdtheory/m.py", "operator": "core/ReplaceBinaryOperator_Add_Sub", "occurrence": 0,
         "line": 2, "end_line": 2}
    key = mk.mutant_key(m, *mk.changed_lines(*mk.mutate(tmp_path, m)))
    log = tmp_path / "old.jsonl"
    log.write_text(json.dumps(dict(m, key=key, outcome="killed")) + "\n")
    assert mk.carried_rows(tmp_path, log, [m])[("mdtheory/m.py", m["operator"], 0)]["carried_from"] == "old"
    (tmp_path / "mdtheory" / "m.py").write_text("def f(x):\n    return x + 2\n")  # the line changed
    assert mk.carried_rows(tmp_path, log, [m]) == {}


def test_mutant_keys_are_stable_across_line_moves_and_tell_mutants_apart():
    m = {"file": "mdtheory/rules/tokens.py", "operator": "core/NumberReplacer", "occurrence": 3, "line": 10}
    moved = dict(m, line=99, occurrence=7)
    assert mk.mutant_key(m, "x = 1", "x = 2") == mk.mutant_key(moved, "x = 1", "x = 2")
    assert mk.mutant_key(m, "x = 1", "x = 2") != mk.mutant_key(m, "x = 1", "x = 0")
    assert mk.changed_lines("a\nb = 1\nc\n", "a\nb = 2\nc\n") == ("b = 1", "b = 2")


def test_deferred_annotations_are_not_mutation_points():
    src = "from __future__ import annotations\n\ndef f(k: int | None = None) -> float | int:\n    return k | 1\n"
    spans = mk.annotation_spans(src)
    assert ((3, 9), (3, 19)) in spans and ((3, 31), (3, 42)) in spans
    assert not any(a <= (4, 11) < b for a, b in spans)  # the body's `|` stays a mutation point
    assert mk.annotation_spans(src.split("\n", 1)[1]) == []  # evaluated annotations are mutated


def test_the_stages_are_the_mathematical_ones():
    files = mk.stage_files(ROOT)
    assert {f.split("/")[1] for f in files} == {"rules", "exact", "targets", "multiround", "profiles", "testing",
                                                "_validation.py", "_postconditions.py"}
    assert not any(f.endswith("__init__.py") for f in files)


@pytest.mark.slow
def test_a_small_sample_runs_end_to_end(tmp_path):
    r = subprocess.run([sys.executable, "benchmarks/mutation_kill_rate.py", "--sample", "4", "--seed", "1",
                        "--workers", "1", "--work", str(tmp_path / "work"), "--out", str(tmp_path), "--name", "smoke",
                        "--coverage-tests", "tests/rules"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((tmp_path / "smoke.json").read_text())
    assert summary["sample"] == 4 and len(summary["rows"]) == 4 and summary["seed"] == 1
    assert all(row["outcome"] in ("killed", "survived", "not applied", "error") for row in summary["rows"])


def test_a_mutation_left_by_a_kill_is_undone(tmp_path):
    (tmp_path / "mdtheory").mkdir()
    target = tmp_path / "mdtheory" / "m.py"
    target.write_text("x = 2\n")  # the mutant, as a kill left it
    (tmp_path / mk.PENDING).write_text(json.dumps({"file": "mdtheory/m.py", "original": "x = 1\n"}))
    mk.restore_interrupted(tmp_path)
    assert target.read_text() == "x = 1\n" and not (tmp_path / mk.PENDING).exists()
    mk.restore_interrupted(tmp_path)  # nothing pending: nothing changes
    assert target.read_text() == "x = 1\n"


def test_resummarise_applies_a_newer_triage_to_a_finished_result(tmp_path, monkeypatch):
    rows = [{"file": "mdtheory/exact/a.py", "operator": "o", "occurrence": i, "key": f"k{i}", "outcome": o,
             "triage": "untriaged"} for i, o in enumerate(("survived", "killed"))]
    result = tmp_path / "r.json"
    result.write_text(json.dumps(mk.summarise([dict(r) for r in rows], {}, 0, 2, 9)))
    triage = tmp_path / "t.json"
    triage.write_text(json.dumps({"k0": {"verdict": "equivalent", "reason": "same law"}}))
    monkeypatch.setattr(mk, "TRIAGE", triage)
    assert mk.resummarise(result) == 0
    s = json.loads(result.read_text())
    assert (s["equivalent"], s["survived_untriaged"], s["kill_rate"], s["population"]) == (1, 0, 1.0, 9)
    assert s["rows"][0]["reason"] == "same law"
    assert mk.resummarise(tmp_path / "missing.json") == 2


def test_shards_partition_the_tests_and_balance_their_cost(tmp_path):
    hint = {"tests/a.py::t": 10.0, "tests/b.py::t": 6.0, "tests/c.py::t": 5.0, "tests/d.py::t": 1.0}
    parts = mk.shards(tmp_path, ["tests/a.py", "tests/b.py", "tests/c.py", "tests/d.py"], 2, hint)
    assert sorted(p for s in parts for p in s) == ["tests/a.py", "tests/b.py", "tests/c.py", "tests/d.py"]
    assert sorted(parts) == [["tests/a.py", "tests/d.py"], ["tests/b.py", "tests/c.py"]]  # 11 and 11
    assert mk.shards(tmp_path, ["tests/a.py"], 4, hint) == [["tests/a.py"]]  # never an empty shard


def test_the_fork_server_reports_pass_fail_and_timeout(tmp_path):
    (tmp_path / "test_x.py").write_text("import time\n\ndef test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n\n"
                                        "def test_slow():\n    time.sleep(60)\n")
    server = mk.ForkServer(tmp_path)
    try:
        log = tmp_path / "run.log"
        assert server.run(["-q", "-p", "no:cacheprovider", "test_x.py::test_ok"], 60, log)["rc"] == 0
        assert server.run(["-q", "-p", "no:cacheprovider", "test_x.py::test_bad"], 60, log)["rc"] == 1
        assert "1 failed" in log.read_text()
        r = server.run(["-q", "-p", "no:cacheprovider", "test_x.py::test_slow"], 2, log)
        assert r["rc"] == "timeout" and r["seconds"] < 30
        assert server.run(["-q", "-p", "no:cacheprovider", "test_x.py::test_ok"], 60, log)["rc"] == 0  # still serving
    finally:
        server.close()


def test_a_triaged_equivalent_is_not_run_and_bytecode_never_goes_stale(tmp_path):
    pytest.importorskip("cosmic_ray", reason="the 'mutation' extra applies the mutants")
    (tmp_path / "mdtheory").mkdir()
    src = tmp_path / "mdtheory" / "m.py"
    src.write_text("x = 1\n")
    m = {"file": "mdtheory/m.py", "operator": "core/NumberReplacer", "occurrence": 0, "line": 1, "end_line": 1}
    key = mk.mutant_key(m, *mk.changed_lines(*mk.mutate(tmp_path, m)))
    row = mk.run_one(tmp_path, m, ["tests/never_run.py"], {}, None, {key: {"verdict": "equivalent"}})
    assert row["outcome"] == "survived" and row["why"].startswith("triaged equivalent") and src.read_text() == "x = 1\n"
    (tmp_path / "mdtheory" / "__pycache__").mkdir()
    stale = tmp_path / "mdtheory" / "__pycache__" / "m.cpython-311.pyc"
    stale.write_bytes(b"stale")
    mk._drop_bytecode(src)
    assert not stale.exists()


def test_a_mutant_that_is_not_python_is_not_applied_rather_than_an_error(tmp_path):
    pytest.importorskip("cosmic_ray", reason="the 'mutation' extra applies the mutants")
    (tmp_path / "mdtheory").mkdir()
    (tmp_path / "mdtheory" / "m.py").write_text("def f(*, x=1):\n    return x * 2\n")
    rows = []
    for occurrence in range(4):
        m = {"file": "mdtheory/m.py", "operator": "core/ReplaceBinaryOperator_Mul_Add", "occurrence": occurrence,
             "line": 1, "end_line": 2}
        rows.append(mk.run_one(tmp_path, m, ["tests/never_run.py"], {}, None, {}))
    invalid = [r for r in rows if r.get("why", "").startswith("not valid Python")]
    assert invalid and all(r["outcome"] == "not applied" for r in invalid)
    assert (tmp_path / "mdtheory" / "m.py").read_text() == "def f(*, x=1):\n    return x * 2\n"
