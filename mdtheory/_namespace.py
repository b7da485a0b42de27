"""Lazy public names for the package and its stages, from the one table of the package (``mdtheory._PUBLIC``:
name → ``stage.module``): ``import mdtheory`` stays light, and ``mdtheory.exact.rule_law`` is
``mdtheory.rule_law`` without either list being written twice."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Callable, Iterable


def lazy_attributes(package: str, where: dict[str, str], *,
                    also: Iterable[str] = ()) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose public names load on first use.

    ``where`` maps each name to the module inside ``package`` that defines it; ``also`` lists the names the
    package defines itself, which ``dir`` shows beside them.

    Examples
    --------
    >>> getattr_, dir_ = lazy_attributes("mdtheory", {"rule_law": "exact.rule_laws"})
    >>> getattr_("rule_law").__name__, dir_()
    ('rule_law', ['rule_law'])
    """
    names = sorted(set(where) | set(also))

    def __getattr__(name: str):
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
            setattr(sys.modules[package], name, value)  # later lookups skip this function
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__


def stage_namespace(stage: str) -> tuple[list[str], Callable[[str], object], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` for the stage package ``stage`` (e.g. ``"mdtheory.exact"``): the
    names that ``mdtheory._PUBLIC`` assigns to the stage.

    Examples
    --------
    >>> import mdtheory.exact as ex
    >>> "rule_law" in ex.__all__ and ex.rule_law is __import__("mdtheory").rule_law
    True
    """
    short = stage.rsplit(".", 1)[-1]
    mine = {name: module for name, module in sys.modules["mdtheory"]._PUBLIC.items()
            if module.split(".")[0] == short}
    # names the stage's own __init__ defines (no module part) are already its attributes
    own = {name for name, module in mine.items() if "." not in module}
    # a name that is also a module of the stage stays the module there (the import system binds it); the
    # object itself is still at the top level and in its module
    folder = Path(sys.modules[stage].__file__).parent
    where = {name: module.split(".", 1)[1] for name, module in mine.items() if name not in own
             and not (folder / f"{name}.py").exists() and not (folder / name).is_dir()}
    return sorted(set(where) | own), *lazy_attributes(stage, where, also=own)
