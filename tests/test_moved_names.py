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
