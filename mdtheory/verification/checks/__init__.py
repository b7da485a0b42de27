"""Registered checks for ``mdtheory verify`` (importing this package registers them)."""

from ..registry import REGISTRY, Check
from . import beyond, coherence, models, multiround, noise, one_round, profiles, real_models  # noqa: F401  (registration)

__all__ = ["all_checks"]


def all_checks(*, full: bool = False) -> list[Check]:
    """Every registered check; the fast ones unless ``full``."""
    return [c for c in REGISTRY.values() if full or c.fast]
