"""The second level of the namespace: each stage re-exports, lazily, the public names that the one table of
the package (``mdtheory._PUBLIC``: name → ``stage.module``) assigns to it, so ``mdtheory.exact.rule_law`` and
``mdtheory.rule_law`` are the same object and neither list is written twice."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Callable


def stage_namespace(stage: str, extra: dict[str, str] | None = None) -> tuple[list[str], Callable, Callable]:
    """``(__all__, __getattr__, __dir__)`` for the stage package ``stage`` (e.g. ``"mdtheory.exact"``).

    ``extra`` adds stage-level names that the top level does not carry (name → module inside the stage).

    Examples
    --------
    >>> import mdtheory.exact as ex
    >>> "rule_law" in ex.__all__ and ex.rule_law is __import__("mdtheory").rule_law
    True
    """
    public = sys.modules["mdtheory"]._PUBLIC
    short = stage.rsplit(".", 1)[-1]
    # names defined in the stage's own __init__ (no module part) are already there
    where = {name: module.split(".", 1)[1] for name, module in public.items()
             if module.split(".")[0] == short and "." in module}
    where.update(extra or {})
    # a name that is also a module of the stage stays the module there (the import system binds it); the
    # object itself is still at the top level and in its module
    folder = Path(sys.modules[stage].__file__).parent
    where = {n: m for n, m in where.items() if not (folder / f"{n}.py").exists() and not (folder / n).is_dir()}
    names = sorted(where)

    def __getattr__(name: str):
        if name in where:
            value = getattr(importlib.import_module(f"{stage}.{where[name]}"), name)
            setattr(sys.modules[stage], name, value)  # later lookups skip this function
            return value
        raise AttributeError(f"module {stage!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(names) | {n for n, v in vars(sys.modules[stage]).items()
                                    if not n.startswith("_") and type(v).__name__ == "module"})

    return names, __getattr__, __dir__
