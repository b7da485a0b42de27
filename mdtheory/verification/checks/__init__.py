"""Registered checks for ``mdtheory verify`` (importing this package registers them)."""

from . import models, multiround, noise, one_round, profiles, real_models  # noqa: F401
