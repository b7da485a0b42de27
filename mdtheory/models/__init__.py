"""models"""

from pathlib import Path

#: the folder of the shipped checkpoints (package data)
SHIPPED_CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"

from .._namespace import stage_namespace  # noqa: E402

# the stage's public names, from the package's one table (mdtheory._PUBLIC)
__all__, __getattr__, __dir__ = stage_namespace(__name__)
