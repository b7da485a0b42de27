"""Public API and module boundaries (STYLE.md)."""

import subprocess
import sys

import pytest

import mdtheory


def test_all_names_exist():
    for name in mdtheory.__all__:
        assert getattr(mdtheory, name) is not None, name


@pytest.mark.parametrize("module,forbidden", [
    ("mdtheory", ["torch", "matplotlib"]),
    ("mdtheory.exact.round_laws", ["torch", "matplotlib"]),
    ("mdtheory.exact.distances", ["torch", "matplotlib"]),
    ("mdtheory.rules.schedules", ["torch", "matplotlib"]),
    ("mdtheory.exact.homogeneous", ["torch", "matplotlib"]),
    ("mdtheory.sampling.rounds", ["matplotlib"]),
    ("mdtheory.sampling.loop", ["matplotlib"]),
])
def test_heavy_imports(module, forbidden):
    code = f"import sys, {module}; print(','.join(m for m in {forbidden!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"{module} imported {out}"


def test_no_bare_allclose_in_tests():
    # POT's lesson: np.allclose(...) without assert checks nothing
    import pathlib
    import re

    for path in pathlib.Path(__file__).parent.rglob("*.py"):
        for line in path.read_text().splitlines():
            assert not re.match(r"\s*np\.allclose\(", line), f"{path.name}: {line.strip()}"
