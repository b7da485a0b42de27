"""``mdtheory audit --round``: a user's function from the command line, exit 0 on pass, 1 on failure, 2 on bad usage."""

import json
import shlex

import pytest

from mdtheory.cli import main


def test_a_correct_round_passes_with_a_json_verdict(capsys):
    code = main(["audit", "--round", "tests.testing.test_kit:my_maskgit", "--rule", "maskgit", "--alpha", "0.5",
                 "--case", "peaked", "--case", "flat", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["passed"] and [r["case"] for r in out["results"]] == ["peaked", "flat"]
    assert out["rule"] == "maskgit(alpha=0.5, ties=uniform)" and out["failure"] is None


def test_a_planted_bug_exits_1_and_its_reproduction_line_reruns_it(capsys):
    code = main(["audit", "--round", "tests.testing.test_kit:maskgit_with_inverse_noise", "--rule", "maskgit",
                 "--param", "alpha=0.25", "--case", "peaked", "--n-samples", "20000"])
    out = capsys.readouterr().out
    assert code == 1 and out.rstrip().endswith("FAIL") and "worst cells: positions" in out
    line = next(x for x in out.splitlines() if "reproduce: " in x).split("reproduce: ")[1]
    assert main(shlex.split(line)[1:]) == 1  # the printed command, run as printed, fails the same way
    assert "χ² = " in capsys.readouterr().out


def test_variable_rules_and_the_sequence_convention(capsys):
    assert main(["audit", "--round", "tests.testing.test_kit:my_mdlm", "--rule", "mdlm", "--param", "rate=0.3",
                 "--forward", "none", "--case", "flat", "--n-samples", "50000"]) == 0
    assert main(["audit", "--round", "tests.testing.test_kit:my_sequence_step", "--rule", "maskgit", "--alpha", "1",
                 "--convention", "sequence", "--case", "zeros"]) == 0
    capsys.readouterr()


def test_a_diffusers_scheduler_from_the_command_line(capsys, tmp_path, monkeypatch):
    # a module-level scheduler object, and a factory class: the reproduction line names the object and reruns it
    (tmp_path / "my_schedulers.py").write_text(
        "from mdtheory import MaskGIT\nfrom mdtheory.peers import MdtheoryScheduler\n"
        "scheduler = MdtheoryScheduler(MaskGIT(3.0), mask_token_id=99)\n"
        "class Good(MdtheoryScheduler):\n"
        "    def __init__(self):\n"
        "        super().__init__(MaskGIT(1.0), mask_token_id=99)\n")
    monkeypatch.chdir(tmp_path)
    base = ["--rule", "maskgit", "--convention", "diffusers", "--forward", "none", "--case", "peaked",
            "--n-samples", "20000"]
    assert main(["audit", "--round", "my_schedulers:Good", "--alpha", "1", *base]) == 0
    assert main(["audit", "--round", "my_schedulers:scheduler", "--alpha", "0.3", *base]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "reproduce: " in x).split("reproduce: ")[1]
    assert "--round my_schedulers:scheduler" in line and "--convention diffusers" in line
    assert main(shlex.split(line)[1:]) == 1
    capsys.readouterr()


def test_bad_usage_exits_2_with_one_line(capsys):
    for argv, match in (
        (["--round", "tests.testing.test_kit:my_maskgit"], "--round needs one of --rule"),
        (["--round", "tests.testing.test_kit", "--rule", "maskgit", "--alpha", "1"], "MODULE:FUNCTION"),
        (["--round", "tests.testing.test_kit:nothing", "--rule", "maskgit", "--alpha", "1"], "has no 'nothing'"),
        (["--round", "no_such_module:f", "--rule", "maskgit", "--alpha", "1"], "no module 'no_such_module'"),
        (["--round", "tests.testing.test_kit:my_maskgit", "--rule", "maskgit"], "needs alpha"),
        (["--round", "tests.testing.test_kit:my_maskgit", "--rule", "maskgit", "--param", "alpha"], "KEY=VALUE"),
        (["--rule", "maskgit"], "--rule belongs to --round"),
    ):
        assert main(["audit", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and match in err, (argv, err)


def test_an_error_in_the_users_code_is_reported_as_theirs_with_exit_4(capsys, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "user_rounds.py").write_text(
        "def bad(log_probs, *, k, alpha, generator):\n    raise KeyError('oops')\n")
    (tmp_path / "user_broken.py").write_text("raise ImportError('a broken dependency')\n")
    base = ["--rule", "maskgit", "--alpha", "1", "--case", "flat", "--n-samples", "10000", "--out", str(tmp_path / "o")]
    assert main(["audit", "--round", "user_rounds:bad", *base]) == 4
    err = capsys.readouterr().err
    assert err.startswith("error in your code: the audited round raised KeyError: 'oops' (called as bad(tensor(")
    assert "float64, generator=torch.Generator, alpha=1.0, k=2)" in err and err.count("\n") == 1
    assert main(["audit", "--round", "user_broken:f", *base]) == 4
    assert "importing user_broken raised ImportError: a broken dependency" in capsys.readouterr().err


def test_the_python_kit_names_the_users_exception_and_keeps_it_as_the_cause():
    from mdtheory.testing.conventions import UserCodeError, call_user_code

    def step(x, *, k):
        raise ZeroDivisionError("no")

    with pytest.raises(UserCodeError, match=r"raised ZeroDivisionError: no \(called as .*step\(3, k=2\)\)") as e:
        call_user_code(step, 3, k=2)
    assert isinstance(e.value.__cause__, ZeroDivisionError)


def test_temperature_zero_is_audited_from_the_command_line(capsys):
    assert main(["audit", "--round", "tests.testing.test_kit:greedy_llada", "--rule", "low_confidence",
                 "--param", "temperature=0", "--forward", "none", "--case", "peaked", "--case", "flat",
                 "--n-samples", "20000"]) == 0
    assert "low_confidence(temperature=0, confidence=untempered, ties=uniform)" in capsys.readouterr().out


def test_adversarial_cases_from_the_command_line(capsys):
    assert main(["audit", "--round", "tests.testing.test_kit:threshold_step", "--rule", "threshold", "--param", "m=1",
                 "--param", "threshold=0.6", "--forward", "none", "--case", "many_above#0", "--case", "crossing#1",
                 "--n-samples", "50000"]) == 0
    out = capsys.readouterr().out
    assert "many_above#0" in out and "crossing#1" in out
    assert main(["audit", "--round", "tests.testing.test_kit:threshold_step", "--rule", "threshold", "--param", "m=1",
                 "--param", "threshold=0.6", "--forward", "none", "--case", "nonsense"]) == 2
    assert "straddle#0" in capsys.readouterr().err  # the message lists the adversarial names
