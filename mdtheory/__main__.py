"""``python -m mdtheory`` runs the command line, as the ``mdtheory`` script does."""

import sys

from .cli import main

sys.exit(main())
