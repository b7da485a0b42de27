"""The theorem registry behind ``mdtheory verify`` (§4, §8).

Each statement is a :class:`Check`: a name, its spec section, the statement as text, optionally a
sympy form of its bound, and a ``run(**params)`` that returns (value, bound, details). A check passes
when ``value <= bound``; ``slack = bound − value``. Checks are registered with :func:`register` in the
modules of :mod:`mdtheory.verification.checks`; ``fast=False`` checks run only with ``verify --full``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Check", "CheckResult", "REGISTRY", "register"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: value ≤ bound passes; slack = bound − value."""

    name: str
    section: str
    value: float
    bound: float
    slack: float
    passed: bool
    seconds: float
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class Check:
    """A registered statement with its executable check."""

    name: str
    section: str
    statement: str
    run: Callable[..., tuple[float, float, dict]]
    fast: bool = True
    expression: str | None = None  # sympy-parsable form of the bound, where it has a closed form

    def sympy_expression(self):
        """The bound as a sympy expression (None when the statement has no closed form)."""
        if self.expression is None:
            return None
        import sympy

        # spec symbols that clash with sympy names (N, S, E, I, …) are plain symbols here
        clash = {name: sympy.Symbol(name) for name in ("N", "S", "E", "I", "O", "Q", "C", "beta", "gamma")}
        return sympy.sympify(self.expression, locals=clash)

    def check(self, **params) -> CheckResult:
        t0 = time.perf_counter()
        value, bound, details = self.run(**params)
        value, bound = float(value), float(bound)
        return CheckResult(name=self.name, section=self.section, value=value, bound=bound, slack=bound - value,
                           passed=bool(value <= bound), seconds=time.perf_counter() - t0, details=details)


REGISTRY: dict[str, Check] = {}


def register(name: str, section: str, statement: str, *, fast: bool = True, expression: str | None = None):
    """Decorator: register ``fn(**params) -> (value, bound, details)`` as a check."""

    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"check {name!r} is already registered")
        REGISTRY[name] = Check(name=name, section=section, statement=statement, run=fn, fast=fast,
                               expression=expression)
        return fn

    return deco
