"""The public API: one table of names, each documented in numpydoc form with a runnable example.

``mdtheory._PUBLIC`` is the table (name → its stage and module); ``mdtheory.__all__`` is its first level, the
names of the README's "I want to…" table. Every callable in it has a summary line, a spec section ("§"), a
Parameters section when it takes arguments, Returns for functions, and an Examples block with a
doctest (pytest runs the doctests of the whole package). Constants are listed in the package docstring.
"""

import inspect
import re
import subprocess
import sys

import pytest

import importlib
import warnings
from pathlib import Path

import mdtheory

NAMES = list(mdtheory._PUBLIC)
README = Path(__file__).resolve().parents[1] / "README.md"


def _obj(name):
    """A public name from its stage, where it lives (the first level would warn for an engine name)."""
    where = mdtheory._PUBLIC[name]
    return getattr(importlib.import_module(f"mdtheory.{where}"), name)


def _is_constant(obj) -> bool:
    return not (inspect.isclass(obj) or callable(obj))


def test_all_is_unique_and_resolves():
    assert len(mdtheory.__all__) == len(set(mdtheory.__all__))
    for name in NAMES:
        assert _obj(name) is not None, name


def test_all_equals_the_documented_names():
    """Every public callable carries a numpydoc docstring and every constant is listed in the package
    docstring's Constants section, so the documented names are exactly the table's."""
    constants = re.findall(r"^([A-Z][A-Z0-9_]+)\s", mdtheory.__doc__.split("Constants\n---------\n", 1)[1], re.M)
    documented = {n for n in NAMES if not _is_constant(_obj(n))
                  and "Examples\n--------" in (inspect.getdoc(_obj(n)) or "")}
    assert documented | set(constants) == set(NAMES), sorted(set(NAMES) - documented - set(constants))
    assert set(constants) <= set(NAMES), sorted(set(constants) - set(NAMES))


@pytest.mark.parametrize("name", [n for n in NAMES if not _is_constant(_obj(n))])
def test_numpydoc_sections(name):
    obj = _obj(name)
    doc = inspect.getdoc(obj) or ""
    assert doc.split("\n", 1)[0].strip(), f"{name}: no summary line"
    assert "§" in doc, f"{name}: no spec section"
    assert re.search(r"Examples\n--------\n(.*\n)*>>> ", doc), f"{name}: no doctest example"
    params = [] if inspect.isclass(obj) and issubclass(obj, Exception) else [
        p for p in inspect.signature(obj).parameters.values() if p.name not in ("self", "args", "kwargs")]
    if params:
        assert "Parameters\n----------" in doc, f"{name}: takes {[p.name for p in params]} but has no Parameters"
    if inspect.isfunction(obj):
        assert "Returns\n-------" in doc, f"{name}: no Returns section"


def test_import_mdtheory_is_light():
    """``import mdtheory`` loads no heavy package; they load where they are used."""
    heavy = ["torch", "matplotlib", "scipy", "scipy.stats", "scipy.integrate", "transformers", "sympy", "sklearn"]
    code = f"import sys, mdtheory; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import mdtheory loaded {out}"


def test_dir_shows_only_public_names():
    import mdtheory as mdt

    names = dir(mdt)
    assert set(names) == set(mdt.__all__) | {"__version__"}
    assert not [n for n in names if n.startswith("_") and n != "__version__"]
    assert "importlib" not in names and "annotations" not in names


STAGES_WITH_NAMES = ["sweeps", "rules", "exact", "targets", "sampling", "multiround", "profiles", "models",
                     "montecarlo", "testing", "peers"]


@pytest.mark.parametrize("stage", STAGES_WITH_NAMES)
def test_each_stage_reexports_its_public_names_from_the_one_table(stage):
    import importlib.util

    import mdtheory as mdt

    mod = importlib.import_module(f"mdtheory.{stage}")
    mine = {n for n, where in mdt._PUBLIC.items() if where.split(".")[0] == stage and "." in where}
    # a public name that is also a module of its stage stays the module at the stage level
    clash = {n for n in mine if importlib.util.find_spec(f"mdtheory.{stage}.{n}") is not None}
    assert mine - clash <= set(mod.__all__), sorted(mine - clash - set(mod.__all__))
    for name in mine - clash:
        assert getattr(mod, name) is _obj(name), name
        assert name in dir(mod)


def _readme_table() -> str:
    text = README.read_text()
    return text.split("## I want to…", 1)[1].split("\n## ", 1)[0]


def test_the_first_level_is_the_readme_table():
    """``mdt.*`` holds exactly the names that the README's "I want to…" table calls, and each is public."""
    called = set(re.findall(r"\bmdt\.([A-Za-z_]\w*)\(", _readme_table()))
    assert called == set(mdtheory.__all__), (sorted(called - set(mdtheory.__all__)),
                                             sorted(set(mdtheory.__all__) - called))
    assert set(mdtheory.__all__) <= set(mdtheory._PUBLIC)


def test_every_mdt_name_in_the_readme_is_first_level_or_under_its_stage():
    for first, rest in re.findall(r"\bmdt\.([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)?)", README.read_text()):
        if rest:
            assert first in mdtheory._STAGES and mdtheory._PUBLIC[rest[1:]].split(".")[0] == first, first + rest
        else:
            assert first in mdtheory.__all__, first


def test_an_engine_name_at_the_first_level_warns_with_its_stage_and_is_the_same_object():
    with pytest.warns(DeprecationWarning, match=r"import it from mdtheory\.exact \(mdtheory\.exact\.homogeneous\)"):
        obj = mdtheory.homogeneous_maskgit_moment_tv
    assert obj is _obj("homogeneous_maskgit_moment_tv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mdtheory.rule_law is _obj("rule_law")  # a first-level name does not warn
        assert mdtheory.exact.homogeneous_maskgit_moment_tv is obj  # nor does its stage
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        mdtheory.nope
