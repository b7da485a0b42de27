"""Every name that moved keeps its earlier, documented path (docs/glossary.md, "Names that moved"), and that path
gives the very same object as the new home."""

import importlib
import re
from pathlib import Path

import pytest

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"


def _moves():
    text = GLOSSARY.read_text().split("## Names that moved", 1)[1]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`mdtheory"):
            names = re.findall(r"`([A-Za-z_]+)`", cells[0])
            new, old = cells[1].strip("`"), cells[2].strip("`")
            for name in names:
                yield name, new, old


MOVES = list(_moves())


def test_the_glossary_lists_moves():
    assert len(MOVES) >= 9


@pytest.mark.parametrize("name, new, old", MOVES)
def test_an_earlier_path_gives_the_same_object(name, new, old):
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize("name", ["ScheduleOrdering", "schedule_ordering"])
def test_a_name_that_moved_up_a_stage_names_its_new_home(name):
    import mdtheory
    from mdtheory.montecarlo import schedule_ordering as home
    from mdtheory.profiles import optimal_schedules

    with pytest.raises(AttributeError, match=f"{name} moved to mdtheory.montecarlo.schedule_ordering"):
        getattr(optimal_schedules, name)
    with pytest.warns(DeprecationWarning, match="montecarlo"):
        assert getattr(mdtheory, name) is getattr(home, name)


def _renames():
    text = GLOSSARY.read_text().split("## Names that were renamed", 1)[1]
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2].startswith("mdtheory"):
            yield tuple(cells)


RENAMES = list(_renames())


@pytest.mark.parametrize("new, old, module", RENAMES)
def test_an_earlier_name_is_the_same_object_and_carries_no_paper_number(new, old, module):
    import mdtheory

    m = importlib.import_module(module)
    assert getattr(m, old) is getattr(m, new)
    assert (new in mdtheory._PUBLIC or new in m.__all__) and old not in mdtheory._PUBLIC and old not in m.__all__
    assert not re.search(r"theorem|lemma|prop\d", new, re.I)


def test_no_public_name_carries_a_paper_number():
    import mdtheory

    assert len(RENAMES) >= 4
    assert not [n for n in mdtheory._PUBLIC if re.search(r"theorem|lemma|prop\d|fig\d", n, re.I)]


def test_renamed_keywords_give_the_same_result_with_a_warning_naming_the_new_one():
    import numpy as np

    from mdtheory.profiles import InformationProfile, markov_profile, profile_from_g
    from mdtheory.targets import bigram_chain, dirichlet_joint

    with pytest.warns(DeprecationWarning, match="dirichlet_joint: the keyword 'q' is now 'vocab_size'"):
        old = dirichlet_joint(3, q=3, seed=5)
    with pytest.warns(DeprecationWarning, match="dirichlet_joint: the keyword 'rng' is now 'seed'"):
        assert np.array_equal(old.table, dirichlet_joint(3, vocab_size=3, rng=5).table)
    assert np.array_equal(old.table, dirichlet_joint(3, vocab_size=3, seed=5).table)
    assert not np.array_equal(old.table, dirichlet_joint(3, vocab_size=3, seed=6).table)  # the seed is used
    with pytest.warns(DeprecationWarning, match="'rng' is now 'seed'"):
        draws = old.sample(4, rng=1)
    assert np.array_equal(draws, old.sample(4, seed=1))
    with pytest.warns(DeprecationWarning, match="'q' is now 'vocab_size'"):
        assert np.array_equal(markov_profile(6, 0.1, q=3).g, markov_profile(6, 0.1, vocab_size=3).g)
    with pytest.warns(DeprecationWarning, match="'alphabet_size' is now 'vocab_size'"):
        assert profile_from_g([1.0, 0.5], alphabet_size=4).vocab_size == 4
    pr = profile_from_g([1.0, 0.5], vocab_size=4)
    with pytest.warns(DeprecationWarning, match="'alphabet_size' is now 'vocab_size'"):
        assert pr.alphabet_size == 4
    assert isinstance(pr, InformationProfile)
    with pytest.raises(TypeError, match="give 'vocab_size' only"):
        bigram_chain(3, q=3, vocab_size=3)


def test_the_glossary_lists_every_renamed_keyword():
    import inspect

    text = GLOSSARY.read_text().split("## Keywords that were renamed", 1)[1].split("Renamed values", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| `mdtheory")]
    assert len(rows) >= 9
    for funcs, new, old in rows:
        for path in re.findall(r"`(mdtheory[\w.]+)`", funcs):
            module, _, name = path.rpartition(".")
            try:
                obj = getattr(importlib.import_module(module), name)
            except ModuleNotFoundError:  # a method: module.Class.method
                module, _, cls = module.rpartition(".")
                obj = getattr(getattr(importlib.import_module(module), cls), name)
            params = inspect.signature(obj).parameters
            for n in re.findall(r"`(\w+)`", new):
                assert n in params, (path, n)
            accepted = getattr(obj.__init__ if isinstance(obj, type) else obj, "__renamed_keywords__", {})
            for o in re.findall(r"`(\w+)`", old):
                assert o not in params, (path, o)
                # the earlier spelling is still accepted (with a warning), as the glossary promises
                assert accepted.get(o) in re.findall(r"`(\w+)`", new), (path, o, accepted)


def test_a_family_and_the_cli_take_vocab_size_with_q_as_its_earlier_spelling(capsys):
    import json

    from mdtheory.cli import main
    from mdtheory.profiles import family_profile

    new = family_profile("markov", {"n": 5, "eps": 0.3, "vocab_size": 3})
    with pytest.warns(DeprecationWarning, match="family_profile: the keyword 'q' is now 'vocab_size'"):
        old = family_profile("markov", {"n": 5, "eps": 0.3, "q": 3})
    assert old.tc == new.tc != family_profile("markov", {"n": 5, "eps": 0.3}).tc
    outs = []
    for flag in ("--vocab", "--q"):
        assert main(["profile", "--target", "markov", "--n", "5", "--eps", "0.3", flag, "3", "--json"]) == 0
        outs.append(json.loads(capsys.readouterr().out)["tc"])
    assert outs[0] == outs[1] == pytest.approx(new.tc)


def test_the_positions_of_a_target_are_seq_len_with_n_as_its_earlier_spelling():
    import numpy as np

    from mdtheory.profiles import constant_schedule, markov_profile
    from mdtheory.targets import repeated_bit

    assert repeated_bit(seq_len=3).n == 3 and markov_profile(seq_len=6, eps=0.1).n == 6
    with pytest.warns(DeprecationWarning, match="markov_profile: the keyword 'n' is now 'seq_len'"):
        assert np.array_equal(markov_profile(n=6, eps=0.1).g, markov_profile(6, 0.1).g)
    with pytest.raises(ValueError, match="seq_len"):
        constant_schedule(0, 1)
