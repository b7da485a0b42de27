"""Logs are validated before reuse, one writer per output folder, and arguments mean what they say (0 is not
"default", conflicting flags are refused)."""

import json

import pytest

from mdtheory.sweeps.runner import _FolderLock, run_sweep


def _square(task):
    return {"y": float(task["x"]) ** 2}


TASKS = [{"x": i} for i in range(4)]


def test_a_corrupted_row_is_recomputed_and_named_with_its_line(tmp_path, capsys):
    rows = run_sweep(TASKS, _square, tmp_path, progress=False)
    log = tmp_path / "results.jsonl"
    lines = log.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["y"] = float("nan")  # a NaN written into a valid row
    lines[1] = json.dumps(bad)  # json writes NaN as the bare token, which json.loads reads back
    lines[2] = json.dumps({**json.loads(lines[2]), "x": 99})  # a row whose fields contradict its key
    lines.insert(0, "[1, 2, 3]")  # a foreign line
    lines.insert(0, '{"no": "key"}')
    log.write_text("\n".join(lines) + "\n")
    calls = []

    def counted(task):
        calls.append(task["x"])
        return _square(task)

    again = run_sweep(TASKS, counted, tmp_path, progress=False)
    err = capsys.readouterr().err
    assert f"{log}:1: no task key" in err and f"{log}:2: a list, not a row" in err
    assert f"{log}:4: a non-finite number in 'y'" in err and "field 'x' differs from its task key" in err
    assert sorted(calls) == [1, 2]  # exactly the two bad rows were computed again
    assert [r["y"] for r in again] == [r["y"] for r in rows] == [0.0, 1.0, 4.0, 9.0]


def test_a_row_whose_field_is_of_another_kind_than_the_others_is_recomputed(tmp_path, capsys):
    run_sweep(TASKS, _square, tmp_path, progress=False)
    log = tmp_path / "results.jsonl"
    lines = log.read_text().splitlines()
    lines[2] = lines[2].replace('"y": 4.0', '"y": "4.0"')  # valid JSON, right key, a string where y is a number
    log.write_text("\n".join(lines) + "\n")
    again = run_sweep(TASKS, _square, tmp_path, progress=False)
    assert f"{log}:3: field 'y' is a str where the other rows hold a number" in capsys.readouterr().err
    assert [r["y"] for r in again] == [0.0, 1.0, 4.0, 9.0]


def test_a_lock_on_a_folder_not_yet_made_makes_it_and_refuses_a_second_writer(tmp_path):
    folder = tmp_path / "new" / "out"
    with _FolderLock(folder):
        with pytest.raises(ValueError, match="another run is writing to"):
            run_sweep(TASKS, _square, folder, progress=False)


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path):
    with _FolderLock(tmp_path):
        with pytest.raises(ValueError, match="another run is writing to"):
            run_sweep(TASKS, _square, tmp_path, progress=False)
    assert len(run_sweep(TASKS, _square, tmp_path, progress=False)) == 4  # released: the next run proceeds


def test_zero_samples_is_refused_not_read_as_the_default():
    from mdtheory.sampling import maskgit_round
    from mdtheory.testing import check_round_law, round_rule

    with pytest.raises(ValueError, match="n_samples must be >= 1; got n_samples=0"):
        check_round_law(maskgit_round, round_rule("maskgit", alpha=1.0), cases=["flat"], n_samples=0)


def test_alpha_given_twice_with_different_values_is_refused(capsys, tmp_path):
    from mdtheory.cli import main

    code = main(["audit", "--round", "mdtheory.sampling:maskgit_round", "--rule", "maskgit", "--alpha", "1",
                 "--param", "alpha=2", "--case", "flat", "--n-samples", "1000", "--out", str(tmp_path)])
    assert code == 2 and "disagree; give alpha once" in capsys.readouterr().err


def test_a_slope_is_never_fitted_to_points_below_their_own_error():
    from mdtheory.exact.tv_sweeps import tv_sweep_slopes
    from mdtheory.sweeps.fits import fit_loglog_slope

    x, y = [8, 16, 32, 64], [0.1, 0.05, 0.025, 1e-13]  # the last is rounding: its quadrature error is 1e-11
    assert fit_loglog_slope(x, y).slope < -5  # unguarded, the rounding point bends the line
    f = fit_loglog_slope(x, y, error=[1e-11] * 4)
    assert (f.n_points, f.n_unresolved) == (3, 1) and f.slope == pytest.approx(-1.0, abs=1e-12)
    rows = [dict(family="dirichlet", n_masked=n, k=1, alpha=1.0, vocab_size=2, tv=t, quad_error=1e-11)
            for n, t in zip(x, y)]
    (line,) = tv_sweep_slopes(rows)["in_n"]
    assert (line["n_points"], line["n_unresolved"]) == (3, 1) and line["slope"] == pytest.approx(-1.0, abs=1e-12)


def test_a_npy_header_that_asks_for_more_than_the_file_holds_is_refused_before_loading(tmp_path, capsys):
    import numpy as np

    from mdtheory.cli import main

    good = tmp_path / "p.npy"
    np.save(good, np.full((3, 2), 0.5))
    bad = tmp_path / "huge.npy"
    # a well-formed header that declares ~8 TB of float64 and no data after it
    with open(bad, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (1_000_000, 1_000_000)})
    assert main(["law", "--sampler", "maskgit", "--probs", str(bad), "--k", "1", "--alpha", "1"]) == 2
    assert "declares 8,000,000,000,000 bytes" in capsys.readouterr().err
    assert main(["law", "--sampler", "maskgit", "--probs", str(good), "--k", "1", "--alpha", "1", "--json"]) == 0


def test_the_temperature_fit_refuses_instead_of_looping_when_rounding_hides_its_bracket(monkeypatch):
    import numpy as np

    from mdtheory.exact import finite_precision_noise as fpn

    a = np.log([0.6, 0.3, 0.1])
    p = np.exp(a / 0.5) / np.exp(a / 0.5).sum()
    assert fpn.effective_temperature(a, p) == pytest.approx(0.5, rel=1e-9)
    monkeypatch.setattr(fpn, "MAX_BRACKET_DOUBLINGS", 0)  # as if no doubling found the bracket
    with pytest.raises(ValueError, match="cannot be told from uniform in float64"):
        fpn.effective_temperature(a, p)
