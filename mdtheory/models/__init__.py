"""models"""

from pathlib import Path

#: the folder of the shipped checkpoints (package data)
SHIPPED_CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"
