"""The public API: one list of names, each documented in numpydoc form with a runnable example.

``mdtheory.__all__`` is the list. Every callable in it has a summary line, a spec section ("§"), a
Parameters section when it takes arguments, Returns for functions, and an Examples block with a
doctest (pytest runs the doctests of the whole package). Constants are listed in the package docstring.
"""

import inspect
import re
import subprocess
import sys

import pytest

import mdtheory

NAMES = list(mdtheory.__all__)


def _is_constant(obj) -> bool:
    return not (inspect.isclass(obj) or callable(obj))


def test_all_is_unique_and_resolves():
    assert len(NAMES) == len(set(NAMES))
    for name in NAMES:
        assert getattr(mdtheory, name) is not None, name


def test_all_equals_the_documented_names():
    """Every public callable carries a numpydoc docstring and every constant is listed in the package
    docstring's Constants section, so the documented names are exactly ``__all__``."""
    constants = re.findall(r"^([A-Z][A-Z0-9_]+)\s", mdtheory.__doc__.split("Constants\n---------\n", 1)[1], re.M)
    documented = {n for n in NAMES if not _is_constant(getattr(mdtheory, n))
                  and "Examples\n--------" in (inspect.getdoc(getattr(mdtheory, n)) or "")}
    assert documented | set(constants) == set(NAMES), sorted(set(NAMES) - documented - set(constants))
    assert set(constants) <= set(NAMES), sorted(set(constants) - set(NAMES))


@pytest.mark.parametrize("name", [n for n in NAMES if not _is_constant(getattr(mdtheory, n))])
def test_numpydoc_sections(name):
    obj = getattr(mdtheory, name)
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


STAGES_WITH_NAMES = ["rules", "exact", "sampling", "multiround", "profiles", "models", "montecarlo", "testing",
                     "peers"]


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
        assert getattr(mod, name) is getattr(mdt, name), name
        assert name in dir(mod)
