"""The command line's conventions hold for every command: help, --json, --out, --seed, --device, lists,
one-line errors with exit status 2, unexpected errors with exit status 3, --version, and the README's
commands."""

import re
import shlex
from pathlib import Path

import pytest

from mdtheory.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["verify", "tv", "law", "sweep tv", "profile", "efact", "schedule", "audit", "noise", "train",
            "train-evaluator", "simulate", "figures", "bench"]
WRITERS = {"verify", "sweep tv", "audit", "train", "train-evaluator", "simulate", "figures", "bench"}
RANDOM = {"verify", "sweep tv", "audit", "simulate", "figures"}
TORCH = {"train", "simulate", "bench"}


def _help(capsys, command: str) -> str:
    assert main([*command.split(), "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_declares_the_shared_options(capsys, command):
    text = _help(capsys, command)
    assert "--json" in text, "every command that prints a result takes --json"
    assert ("--out" in text) == (command in WRITERS)
    assert ("--seed" in text) == (command in RANDOM) or command == "train"  # train's --seed overrides its preset
    assert ("--device" in text) == (command in TORCH)
    if command in WRITERS:
        assert "--no-progress" in text and "--quiet" in text


def test_help_is_true(capsys):
    assert "NAME-PRESET-seedS" in _help(capsys, "simulate")
    assert "--n-steps" in _help(capsys, "schedule") and "--steps" not in _help(capsys, "schedule").replace("--n-steps", "")
    assert "--train-steps" in _help(capsys, "train")
    assert "mdtheory-out/<command>" in _help(capsys, "figures")


def test_version(capsys):
    assert main(["--version"]) == 0
    assert re.match(r"mdtheory \d+\.\d+\.\d+", capsys.readouterr().out)


def test_parser_lists_match_the_library():
    from mdtheory.profiles import FAMILIES
    from mdtheory.montecarlo.drivers import DRIVERS

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    target = next(a for a in sub["profile"]._actions if a.dest == "target")
    assert tuple(target.choices) == tuple(FAMILIES)
    name = next(a for a in sub["simulate"]._actions if a.dest == "name")
    assert tuple(name.choices) == tuple(DRIVERS)
    from mdtheory.testing import RULE_NAMES, round_cases

    rule = next(a for a in sub["audit"]._actions if a.dest == "rule")
    assert tuple(rule.choices) == RULE_NAMES
    case = next(a for a in sub["audit"]._actions if a.dest == "case")
    # any case name is taken (adversarial ones are numbered); the help lists the fixed ones
    assert case.choices is None and all(c.name in case.help for c in round_cases())


@pytest.mark.parametrize("argv,match", [
    (["simulate", "kl_bounds", "--device", "tpu"], "argument --device: must be one of cpu, cuda, cuda:N, mps"),
    (["sweep", "tv", "--family", "dirichlet", "--seed", "-1"], "argument --seed: must be an integer >= 0"),
    (["sweep", "tv", "--family", "dirichlet", "--n", "16,,32"], "argument --n: must be a comma-separated list"),
    (["audit", "amused", "--alpha", "0"], "argument --alpha: must be > 0 and finite"),
    (["audit", "amused", "--alpha", "inf"], "argument --alpha: must be > 0 and finite"),
    (["audit", "amused", "--false-alarm", "0"], "argument --false-alarm: must lie in (0, 1)"),
    (["audit", "amused", "--false-alarm", "2"], "argument --false-alarm: must lie in (0, 1)"),
    (["audit", "amused", "--n-samples", "0"], "argument --n-samples: must be an integer >= 1"),
    (["noise", "--vocab", "1"], "argument --vocab: must be an integer >= 2"),
    (["tv", "--probs", "x.npy", "--k", "1", "--alpha", "nan"], "argument --alpha: must be a number, not NaN"),
])
def test_usage_errors_are_one_line_and_exit_2(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1, err


def test_cuda_without_a_gpu_is_refused_up_front(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["simulate", "kl_bounds", "--device", "cuda", "--out", str(tmp_path / "s")]) == 2
    assert "no CUDA device" in capsys.readouterr().err
    assert not (tmp_path / "s" / "results.jsonl").exists()


@pytest.mark.parametrize("argv", [["sweep", "tv", "--family", "dirichlet", "--n", "8", "--k", "1"],
                                  ["bench", "--only", "crossover"], ["figures", "--only", "z_curve"]])
def test_unwritable_out_is_refused_before_any_work(capsys, tmp_path, argv):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main([*argv, "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "writable" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv,match", [(["figures", "--only", "nope"], "unknown figure 'nope'"),
                                        (["bench", "--only", "nope"], "unknown benchmark 'nope'")])
def test_unknown_names_are_refused(capsys, tmp_path, argv, match):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("content,match", [(None, "not a directory"), (b"plain text", "not a NumPy .npy")])
def test_probs_must_be_an_npy_file(capsys, tmp_path, content, match):
    path = tmp_path / "p"
    if content is None:
        path.mkdir()
        match = "must be a .npy file, not a directory"
    else:
        path.write_bytes(content)
    assert main(["tv", "--probs", str(path), "--k", "1", "--alpha", "1"]) == 2
    assert match in capsys.readouterr().err


def test_complex_and_pickled_probs_are_refused(capsys, tmp_path):
    import numpy as np

    np.save(tmp_path / "c.npy", np.full((3, 2), 0.5 + 0j))
    assert main(["tv", "--probs", str(tmp_path / "c.npy"), "--k", "1", "--alpha", "1"]) == 2
    assert "real numbers" in capsys.readouterr().err
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["tv", "--probs", str(tmp_path / "o.npy"), "--k", "1", "--alpha", "1"]) == 2
    assert "pickled" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_with_the_traceback_kept(capsys, monkeypatch):
    import mdtheory.cli as cli

    def boom(args):
        raise RuntimeError("planted")

    monkeypatch.setattr(cli, "_cmd_noise", boom)
    assert main(["noise"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected RuntimeError: planted" in err
    path = re.search(r"traceback in (\S+);", err).group(1)
    assert "RuntimeError: planted" in Path(path).read_text()
    with pytest.raises(RuntimeError):
        main(["--debug", "noise"])


def _readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    cmds = re.findall(r"`(mdtheory [^`]+)`", text) + re.findall(r"&& (mdtheory [a-z].*)$", text, re.M)
    unique = dict.fromkeys(c for c in cmds if "…" not in c and "my_" not in c)  # a command shown twice runs once
    return [shlex.split(c)[1:] for c in unique]


def test_every_readme_command_parses(capsys):
    commands = _readme_commands()
    assert len(commands) >= 8
    for argv in commands:
        if argv[0].startswith("--"):  # --help, --version
            assert main(argv) == 0
        else:
            assert build_parser().parse_args(argv).fn, argv


HEAVY = {"verify", "audit", "simulate", "figures", "bench"}  # tens of seconds or minutes each: run with -m slow


def _heavy(argv) -> bool:
    return argv[0] in HEAVY or "--preset" in argv and argv[0] == "sweep"  # a preset sweep runs for minutes


def _needs_a_cluster(argv) -> bool:
    # the README's scheduler address and its M:F module names are placeholders: parsed above, never run
    return "--scheduler" in argv or "M:F" in argv


def _expected_status(argv) -> int:
    """The exit status a README command should give here: 1 where it is an audit that finds failures.

    The README's peer table records real bugs in released samplers, so ``audit --all`` is a finding (exit 1,
    the documented status of a failed audit), not a crash. A named peer that is not installed is skipped.
    """
    if argv[0] != "audit" or "--round" in argv:
        return 0
    from mdtheory.peers.audit import PEERS, installed_version

    rows = [line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("| ") and line.rstrip().endswith(("PASS |", ")|", ") |")) and "|" in line[2:]]
    peer = next((a for a in argv[1:] if not a.startswith("-")), None)
    if peer is None:
        return 1 if any("FAIL" in row for row in rows) else 0
    distribution = PEERS[peer].distribution
    if installed_version(distribution) is None:
        pytest.skip(f"{distribution} is not installed here")
    row = next(r for r in rows if r.startswith(f"| {distribution} "))
    return 0 if row.rstrip().endswith("PASS |") else 1


def _run_readme_command(argv, tmp_path, capsys):
    import numpy as np

    expected = _expected_status(argv)
    np.save(tmp_path / "P.npy", np.random.default_rng(0).dirichlet(np.ones(3), size=5))
    argv = [str(tmp_path / "P.npy") if a == "P.npy" else a for a in argv]
    if argv[0] in {w.split()[0] for w in WRITERS} and "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    code = main(argv)
    assert code == expected, (argv, capsys.readouterr().err)


@pytest.mark.parametrize("argv", [a for a in _readme_commands() if not _heavy(a) and not a[0].startswith("--")
                                  and not _needs_a_cluster(a)], ids=" ".join)
def test_readme_commands_run(capsys, tmp_path, argv):
    _run_readme_command(argv, tmp_path, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("argv", [a for a in _readme_commands() if _heavy(a) and not _needs_a_cluster(a)],
                         ids=" ".join)
def test_heavy_readme_commands_run(capsys, tmp_path, argv):
    _run_readme_command(argv, tmp_path, capsys)


@pytest.mark.parametrize("argv, dest, value", [
    (["simulate", "real-asymptotics"], "name", "real_asymptotics"),
    (["audit", "--round", "m:f", "--rule", "low-confidence"], "rule", "low_confidence"),
    (["audit", "--round", "m:f", "--rule", "entropy-sum"], "rule", "entropy_sum"),
    (["schedule", "--target", "markov", "--n", "5", "--eps", "0.1", "--n-steps", "2", "--method", "geometric_inc"],
     "method", "geometric-inc"),
    (["profile", "--target", "beta_bernoulli", "--n", "4", "--a", "1", "--b", "1"], "target", "beta-bernoulli"),
    (["audit", "entropy_bound"], "peer", "entropy-bound"),
])
def test_a_choice_of_several_words_takes_either_separator_and_means_its_tables_name(argv, dest, value):
    from mdtheory.cli import build_parser

    got = getattr(build_parser().parse_args(argv), dest)
    assert (got[0] if isinstance(got, list) else got) == value


def test_an_unknown_choice_is_still_refused_with_the_tables_spellings(capsys):
    from mdtheory.cli import main

    assert main(["simulate", "real-asymptotic"]) == 2
    assert "real_asymptotics" in capsys.readouterr().err
