"""Unmasking schedules: their home is :mod:`mdtheory.rules.schedules` (torch-free); this path keeps working."""

from ..rules.schedules import SCHEDULE_NAMES, as_schedule, block_starts, masked_fraction, schedule_sizes  # noqa: F401

__all__ = ["SCHEDULE_NAMES", "masked_fraction", "schedule_sizes", "as_schedule", "block_starts"]
