"""The package's architecture: one subpackage per pipeline stage, imports pointing one way, no cycles.

Stages, lowest first: rules → exact → targets → sampling → multiround → profiles → models → montecarlo → testing → peers →
figures → verification → the command-line tools. A module may import its own stage and the stages below it,
never one above. The torch samplers sit beside the exact laws: ``sampling`` executes the rules, and no numpy
stage (rules, exact, targets, multiround, profiles) imports it. Only the torch stages (sampling, models, montecarlo,
testing, peers) import torch; ``bench`` also does, because it times those torch paths themselves. Imports inside
functions count too.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mdtheory"
STAGES = ["rules", "exact", "targets", "sampling", "multiround", "profiles", "models", "montecarlo", "testing", "peers", "figures",
          "verification"]
# private helpers and the generic sweep runner sit below every stage; the tools and the public facade above them all
RANK = {"_validation": -1, "_postconditions": -1, "_io": -1, "_namespace": -1, "sweeps": -1, **{s: i for i, s in enumerate(STAGES)}, "bench": 100, "cli": 101,
        "__main__": 102, "": 103}
# sweeps pins torch's thread count around a task that runs torch (it imports torch only then)
TORCH_STAGES = {"sampling", "models", "montecarlo", "testing", "peers", "bench", "sweeps"}


def _module(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_pkg else parts), is_pkg


def _imports(path: Path) -> list[str]:
    """Absolute names of every module imported anywhere in ``path`` (relative imports resolved)."""
    mod, is_pkg = _module(path)
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            out.append(target)
            for a in node.names:  # `from . import x` imports the submodule x
                sub = PACKAGE.parent / (target + "." + a.name).replace(".", "/")
                if sub.with_suffix(".py").exists() or sub.is_dir():
                    out.append(target + "." + a.name)
    return out


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


MODULES = {(_module(p)[0]): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_stage():
    assert {_stage(m) for m in MODULES} <= set(RANK), {_stage(m) for m in MODULES} - set(RANK)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    here = _stage(module)
    for target in _imports(MODULES[module]):
        if target.split(".")[0] == "torch":
            assert here in TORCH_STAGES, f"{module} imports torch; only {sorted(TORCH_STAGES)} may"
        if target.startswith("mdtheory.") and here != "":
            assert RANK[_stage(target)] <= RANK[here], f"{module} ({here}) imports {target} from a higher stage"


def test_no_import_cycles():
    graph = {m: {t for t in _imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    graph["mdtheory"] = set()  # the facade imports everything lazily; it is nobody's dependency
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                cycle = path[path.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_oracle_imports_nothing_it_checks():
    """The brute-force oracles share no code with the routes they check (exact laws, output laws)."""
    checked = ("mdtheory.exact", "mdtheory.multiround", "mdtheory.profiles")
    for target in _imports(MODULES["mdtheory.exact.oracle"]):
        assert not target.startswith(checked), f"the oracle imports {target}"


NUMPY_STAGES = ("rules", "exact", "targets", "multiround", "profiles")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _stage(m) in NUMPY_STAGES))
def test_numpy_stages_never_import_the_torch_samplers(module):
    for target in _imports(MODULES[module]):
        assert not target.startswith("mdtheory.sampling"), f"{module} imports {target}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _stage(m) == "rules"))
def test_rules_import_only_numpy_scipy_and_the_private_helpers(module):
    for target in _imports(MODULES[module]):
        top = target.split(".")[0]
        if top == "mdtheory":
            assert _stage(target) in ("rules", "_validation", "_namespace"), f"{module} imports {target}"
        else:
            assert top in ("numpy", "scipy", "__future__", "math", "dataclasses", "typing", "importlib",
                           "itertools", "collections"), f"{module} imports {target}"
