"""Registered checks for ``mdtheory verify`` (importing this package registers them)."""

from . import multiround, noise, one_round, profiles  # noqa: F401
