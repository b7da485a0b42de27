"""targets"""

from .._namespace import stage_namespace

# the stage's public names, from the package's one table (mdtheory._PUBLIC)
__all__, __getattr__, __dir__ = stage_namespace(__name__)
